"""Model rung for PyTorch: gradient health and training sanity.

torch is optional and imported when a helper runs. Nothing here moves tensors off their
device except the final summary figures (one transfer per check), and nothing mutates the
caller's gradients, mode or weights (helpers that must train restore what they touched).
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._deps import require
from .._inputs import fmt, table
from .._messages import compose, plural
from .._result import CheckResult, MLCheckUsageError
from .._runtime import assertion, check, resolve_threshold

__all__ = [
    "GradNormTracker",
    "assert_can_overfit_batch",
    "assert_eval_deterministic",
    "assert_grad_norm_healthy",
    "assert_params_update",
    "check_can_overfit_batch",
    "check_eval_deterministic",
    "check_grad_norm_healthy",
    "check_params_update",
]


def _torch(helper: str) -> Any:
    return require("torch", helper=helper)


def _require_module(model: Any, helper: str) -> Any:
    torch = _torch(helper)
    if not isinstance(model, torch.nn.Module):
        raise MLCheckUsageError(f"model is a {type(model).__name__}: expected a torch.nn.Module.")
    return torch


def _layer(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def _norms(torch: Any, grads: list[Any]) -> Any:
    """Per-tensor L2 norms as one float64 tensor: one fused kernel per device and dtype."""
    if not grads:
        return torch.zeros(0, dtype=torch.float64)
    foreach = getattr(torch, "_foreach_norm", None)

    def norms_of(tensors: list[Any]) -> Any:
        dense = [t.coalesce().values() if t.is_sparse else t for t in tensors]
        if foreach is not None:
            if dense[0].dtype in (torch.float16, torch.bfloat16):
                # accumulate half-precision gradients in float32: fp16 overflows at 65504
                return torch.stack(foreach(dense, 2, dtype=torch.float32))
            return torch.stack(foreach(dense))
        return torch.stack([torch.linalg.vector_norm(t) for t in dense])  # pragma: no cover

    first = grads[0]
    device, dtype = first.device, first.dtype
    if all(g.device == device and g.dtype == dtype for g in grads):
        norms = norms_of(grads)
        # float32/float64 norms are exact enough; half precision would overflow at 65504
        return norms if dtype in (torch.float32, torch.float64) else norms.to(torch.float64)
    groups: dict[tuple[Any, Any], list[int]] = {}
    for i, g in enumerate(grads):
        groups.setdefault((g.device, g.dtype), []).append(i)
    out = torch.empty(len(grads), dtype=torch.float64, device=first.device)
    for idx in groups.values():
        part = norms_of([grads[i] for i in idx]).to(device=first.device, dtype=torch.float64)
        out[torch.tensor(idx, device=first.device)] = part
    return out


@dataclass
class _GradState:
    names: list[str]
    shapes: list[tuple[int, ...]]
    numels: list[int]
    norms: list[float]
    missing: list[str]


@dataclass
class _Params:
    """The trainable parameters of a model, with their names, shapes and sizes."""

    params: list[Any]
    names: list[str]
    shapes: list[tuple[int, ...]]
    numels: list[int]

    def __len__(self) -> int:
        return len(self.params)


_STRUCTURE: weakref.WeakKeyDictionary[Any, tuple[tuple[int, ...], _Params]] = (
    weakref.WeakKeyDictionary()
)


def _trainable(model: Any) -> _Params:
    """The trainable parameters, cached per model while its parameters stay the same objects
    with the same requires_grad flags."""
    params = list(model.parameters())
    key = tuple(id(p) if p.requires_grad else -id(p) for p in params)
    cached = _STRUCTURE.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    found = _Params(
        params=[p for _, p in named],
        names=[name for name, _ in named],
        shapes=[tuple(p.shape) for _, p in named],
        numels=[p.numel() for _, p in named],
    )
    _STRUCTURE[model] = (key, found)
    return found


def _grad_state(trainable: _Params) -> _GradState:
    import torch

    grads = [p.grad for p in trainable.params]
    if any(g is None for g in grads):
        keep = [i for i, g in enumerate(grads) if g is not None]
        missing = [trainable.names[i] for i, g in enumerate(grads) if g is None]
        names = [trainable.names[i] for i in keep]
        shapes = [trainable.shapes[i] for i in keep]
        numels = [trainable.numels[i] for i in keep]
        grads = [grads[i] for i in keep]
    else:  # the common case: the cached columns as they are
        missing, names, shapes, numels = [], trainable.names, trainable.shapes, trainable.numels
    with torch.no_grad():
        norms = _norms(torch, grads).cpu().tolist() if grads else []  # the one host transfer
    return _GradState(names, shapes, numels, norms, missing)


@functools.lru_cache(maxsize=64)
def _layout(
    names: tuple[str, ...], dims: tuple[int, ...]
) -> tuple[dict[str, list[int]], dict[str, list[int]], list[str]]:
    """Parameters grouped by layer (module), each layer's weight parameters (dim >= 2, else
    all of its parameters) and the layers with weights, in registration order (cached)."""
    layers: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        layers.setdefault(_layer(name), []).append(i)
    weights = {layer: [i for i in idx if dims[i] >= 2] or idx for layer, idx in layers.items()}
    with_weights = [layer for layer, idx in layers.items() if any(dims[i] >= 2 for i in idx)]
    return layers, weights, with_weights or list(layers)


@check
def check_grad_norm_healthy(
    model: Any,
    *,
    vanishing_ratio: float | None = None,
    max_total_norm: float | None = None,
    ignore: Any = (),
) -> CheckResult:
    """Detect unhealthy gradients after ``loss.backward()``.

    Fails on: NaN/Inf gradients; trainable parameters with no gradient (disconnected graph,
    forgotten parameter; list deliberate ones in ``ignore``); layers whose gradients are all
    zero (dead or saturated); vanishing gradients (the first weight layer's RMS gradient
    under ``vanishing_ratio`` (ini ``ml_grad_vanishing_ratio``, default 1e-3) times the
    largest layer's); exploding gradients (total norm over ``max_total_norm``, ini
    ``ml_grad_max_total_norm``, default 1e3). Norms are batched on the gradients' device
    with one host transfer; the gradients are only read. Figure: the vanishing ratio.
    """
    _require_module(model, "assert_grad_norm_healthy")
    ratio_limit = resolve_threshold("grad_vanishing_ratio", vanishing_ratio)
    norm_limit = resolve_threshold("grad_max_total_norm", max_total_norm)
    skip = {ignore} if isinstance(ignore, str) else set(ignore or ())
    trainable = _trainable(model)
    if not trainable:
        raise MLCheckUsageError("model has no trainable parameters (requires_grad=True).")
    state = _grad_state(trainable)
    missing = [n for n in state.missing if n not in skip and _layer(n) not in skip]
    if not state.names:
        raise MLCheckUsageError(
            "no parameter has a gradient: call loss.backward() before checking gradients."
        )
    nonfinite = [n for n, v in zip(state.names, state.norms, strict=True) if not math.isfinite(v)]
    finite = [v if math.isfinite(v) else 0.0 for v in state.norms]
    total = math.sqrt(sum(v * v for v in finite)) if not nonfinite else float("inf")
    rms = [v / math.sqrt(max(k, 1)) for v, k in zip(finite, state.numels, strict=True)]
    layers, weight_idx, weight_layers = _layout(tuple(state.names), tuple(map(len, state.shapes)))
    layer_rms = {layer: max(rms[i] for i in weight_idx[layer]) for layer in layers}
    zero_layers = [
        layer
        for layer, idx in layers.items()
        if layer not in skip and all(state.norms[i] == 0.0 for i in idx)
    ]
    largest = max(layer_rms.values()) if layer_rms else 0.0
    first = weight_layers[0]
    ratio = layer_rms[first] / largest if largest > 0 else 0.0
    vanishing = len(weight_layers) > 1 and largest > 0 and ratio < ratio_limit
    exploding = math.isfinite(total) and total > norm_limit
    problems: list[str] = []
    fixes: list[str] = []
    if nonfinite:
        problems.append(
            f"NaN/Inf gradients in {plural(len(nonfinite), 'parameter')}: {nonfinite[:5]}"
        )
        fixes.append(
            "NaN/Inf: lower the learning rate, clip gradients (clip_grad_norm_), check the "
            "loss for log(0) / division by zero, use a stable loss (BCEWithLogitsLoss)"
        )
    if missing:
        problems.append(
            f"no gradient for {plural(len(missing), 'trainable parameter')}: {missing[:5]}"
        )
        fixes.append(
            "no gradient: the parameter is not used in forward, or the graph is cut "
            "(.detach(), .item(), torch.no_grad(), numpy round trip); freeze it "
            "(requires_grad=False) or pass it in ignore= if that is intended"
        )
    if zero_layers:
        problems.append(f"all-zero gradients (dead or saturated) in {zero_layers[:5]}")
        fixes.append(
            "dead layers: dying ReLU (use LeakyReLU / lower LR / better init), saturated "
            "sigmoid/tanh, or a constant input"
        )
    if vanishing:
        problems.append(
            f"vanishing gradients: first layer {first!r} RMS gradient is {fmt(ratio, 3)} of the "
            f"largest layer's (limit {fmt(ratio_limit, 3)})"
        )
        fixes.append(
            "vanishing: ReLU-family activations instead of sigmoid/tanh, normalisation "
            "(BatchNorm/LayerNorm), residual connections, He/Xavier initialisation"
        )
    if exploding:
        problems.append(f"exploding gradients: total norm {fmt(total, 3)} > {fmt(norm_limit, 3)}")
        fixes.append(
            "exploding: lower the learning rate, clip_grad_norm_, normalise inputs and "
            "targets, check the loss scale"
        )
    details: dict[str, Any] = {
        "total_norm": total if math.isfinite(total) else "inf",
        "vanishing_ratio": ratio,
        "first_layer": first,
        "layers": {layer: layer_rms[layer] for layer in list(layer_rms)[:100]},
        "nonfinite": nonfinite,
        "no_grad": missing,
        "zero_layers": zero_layers,
    }
    if not problems:
        message = (
            f"grad_norm_healthy: {plural(len(state.names), 'parameter')} with finite, nonzero "
            f"gradients; total norm {fmt(total, 3)}; first/largest layer RMS ratio "
            f"{fmt(ratio, 3)} (limit {fmt(ratio_limit, 3)})."
        )
        return CheckResult(
            "grad_norm_healthy", "model", True, "error", ratio, ratio_limit, message, details
        )
    rows = [
        [
            name,
            "x".join(str(d) for d in shape) or "scalar",
            fmt(norm, 3) if math.isfinite(norm) else str(norm),
            fmt(r / largest, 3) if largest > 0 else "-",
        ]
        for name, shape, norm, r in list(
            zip(state.names, state.shapes, state.norms, rms, strict=True)
        )[:40]
    ]
    message = compose(
        f"grad_norm_healthy: {'; '.join(problems)}.",
        body=table(["parameter", "shape", "grad norm", "RMS / largest"], rows),
        why=(
            "the optimiser can only learn through gradients: NaN poisons every weight, missing "
            "or zero gradients freeze layers, vanishing ones leave early layers untrained and "
            "exploding ones make steps blow up; none of this raises an error."
        ),
        fix="; ".join(fixes) + ".",
    )
    return CheckResult(
        "grad_norm_healthy", "model", False, "error", ratio, ratio_limit, message, details
    )


assert_grad_norm_healthy = assertion(check_grad_norm_healthy)


# ---------------------------------------------------------------------------- tracker


@dataclass
class GradNormTracker:
    """Follow gradient norms and loss across training steps without changing training.

    Call ``.step(loss)`` after each ``backward()`` (before ``zero_grad``); per-layer norms stay
    on the device until ``.check()`` (no host sync per step). ``.check()`` finds NaN/Inf at
    step k, spikes (total norm over ``spike_factor`` times the running median), divergence
    (loss or norm growing by ``divergence_factor``), layers that stay dead, and gradient
    accumulation (norms growing step after step, as when ``zero_grad`` is missing).
    """

    model: Any
    spike_factor: float = 10.0
    divergence_factor: float = 100.0
    window: int = 10
    _norms: list[Any] = field(default_factory=list, repr=False)
    _losses: list[Any] = field(default_factory=list, repr=False)
    _names: list[str] = field(default_factory=list, repr=False)
    checked: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        _require_module(self.model, "GradNormTracker")
        self._names = list(_trainable(self.model).names)

    def step(self, loss: Any = None) -> None:
        import torch

        grads = [p.grad for p in _trainable(self.model).params]
        present = [g for g in grads if g is not None]
        if len(present) == len(grads):
            full = _norms(torch, present)
        else:  # -1 marks "no gradient"
            norms = _norms(torch, present) if present else torch.zeros(0, dtype=torch.float64)
            full = torch.full((len(grads),), -1.0, dtype=torch.float64, device=norms.device)
            if present:
                idx = torch.tensor(
                    [i for i, g in enumerate(grads) if g is not None], device=norms.device
                )
                full = full.index_copy(0, idx, norms)
        self._norms.append(full)
        if loss is not None:
            value = loss.detach().reshape(-1)[0] if isinstance(loss, torch.Tensor) else loss
            self._losses.append(value)

    @property
    def steps(self) -> int:
        return len(self._norms)

    def check(self) -> CheckResult:
        """The verdict over all recorded steps (one host transfer); recorded in the audit."""
        self.checked = True
        return _tracker_check(self)

    def assert_healthy(self) -> CheckResult:
        __tracebackhide__ = True
        from .._runtime import enforce

        result = self.check()
        enforce(result)
        return result


@check
def _tracker_check(tracker: GradNormTracker) -> CheckResult:
    """GradNormTracker's verdict, recorded like any check."""
    import torch

    if not tracker._norms:
        raise MLCheckUsageError("GradNormTracker recorded no step: call .step() after backward().")
    device = tracker._norms[0].device
    stacked = torch.stack([n.to(device) for n in tracker._norms]).cpu().tolist()
    losses = [float(v.cpu()) if isinstance(v, torch.Tensor) else float(v) for v in tracker._losses]
    return _tracker_verdict(tracker, stacked, losses)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _tracker_verdict(
    tracker: GradNormTracker, norms: list[list[float]], losses: list[float]
) -> CheckResult:
    names = tracker._names
    totals = []
    nan_step = None
    for k, row in enumerate(norms):
        present = [v for v in row if v >= 0 or not math.isfinite(v)]
        if any(not math.isfinite(v) for v in present) and nan_step is None:
            nan_step = k
        totals.append(math.sqrt(sum(v * v for v in present if math.isfinite(v))))
    for k, value in enumerate(losses):
        if not math.isfinite(value):
            nan_step = k if nan_step is None else min(nan_step, k)
            break
    findings: list[str] = []
    if nan_step is not None:
        findings.append(f"NaN/Inf first appears at step {nan_step}")
    spikes = []
    for k in range(3, len(totals)):
        history = [t for t in totals[max(0, k - tracker.window) : k] if math.isfinite(t) and t > 0]
        if history and totals[k] > tracker.spike_factor * _median(history):
            spikes.append(k)
    if spikes:
        findings.append(
            f"gradient-norm spikes (> {fmt(tracker.spike_factor)}x the running "
            f"median) at steps {spikes[:10]}"
        )
    diverged = None
    finite_losses = [v for v in losses if math.isfinite(v)]
    if len(finite_losses) >= 3:
        best = finite_losses[0]
        for k, value in enumerate(finite_losses):
            best = min(best, value)
            if best > 0 and value > tracker.divergence_factor * best:
                diverged = ("loss", k)
                break
    if diverged is None and len(totals) >= 3:
        start = _median([t for t in totals[:3] if t > 0] or [0.0])
        for k, t in enumerate(totals):
            if start > 0 and t > tracker.divergence_factor * start:
                diverged = ("gradient norm", k)
                break
    if diverged is not None:
        findings.append(
            f"divergence: {diverged[0]} grew over {fmt(tracker.divergence_factor)}x "
            f"by step {diverged[1]}"
        )
    dead = [
        names[j]
        for j in range(len(names))
        if len(norms) >= 2 and all(row[j] == 0.0 or row[j] < 0 for row in norms)
    ]
    if dead:
        findings.append(f"parameters without gradient signal at every step: {dead[:5]}")
    accumulating = False
    if len(totals) >= 5:
        rises = sum(1 for a, b in itertools.pairwise(totals) if b > a)
        accumulating = rises == len(totals) - 1 and totals[-1] > 3 * max(totals[0], 1e-30)
        if accumulating:
            findings.append(
                f"gradient norm rose at every one of {len(totals) - 1} steps to "
                f"{fmt(totals[-1] / max(totals[0], 1e-30), 3)}x its start: gradients are "
                "accumulating (zero_grad() missing?)"
            )
    details = {
        "steps": len(norms),
        "total_norms": totals[:1000],
        "losses": finite_losses[:1000],
        "nan_step": nan_step,
        "spikes": spikes,
        "divergence": None if diverged is None else {"what": diverged[0], "step": diverged[1]},
        "dead": dead,
        "accumulating": accumulating,
    }
    if not findings:
        message = (
            f"grad_tracker: {len(norms)} steps, total gradient norm {fmt(totals[0], 3)} -> "
            f"{fmt(totals[-1], 3)}, no NaN, spike, divergence or dead layer."
        )
        return CheckResult("grad_tracker", "model", True, "error", len(spikes), 0, message, details)
    message = compose(
        f"grad_tracker: {'; '.join(findings)}.",
        why=(
            "training that diverges, spikes or carries NaN keeps running and writes a broken "
            "checkpoint; dead layers and accumulating gradients silently waste the run."
        ),
        fix=(
            "lower the learning rate or use warm-up, clip gradients (clip_grad_norm_), check "
            "the data batch at the first bad step, call optimizer.zero_grad() every step, and "
            "fix dead layers (activation, init, normalisation)."
        ),
    )
    return CheckResult("grad_tracker", "model", False, "error", len(spikes), 0, message, details)


