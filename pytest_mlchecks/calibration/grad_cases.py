"""Generated networks for calibrating ``grad_norm_healthy``: healthy and broken architectures.

Each case builds a freshly initialised model from a seed, runs one forward and backward pass
on a random batch of its task and returns the model with its gradients. Healthy cases must
pass, broken ones (deep saturating nets without normalisation) must fail. torch is imported
when a case runs; ``python -m pytest_mlchecks.calibration --only grads`` prints the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_mlchecks._messages import md_table


def _mlp(
    torch: Any,
    act: str,
    depth: int,
    *,
    bn: bool = False,
    he: bool = False,
    inputs: int = 8,
    outputs: int = 1,
) -> Any:
    nn = torch.nn
    layers: list[Any] = []
    width = inputs
    for _ in range(depth):
        layers.append(nn.Linear(width, 64))
        if bn:
            layers.append(nn.BatchNorm1d(64))
        layers.append(getattr(nn, act)())
        width = 64
    layers.append(nn.Linear(width, outputs))
    model = nn.Sequential(*layers)
    if he:
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)
    return model


def _regress(torch: Any, model: Any) -> Any:
    X = torch.randn(64, 8)
    target = X[:, :2].sum(1, keepdim=True)
    torch.nn.functional.mse_loss(model(X), target).backward()
    return model


def _mlp_case(act: str, depth: int, **kw: bool) -> Callable[[Any], Any]:
    return lambda torch: _regress(torch, _mlp(torch, act, depth, **kw))


def _cnn(torch: Any) -> Any:
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )
    X, y = torch.randn(16, 3, 16, 16), torch.randint(0, 10, (16,))
    nn.functional.cross_entropy(model(X), y).backward()
    return model


def _sequence(torch: Any, kind: str) -> Any:
    nn = torch.nn
    base: Any = nn.Module

    class Net(base):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(5000, 64)
            if kind == "transformer":
                layer = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
                self.body = nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
            else:
                self.body = getattr(nn, kind)(64, 64, num_layers=2, batch_first=True)
            self.head = nn.Linear(64, 2)

        def forward(self, ids: Any) -> Any:
            h = self.body(self.emb(ids))
            h = h if kind == "transformer" else h[0]
            return self.head(h.mean(1))

    model = Net()
    ids, y = torch.randint(0, 5000, (16, 20)), torch.randint(0, 2, (16,))
    nn.functional.cross_entropy(model(ids), y).backward()
    return model


@dataclass(frozen=True)
class GradCase:
    name: str
    healthy: bool
    build: Callable[[Any], Any]


GRAD_CASES: tuple[GradCase, ...] = (
    GradCase("6-layer ReLU + BatchNorm MLP", True, _mlp_case("ReLU", 6, bn=True)),
    GradCase("6-layer ReLU MLP (torch default init)", True, _mlp_case("ReLU", 6)),
    GradCase("10-layer ReLU MLP (He init)", True, _mlp_case("ReLU", 10, he=True)),
    GradCase("20-layer ReLU MLP (He init)", True, _mlp_case("ReLU", 20, he=True)),
    GradCase("4-layer tanh MLP", True, _mlp_case("Tanh", 4)),
    GradCase("CNN with BatchNorm", True, _cnn),
    GradCase("embedding + 2-layer LSTM", True, lambda torch: _sequence(torch, "LSTM")),
    GradCase("embedding + 2-layer GRU", True, lambda torch: _sequence(torch, "GRU")),
    GradCase("embedding + 3-layer Transformer", True, lambda t: _sequence(t, "transformer")),
    GradCase("6-layer sigmoid MLP", False, _mlp_case("Sigmoid", 6)),
    GradCase("8-layer sigmoid MLP", False, _mlp_case("Sigmoid", 8)),
    GradCase("20-layer tanh MLP", False, _mlp_case("Tanh", 20)),
)


@dataclass(frozen=True)
class GradRow:
    case: str
    healthy: bool
    seeds: int
    flagged: int
    ratio_min: float
    ratio_max: float
    reasons: tuple[str, ...]


GRAD_REASONS: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("NaN/Inf", lambda d: d["nonfinite"]),
    ("no gradient", lambda d: d["no_grad"]),
    ("dead layers", lambda d: d["zero_layers"]),
    ("vanishing", lambda d: d["vanishing"]),
    ("exploding", lambda d: d["exploding"]),
)


def _seeded_runs(
    run: Callable[[int], Any], count: int, seed: int, reasons: tuple[tuple[str, Any], ...]
) -> tuple[list[Any], int, tuple[str, ...]]:
    """``run(seed_i)`` for ``count`` seeds (torch's global RNG state put back afterwards):
    the results, how many failed and the reasons they failed for."""
    import torch

    state = torch.random.get_rng_state()
    try:
        results = [run(seed * 1_000_003 + i) for i in range(count)]
    finally:
        torch.random.set_rng_state(state)
    failed = [r for r in results if not r.passed]
    found = {name for r in failed for name, test in reasons if test(r.details)}
    return results, len(failed), tuple(sorted(found))


def calibrate_case(case: GradCase, seeds: int, seed: int = 0) -> GradRow:
    """Build ``seeds`` fresh models of one case and run the check on each."""
    import torch

    from pytest_mlchecks.checks.model.training import check_grad_norm_healthy

    def run(s: int) -> Any:
        torch.manual_seed(s)
        return check_grad_norm_healthy(case.build(torch))

    results, flagged, reasons = _seeded_runs(run, seeds, seed, GRAD_REASONS)
    ratios = [float(r.value if r.value is not None else 0.0) for r in results]
    return GradRow(case.name, case.healthy, seeds, flagged, min(ratios), max(ratios), reasons)


def markdown_table(rows: list[GradRow]) -> str:
    headers = ["network", "expected", "seeds", "flagged", "first/largest block RMS ratio"]
    body = [
        [
            r.case,
            "pass" if r.healthy else "fail",
            str(r.seeds),
            str(r.flagged),
            f"{r.ratio_min:.2g} to {r.ratio_max:.2g}",
            ", ".join(r.reasons) or "-",
        ]
        for r in rows
    ]
    return "\n".join(md_table([*headers, "flagged for"], body, right=(2, 3)))


# ---------------------------------------------------------------------------- tracker


@dataclass(frozen=True)
class TrainingCase:
    """A minibatch training run followed by ``GradNormTracker``: healthy or broken."""

    name: str
    healthy: bool
    network: str  # "relu", "relu_bn", "tanh", "classifier", "sigmoid6"
    optimizer: str  # "adam", "sgdm", "sgd"
    lr: float
    zero_grad: bool = True
    steps: int = 100


TRAINING_CASES: tuple[TrainingCase, ...] = (
    TrainingCase("3-layer ReLU MLP, Adam 1e-3", True, "relu", "adam", 1e-3),
    TrainingCase("3-layer ReLU MLP, SGD momentum 0.01", True, "relu", "sgdm", 1e-2),
    TrainingCase("4-layer ReLU + BatchNorm MLP, Adam 1e-3", True, "relu_bn", "adam", 1e-3),
    TrainingCase("2-layer tanh MLP, SGD momentum 0.01", True, "tanh", "sgdm", 1e-2),
    TrainingCase("5-class classifier, Adam 1e-3", True, "classifier", "adam", 1e-3),
    TrainingCase("zero_grad() forgotten, SGD 0.01", False, "relu", "sgd", 1e-2, False, 50),
    TrainingCase("zero_grad() forgotten, Adam 1e-3", False, "relu", "adam", 1e-3, False, 50),
    TrainingCase("learning rate far too high, SGD 0.5", False, "relu", "sgd", 0.5, True, 50),
    TrainingCase("6-layer sigmoid MLP, Adam 5.0", False, "sigmoid6", "adam", 5.0, True, 20),
)


def _training_model(torch: Any, network: str) -> Any:
    act, depth = {"tanh": ("Tanh", 2), "sigmoid6": ("Sigmoid", 6), "relu_bn": ("ReLU", 4)}.get(
        network, ("ReLU", 3)
    )
    outputs = 5 if network == "classifier" else 1
    return _mlp(torch, act, depth, bn=network == "relu_bn", inputs=10, outputs=outputs)


def run_training(case: TrainingCase, seed: int) -> Any:
    """Train one freshly seeded model on minibatches of a noisy linear task; the tracker's
    verdict."""
    import torch

    from pytest_mlchecks.checks.model.training import GradNormTracker

    torch.manual_seed(seed)
    model = _training_model(torch, case.network)
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(2000, 10, generator=gen)
    y = (X @ torch.randn(10, generator=gen)).unsqueeze(1) + 0.3 * torch.randn(
        2000, 1, generator=gen
    )
    loss_fn: Any = torch.nn.functional.mse_loss
    if case.network == "classifier":
        y = torch.bucketize(y.squeeze(1), torch.tensor([-2.0, -0.5, 0.5, 2.0]))
        loss_fn = torch.nn.functional.cross_entropy
    opt: Any
    if case.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), case.lr)
    else:
        momentum = 0.9 if case.optimizer == "sgdm" else 0.0
        opt = torch.optim.SGD(model.parameters(), case.lr, momentum=momentum)
    tracker = GradNormTracker(model)
    for _ in range(case.steps):
        idx = torch.randint(0, 2000, (64,), generator=gen)
        if case.zero_grad:
            opt.zero_grad()
        loss: Any = loss_fn(model(X[idx]), y[idx])
        loss.backward()
        tracker.step(loss)
        opt.step()
    return tracker.check()


@dataclass(frozen=True)
class TrainingRow:
    case: str
    healthy: bool
    runs: int
    flagged: int
    reasons: tuple[str, ...]


TRAINING_REASONS: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("NaN/Inf", lambda d: d["nan_step"] is not None),
    ("spikes", lambda d: d["spikes"]),
    ("divergence", lambda d: d["divergence"]),
    ("sustained growth", lambda d: d["sustained_growth"]["rule"]),
    ("dead", lambda d: d["dead"]),
    ("accumulation", lambda d: d["accumulating"]),
)


def calibrate_training(case: TrainingCase, runs: int, seed: int = 0) -> TrainingRow:
    """``runs`` seeded training runs of one case, each judged by ``GradNormTracker``."""
    _, flagged, reasons = _seeded_runs(
        lambda s: run_training(case, s), runs, seed, TRAINING_REASONS
    )
    return TrainingRow(case.name, case.healthy, runs, flagged, reasons)


def training_table(rows: list[TrainingRow]) -> str:
    body = [
        [
            r.case,
            "pass" if r.healthy else "fail",
            str(r.runs),
            str(r.flagged),
            ", ".join(r.reasons) or "-",
        ]
        for r in rows
    ]
    headers = ["training run", "expected", "runs", "flagged", "flagged for"]
    return "\n".join(md_table(headers, body, right=(2, 3)))
