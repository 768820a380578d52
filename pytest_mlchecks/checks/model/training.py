"""Model rung for PyTorch: gradient health and training sanity.

torch is optional and imported when a helper runs. Nothing here moves tensors off their
device except the final summary figures (one transfer per check), and nothing mutates the
caller's gradients, mode or weights (helpers that must train restore what they touched).
"""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import itertools
import math
import operator
import re
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from pytest_mlchecks._charts import BarChart, Series, chart
from pytest_mlchecks._messages import compose, plural
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.tables import fmt, table
from pytest_mlchecks.inputs.torch import (
    Batch,
    LossFn,
    ModelInputs,
    batch_rows,
    call_model,
    detached,
    first_rows,
    forward,
    output_tensors,
    require_model,
    validate_inputs,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "GradNormTracker",
    "check_can_overfit_batch",
    "check_eval_deterministic",
    "check_grad_norm_healthy",
    "check_params_update",
]


def _layer(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def _norms(torch: Any, grads: list[Any]) -> Any:
    """Per-tensor L2 norms as one tensor (float32 or float64) on the first gradient's device:
    one fused kernel per device and dtype, nothing leaves the device."""
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
    dtype = first.dtype
    if dtype in (torch.float32, torch.float64) and all(
        g.dtype is dtype and g.layout is torch.strided for g in grads
    ):
        try:  # the common case: one dtype, dense; torch.stack refuses mixed devices
            return norms_of(grads)
        except RuntimeError:
            pass
    groups: dict[tuple[Any, Any], list[int]] = {}
    for i, g in enumerate(grads):
        groups.setdefault((g.device, g.dtype), []).append(i)
    out = torch.empty(len(grads), dtype=torch.float64, device=first.device)
    for idx in groups.values():
        part = norms_of([grads[i] for i in idx]).to(device=first.device, dtype=torch.float64)
        out[torch.tensor(idx, device=first.device)] = part
    return out


_INDEXED = re.compile(r"^(.*?\D)_?\d+$")


def _block_keys(layers: tuple[str, ...]) -> dict[str, tuple[str, bool]]:
    """Each layer's block: its module path cut after the first component that is a repeat
    index (``encoder.layer.0``, ``layers.3``, ``h.11``, ``layer2``, ``encoder_layer_5``; a
    number, or a name ending in a number that a sibling shares the stem of), and whether it
    is such a repeated block. A layer with no repeat index is its own block."""
    siblings: dict[tuple[str, ...], set[str]] = {}
    for layer in layers:
        parts = layer.split(".") if layer else []
        for i, part in enumerate(parts):
            siblings.setdefault(tuple(parts[:i]), set()).add(part)
    stems = {
        parent: collections.Counter(m.group(1) for m in map(_INDEXED.match, names) if m is not None)
        for parent, names in siblings.items()
    }
    keys: dict[str, tuple[str, bool]] = {}
    for layer in layers:
        parts = layer.split(".") if layer else []
        keys[layer] = (layer, False)
        for i, part in enumerate(parts):
            match = None if part.isdigit() else _INDEXED.match(part)
            if part.isdigit() or (match and stems[tuple(parts[:i])][match.group(1)] >= 2):
                keys[layer] = (".".join(parts[: i + 1]), True)
                break
    return keys


@dataclass(frozen=True)
class _Layout:
    """Parameters grouped by layer (the module that owns them; a bare parameter of a module
    with submodules, such as ``class_token``, is its own unit and not a layer) and by block
    (the layers up to a repeat index). ``blocks`` lists, in registration (depth) order, each
    block's weight parameters (dim >= 2, not embeddings, not bare): the ones whose RMS
    gradient stands for it. ``compared`` are the blocks judged for vanishing: the network's
    repeated stack (the largest set of sibling blocks) when it has one, else every block."""

    layers: dict[str, tuple[int, ...]]
    blocks: tuple[tuple[str, tuple[int, ...]], ...]
    compared: tuple[int, ...]
    stack: str
    #: the first 100 layers (what the report shows) with the parameters that stand for each
    #: (its weights, dim >= 2, else all of them): fixed per model, so worked out once
    shown: tuple[tuple[str, tuple[int, ...]], ...] = ()


@functools.lru_cache(maxsize=64)
def _layout(
    names: tuple[str, ...],
    dims: tuple[int, ...],
    embeddings: frozenset[str],
    bare: frozenset[str],
) -> _Layout:
    units = [name if name in bare else _layer(name) for name in names]
    grouped: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        grouped.setdefault(unit, []).append(i)
    layers = {unit: tuple(idx) for unit, idx in grouped.items()}
    keys = _block_keys(tuple(layers))
    blocks: dict[str, list[int]] = {}
    repeated: dict[str, bool] = {}
    for i, unit in enumerate(units):
        key, is_repeat = keys[unit]
        weights = blocks.setdefault(key, [])
        repeated[key] = is_repeat
        if dims[i] >= 2 and names[i] not in bare and unit not in embeddings:
            weights.append(i)
    order = [(key, tuple(idx)) for key, idx in blocks.items() if idx]
    stacks: dict[str, list[int]] = {}
    for b, (key, _) in enumerate(order):
        if repeated[key]:
            stacks.setdefault(key.rsplit(".", 1)[0] if "." in key else "", []).append(b)
    parent, members = max(stacks.items(), key=lambda kv: len(kv[1]), default=("", []))
    shown = tuple(
        (unit, tuple(i for i in idx if dims[i] >= 2) or idx)
        for unit, idx in itertools.islice(layers.items(), 100)
    )
    if len(members) >= 2:
        return _Layout(layers, tuple(order), tuple(members), parent or "(top level)", shown)
    return _Layout(layers, tuple(order), tuple(range(len(order))), "", shown)


@dataclass
class _Params:
    """The trainable parameters of a model, with their names, shapes, sizes and layout."""

    params: list[Any]
    names: list[str]
    shapes: list[tuple[int, ...]]
    numels: list[int]
    embeddings: frozenset[str] = frozenset()
    bare: frozenset[str] = frozenset()
    inv_sqrt: list[float] = field(init=False)
    layout: _Layout = field(init=False)

    def __post_init__(self) -> None:
        self.inv_sqrt = [1.0 / math.sqrt(max(k, 1)) for k in self.numels]
        dims = tuple(len(s) for s in self.shapes)
        self.layout = _layout(tuple(self.names), dims, self.embeddings, self.bare)

    def __len__(self) -> int:
        return len(self.params)

    def subset(self, keep: list[int]) -> _Params:
        return _Params(
            [self.params[i] for i in keep],
            [self.names[i] for i in keep],
            [self.shapes[i] for i in keep],
            [self.numels[i] for i in keep],
            self.embeddings,
            self.bare,
        )


_STRUCTURE: weakref.WeakKeyDictionary[Any, tuple[list[Any], list[bool], _Params]] = (
    weakref.WeakKeyDictionary()
)


def _registered(model: Any) -> list[Any]:
    """Every registered parameter slot (None included) walked straight over the module tree:
    cheaper than ``model.parameters()``, which it replaces only for modules that do not
    override how parameters are listed."""
    import torch

    cls, base = type(model), torch.nn.Module
    if cls.named_parameters is not base.named_parameters or cls.parameters is not base.parameters:
        return list(model.parameters())
    todo = [model]
    seen = {id(model)}
    found: list[Any] = []
    for module in todo:  # breadth first; todo grows while it is walked
        params = module._parameters
        if params:
            found.extend(params.values())
        children = module._modules
        if children:
            for child in children.values():
                if child is not None and id(child) not in seen:
                    seen.add(id(child))
                    todo.append(child)
    return found


def _has_children(module: Any) -> bool:
    return module is not None and bool(module._modules)


def _trainable(model: Any) -> _Params:
    """The trainable parameters, cached per model while its parameters stay the same objects
    with the same requires_grad flags."""
    slots = _registered(model)
    flags = [p is not None and p.requires_grad for p in slots]
    cached = _STRUCTURE.get(model)
    if (
        cached is not None
        and len(cached[0]) == len(slots)
        and all(map(operator.is_, cached[0], slots))
        and cached[1] == flags
    ):
        return cached[2]
    import torch

    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    modules = dict(model.named_modules())
    kinds = (torch.nn.Embedding, torch.nn.EmbeddingBag)
    found = _Params(
        params=[p for _, p in named],
        names=[name for name, _ in named],
        shapes=[tuple(p.shape) for _, p in named],
        numels=[p.numel() for _, p in named],
        embeddings=frozenset(
            layer
            for layer in {_layer(name) for name, _ in named}
            if isinstance(modules.get(layer), kinds)
        ),
        # a parameter held by a module that also has submodules and not named as a weight
        # or bias (ViT's class_token, a position embedding on an encoder) is a bare tensor,
        # not a layer; MultiheadAttention's in_proj_weight stays a layer's weight
        bare=frozenset(
            name
            for name, _ in named
            if _has_children(modules.get(_layer(name) if "." in name else ""))
            and not any(kind in name.rpartition(".")[2] for kind in ("weight", "bias"))
        ),
    )
    _STRUCTURE[model] = (slots, flags, found)
    return found


def _grad_state(trainable: _Params) -> tuple[_Params, list[float], list[str], list[float]]:
    """The parameters that have a gradient, their gradient norms, the names of those without
    one and the parameters' own norms (one host transfer for both norms)."""
    import torch

    grads = [p.grad for p in trainable.params]
    missing: list[str] = []
    present = trainable
    if not all(map(operator.is_not, grads, itertools.repeat(None))):
        keep = [i for i, g in enumerate(grads) if g is not None]
        missing = [trainable.names[i] for i, g in enumerate(grads) if g is None]
        present = trainable.subset(keep)
        grads = [grads[i] for i in keep]
    if not grads:
        return present, [], missing, []
    if any(t.is_meta for t in itertools.chain(grads, present.params)):
        raise MLCheckUsageError(
            "model has parameters or gradients on the meta device, which hold no values: "
            "materialise the model (to_empty() and load weights) before checking gradients."
        )
    with torch.no_grad():
        # no_grad: the parameters' norms need no detach (no graph is built)
        both = _norms(torch, [*grads, *present.params])
        values = both.cpu().tolist()  # the one host transfer
        norms, weights = values[: len(grads)], values[len(grads) :]
        for i, value in enumerate(norms):
            if value == math.inf:  # an Inf gradient, or finite values whose squares overflow
                norms[i] = _rescaled_norm(torch, grads[i])
    return present, norms, missing, weights


def _rescaled_norm(torch: Any, grad: Any) -> float:
    """The L2 norm of a gradient whose squares overflow, computed as max|g| * ||g / max|g|||
    in float64; inf when the gradient itself holds an Inf or NaN."""
    dense = (grad.coalesce().values() if grad.is_sparse else grad).to(torch.float64)
    scale = dense.abs().max()
    if not bool(torch.isfinite(scale)):
        return math.inf
    return float(scale * torch.linalg.vector_norm(dense / scale))


_TABLE_ROWS = 40  # parameters listed in a failure message


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
        raise MLCheckUsageError(f"{name} must be a number > 0, got {value!r}.")
    return float(value)


def _gated(
    state: _Params, norms: list[float], values: Callable[[int], Any] | None = None
) -> dict[int, str]:
    """Parameters whose gradient is zero only because a zero-initialised layer right after
    them (registration order) blocks it: each maximal run of zero-gradient parameters that
    ends just before a weight that is exactly zero yet gets a gradient (``bn2.weight`` under
    ``zero_init_residual``, ViT's zero head, LoRA's B). Maps each to the blocking weight.
    ``values(i)`` gives parameter i's value when the gradient was taken (default: now)."""
    import torch

    value_of = values or (lambda i: state.params[i])

    gated: dict[int, str] = {}
    run: list[int] = []
    for i, value in enumerate(norms):
        if value == 0.0:
            run.append(i)
            continue
        if run and math.isfinite(value) and not state.names[i].endswith("bias"):
            with torch.no_grad():
                blocked = not bool(value_of(i).detach().any())
            if blocked:
                gated.update(dict.fromkeys(run, state.names[i]))
        run = []
    return gated


class GradNormDetails(TypedDict):
    """What ``grad_norm_healthy`` measured and found (the record's ``details``)."""

    total_norm: float | Literal["inf"]
    param_norm: float
    grad_to_param_norm: float | Literal["inf"]
    exploding_limit: float
    exploding_limit_kind: Literal["absolute", "relative"]
    vanishing_ratio: float  # the first compared block's RMS gradient over the largest's
    first_block: str | None
    compared_blocks: list[str]  # the first 100
    blocks: dict[str, float]  # block -> median RMS gradient of its weights, the first 100
    layers: dict[str, float]  # layer -> median RMS gradient, the first 100 layers
    nonfinite: list[str]
    no_grad: list[str]
    zero_layers: list[str]
    gated_by_zero_init: list[str]
    vanishing: bool
    exploding: bool


@dataclass(frozen=True)
class _GradLimits:
    """The resolved limits of check_grad_norm_healthy."""

    vanishing_ratio: float
    max_total_norm: float  # inf: none given, the relative limit applies
    max_norm_ratio: float

    @property
    def absolute(self) -> bool:
        return self.max_total_norm != math.inf

    def exploding(self, param_norm: float) -> float:
        """The total gradient norm over which gradients explode."""
        if self.absolute:
            return self.max_total_norm
        return self.max_norm_ratio * max(param_norm, 1.0)


def _grad_limits(
    vanishing_ratio: float | None, max_total_norm: float | None, max_norm_ratio: float | None
) -> _GradLimits:
    ratio = _positive("vanishing_ratio", resolve_threshold("grad_vanishing_ratio", vanishing_ratio))
    absolute = resolve_threshold("grad_max_total_norm", max_total_norm)
    absolute = _positive("max_total_norm", absolute) if absolute != math.inf else absolute
    relative = _positive("max_norm_ratio", resolve_threshold("grad_max_norm_ratio", max_norm_ratio))
    return _GradLimits(ratio, absolute, relative)


@dataclass(frozen=True)
class _GradFigures:
    """What check_grad_norm_healthy measured: per parameter with a gradient (names, shapes,
    gradient norms and RMS gradients, in registration order) and over the model."""

    names: list[str]
    shapes: list[tuple[int, ...]]
    norms: list[float]
    rms: list[float]
    no_grad: list[str]  # trainable, no gradient, not ignored
    total: float
    param_norm: float
    nonfinite: list[str]
    zero_units: list[str]
    gated: dict[int, str]
    blocks: dict[str, float]
    compared: list[str]
    ratio: float
    layers: dict[str, float]

    def details(self, limits: _GradLimits) -> GradNormDetails:
        """The record's details: the figures, judged against ``limits``."""
        norm_limit = limits.exploding(self.param_norm)
        total_ok = math.isfinite(self.total)
        return {
            "total_norm": self.total if total_ok else "inf",
            "param_norm": self.param_norm,
            "grad_to_param_norm": self.total / max(self.param_norm, 1.0) if total_ok else "inf",
            "exploding_limit": norm_limit,
            "exploding_limit_kind": "absolute" if limits.absolute else "relative",
            "vanishing_ratio": self.ratio,
            "first_block": self.compared[0] if self.compared else None,
            "compared_blocks": self.compared[:100],
            "blocks": dict(list(self.blocks.items())[:100]),
            "layers": self.layers,  # the first 100 layers (layout.shown)
            "nonfinite": self.nonfinite,
            "no_grad": self.no_grad,
            "zero_layers": self.zero_units,
            "gated_by_zero_init": sorted({self.names[i] for i in self.gated})[:100],
            "vanishing": (
                len(self.compared) > 1
                and max(self.blocks.values()) > 0
                and self.ratio < limits.vanishing_ratio
            ),
            "exploding": total_ok and self.total > norm_limit,
        }


def _median(values: list[float]) -> float:
    if len(values) == 1:  # most layers and blocks: one weight
        return values[0]
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _total_norm(names: list[str], norms: list[float]) -> tuple[float, list[float], list[str]]:
    """The total gradient norm, the norms with non-finite ones as 0 and the names of the
    parameters whose gradient norm is not finite."""
    total_sq = sum(map(operator.mul, norms, norms))
    if math.isfinite(total_sq):  # the common case: every norm finite, no overflow
        return math.sqrt(total_sq), norms, []
    nonfinite = [n for n, v in zip(names, norms, strict=True) if not math.isfinite(v)]
    finite = [v if math.isfinite(v) else 0.0 for v in norms]
    if nonfinite:
        return math.inf, finite, nonfinite
    big = max(finite)  # the squares overflowed
    return big * math.sqrt(sum((v / big) ** 2 for v in finite)), finite, nonfinite


def _vanishing(
    layout: _Layout, rms: list[float], gated: dict[int, str]
) -> tuple[dict[str, float], list[str], float]:
    """The blocks compared for vanishing with their figures, and the first one's figure over
    the largest. A block stands by the median RMS gradient of its weight layers (robust to
    one small projection, such as a query at near-uniform attention); gated weights say
    nothing yet."""
    figures: list[float | None] = []
    for _, idx in layout.blocks:
        live = [rms[i] for i in idx if i not in gated]
        figures.append(_median(live) if live else None)
    chosen = [b for b in layout.compared if figures[b] is not None]
    if len(chosen) < 2:
        chosen = [b for b, f in enumerate(figures) if f is not None]
    values = [figures[b] or 0.0 for b in chosen]
    largest = max(values, default=0.0)
    ratio = values[0] / largest if largest > 0 else 0.0
    blocks = {layout.blocks[b][0]: figures[b] or 0.0 for b in chosen}
    return blocks, [layout.blocks[b][0] for b in chosen], ratio


def _grad_figures(
    state: _Params, norms: list[float], weights: list[float], skip: set[str], no_grad: list[str]
) -> _GradFigures:
    total, finite, nonfinite = _total_norm(state.names, norms)
    rms = list(map(operator.mul, finite, state.inv_sqrt))
    layout = state.layout
    gated = _gated(state, norms) if 0.0 in norms else {}
    zero_units: list[str] = []
    if 0.0 in norms:
        zero = {i for i, v in enumerate(norms) if v == 0.0 and i not in gated}
        zero_units = [
            unit
            for unit, idx in layout.layers.items()
            if unit not in skip and _layer(unit) not in skip and zero.issuperset(idx)
        ]
    blocks, compared, ratio = _vanishing(layout, rms, gated)
    return _GradFigures(
        names=state.names,
        shapes=state.shapes,
        norms=norms,
        rms=rms,
        no_grad=[n for n in no_grad if n not in skip and _layer(n) not in skip],
        total=total,
        param_norm=math.sqrt(sum(w * w for w in weights if math.isfinite(w))),
        nonfinite=nonfinite,
        zero_units=zero_units,
        gated=gated,
        blocks=blocks,
        compared=compared,
        ratio=ratio,
        layers={unit: _median([rms[i] for i in idx]) for unit, idx in layout.shown},
    )


def _measure_grad_norm(model: nn.Module, skip: set[str]) -> _GradFigures:
    """The gradient figures of ``model``'s trainable parameters (``skip``: names and layers
    not required to have a gradient)."""
    trainable = _trainable(model)
    if not trainable:
        raise MLCheckUsageError("model has no trainable parameters (requires_grad=True).")
    state, norms, no_grad, weights = _grad_state(trainable)
    if not norms:
        raise MLCheckUsageError(
            "no parameter has a gradient: call loss.backward() before checking gradients."
        )
    return _grad_figures(state, norms, weights, skip, no_grad)


GRAD_NORM_WHY = (
    "the optimiser can only learn through gradients: NaN poisons every weight, missing "
    "or zero gradients freeze layers, vanishing ones leave early layers untrained and "
    "exploding ones make steps blow up; none of this raises an error."
)
GRAD_NONFINITE_FIX = (
    "NaN/Inf: lower the learning rate, clip gradients (clip_grad_norm_), check the "
    "loss for log(0) / division by zero, use a stable loss (BCEWithLogitsLoss)"
)
GRAD_MISSING_FIX = (
    "no gradient: the parameter is not used in forward, or the graph is cut "
    "(.detach(), .item(), torch.no_grad(), numpy round trip); freeze it "
    "(requires_grad=False) or pass it in ignore= if that is intended"
)
GRAD_ZERO_FIX = (
    "dead layers: dying ReLU (use LeakyReLU / lower LR / better init), saturated "
    "sigmoid/tanh, or a constant input; a layer whose gradient is blocked by a "
    "zero-initialised weight registered right after it is recognised as healthy, "
    "other designs that start at zero: check after a step, or list it in ignore="
)
GRAD_VANISHING_FIX = (
    "vanishing: ReLU-family activations instead of sigmoid/tanh, normalisation "
    "(BatchNorm/LayerNorm), residual connections, He/Xavier initialisation"
)
GRAD_EXPLODING_FIX = (
    "exploding: lower the learning rate, clip_grad_norm_, normalise inputs and "
    "targets, check the loss scale"
)


def _grad_problems(
    f: _GradFigures, details: GradNormDetails, limits: _GradLimits
) -> list[tuple[str, str]]:
    """Each problem found, with its fix."""
    problems: list[tuple[str, str]] = []
    if f.nonfinite:
        problems.append(
            (
                f"NaN/Inf gradients in {plural(len(f.nonfinite), 'parameter')}: {f.nonfinite[:5]}",
                GRAD_NONFINITE_FIX,
            )
        )
    if f.no_grad:
        problems.append(
            (
                f"no gradient for {plural(len(f.no_grad), 'trainable parameter')}: {f.no_grad[:5]}",
                GRAD_MISSING_FIX,
            )
        )
    if f.zero_units:
        problems.append(
            (
                "all-zero gradients (dead or saturated) in "
                f"{plural(len(f.zero_units), 'layer')}: {f.zero_units[:5]}",
                GRAD_ZERO_FIX,
            )
        )
    if details["vanishing"]:
        problems.append(
            (
                f"vanishing gradients: first block {f.compared[0]!r} median RMS gradient is "
                f"{fmt(f.ratio, 3)} of the largest block's over "
                f"{plural(len(f.compared), 'block')} (limit {fmt(limits.vanishing_ratio, 3)})",
                GRAD_VANISHING_FIX,
            )
        )
    if details["exploding"]:
        problems.append(
            (
                f"exploding gradients: total norm {fmt(f.total, 3)} > "
                f"{fmt(details['exploding_limit'], 3)} "
                f"({fmt(f.total / max(f.param_norm, 1.0), 3)}x the parameter norm "
                f"{fmt(f.param_norm, 3)})",
                GRAD_EXPLODING_FIX,
            )
        )
    return problems


def _gated_note(gated: dict[int, str]) -> str:
    if not gated:
        return ""
    blockers = sorted(set(gated.values()))
    return (
        f" {plural(len(gated), 'parameter')} get a zero gradient only because a "
        f"zero-initialised weight right after them blocks it ({plural(len(blockers), 'weight')}"
        f", e.g. {blockers[0]!r}): healthy at step 0, they learn once it moves."
    )


def _grad_table(f: _GradFigures) -> str:
    """The first parameters' gradient norms and RMS gradients relative to the largest."""
    shown = min(len(f.norms), _TABLE_ROWS)
    largest = max(f.rms) if f.rms else 0.0
    rows = [
        [
            f.names[i],
            "x".join(map(str, f.shapes[i])) or "scalar",
            fmt(f.norms[i], 3) if math.isfinite(f.norms[i]) else str(f.norms[i]),
            fmt(f.rms[i] / largest, 3) if largest > 0 else "-",
        ]
        for i in range(shown)
    ]
    body = table(["parameter", "shape", "grad norm", "RMS / largest"], rows)
    if shown < len(f.norms):
        body += f"\n  ... and {plural(len(f.norms) - shown, 'more parameter')}"
    return body


def _explain_grad_norm(f: _GradFigures, details: GradNormDetails, limits: _GradLimits) -> str:
    problems = _grad_problems(f, details, limits)
    if problems:
        return compose(
            f"grad_norm_healthy: {'; '.join(p for p, _ in problems)}.",
            body=_grad_table(f),
            why=GRAD_NORM_WHY,
            fix="; ".join(fix for _, fix in problems) + ".",
        )
    limit_text = (
        f"limit {fmt(details['exploding_limit'], 3)}"
        if limits.absolute
        else f"limit {fmt(limits.max_norm_ratio, 3)} x parameter norm {fmt(f.param_norm, 3)}"
    )
    return (
        f"grad_norm_healthy: {plural(len(f.names), 'parameter')} with finite "
        f"gradients; total norm {fmt(f.total, 3)} ({limit_text}); first/largest block "
        f"RMS ratio {fmt(f.ratio, 3)} over {plural(len(f.compared), 'block')} "
        f"(limit {fmt(limits.vanishing_ratio, 3)})." + _gated_note(f.gated)
    )


def _healthy(f: _GradFigures, details: GradNormDetails) -> bool:
    return not (
        f.nonfinite or f.no_grad or f.zero_units or details["vanishing"] or details["exploding"]
    )


@check("grad_norm_healthy")
def check_grad_norm_healthy(
    model: nn.Module,
    *,
    vanishing_ratio: float | None = None,
    max_total_norm: float | None = None,
    max_norm_ratio: float | None = None,
    ignore: str | Iterable[str] = (),
) -> CheckResult:
    """Detect unhealthy gradients after ``loss.backward()``.

    Fails on: NaN/Inf gradients; trainable parameters with no gradient (disconnected graph,
    forgotten parameter; list deliberate ones in ``ignore``); layers whose gradients are all
    zero (dead or saturated; a zero gradient caused only by a zero-initialised weight right
    after them, as in ``zero_init_residual`` or a zero head, is healthy at step 0);
    vanishing gradients, a fall with depth: parameters are grouped into blocks (the module
    path up to the repeated index, as ``encoder.layer.0``), each block stands by the median
    RMS gradient of its weight layers, and the first block of the repeated stack (of all
    blocks when there is no stack) must reach ``vanishing_ratio`` (ini
    ``ml_grad_vanishing_ratio``, default 1e-3) of the largest; exploding gradients, a total
    gradient norm over ``max_norm_ratio`` (ini ``ml_grad_max_norm_ratio``, default 100) times
    the parameters' total norm (at least 1), or over ``max_total_norm`` (ini
    ``ml_grad_max_total_norm``) when that absolute limit is given. Norms are batched on the
    gradients' device with one host transfer; the gradients are only read. Figure: the
    vanishing ratio.
    """
    require_model(model, "assert_grad_norm_healthy")
    limits = _grad_limits(vanishing_ratio, max_total_norm, max_norm_ratio)
    skip = {ignore} if isinstance(ignore, str) else set(ignore or ())
    f = _measure_grad_norm(model, skip)
    details = f.details(limits)
    message = _explain_grad_norm(f, details, limits)
    passed = _healthy(f, details)
    return result(passed, "error", f.ratio, limits.vanishing_ratio, message, dict(details))


# ---------------------------------------------------------------------------- tracker


@dataclass
class GradNormTracker:
    """Follow gradient norms and loss across training steps without changing training.

    Call ``.step(loss)`` after each ``backward()`` (before ``zero_grad``); per-layer norms stay
    on the device until ``.check()`` (no host sync per step). ``.check()`` finds NaN/Inf at
    step k, spikes (total norm over ``spike_factor`` times the running median), divergence
    (loss or norm growing by ``divergence_factor``), sustained growth (over the last quarter
    of the run, at least 3 steps, the median loss is over ``growth_factor`` (ini
    ``ml_tracker_growth_factor``, default 4) times the lowest of the first 3 losses, or the
    median gradient norm is, while the loss does not fall; pass the loss to ``.step`` for
    this rule), layers that stay dead, and gradient
    accumulation when ``zero_grad`` is missing (the same gradient tensors kept across steps,
    each backward adding to them; or, when other code writes them in place, norms growing at
    every step while the tensors are never replaced).
    """

    model: nn.Module
    spike_factor: float = 10.0
    divergence_factor: float = 100.0
    window: int = 10
    growth_factor: float | None = None
    _norms: list[torch.Tensor] = field(default_factory=list, repr=False)
    _losses: list[torch.Tensor | float] = field(default_factory=list, repr=False)
    _names: list[str] = field(default_factory=list, repr=False)
    _params: _Params = field(init=False, repr=False)
    _refs: list[Any] = field(default_factory=list, repr=False)
    _versions: list[Any] = field(default_factory=list, repr=False)
    _reset: bool = field(default=False, repr=False)
    _intervals: int = field(default=0, repr=False)
    _piled: int = field(default=0, repr=False)
    checked: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        require_model(self.model, "GradNormTracker")
        for name in ("spike_factor", "divergence_factor"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 1):
                raise MLCheckUsageError(f"{name} must be a number > 1, got {value!r}.")
        if self.growth_factor is not None:
            growth = self.growth_factor
            if not (
                isinstance(growth, (int, float)) and not isinstance(growth, bool) and growth > 1
            ):
                raise MLCheckUsageError(f"growth_factor must be a number > 1, got {growth!r}.")
        if not isinstance(self.window, int) or isinstance(self.window, bool) or self.window < 1:
            raise MLCheckUsageError(f"window must be a positive integer, got {self.window!r}.")
        self._params = _trainable(self.model)  # the parameters followed: trainable at start
        self._names = list(self._params.names)

    def step(self, loss: torch.Tensor | float | None = None) -> None:
        """Record this step's per-parameter gradient norms (kept on the device) and loss."""
        import torch

        grads = [p.grad for p in self._params.params]
        present = [g for g in grads if g is not None]
        versions = [getattr(g, "_version", None) if g is not None else None for g in grads]
        if self._refs:
            self._watch_resets(grads, versions)
        self._refs = [weakref.ref(g) if g is not None else None for g in grads]
        self._versions = versions
        full = _norms(torch, present)
        if len(present) < len(grads):  # -1 marks "no gradient"
            norms = full
            full = torch.full((len(grads),), -1.0, dtype=norms.dtype, device=norms.device)
            if present:
                idx = torch.tensor(
                    [i for i, g in enumerate(grads) if g is not None], device=norms.device
                )
                full = full.index_copy(0, idx, norms)
        self._norms.append(full)
        if loss is not None:
            value = loss.detach().reshape(-1)[0] if isinstance(loss, torch.Tensor) else loss
            self._losses.append(value)

    def _watch_resets(self, grads: list[Any], versions: list[Any]) -> None:
        """How the gradients changed since the last step. zero_grad() (set_to_none, torch's
        default) replaces the gradient tensors; zero_grad(set_to_none=False) zeroes them in
        place. Without either, backward adds to the same tensors: each one's version
        counter moves by exactly one per backward (read, never written)."""
        kept = [
            (v, old)
            for ref, g, v, old in zip(self._refs, grads, versions, self._versions, strict=True)
            if g is not None and ref is not None and ref() is g
        ]
        replaced = len(kept) < sum(g is not None for g in grads)
        self._reset = self._reset or replaced
        self._intervals += 1
        if kept and not replaced and all(v is not None and old is not None for v, old in kept):
            self._piled += all(v - old == 1 for v, old in kept)

    @property
    def steps(self) -> int:
        return len(self._norms)

    def check(self) -> CheckResult:
        """The verdict over all recorded steps (one host transfer); recorded in the audit."""
        self.checked = True
        return _tracker_check(self, growth_factor=self.growth_factor)

    def assert_healthy(self) -> CheckResult:
        __tracebackhide__ = True
        from pytest_mlchecks._protocol import enforce

        result = self.check()
        enforce(result)
        return result


@check("grad_tracker")
def _tracker_check(tracker: GradNormTracker, growth_factor: float | None = None) -> CheckResult:
    """GradNormTracker's verdict, recorded like any check (``growth_factor`` is passed so
    the threshold's provenance is the tracker's)."""
    import torch

    if not tracker._norms:
        raise MLCheckUsageError("GradNormTracker recorded no step: call .step() after backward().")
    device = tracker._norms[0].device
    rows = [n.to(device=device, dtype=torch.float64) for n in tracker._norms]
    stacked = torch.stack(rows).cpu().tolist()
    losses = [float(v.cpu()) if isinstance(v, torch.Tensor) else float(v) for v in tracker._losses]
    f = _measure_tracker(tracker, stacked, losses, growth_factor)
    message = _explain_tracker(f, tracker)
    return result(f.healthy, "error", len(f.spikes), 0, message, dict(f.details()))


SustainedGrowth = TypedDict(
    "SustainedGrowth",
    {
        "limit": float,
        "window": int,  # the last steps whose median is compared with the start
        "loss": "float | None",  # median loss over them / the lowest of the first 3
        "gradient norm": "float | None",  # the same for the total gradient norm
        "rule": "Literal['loss', 'gradient norm'] | None",  # the rule that fired
    },
)


class Divergence(TypedDict):
    what: Literal["loss", "gradient norm"]
    step: int


class TrackerDetails(TypedDict):
    """What ``GradNormTracker.check()`` measured and found (the record's ``details``)."""

    steps: int
    total_norms: list[float]  # the first 1000 steps
    losses: list[float]  # the finite losses, the first 1000
    nan_step: int | None
    spikes: list[int]
    divergence: Divergence | None
    sustained_growth: SustainedGrowth
    dead: list[str]
    dead_layers: list[str]
    accumulating: bool
    gradients_reset_between_steps: bool
    steps_gradients_piled_up: int


@dataclass(frozen=True)
class _TrackerFigures:
    """What the tracker's steps show."""

    totals: list[float]  # total gradient norm per step
    losses: list[float]  # the finite losses
    nan_step: int | None
    spikes: list[int]
    divergence: Divergence | None
    sustained: SustainedGrowth
    dead: list[str]
    dead_layers: list[str]
    growth: float  # the last total norm over the first
    piled: bool  # backward added to never-zeroed gradients at every step: certain
    rising: bool  # the norm rose at every step, tensors never replaced: likely
    reset: bool
    intervals: int
    piled_steps: int

    @property
    def healthy(self) -> bool:
        return (
            self.nan_step is None
            and not self.spikes
            and self.divergence is None
            and self.sustained["rule"] is None
            and not self.dead
            and not (self.piled or self.rising)
        )

    def details(self) -> TrackerDetails:
        return {
            "steps": len(self.totals),
            "total_norms": self.totals[:1000],
            "losses": self.losses[:1000],
            "nan_step": self.nan_step,
            "spikes": self.spikes,
            "divergence": self.divergence,
            "sustained_growth": self.sustained,
            "dead": self.dead,
            "dead_layers": self.dead_layers,
            "accumulating": self.piled or self.rising,
            "gradients_reset_between_steps": self.reset,
            "steps_gradients_piled_up": self.piled_steps,
        }


def _step_totals(norms: list[list[float]], losses: list[float]) -> tuple[list[float], int | None]:
    """The total gradient norm of each step (over the finite norms of the parameters that
    had a gradient) and the first step with a NaN/Inf gradient norm or loss."""
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
    return totals, nan_step


def _spikes(totals: list[float], factor: float, window: int) -> list[int]:
    """The steps (from the 4th) whose total norm is over ``factor`` times the median of the
    ``window`` steps before."""
    spikes = []
    for k in range(3, len(totals)):
        history = [t for t in totals[max(0, k - window) : k] if math.isfinite(t) and t > 0]
        if history and totals[k] > factor * _median(history):
            spikes.append(k)
    return spikes


def _divergence(totals: list[float], losses: list[float], factor: float) -> Divergence | None:
    """The first step where the loss went over ``factor`` times its lowest so far, else where
    the total norm went over ``factor`` times the median of the first 3."""
    if len(losses) >= 3:
        best = losses[0]
        for k, value in enumerate(losses):
            best = min(best, value)
            if best > 0 and value > factor * best:
                return {"what": "loss", "step": k}
    if len(totals) >= 3:
        start = _median([t for t in totals[:3] if t > 0] or [0.0])
        for k, t in enumerate(totals):
            if start > 0 and t > factor * start:
                return {"what": "gradient norm", "step": k}
    return None


def _sustained_growth(
    totals: list[float], losses: list[float], factor: float | None
) -> SustainedGrowth:
    """How far the loss and the gradient norm rose and stayed up: the median over the last
    quarter of the steps (at least 3) against the lowest of the first 3. The norm counts only
    when the loss is recorded and did not fall (healthy training may raise the norm while
    the loss falls: up to 7x measured)."""
    limit = resolve_threshold("tracker_growth_factor", factor)
    if not limit > 1:  # NaN too
        raise MLCheckUsageError(f"growth_factor must be a number > 1, got {limit!r}.")
    steps = len(totals)
    window = max(3, steps // 4)
    out: SustainedGrowth = {
        "limit": limit,
        "window": window,
        "loss": None,
        "gradient norm": None,
        "rule": None,
    }
    if len(losses) >= 2 * window and min(losses[:3]) > 0:
        loss = out["loss"] = _median(losses[-window:]) / min(losses[:3])
        if loss > limit:
            out["rule"] = "loss"
    start = [t for t in totals[:3] if math.isfinite(t) and t > 0]
    late = [t for t in totals[-window:] if math.isfinite(t)]
    if steps >= 2 * window and start and late:
        norm = out["gradient norm"] = _median(late) / min(start)
        not_falling = len(losses) >= 2 * window and _median(losses[-window:]) >= _median(
            losses[:window]
        )
        if out["rule"] is None and not_falling and norm > limit:
            out["rule"] = "gradient norm"
    return out


def _dead(names: list[str], norms: list[list[float]]) -> tuple[list[str], list[str]]:
    """The parameters with no gradient signal (zero or missing) at any of 2+ steps, and the
    layers all of whose parameters are such."""
    dead = [
        names[j]
        for j in range(len(names))
        if len(norms) >= 2 and all(row[j] == 0.0 or row[j] < 0 for row in norms)
    ]
    by_layer: dict[str, list[str]] = {}
    for name in names:
        by_layer.setdefault(_layer(name), []).append(name)
    dead_set = set(dead)
    return dead, [layer for layer, params in by_layer.items() if dead_set.issuperset(params)]


def _measure_tracker(
    tracker: GradNormTracker,
    norms: list[list[float]],
    losses: list[float],
    growth_factor: float | None,
) -> _TrackerFigures:
    """The figures of the tracker's steps: ``norms`` per step and parameter (-1: none)."""
    totals, nan_step = _step_totals(norms, losses)
    finite_losses = [v for v in losses if math.isfinite(v)]
    dead, dead_layers = _dead(tracker._names, norms)
    growth = totals[-1] / max(totals[0], 1e-30) if totals else 1.0
    rising = (
        len(totals) >= 5
        and not tracker._reset
        and all(b > a for a, b in itertools.pairwise(totals))
        and growth > 3
    )
    return _TrackerFigures(
        totals=totals,
        losses=finite_losses,
        nan_step=nan_step,
        spikes=_spikes(totals, tracker.spike_factor, tracker.window),
        divergence=_divergence(totals, finite_losses, tracker.divergence_factor),
        sustained=_sustained_growth(totals, finite_losses, growth_factor),
        dead=dead,
        dead_layers=dead_layers,
        growth=growth,
        piled=tracker._intervals >= 2 and tracker._piled == tracker._intervals,
        rising=rising,
        reset=tracker._reset,
        intervals=tracker._intervals,
        piled_steps=tracker._piled,
    )


TRACKER_WHY = (
    "training that diverges, spikes or carries NaN keeps running and writes a broken "
    "checkpoint; dead layers and accumulating gradients silently waste the run."
)
TRACKER_FIX = (
    "lower the learning rate or use warm-up, clip gradients (clip_grad_norm_), check "
    "the data batch at the first bad step, call optimizer.zero_grad() every step, and "
    "fix dead layers (activation, init, normalisation)."
)


def _tracker_findings(f: _TrackerFigures, tracker: GradNormTracker) -> list[str]:
    findings: list[str] = []
    if f.nan_step is not None:
        findings.append(f"NaN/Inf first appears at step {f.nan_step}")
    if f.spikes:
        findings.append(
            f"gradient-norm spikes (> {fmt(tracker.spike_factor)}x the running "
            f"median) at steps {f.spikes[:10]}"
        )
    if f.divergence is not None:
        findings.append(
            f"divergence: {f.divergence['what']} grew over {fmt(tracker.divergence_factor)}x "
            f"by step {f.divergence['step']}"
        )
    what = f.sustained["rule"]
    if what is not None:
        findings.append(
            f"sustained growth: over the last {f.sustained['window']} steps the median {what} "
            f"is {fmt(f.sustained[what] or 0.0, 3)}x its start (limit "
            f"{fmt(f.sustained['limit'], 3)}x"
            + (", and the loss did not fall" if what == "gradient norm" else "")
            + "): the learning rate is far too high"
        )
    if f.dead:
        whole = f"layers {f.dead_layers[:5]}" if f.dead_layers else ""
        rest = [n for n in f.dead if _layer(n) not in f.dead_layers]
        parts = [whole] if whole else []
        if rest:
            parts.append(f"parameters {rest[:5]}")
        findings.append(
            "no gradient signal (zero or missing) at any of the "
            f"{len(f.totals)} steps in {' and '.join(parts)}"
        )
    if f.piled:
        findings.append(
            f"gradients were never reset: at each of {f.intervals} steps backward "
            f"added to the previous gradients (total norm {fmt(f.growth, 3)}x its start); "
            "zero_grad() is missing"
        )
    elif f.rising:
        findings.append(
            f"gradient norm rose at every one of {len(f.totals) - 1} steps to "
            f"{fmt(f.growth, 3)}x its start, and the gradient tensors were never replaced "
            "between steps: gradients are accumulating (zero_grad() missing?)"
        )
    return findings


def _explain_tracker(f: _TrackerFigures, tracker: GradNormTracker) -> str:
    findings = _tracker_findings(f, tracker)
    if not findings:
        return (
            f"grad_tracker: {len(f.totals)} steps, total gradient norm {fmt(f.totals[0], 3)} -> "
            f"{fmt(f.totals[-1], 3)}, no NaN, spike, divergence or dead layer."
        )
    return compose(f"grad_tracker: {'; '.join(findings)}.", why=TRACKER_WHY, fix=TRACKER_FIX)


# ---------------------------------------------------------------------------- state kept


def _snapshot(model: Any) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _restore(model: Any, state: dict[str, Any]) -> None:
    import torch

    with torch.no_grad():
        model.load_state_dict(state)


def _modes(model: Any) -> list[tuple[Any, bool]]:
    """Every submodule's train/eval flag: a model may mix them (frozen batch-norm in eval)."""
    return [(m, m.training) for m in model.modules()]


def _restore_modes(modes: list[tuple[Any, bool]]) -> None:
    for module, training in modes:
        module.training = training


def _grads(model: Any) -> dict[str, Any]:
    return {n: p.grad for n, p in model.named_parameters()}


def _restore_grads(model: Any, grads: dict[str, Any]) -> None:
    for name, p in model.named_parameters():
        if name in grads:
            p.grad = grads[name]


def _cuda_devices(model: Any) -> list[int]:
    return sorted(
        {
            t.device.index or 0
            for t in itertools.chain(model.parameters(), model.buffers())
            if t.device.type == "cuda"
        }
    )


@contextlib.contextmanager
def _seeded(torch: Any, model: Any, seed: int) -> Iterator[None]:
    """Run with the CPU generator and those of the model's CUDA devices seeded, and put
    their states back afterwards: the figure never depends on the caller's RNG state, and
    the caller's RNG state never depends on the check."""
    devices = _cuda_devices(model)
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        for index in devices:
            torch.cuda.default_generators[index].manual_seed(seed)
        yield


@contextlib.contextmanager
def _preserved(
    model: nn.Module, optimizer: torch.optim.Optimizer | None, *, weights: bool = True
) -> Iterator[None]:
    """Put back, after the block, every module's train/eval flag, ``optimizer``'s state and
    (with ``weights``) the model's weights, buffers and gradients."""
    saved = _snapshot(model) if weights else None
    grads = _grads(model) if weights else None
    opt_state = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
    modes = _modes(model)
    try:
        yield
    finally:
        if saved is not None:
            _restore(model, saved)
        if grads is not None:
            _restore_grads(model, grads)
        if optimizer is not None and opt_state is not None:
            optimizer.load_state_dict(opt_state)
        _restore_modes(modes)


# ---------------------------------------------------------------------------- params update


def _gated_by_zero_init(model: Any, stuck: list[str], before: dict[str, Any]) -> dict[str, str]:
    """The unchanged parameters whose gradient (as the step left it) was zero only because
    a weight right after them was exactly zero before the step (zero-initialised residual
    branches, heads, adapters): name -> the blocking weight."""
    trainable = _trainable(model)
    if not all(p.grad is not None for p in trainable.params):
        keep = [i for i, p in enumerate(trainable.params) if p.grad is not None]
        trainable = trainable.subset(keep)
    if not trainable:
        return {}
    _, norms, _, _ = _grad_state(trainable)
    if 0.0 not in norms:
        return {}
    gated = _gated(trainable, norms, lambda i: before[trainable.names[i]])
    wanted = set(stuck)
    return {trainable.names[i]: w for i, w in gated.items() if trainable.names[i] in wanted}


def _prefixes(value: Any, argument: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(v, str) and v for v in items):
        raise MLCheckUsageError(
            f"{argument} must be a parameter name or prefix, or a list of them, got {value!r}."
        )
    return items


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _compact(names: list[str], limit: int = 8) -> str:
    """Parameter names grouped by their layer: ``['encoder.0 (weight, bias)', ...]``."""
    by_layer: dict[str, list[str]] = {}
    for name in names:
        layer, _, leaf = name.rpartition(".")
        by_layer.setdefault(layer or name, []).append(leaf if layer else "")
    parts = [
        f"{layer} ({', '.join(leaves)})" if any(leaves) else layer
        for layer, leaves in itertools.islice(by_layer.items(), limit)
    ]
    more = len(by_layer) - limit
    return ", ".join(parts) + (f" and {plural(more, 'more layer')}" if more > 0 else "")


class ParamsUpdateDetails(TypedDict):
    """What ``params_update`` found (the record's ``details``)."""

    did_not_change: list[str]  # trainable, unchanged, not gated by a zero-initialised weight
    gated_by_zero_init: list[str]  # the first 200
    frozen_but_changed: list[str]
    frozen: list[str]  # the first 200
    expected_trainable_but_frozen: list[str]


@dataclass(frozen=True)
class _ParamsUpdate:
    """How the parameters moved in one training step."""

    n_params: int
    stuck: list[str]
    gated: dict[str, str]  # unchanged parameter -> the zero-initialised weight that gated it
    moved_frozen: list[str]
    frozen: list[str]
    wrongly_frozen: list[str]

    @property
    def broken(self) -> int:
        """How many parameters broke the rule."""
        return len(self.stuck) + len(self.moved_frozen) + len(self.wrongly_frozen)

    def details(self) -> ParamsUpdateDetails:
        return {
            "did_not_change": self.stuck,
            "gated_by_zero_init": sorted(self.gated)[:200],
            "frozen_but_changed": self.moved_frozen,
            "frozen": self.frozen[:200],
            "expected_trainable_but_frozen": self.wrongly_frozen,
        }


def _expected_trainable(model: nn.Module, expect_trainable: object) -> list[str]:
    """The prefixes that must train, once the model is known to hold real parameters that
    each prefix matches."""
    expected = _prefixes(expect_trainable, "expect_trainable")
    named = list(model.named_parameters())
    if not named:
        raise MLCheckUsageError(
            "model has no parameters: there is nothing a training step could update."
        )
    if any(p.is_meta for _, p in named):
        raise MLCheckUsageError(
            "model has parameters on the meta device, which hold no values: materialise it "
            "(to_empty() and load weights) first."
        )
    unknown = [p for p in expected if not any(_under(n, p) for n, _ in named)]
    if unknown:
        raise MLCheckUsageError(
            f"expect_trainable names {unknown[:5]}, which match no parameter of the model "
            f"(its parameters look like {[n for n, _ in named[:3]]})."
        )
    return expected


def _run_step(step_fn: Callable[[], object]) -> None:
    try:
        step_fn()
    except Exception as exc:
        raise MLCheckUsageError(
            f"step_fn() raised {type(exc).__name__}: {exc}. It must run one training "
            "step (forward, backward, optimizer.step()) on the model."
        ) from exc


def _measure_params_update(
    torch: ModuleType, model: nn.Module, before: dict[str, Any], expected: list[str]
) -> _ParamsUpdate:
    """Which parameters moved since ``before`` (their values before the step)."""
    stuck, moved_frozen, frozen = [], [], []
    for name, p in model.named_parameters():
        same = bool(torch.equal(p.detach(), before[name]))
        if p.requires_grad and same:
            stuck.append(name)
        if not p.requires_grad:
            frozen.append(name)
            if not same:
                moved_frozen.append(name)
    gated = _gated_by_zero_init(model, stuck, before) if stuck else {}
    return _ParamsUpdate(
        n_params=len(before),
        stuck=[n for n in stuck if n not in gated],
        gated=gated,
        moved_frozen=moved_frozen,
        frozen=frozen,
        wrongly_frozen=[n for n in frozen if any(_under(n, p) for p in expected)],
    )


PARAMS_UPDATE_WHY = (
    "a parameter the optimiser never moves is dead weight (not in the optimiser's "
    "param groups, no gradient, zero learning rate); a frozen one that moves means "
    "fine-tuning is overwriting what it should keep; a layer frozen by mistake "
    "trains nothing and raises no error."
)
PARAMS_UPDATE_FIX = (
    "pass model.parameters() (after unfreezing) to the optimiser, check "
    "requires_grad and the graph (assert_grad_norm_healthy), unfreeze the layers "
    "you expect to train (requires_grad_(True)), and exclude frozen parameters from "
    "the optimiser and from weight decay."
)


def _explain_params_update(u: _ParamsUpdate) -> str:
    if not u.broken:
        kept = (
            f"; {plural(len(u.frozen), 'frozen parameter')} stayed put: {_compact(u.frozen)}"
            if u.frozen
            else "; no parameter is frozen"
        )
        blockers = sorted(set(u.gated.values()))
        waiting = (
            f" {plural(len(u.gated), 'trainable parameter')} did not move only because a "
            f"zero-initialised weight right after them (e.g. {blockers[0]!r}) blocked their "
            "gradient at this first step: they move once it does."
            if u.gated
            else ""
        )
        return (
            f"params_update: all {plural(u.n_params, 'parameter')} behaved (trainable ones "
            f"changed, frozen ones did not){kept}.{waiting}"
        )
    parts = []
    if u.stuck:
        parts.append(f"trainable but unchanged: {u.stuck[:8]}")
    if u.moved_frozen:
        parts.append(f"frozen but changed: {u.moved_frozen[:8]}")
    if u.wrongly_frozen:
        parts.append(
            f"expected to train (expect_trainable) but frozen: {_compact(u.wrongly_frozen)}"
        )
    return compose(
        f"params_update: {plural(u.broken, 'parameter')} broke the rule after one step ("
        + "; ".join(parts)
        + ").",
        why=PARAMS_UPDATE_WHY,
        fix=PARAMS_UPDATE_FIX,
    )


@check("params_update")
def check_params_update(
    model: nn.Module,
    step_fn: Callable[[], object],
    *,
    optimizer: torch.optim.Optimizer | None = None,
    restore: bool = True,
    expect_trainable: str | Iterable[str] | None = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect parameters that a training step does not move (or frozen ones that it does).

    Runs ``step_fn()`` once (your forward, backward and optimiser step) and compares every
    parameter with its value before: trainable ones must change, frozen ones must not.
    ``expect_trainable`` (parameter names or module prefixes, e.g. ``["encoder", "head"]``)
    lists what must train: a parameter under it that is frozen fails (a layer frozen by
    mistake); the passing message names the frozen parameters. The step runs with the
    global torch RNG seeded (``random_state``, else ``--ml-seed``) and the RNG state put back
    afterwards, like the model's weights, gradients and train/eval modes (and
    ``optimizer``'s state, if given) unless ``restore=False``.
    Figure: the number of parameters breaking the rule (threshold 0).
    """
    torch = require_model(model, "assert_params_update")
    if not callable(step_fn):
        raise MLCheckUsageError("step_fn must be a callable running one training step.")
    expected = _expected_trainable(model, expect_trainable)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    with _preserved(model, optimizer, weights=restore):
        with _seeded(torch, model, current_seed(random_state)):
            _run_step(step_fn)
        found = _measure_params_update(torch, model, before, expected)
    message = _explain_params_update(found)
    return result(not found.broken, "error", found.broken, 0, message, dict(found.details()))


# ---------------------------------------------------------------------------- overfit a batch


def _quiet_loss(model: Any, loss_fn: Callable[..., Any], batch: Any) -> float:
    """The batch's loss in train mode with dropout-type modules off (batch-norm keeps its
    batch statistics, deterministic on a fixed batch), without gradients; train mode after."""
    import torch

    model.train()
    for module in model.modules():
        if _has_randomness(module, norm=False):
            module.eval()
    try:
        with torch.no_grad():
            return float(_loss(loss_fn, call_model(model, batch[0], "batch"), batch[1]))
    finally:
        model.train()


def _loss(loss_fn: Callable[..., Any], outputs: Any, targets: Any) -> Any:
    """``loss_fn(outputs, targets)``, its errors reported as the caller's (their loss does
    not fit the model's output or the targets), and a loss that is not one number refused."""
    try:
        loss = loss_fn(outputs, targets)
    except Exception as exc:
        raise MLCheckUsageError(
            f"loss_fn(outputs, targets) raised {type(exc).__name__}: {exc}. Check that the "
            "loss matches the model's output and the targets' dtype and shape."
        ) from exc
    if getattr(loss, "numel", lambda: 1)() != 1:
        raise MLCheckUsageError(
            f"loss_fn returned {tuple(loss.shape)} values: expected one number (a reduced loss)."
        )
    return loss


class CanOverfitDetails(TypedDict):
    """What ``can_overfit_batch`` measured (the record's ``details``)."""

    initial_loss: float
    final_loss: float  # the lower of train mode (dropout off) and eval mode
    goal: float
    steps: int
    loss_detached: bool  # the loss has no grad_fn: no parameter can lower it


@dataclass(frozen=True)
class _Overfit:
    """How the loss on one batch fell while training on it."""

    losses: list[float]  # per step, in train mode
    final: float
    goal: float
    cut: bool
    rows: int  # the batch size

    @property
    def reached(self) -> bool:
        return math.isfinite(self.final) and self.final <= self.goal and not self.cut

    def details(self) -> CanOverfitDetails:
        return {
            "initial_loss": self.losses[0] if self.losses else float("nan"),
            "final_loss": self.final,
            "goal": self.goal,
            "steps": len(self.losses),
            "loss_detached": self.cut,
        }


def _overfit_inputs(
    batch: object, steps: object, lr: object, loss_fn: object, target: float
) -> tuple[Any, Any]:
    """``(inputs, targets)`` detached, once the arguments are known to be usable."""
    if not (isinstance(target, (int, float)) and math.isfinite(target) and target >= 0):
        raise MLCheckUsageError(f"target_loss must be a finite number >= 0, got {target!r}.")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise MLCheckUsageError(f"lr must be a finite number > 0, got {lr!r}.")
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise MLCheckUsageError("batch must be a pair (inputs, targets).")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise MLCheckUsageError(f"steps must be a positive integer, got {steps!r}.")
    if not callable(loss_fn):
        raise MLCheckUsageError("loss_fn must be callable: loss_fn(outputs, targets) -> loss.")
    inputs, targets = batch
    validate_inputs(inputs, "batch")
    # the caller's tensors may require grad: training on them must not write their .grad
    return detached(inputs), detached(targets)


def _train_to_goal(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    loss_fn: LossFn,
    batch: tuple[Any, Any],
    steps: int,
    target: float,
    noisy: bool,
) -> tuple[list[float], float, bool]:
    """Train on ``batch`` until the loss reaches the goal (``target``, or 1% of the first
    loss when larger), diverges or ``steps`` run out: the train-mode losses, the goal and
    whether the loss is cut from the parameters (no grad_fn)."""
    inputs, targets = batch
    losses: list[float] = []
    goal = target
    for _ in range(steps):
        opt.zero_grad()
        loss = _loss(loss_fn, call_model(model, inputs, "batch"), targets)
        if not getattr(loss, "requires_grad", False):
            # the graph is cut: no parameter can move the loss
            losses.append(float(loss))
            return losses, goal, True
        value = float(loss.detach())
        losses.append(value)
        if len(losses) == 1 and math.isfinite(value):
            goal = max(target, 0.01 * value)
        if not math.isfinite(value):
            break  # diverged
        # the goal reached: no need to train further. With dropout a train-mode
        # loss is noisy (it may dip under the goal by luck, or hide that the goal is
        # reached): the loss with dropout off decides, checked when the train-mode
        # loss is under the goal and every 10 steps
        below = value <= goal
        if below and not noisy:
            break
        confirm = noisy and (below or len(losses) % 10 == 0)
        if confirm and _quiet_loss(model, loss_fn, batch) <= goal:
            break
        loss.backward()
        opt.step()
    return losses, goal, False


def _measure_can_overfit(
    torch: ModuleType,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    loss_fn: LossFn,
    batch: tuple[Any, Any],
    steps: int,
    target: float,
    seed: int,
) -> _Overfit:
    """Train on ``batch`` (seeded), then the final loss: the lower of train mode (dropout
    off: its train-mode losses are random) and eval mode."""
    inputs, targets = batch
    # dropout makes train-mode losses random: judged in eval mode only (batch-norm alone
    # keeps train mode deterministic on a fixed batch)
    noisy = any(_has_randomness(m, norm=False) for m in model.modules())
    with _seeded(torch, model, seed):
        model.train()
        losses, goal, cut = _train_to_goal(model, opt, loss_fn, batch, steps, target, noisy)
        with torch.no_grad():
            trained = float(_loss(loss_fn, call_model(model, inputs, "batch"), targets))
            model.eval()
            evaluated = float(_loss(loss_fn, call_model(model, inputs, "batch"), targets))
    if noisy:  # a train-mode loss is random: dropout off, batch-norm as in training
        trained = _quiet_loss(model, loss_fn, batch)
    finite = [v for v in (trained, evaluated) if math.isfinite(v)]
    final = min(finite) if finite else float("nan")
    rows = batch_rows(targets) or batch_rows(inputs)
    return _Overfit(losses, final, goal, cut, rows)


CAN_OVERFIT_WHY = (
    "any working model can memorise a handful of examples; if it cannot, the bug is "
    "in the setup (loss vs output mismatch, frozen or detached layers, wrong targets, "
    "a learning rate far off), not in the amount of data."
)
CAN_OVERFIT_FIX = (
    "check that the loss matches the output (logits vs probabilities, target dtype "
    "and shape), that gradients reach every layer (assert_grad_norm_healthy; look for "
    ".detach(), .item(), torch.no_grad() or a numpy round trip in forward or the "
    "loss), and try another learning rate."
)


def _explain_can_overfit(details: CanOverfitDetails, rows: int, passed: bool) -> str:
    start, final, goal = details["initial_loss"], details["final_loss"], details["goal"]
    head = (
        f"can_overfit_batch: loss {fmt(start, 4)} -> {fmt(final, 4)} after {details['steps']} "
        f"steps on a batch of {rows} (goal <= {fmt(goal, 4)})."
    )
    if details["loss_detached"]:
        head = (
            f"can_overfit_batch: the loss ({fmt(start, 4)}) does not depend on any trainable "
            "parameter (it has no grad_fn): the graph is cut between the parameters and the "
            "loss, so no step can lower it."
        )
    return head if passed else compose(head, why=CAN_OVERFIT_WHY, fix=CAN_OVERFIT_FIX)


@check("can_overfit_batch")
def check_can_overfit_batch(
    model: nn.Module,
    batch: Batch,
    loss_fn: LossFn,
    *,
    steps: int = 200,
    target_loss: float | None = None,
    lr: float = 1e-2,
    optimizer: torch.optim.Optimizer | None = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect a model that cannot drive one small batch's loss near zero (a broken setup).

    ``batch`` is ``(inputs, targets)``; ``inputs`` is a tensor, a tuple of positional inputs
    or a mapping of keyword inputs. Trains in train mode for ``steps`` Adam steps at ``lr``
    (or with ``optimizer``) and requires the final loss, the lower of train mode (with
    dropout off: its train-mode losses are random) and eval mode, to reach ``target_loss``
    (ini ``ml_overfit_target_loss``, default 0.05)
    or 1% of the initial loss, whichever is larger; training stops as soon as the loss
    reaches the goal. The training is seeded (``random_state``, else ``--ml-seed``): the
    same input gives the same figure. Weights, gradients, every module's mode, the
    optimiser's state and the global RNG state are restored. Figure: the final loss.
    """
    torch = require_model(model, "assert_can_overfit_batch")
    target = resolve_threshold("overfit_target_loss", target_loss)
    pair = _overfit_inputs(batch, steps, lr, loss_fn, target)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise MLCheckUsageError("model has no trainable parameters (requires_grad=True).")
    with _preserved(model, optimizer):
        opt = optimizer if optimizer is not None else torch.optim.Adam(trainable, lr=lr)
        seed = current_seed(random_state)
        found = _measure_can_overfit(torch, model, opt, loss_fn, pair, steps, target, seed)
    details = found.details()
    message = _explain_can_overfit(details, found.rows, found.reached)
    return result(found.reached, "error", found.final, found.goal, message, dict(details))


# ---------------------------------------------------------------------------- eval determinism


def _gap(x: Any, y: Any) -> float:
    """Largest absolute difference between two output tensors (NaN or Inf in the same place
    count as equal; a shape, dtype or NaN-placement mismatch counts as infinite)."""
    import torch

    x, y = x.detach(), y.detach()
    if x.shape != y.shape or x.dtype != y.dtype:
        return math.inf
    if not x.numel():
        return 0.0
    if not (x.is_floating_point() or x.is_complex()):  # labels, ids, masks: exact
        return float((x.to(torch.float64) - y.to(x.device, torch.float64)).abs().max())
    x, y = x.to(torch.complex128 if x.is_complex() else torch.float64), y.to(x.device)
    same = (x == y) | (torch.isnan(x) & torch.isnan(y))
    diff = torch.where(same, torch.zeros((), dtype=torch.float64, device=x.device), (x - y).abs())
    return float(torch.nan_to_num(diff, nan=math.inf).max())


def _rounding(t: Any, atol: float) -> float:
    """What floating-point rounding alone can explain between two evaluations of the same rows
    of one output (kernels may change with the batch size, or run in another order on GPUs):
    64 machine epsilons of its dtype times its scale (at most 1% of it), or ``atol``."""
    import torch

    if not t.is_floating_point() or not t.numel():
        return atol
    magnitude = t.detach().abs()
    finite = magnitude[torch.isfinite(magnitude)]
    scale = float(finite.max()) if finite.numel() else 1.0
    return max(atol, min(64 * torch.finfo(t.dtype).eps, 0.01) * max(scale, 1.0))


class EvalDeterministicDetails(TypedDict):
    """What ``eval_deterministic`` measured (the record's ``details``)."""

    max_abs_diff: float
    model_training: bool
    train_mode_stochastic_modules: list[str]  # the first 20


def _eval_passes(
    torch: ModuleType, model: nn.Module, X: ModelInputs, rows: int, sub: int, seed: int
) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor] | None]:
    """Two forward passes on ``X`` and one on its first ``sub`` rows (None when the model
    refuses them, or the batch has one row), seeded, under no_grad; buffers put back."""
    buffers = {k: v.detach().clone() for k, v in model.named_buffers()}
    half = None
    try:
        with _seeded(torch, model, seed), torch.no_grad():
            first = output_tensors(call_model(model, X, "X"))
            second = output_tensors(call_model(model, X, "X"))
            if rows >= 2:
                try:
                    half = output_tensors(forward(model, first_rows(X, sub)))
                except Exception:  # e.g. batch-norm in train mode refuses a single row
                    half = None
    finally:
        with torch.no_grad():
            for name, value in model.named_buffers():
                if name in buffers:
                    value.copy_(buffers[name])
    return first, second, half


def _measure_eval_deterministic(
    torch: ModuleType, model: nn.Module, X: ModelInputs, limit: float, seed: int
) -> tuple[EvalDeterministicDetails, float]:
    """The largest difference between passes on the same rows, and the tolerance it is held
    to (that of the output whose difference is the most over its own, else the largest)."""
    rows = batch_rows(X)
    sub = max(rows // 2, min(rows - 1, 2))  # a part of the batch, 2+ rows when possible
    first, second, half = _eval_passes(torch, model, X, rows, sub, seed)
    if not first:
        raise MLCheckUsageError(
            "the model returned no tensor: expected a tensor, or tuples / mappings of tensors."
        )
    if len(second) != len(first):
        compared = [(math.inf, limit)]
    else:
        compared = [(_gap(a, b), _rounding(a, limit)) for a, b in zip(first, second, strict=True)]
    if half is not None and len(half) == len(first):
        # the outputs batched by row (first dimension = batch) must not depend on the others
        compared += [
            (_gap(full[:sub], part), _rounding(full, limit))
            for full, part in zip(first, half, strict=True)
            if full.dim() and part.dim() and full.shape[0] == rows and part.shape[0] == sub
        ]
    over = [(g, t) for g, t in compared if g > t]
    gap, tolerance = max(over) if over else max(compared)
    training = [n for n, m in model.named_modules() if m.training and _has_randomness(m)]
    details: EvalDeterministicDetails = {
        "max_abs_diff": gap,
        "model_training": model.training,
        "train_mode_stochastic_modules": training[:20],
    }
    return details, tolerance


EVAL_DETERMINISTIC_WHY = (
    "dropout still drops and batch-norm still uses batch statistics (and updates "
    "its running averages) in train mode: predictions become random and depend on "
    "the other rows of the batch."
)
EVAL_DETERMINISTIC_FIX = (
    "call model.eval() (and wrap inference in torch.no_grad() or inference_mode())."
)


def _explain_eval_deterministic(details: EvalDeterministicDetails, tolerance: float) -> str:
    gap, mode = details["max_abs_diff"], "train" if details["model_training"] else "eval"
    if gap <= tolerance:
        return (
            f"eval_deterministic: two forward passes agree (max |diff| {fmt(gap, 3)}, "
            f"tolerance {fmt(tolerance, 3)}; model in {mode} mode)."
        )
    stochastic = details["train_mode_stochastic_modules"]
    return compose(
        f"eval_deterministic: forward passes on the same rows differ by up to "
        f"{fmt(gap, 3)} (tolerance {fmt(tolerance, 3)}); the model is in {mode} mode"
        + (f", with stochastic modules in train mode: {stochastic[:5]}" if stochastic else "")
        + ".",
        why=EVAL_DETERMINISTIC_WHY,
        fix=EVAL_DETERMINISTIC_FIX,
    )


@check("eval_deterministic")
def check_eval_deterministic(
    model: nn.Module,
    X: ModelInputs,
    *,
    atol: float | None = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect inference that is not deterministic in the mode the caller left the model.

    Runs two forward passes (under no_grad, on the same input: a tensor, a tuple of
    positional inputs or a mapping of keyword inputs) and compares every output tensor, then
    runs the first half of the batch alone (at least 2 rows when the batch has 3 or more) and
    compares its rows: dropout left in training
    mode makes the passes differ, batch-norm in training mode makes a row's output depend on
    the rest of the batch. Differences within floating-point rounding (64 epsilons of the
    output dtype times its scale, at most 1% of it) or ``atol`` are allowed. The mode,
    weights, batch-norm running statistics and RNG state are left as they were; the passes
    draw from a generator seeded with ``random_state`` (else ``--ml-seed``), so the figure
    does not depend on the caller's RNG state. Figure: the largest absolute difference.
    """
    torch = require_model(model, "assert_eval_deterministic")
    if atol is not None and (not isinstance(atol, (int, float)) or not atol >= 0):
        raise MLCheckUsageError(f"atol must be a number >= 0, got {atol!r}.")
    validate_inputs(X, "X")
    seed = current_seed(random_state)
    details, tolerance = _measure_eval_deterministic(torch, model, X, float(atol or 0.0), seed)
    message = _explain_eval_deterministic(details, tolerance)
    gap = details["max_abs_diff"]
    return result(gap <= tolerance, "error", gap, tolerance, message, dict(details))


def _has_randomness(module: Any, *, norm: bool = True) -> bool:
    """Dropout-type modules (random in train mode) and, with ``norm``, batch-norm ones
    (batch-dependent in train mode)."""
    import torch

    nn = torch.nn
    dropout = (
        nn.Dropout,
        nn.Dropout1d,
        nn.Dropout2d,
        nn.Dropout3d,
        nn.AlphaDropout,
        nn.FeatureAlphaDropout,
    )
    batch_norm = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
    if isinstance(module, dropout):
        return True
    if type(module).__name__ in ("StochasticDepth", "DropPath"):  # torchvision, timm
        return True
    return norm and isinstance(module, batch_norm)


# --------------------------------------------------------------- the HTML report's charts


@chart("grad_norm_healthy")
def _chart_grad_norm_healthy(details: dict[str, Any]) -> list[BarChart]:
    """RMS gradient per layer, input to output (log scale)."""
    layers = list((details.get("layers") or {}).items())[:30]
    if not layers:
        return []
    return [
        BarChart(
            "Gradient RMS per layer, input to output",
            [name for name, _ in layers],
            [Series("RMS gradient per layer (log scale)", [v for _, v in layers], "cur")],
            log=True,
        )
    ]