# ---------------------------------------------------------------------------- params update


def _snapshot(model: Any) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _restore(model: Any, state: dict[str, Any]) -> None:
    import torch

    with torch.no_grad():
        model.load_state_dict(state)


@check
def check_params_update(
    model: Any, step_fn: Callable[[], Any], *, optimizer: Any = None, restore: bool = True
) -> CheckResult:
    """Detect parameters that a training step does not move (or frozen ones that it does).

    Runs ``step_fn()`` once (your forward, backward and optimiser step) and compares every
    parameter with its value before: trainable ones must change, frozen ones must not. The
    model's weights (and ``optimizer``'s state, if given) are restored afterwards.
    Figure: the number of parameters breaking the rule (threshold 0).
    """
    torch = _require_module(model, "assert_params_update")
    if not callable(step_fn):
        raise MLCheckUsageError("step_fn must be a callable running one training step.")
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    weights = _snapshot(model) if restore else None
    opt_state = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
    mode = model.training
    try:
        step_fn()
        stuck, moved_frozen = [], []
        for name, p in model.named_parameters():
            same = bool(torch.equal(p.detach(), before[name]))
            if p.requires_grad and same:
                stuck.append(name)
            if not p.requires_grad and not same:
                moved_frozen.append(name)
    finally:
        if weights is not None:
            _restore(model, weights)
        if optimizer is not None and opt_state is not None:
            optimizer.load_state_dict(opt_state)
        model.train(mode)
    bad = len(stuck) + len(moved_frozen)
    details = {"did_not_change": stuck, "frozen_but_changed": moved_frozen}
    if not bad:
        message = (
            f"params_update: all {plural(len(before), 'parameter')} behaved (trainable ones "
            "changed, frozen ones did not)."
        )
        return CheckResult("params_update", "model", True, "error", 0, 0, message, details)
    parts = []
    if stuck:
        parts.append(f"trainable but unchanged: {stuck[:8]}")
    if moved_frozen:
        parts.append(f"frozen but changed: {moved_frozen[:8]}")
    message = compose(
        f"params_update: {plural(bad, 'parameter')} broke the rule after one step ("
        + "; ".join(parts)
        + ").",
        why=(
            "a parameter the optimiser never moves is dead weight (not in the optimiser's "
            "param groups, no gradient, zero learning rate); a frozen one that moves means "
            "fine-tuning is overwriting what it should keep."
        ),
        fix=(
            "pass model.parameters() (after unfreezing) to the optimiser, check "
            "requires_grad and the graph (assert_grad_norm_healthy), and exclude frozen "
            "parameters from the optimiser and from weight decay."
        ),
    )
    return CheckResult("params_update", "model", False, "error", bad, 0, message, details)


