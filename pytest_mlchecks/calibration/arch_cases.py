"""Stock architectures for calibrating the model-rung torch checks on real models.

Each case builds a torchvision, timm or transformers model from its constructor or config
(random initialisation, nothing downloaded) with a small input of its task, and the table runs
every model-rung check on it: healthy, they must pass (false alarms), and broken on purpose
(NaN loss, an AMP loss scale left in the gradients, a block frozen by mistake, inference left
in train mode), they must fail (detections). ``python -m pytest_mlchecks.calibration --only
architectures`` prints the table; tests/real/test_architectures.py runs the same cases.
torch and the model libraries are imported when a case runs; a case whose library is missing
is skipped.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_mlchecks._messages import md_table


def _module(name: str) -> Any:
    return importlib.import_module(name)


def define_torchvision_ops() -> None:
    """torchvision's CUDA wheels next to a CPU torch fail to import until the schema of their
    ``nms`` operators exists; no model here uses them."""
    torch = _module("torch")
    for op in ("nms", "qnms"):
        # already defined (by torchvision itself or an earlier call): nothing to do
        with contextlib.suppress(RuntimeError):
            torch.library.define(
                f"torchvision::{op}", "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"
            )


@dataclass
class Arch:
    """A built model with one batch of its task."""

    model: Any
    inputs: Any
    targets: Any
    loss_fn: Callable[[Any, Any], Any]
    block: str  # a repeated block's prefix, frozen in the "frozen by mistake" case
    stochastic: bool  # dropout or batch-norm: train-mode inference is not deterministic


@dataclass(frozen=True)
class ArchCase:
    name: str
    library: str  # "torchvision", "timm" or "transformers"
    build: Callable[[Any], Arch]
    overfit: bool = True  # run can_overfit_batch (skipped for the largest models)
    large: bool = False  # > 50M parameters: in the full table, not in the quick test set


def _logits(out: Any) -> Any:
    return out.logits if hasattr(out, "logits") else out


def _images(torch: Any, model: Any, px: int, classes: int, block: str, stochastic: bool) -> Arch:
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(4, 3, px, px, generator=gen)
    y = torch.randint(0, classes, (4,), generator=gen)
    return Arch(model, X, y, torch.nn.functional.cross_entropy, block, stochastic)


def _tv(name: str, px: int, block: str, stochastic: bool = True, **kw: Any) -> Any:
    def build(torch: Any) -> Arch:
        define_torchvision_ops()
        torchvision = _module("torchvision")
        model = getattr(torchvision.models, name)(**kw)
        return _images(torch, model, px, kw.get("num_classes", 1000), block, stochastic)

    return build


def _timm_resnet18(torch: Any) -> Arch:
    define_torchvision_ops()
    timm = _module("timm")
    return _images(torch, timm.create_model("resnet18", pretrained=False), 64, 1000, "layer1", True)


_SMALL = {"vocab_size": 1000, "max_position_embeddings": 64}


def _text(torch: Any, model: Any, vocab: int, task: str, block: str) -> Arch:
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab, (4, 16), generator=gen)
    mask = torch.ones_like(ids)
    mask[2:, 12:] = 0  # two padded rows
    nn = torch.nn

    if task == "classify":
        y = torch.randint(0, 2, (4,), generator=gen)

        def loss(out: Any, t: Any) -> Any:
            return nn.functional.cross_entropy(_logits(out), t)

    else:  # token prediction over the vocabulary: masked or causal language modelling
        y = ids.clone()

        def loss(out: Any, t: Any) -> Any:
            logits = _logits(out)
            return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1))

    return Arch(model, {"input_ids": ids, "attention_mask": mask}, y, loss, block, True)


def _hf(kind: str, task: str, block: str, **config: Any) -> Any:
    def build(torch: Any) -> Arch:
        define_torchvision_ops()
        transformers = _module("transformers")
        if kind.startswith("Bert"):
            cfg: Any = transformers.BertConfig(**config)
        elif kind.startswith("DistilBert"):
            cfg = transformers.DistilBertConfig(**config)
        else:
            cfg = transformers.GPT2Config(**config)
        model = getattr(transformers, kind)(cfg)
        return _text(torch, model, cfg.vocab_size, task, block)

    return build


_BERT_SMALL = dict(
    _SMALL, hidden_size=64, num_hidden_layers=4, num_attention_heads=4, intermediate_size=128
)
_DISTIL_SMALL = dict(_SMALL, dim=64, n_layers=4, n_heads=4, hidden_dim=128)
_GPT2_SMALL = {"vocab_size": 1000, "n_positions": 64, "n_embd": 64, "n_layer": 4, "n_head": 4}
_GPT2_SMALL.update(bos_token_id=0, eos_token_id=0)

ARCH_CASES: tuple[ArchCase, ...] = (
    ArchCase(
        "torchvision resnet18 (zero_init_residual)",
        "torchvision",
        _tv("resnet18", 64, "layer1", zero_init_residual=True),
    ),
    ArchCase(
        "torchvision vit_b_16 (32 px, zero head)",
        "torchvision",
        _tv("vit_b_16", 32, "encoder.layers.encoder_layer_0", stochastic=False, image_size=32),
        overfit=False,
        large=True,
    ),
    ArchCase(
        "torchvision efficientnet_b0", "torchvision", _tv("efficientnet_b0", 64, "features.1")
    ),
    ArchCase(
        "torchvision mobilenet_v3_small", "torchvision", _tv("mobilenet_v3_small", 64, "features.1")
    ),
    ArchCase("timm resnet18 (zero-init last BN)", "timm", _timm_resnet18),
    ArchCase(
        "transformers BertForSequenceClassification (small)",
        "transformers",
        _hf("BertForSequenceClassification", "classify", "bert.encoder.layer.0", **_BERT_SMALL),
    ),
    ArchCase(
        "transformers BertForMaskedLM (small)",
        "transformers",
        _hf("BertForMaskedLM", "tokens", "bert.encoder.layer.0", **_BERT_SMALL),
    ),
    ArchCase(
        "transformers BertForSequenceClassification (bert-base config)",
        "transformers",
        _hf("BertForSequenceClassification", "classify", "bert.encoder.layer.0"),
        overfit=False,
        large=True,
    ),
    ArchCase(
        "transformers DistilBertForSequenceClassification (small)",
        "transformers",
        _hf(
            "DistilBertForSequenceClassification",
            "classify",
            "distilbert.transformer.layer.0",
            **_DISTIL_SMALL,
        ),
    ),
    ArchCase(
        "transformers GPT2LMHeadModel (small)",
        "transformers",
        _hf("GPT2LMHeadModel", "tokens", "transformer.h.0", **_GPT2_SMALL),
    ),
)


def available(case: ArchCase) -> bool:
    return importlib.util.find_spec(case.library) is not None


def _forward(arch: Arch) -> Any:
    from pytest_mlchecks.inputs.torch import forward as call

    return call(arch.model, arch.inputs)


def _backward(arch: Arch, scale: float = 1.0) -> None:
    arch.model.zero_grad(set_to_none=True)
    (arch.loss_fn(_forward(arch), arch.targets) * scale).backward()


def _step_fn(arch: Arch) -> Callable[[], None]:
    torch = _module("torch")
    opt = torch.optim.SGD([p for p in arch.model.parameters() if p.requires_grad], lr=1e-2)

    def step() -> None:
        opt.zero_grad()
        arch.loss_fn(_forward(arch), arch.targets).backward()
        opt.step()

    return step


@dataclass
class ArchRow:
    """The verdicts on one architecture: healthy checks (True = passed) and broken versions
    (True = caught), with the figures measured."""

    case: str
    params_m: float
    seconds: float = 0.0
    clean: dict[str, bool | None] = field(default_factory=dict)
    broken: dict[str, bool | None] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)


CLEAN = ("grad_norm_healthy", "params_update", "eval_deterministic", "can_overfit_batch")
BROKEN = ("NaN loss", "AMP scale 65536 left in", "block frozen by mistake", "left in train mode")


def run_case(case: ArchCase, seed: int = 0, *, overfit: bool = True) -> ArchRow:
    """Build one architecture (torch seeded with ``seed``) and run the checks on it, healthy
    and broken."""
    torch = _module("torch")

    from pytest_mlchecks.checks.model.training import (
        check_can_overfit_batch,
        check_eval_deterministic,
        check_grad_norm_healthy,
        check_params_update,
    )

    start = time.perf_counter()
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        arch = case.build(torch)
    finally:
        torch.random.set_rng_state(state)
    model = arch.model.train()
    row = ArchRow(case.name, sum(p.numel() for p in model.parameters()) / 1e6)

    def keep(key: str, result: Any) -> bool:
        row.messages[key] = result.message.splitlines()[0]
        return bool(result.passed)

    _backward(arch)
    grads = check_grad_norm_healthy(model)
    row.clean["grad_norm_healthy"] = keep("grad_norm_healthy", grads)
    row.figures["block ratio"] = float(grads.value or 0.0)
    row.figures["grad/param norm"] = float(grads.details["grad_to_param_norm"])
    row.figures["gated params"] = float(len(grads.details["gated_by_zero_init"]))
    row.clean["params_update"] = keep("params_update", check_params_update(model, _step_fn(arch)))
    model.eval()
    row.clean["eval_deterministic"] = keep(
        "eval_deterministic", check_eval_deterministic(model, arch.inputs)
    )
    model.train()
    row.clean["can_overfit_batch"] = None
    if overfit and case.overfit:
        fit = check_can_overfit_batch(model, (arch.inputs, arch.targets), arch.loss_fn)
        row.clean["can_overfit_batch"] = keep("can_overfit_batch", fit)
        row.figures["overfit steps"] = float(fit.details["steps"])

    _backward(arch, scale=math.nan)
    row.broken["NaN loss"] = not check_grad_norm_healthy(model).passed
    _backward(arch, scale=65536.0)  # GradScaler's initial scale, never unscaled
    row.broken["AMP scale 65536 left in"] = not check_grad_norm_healthy(model).passed
    model.zero_grad(set_to_none=True)
    frozen = [p for n, p in model.named_parameters() if n.startswith(arch.block + ".")]
    for p in frozen:
        p.requires_grad_(False)
    caught = check_params_update(model, _step_fn(arch), expect_trainable=[arch.block])
    for p in frozen:
        p.requires_grad_(True)
    row.broken["block frozen by mistake"] = not caught.passed
    row.broken["left in train mode"] = (
        not check_eval_deterministic(model.train(), arch.inputs).passed
        if arch.stochastic
        else None  # no dropout nor batch-norm: train mode is deterministic
    )
    model.zero_grad(set_to_none=True)
    row.seconds = time.perf_counter() - start
    return row


def arch_table(rows: list[ArchRow]) -> str:
    def mark(value: bool | None, good: bool) -> str:
        if value is None:
            return "n/a"
        return "ok" if value == good else ("FALSE ALARM" if good else "MISSED")

    headers = ["architecture", "params (M)", *CLEAN, *(f"broken: {b}" for b in BROKEN)]
    headers += ["block ratio", "grad/param norm", "s"]
    body = [
        [
            r.case,
            f"{r.params_m:.1f}",
            *(mark(r.clean.get(c), True) for c in CLEAN),
            *(mark(r.broken.get(b), True) for b in BROKEN),
            f"{r.figures['block ratio']:.2g}",
            f"{r.figures['grad/param norm']:.2g}",
            f"{r.seconds:.0f}",
        ]
        for r in rows
    ]
    lines = md_table(headers, body, right=(1, len(headers) - 3, len(headers) - 2, len(headers) - 1))
    alarms = {c: sum(r.clean.get(c) is False for r in rows) for c in CLEAN}
    runs = {c: sum(r.clean.get(c) is not None for r in rows) for c in CLEAN}
    caught = {b: sum(r.broken.get(b) is True for r in rows) for b in BROKEN}
    tried = {b: sum(r.broken.get(b) is not None for r in rows) for b in BROKEN}
    summary = "False alarms: " + ", ".join(f"{c} {alarms[c]}/{runs[c]}" for c in CLEAN)
    summary += ". Detections: " + ", ".join(f"{b} {caught[b]}/{tried[b]}" for b in BROKEN) + "."
    return "\n".join([*lines, "", summary])


# ---------------------------------------------------------------------------- BERT learning rate


def bert_training(lr: float, seed: int = 0, steps: int = 20) -> Any:
    """A small-config BERT classifier trained with AdamW at ``lr`` on minibatches of 8,
    followed by GradNormTracker; its verdict."""
    torch = _module("torch")

    from pytest_mlchecks.checks.model.training import GradNormTracker

    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        arch = _hf("BertForSequenceClassification", "classify", "", **_BERT_SMALL)(torch)
        model = arch.model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(seed)
        ids = torch.randint(5, 1000, (64, 16), generator=gen)
        y = ids[:, 0] % 2
        tracker = GradNormTracker(model)
        for _ in range(steps):
            idx = torch.randint(0, 64, (8,), generator=gen)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(input_ids=ids[idx]).logits, y[idx])
            loss.backward()
            tracker.step(loss)
            opt.step()
        return tracker.check()
    finally:
        torch.random.set_rng_state(state)