assert_params_update = assertion(check_params_update)


# ---------------------------------------------------------------------------- overfit a batch


@check
def check_can_overfit_batch(
    model: Any,
    batch: Any,
    loss_fn: Callable[..., Any],
    *,
    steps: int = 200,
    target_loss: float | None = None,
    lr: float = 1e-2,
    optimizer: Any = None,
) -> CheckResult:
    """Detect a model that cannot drive one small batch's loss near zero (a broken setup).

    ``batch`` is ``(inputs, targets)``; trains for ``steps`` Adam steps at ``lr`` (or with
    ``optimizer``) and requires the final loss to reach ``target_loss`` (ini
    ``ml_overfit_target_loss``, default 0.05) or 1% of the initial loss, whichever is larger.
    Weights, mode and the optimiser's state are restored afterwards. Figure: the final loss.
    """
    torch = _require_module(model, "assert_can_overfit_batch")
    target = resolve_threshold("overfit_target_loss", target_loss)
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise MLCheckUsageError("batch must be a pair (inputs, targets).")
    if not isinstance(steps, int) or steps < 1:
        raise MLCheckUsageError(f"steps must be a positive integer, got {steps!r}.")
    inputs, targets = batch
    weights = _snapshot(model)
    mode = model.training
    opt = optimizer
    opt_state = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
    if opt is None:
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    grads_before = {
        n: (None if p.grad is None else p.grad.detach().clone())
        for n, p in model.named_parameters()
    }
    losses: list[float] = []
    try:
        model.train()
        for _ in range(steps):
            opt.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            if not math.isfinite(losses[-1]):
                break
        with torch.no_grad():
            final = float(loss_fn(model(inputs), targets))
    finally:
        _restore(model, weights)
        model.train(mode)
        if optimizer is not None and opt_state is not None:
            optimizer.load_state_dict(opt_state)
        for name, p in model.named_parameters():
            p.grad = grads_before[name]
    start = losses[0] if losses else float("nan")
    goal = max(target, 0.01 * start) if math.isfinite(start) else target
    passed = math.isfinite(final) and final <= goal
    details = {"initial_loss": start, "final_loss": final, "goal": goal, "steps": len(losses)}
    head = (
        f"can_overfit_batch: loss {fmt(start, 4)} -> {fmt(final, 4)} after {len(losses)} steps "
        f"on a batch of {len(targets)} (goal <= {fmt(goal, 4)})."
    )
    if passed:
        return CheckResult("can_overfit_batch", "model", True, "error", final, goal, head, details)
    message = compose(
        head,
        why=(
            "any working model can memorise a handful of examples; if it cannot, the bug is "
            "in the setup (loss vs output mismatch, frozen or detached layers, wrong targets, "
            "a learning rate far off), not in the amount of data."
        ),
        fix=(
            "check that the loss matches the output (logits vs probabilities, target dtype "
            "and shape), that gradients reach every layer (assert_grad_norm_healthy), and try "
            "another learning rate."
        ),
    )
    return CheckResult("can_overfit_batch", "model", False, "error", final, goal, message, details)


assert_can_overfit_batch = assertion(check_can_overfit_batch)


# ---------------------------------------------------------------------------- eval determinism


@check
def check_eval_deterministic(model: Any, X: Any, *, atol: float = 0.0) -> CheckResult:
    """Detect inference that is not deterministic in the mode the caller left the model.

    Runs two forward passes (under no_grad, on the same input) and compares them, then runs
    the first half of the batch alone and compares its rows: dropout left in training mode
    makes the passes differ, batch-norm in training mode makes a row's output depend on the
    rest of the batch. The mode, weights and batch-norm running statistics are left as they
    were. Figure: the largest absolute difference.
    """
    torch = _require_module(model, "assert_eval_deterministic")
    buffers = {k: v.detach().clone() for k, v in model.named_buffers()}
    rng_state = torch.random.get_rng_state()
    part = None
    try:
        with torch.no_grad():
            first = model(X)
            second = model(X)
            rows = int(X.shape[0]) if hasattr(X, "shape") and len(X.shape) else 0
            if rows >= 4:
                part = model(X[: rows // 2])
    finally:
        with torch.no_grad():
            for name, value in model.named_buffers():
                if name in buffers:
                    value.copy_(buffers[name])
        torch.random.set_rng_state(rng_state)
    a = first[0] if isinstance(first, (tuple, list)) else first
    b = second[0] if isinstance(second, (tuple, list)) else second
    gap = float((a.double() - b.double()).abs().max()) if a.numel() else 0.0
    if part is not None:
        c = part[0] if isinstance(part, (tuple, list)) else part
        rows = int(X.shape[0]) // 2
        if c.dim() and c.shape[0] == rows and a.shape[0] == int(X.shape[0]):
            gap = max(gap, float((a[:rows].double() - c.double()).abs().max()))
    training = [n for n, m in model.named_modules() if m.training and _has_randomness(m)]
    details = {
        "max_abs_diff": gap,
        "model_training": model.training,
        "train_mode_stochastic_modules": training[:20],
    }
    if gap <= atol:
        message = (
            f"eval_deterministic: two forward passes agree (max |diff| {fmt(gap, 3)}; model "
            f"in {'train' if model.training else 'eval'} mode)."
        )
        return CheckResult(
            "eval_deterministic", "model", True, "error", gap, atol, message, details
        )
    message = compose(
        f"eval_deterministic: forward passes on the same rows differ by up to "
        f"{fmt(gap, 3)} (tolerance {fmt(atol, 3)}); the model is in "
        f"{'train' if model.training else 'eval'} mode"
        + (f", with stochastic modules in train mode: {training[:5]}" if training else "")
        + ".",
        why=(
            "dropout still drops and batch-norm still uses batch statistics (and updates "
            "its running averages) in train mode: predictions become random and depend on "
            "the other rows of the batch."
        ),
        fix="call model.eval() (and wrap inference in torch.no_grad() or inference_mode()).",
    )
    return CheckResult("eval_deterministic", "model", False, "error", gap, atol, message, details)


def _has_randomness(module: Any) -> bool:
    import torch

    nn = torch.nn
    stochastic = (
        nn.Dropout,
        nn.Dropout1d,
        nn.Dropout2d,
        nn.Dropout3d,
        nn.AlphaDropout,
        nn.FeatureAlphaDropout,
        nn.BatchNorm1d,
        nn.BatchNorm2d,
        nn.BatchNorm3d,
        nn.SyncBatchNorm,
    )
    return isinstance(module, stochastic)


assert_eval_deterministic = assertion(check_eval_deterministic)
