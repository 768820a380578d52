"""Tests of the checks in pytest_mlchecks/checks/model/training.py."""

from __future__ import annotations

import math

import pytest
import torch

from pytest_mlchecks import (
    GradNormTracker,
    MLCheckError,
    MLCheckUsageError,
    assert_grad_norm_healthy,
    check_can_overfit_batch,
    check_eval_deterministic,
    check_grad_norm_healthy,
    check_no_truncation,
    check_params_update,
)

from ...builders import whitespace_tokenizer
from ...conftest import needs_torch

pytestmark = needs_torch

nn = torch.nn


def mlp(act: type, *, bn: bool = False, depth: int = 6, width: int = 64) -> nn.Module:
    layers: list[nn.Module] = []
    d = 8
    for _ in range(depth):
        layers.append(nn.Linear(d, width))
        if bn:
            layers.append(nn.BatchNorm1d(width))
        layers.append(act())
        d = width
    layers.append(nn.Linear(d, 1))
    return nn.Sequential(*layers)


def regression_batch(seed: int = 0, n: int = 256):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 8, generator=g)
    return X, X[:, :2].sum(1, keepdim=True) + 0.1 * torch.randn(n, 1, generator=g)


def backward(model: nn.Module, seed: int = 0) -> None:
    X, y = regression_batch(seed)
    nn.functional.mse_loss(model(X), y).backward()


# ------------------------------------------------------------------------ grad health


@pytest.mark.parametrize("seed", range(4))
def test_sigmoid_mlp_vanishes_relu_bn_is_healthy(seed: int) -> None:
    torch.manual_seed(seed)
    sigmoid = mlp(nn.Sigmoid)
    backward(sigmoid, seed)
    result = check_grad_norm_healthy(sigmoid)
    assert not result.passed and result.value < 1e-3
    assert "vanishing gradients" in result.message and "residual" in result.message
    healthy = mlp(nn.ReLU, bn=True)
    backward(healthy, seed)
    assert check_grad_norm_healthy(healthy).passed


def test_nan_and_unused_parameter_and_dead_layer() -> None:
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(8, 8)
            self.b = nn.Linear(8, 1)
            self.unused = nn.Linear(8, 8)

        def forward(self, x):
            return self.b(torch.relu(self.a(x)))

    net = Net()
    backward(net)
    result = check_grad_norm_healthy(net)
    assert not result.passed
    assert result.details["no_grad"] == ["unused.weight", "unused.bias"]
    assert check_grad_norm_healthy(net, ignore=["unused"]).passed
    net.a.weight.grad[0, 0] = float("nan")
    nan = check_grad_norm_healthy(net, ignore=["unused"])
    assert not nan.passed and nan.details["nonfinite"] == ["a.weight"]
    net.zero_grad()
    with torch.no_grad():
        net.a.bias.fill_(-100.0)  # every ReLU dead
    backward(net)
    dead = check_grad_norm_healthy(net, ignore=["unused"])
    assert not dead.passed and "a" in dead.details["zero_layers"]


def test_exploding_and_usage_errors() -> None:
    torch.manual_seed(0)
    net = mlp(nn.ReLU, depth=2)
    X, y = regression_batch()
    (nn.functional.mse_loss(net(X), y) * 1e6).backward()
    result = check_grad_norm_healthy(net)
    assert not result.passed and "exploding" in result.message
    with pytest.raises(MLCheckError, match="clip_grad_norm_"):
        assert_grad_norm_healthy(net)
    with pytest.raises(MLCheckUsageError, match=r"call loss\.backward"):
        check_grad_norm_healthy(mlp(nn.ReLU, depth=1))
    with pytest.raises(MLCheckUsageError, match=r"expected a torch\.nn\.Module"):
        check_grad_norm_healthy(object())


def test_check_only_reads_gradients() -> None:
    torch.manual_seed(0)
    net = mlp(nn.Tanh, depth=2)
    backward(net)
    before = [p.grad.clone() for p in net.parameters()]
    check_grad_norm_healthy(net)
    assert all(torch.equal(a, p.grad) for a, p in zip(before, net.parameters(), strict=True))


# ------------------------------------------------------------------------ tracker


def _train(model, tracker, *, lr, steps, optimizer="adam", nan_at=None, zero_grad=True):
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    for k in range(steps):
        X, y = regression_batch(k)
        if nan_at == k:
            X = X.clone()
            X[0, 0] = float("nan")
        if zero_grad:
            opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        tracker.step(loss)
        opt.step()


@pytest.mark.parametrize("seed", range(3))
def test_tracker_quiet_on_healthy_training(seed: int) -> None:
    torch.manual_seed(seed)
    model = mlp(nn.ReLU, bn=True, depth=3)
    tracker = GradNormTracker(model)
    _train(model, tracker, lr=1e-3, steps=30)
    result = tracker.check()
    assert result.passed, result.message


def test_tracker_flags_adam_at_lr_5_on_the_sigmoid_net_within_20_steps() -> None:
    torch.manual_seed(0)
    model = mlp(nn.Sigmoid)
    tracker = GradNormTracker(model)
    _train(model, tracker, lr=5.0, steps=20)
    result = tracker.check()
    assert not result.passed
    assert result.details["spikes"] or result.details["divergence"] or result.details["dead"]


def test_tracker_catches_nan_at_the_right_step() -> None:
    torch.manual_seed(0)
    model = mlp(nn.ReLU, depth=2)
    tracker = GradNormTracker(model)
    _train(model, tracker, lr=1e-3, steps=12, nan_at=7)
    result = tracker.check()
    assert not result.passed and result.details["nan_step"] == 7
    assert "step 7" in result.message
    with pytest.raises(MLCheckError):
        tracker.assert_healthy()


def test_tracker_detects_missing_zero_grad() -> None:
    torch.manual_seed(0)
    model = mlp(nn.ReLU, depth=2)
    tracker = GradNormTracker(model)
    _train(model, tracker, lr=1e-4, steps=15, optimizer="sgd", zero_grad=False)
    result = tracker.check()
    assert not result.passed and result.details["accumulating"]
    assert "zero_grad" in result.message


def test_tracker_does_not_change_training() -> None:
    def run(track: bool):
        torch.manual_seed(0)
        model = mlp(nn.ReLU, depth=2)
        tracker = GradNormTracker(model) if track else None
        opt = torch.optim.SGD(model.parameters(), lr=1e-2)
        for k in range(5):
            opt.zero_grad()
            X, y = regression_batch(k)
            loss = nn.functional.mse_loss(model(X), y)
            loss.backward()
            if tracker:
                tracker.step(loss)
            opt.step()
        return [p.detach().clone() for p in model.parameters()]

    assert all(torch.equal(a, b) for a, b in zip(run(True), run(False), strict=True))


def test_tracker_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fx="""
        import torch

        def test_uses_fixture(ml_grad_tracker):
            model = torch.nn.Linear(3, 1)
            tracker = ml_grad_tracker(model)
            model(torch.randn(4, 3)).sum().backward()
            tracker.step()
            assert tracker.check().passed
        """
    )
    pytester.runpytest("--ml-audit", "--ml-audit-json=r.json").assert_outcomes(passed=1)
    import json

    report = json.loads((pytester.path / "r.json").read_text())
    assert [c["name"] for c in report["checks"]] == ["grad_tracker"]


# ------------------------------------------------------------------------ params / overfit / eval


def test_params_update_both_ways_and_restores_weights() -> None:
    torch.manual_seed(0)
    model = mlp(nn.ReLU, depth=2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    X, y = regression_batch()

    def step():
        opt.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        opt.step()

    before = [p.detach().clone() for p in model.parameters()]
    assert check_params_update(model, step, optimizer=opt).passed
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))
    model[0].weight.requires_grad_(False)  # frozen, yet still in the optimiser: stays put
    partial = torch.optim.SGD([p for p in model.parameters() if p is not model[2].weight], lr=0.1)

    def step_partial():
        partial.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        partial.step()

    result = check_params_update(model, step_partial)
    assert not result.passed and result.details["did_not_change"] == ["2.weight"]


def test_can_overfit_batch_and_a_broken_setup() -> None:
    torch.manual_seed(0)
    model = mlp(nn.ReLU, depth=2)
    X, y = regression_batch(n=16)
    before = [p.detach().clone() for p in model.parameters()]
    good = check_can_overfit_batch(model, (X, y), nn.functional.mse_loss, steps=300)
    assert good.passed, good.message
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))
    broken = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    for p in broken.parameters():
        p.requires_grad_(False)
    broken[2].bias.requires_grad_(True)  # only a bias can learn: cannot fit 16 targets
    result = check_can_overfit_batch(broken, (X, y), nn.functional.mse_loss, steps=200)
    assert not result.passed


def test_eval_deterministic_never_changes_the_mode() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 1)
    )
    X, _ = regression_batch()
    running = model[1].running_mean.clone()
    result = check_eval_deterministic(model, X)
    assert not result.passed and model.training
    assert torch.equal(model[1].running_mean, running)
    assert "model.eval()" in result.message
    model.eval()
    assert check_eval_deterministic(model, X).passed and not model.training


def test_half_precision_gradients_do_not_overflow_the_norm() -> None:
    net = nn.Linear(4, 1)
    net.weight.grad = torch.full_like(net.weight, 1e4).half().float()
    net.bias.grad = torch.ones_like(net.bias)
    half = nn.Linear(4, 1).half()
    half.weight.grad = torch.full_like(half.weight, 6e4)  # each finite in fp16, the norm is not
    half.bias.grad = torch.ones_like(half.bias)
    result = check_grad_norm_healthy(half, max_total_norm=1e9)
    assert result.details["nonfinite"] == [] and result.details["total_norm"] == pytest.approx(
        1.2e5, rel=1e-3
    )


def test_eval_deterministic_catches_batch_norm_alone_in_train_mode() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 1))
    X, _ = regression_batch(n=64)
    result = check_eval_deterministic(model, X)
    assert not result.passed and "1" in result.details["train_mode_stochastic_modules"]
    model.eval()
    assert check_eval_deterministic(model, X).passed


def test_structure_changes_between_checks_are_seen() -> None:
    """The per-model cache of trainable parameters follows freezing, replaced layers and
    shared modules, and models that list their parameters their own way."""
    torch.manual_seed(0)
    net = mlp(nn.ReLU, depth=2)
    backward(net)
    first = check_grad_norm_healthy(net)
    assert first.passed and "0" in first.details["layers"]
    net[0].weight.requires_grad_(False)
    net[0].bias.requires_grad_(False)
    frozen = check_grad_norm_healthy(net)
    assert frozen.passed and "0" not in frozen.details["layers"]
    net[0] = nn.Linear(8, 64)  # a new layer, no gradient yet
    replaced = check_grad_norm_healthy(net)
    assert not replaced.passed and replaced.details["no_grad"] == ["0.weight", "0.bias"]

    shared = nn.Linear(8, 8)
    tied = nn.Sequential(shared, nn.ReLU(), shared, nn.Linear(8, 1))
    backward(tied)
    assert list(check_grad_norm_healthy(tied).details["layers"]) == ["0", "3"]

    class Listed(nn.Module):  # lists only some of its parameters
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(8, 1)
            self.b = nn.Linear(8, 1)

        def forward(self, x):
            return self.a(x) + self.b(x)

        def named_parameters(self, *args, **kwargs):
            return ((n, p) for n, p in super().named_parameters(*args, **kwargs) if n[0] == "a")

        def parameters(self, recurse: bool = True):
            return (p for _, p in self.named_parameters())

    listed = Listed()
    backward(listed)
    assert list(check_grad_norm_healthy(listed).details["layers"]) == ["a"]


def test_mixed_dtypes_and_float64_overflow() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 1))
    net[2].double()
    X, y = regression_batch()
    nn.functional.mse_loss(net[2](net[1](net[0](X)).double()), y.double()).backward()
    mixed = check_grad_norm_healthy(net)
    expected = math.sqrt(sum(float(p.grad.double().norm()) ** 2 for p in net.parameters()))
    assert mixed.passed and mixed.details["total_norm"] == pytest.approx(expected, rel=1e-6)
    big = nn.Linear(2, 1).double()
    big.weight.grad = torch.full_like(big.weight, 1e200)  # finite, but its square is not
    big.bias.grad = torch.ones_like(big.bias)
    result = check_grad_norm_healthy(big)
    assert not result.passed and result.details["nonfinite"] == []
    assert "exploding" in result.message
    assert result.details["total_norm"] == pytest.approx(math.sqrt(2) * 1e200, rel=1e-9)


def test_tracker_with_a_parameter_that_never_gets_a_gradient() -> None:
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.used = nn.Linear(8, 1)
            self.unused = nn.Linear(8, 1)

        def forward(self, x):
            return self.used(x)

    net = Net()
    tracker = GradNormTracker(net)
    _train(net, tracker, lr=1e-3, steps=4)
    result = tracker.check()
    assert not result.passed and result.details["dead"] == ["unused.weight", "unused.bias"]
    assert result.details["dead_layers"] == ["unused"] and "layers ['unused']" in result.message
    assert result.details["total_norms"][0] > 0


def test_float32_gradients_whose_squares_overflow_are_exploding_not_nan() -> None:
    net = nn.Linear(4, 1)
    net.weight.grad = torch.full_like(net.weight, 1e20)  # finite in float32, its square is not
    net.bias.grad = torch.ones_like(net.bias)
    result = check_grad_norm_healthy(net)
    assert not result.passed and result.details["nonfinite"] == []
    assert "exploding" in result.message and "NaN" not in result.message.split("\n")[0]
    assert result.details["total_norm"] == pytest.approx(2e20, rel=1e-6)
    net.weight.grad[0, 1] = float("inf")
    inf = check_grad_norm_healthy(net)
    assert inf.details["nonfinite"] == ["weight"] and inf.details["total_norm"] == "inf"


def test_training_helpers_restore_mixed_modes_grads_and_rng() -> None:
    """A fine-tuning set-up: the model trains but its frozen batch-norm stays in eval mode;
    the helpers must hand back exactly that, with the caller's gradients and RNG state."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 1))
    model.train()
    model[1].eval()
    backward(model)
    grads = [p.grad.clone() for p in model.parameters()]
    X, y = regression_batch(n=16)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step():
        opt.zero_grad()
        model.train()  # a typical step_fn switches the whole model to train mode
        nn.functional.mse_loss(model(X), y).backward()
        opt.step()

    rng = torch.random.get_rng_state()
    assert check_params_update(model, step, optimizer=opt).passed
    assert check_can_overfit_batch(model, (X, y), nn.functional.mse_loss, steps=50).details
    assert torch.equal(torch.random.get_rng_state(), rng)
    assert model.training and not model[1].training
    assert all(torch.equal(a, p.grad) for a, p in zip(grads, model.parameters(), strict=True))


@pytest.mark.parametrize("seed", range(3))
def test_can_overfit_batch_is_not_fooled_by_dropout(seed: int) -> None:
    """Dropout makes train-mode losses noisy; a healthy model still passes (eval-mode loss)."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 64), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(64, 1),
    )  # fmt: skip
    X, y = torch.randn(16, 8), torch.randn(16, 1)
    result = check_can_overfit_batch(model, (X, y), nn.functional.mse_loss)
    assert result.passed, result.message


class KeywordNet(nn.Module):
    """Takes keyword inputs and returns a mapping, like a transformers model."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.drop = nn.Dropout(p)
        self.head = nn.Linear(8, 2)

    def forward(self, input_ids, attention_mask):
        h = self.drop(self.emb(input_ids)) * attention_mask.unsqueeze(-1)
        pooled = h.sum(1) / attention_mask.sum(1, keepdim=True)
        return {"logits": self.head(pooled), "pred": self.head(pooled).argmax(-1)}


def test_keyword_inputs_and_mapping_outputs() -> None:
    torch.manual_seed(0)
    ids = torch.randint(1, 20, (8, 5))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    assert check_eval_deterministic(KeywordNet(0.3).eval(), batch).passed
    leaky = check_eval_deterministic(KeywordNet(0.3), batch)
    assert not leaky.passed and leaky.details["train_mode_stochastic_modules"] == ["drop"]
    y = torch.randint(0, 2, (8,))

    def loss_fn(out, target):
        return nn.functional.cross_entropy(out["logits"], target)

    fit = check_can_overfit_batch(KeywordNet(), (batch, y), loss_fn, steps=100)
    assert fit.passed and "batch of 8" in fit.message
    two_inputs = check_eval_deterministic(
        nn.Bilinear(3, 4, 2).eval(), (torch.randn(6, 3), torch.randn(6, 4))
    )
    assert two_inputs.passed


def test_eval_deterministic_tolerates_rounding_but_not_noise() -> None:
    class Jitter(nn.Module):
        """Deterministic except for a perturbation of a given relative size."""

        def __init__(self, size: float) -> None:
            super().__init__()
            self.size = size

        def forward(self, x):
            out = x * 1000.0
            return out * (1 + self.size * torch.rand_like(out))

    X = torch.randn(16, 4)
    assert check_eval_deterministic(Jitter(1e-7), X).passed  # float32 rounding level
    result = check_eval_deterministic(Jitter(1e-3), X)
    assert not result.passed and result.value > result.threshold
    nan_out = nn.Sequential(nn.Linear(4, 2), nn.Softplus()).eval()
    with torch.no_grad():
        nan_out[0].weight[0, 0] = float("nan")
    assert check_eval_deterministic(nan_out, X).passed  # NaN in the same places both times
    with pytest.raises(MLCheckUsageError, match="atol"):
        check_eval_deterministic(nan_out, X, atol=-1.0)
    with pytest.raises(MLCheckUsageError, match="loss_fn"):
        check_can_overfit_batch(nan_out, (X, X), "mse")


def test_tracker_does_not_call_growing_norms_accumulation_when_zero_grad_runs() -> None:
    """Norms that rise at every step for another reason (here a growing loss scale) are not
    accumulation when zero_grad() resets the gradients; the same run without it is."""

    def run(zero_grad: bool):
        torch.manual_seed(0)
        model = mlp(nn.ReLU, depth=2)
        tracker = GradNormTracker(model)
        X, y = regression_batch()
        for k in range(8):
            if zero_grad:
                model.zero_grad()
            (nn.functional.mse_loss(model(X), y) * (k + 1)).backward()
            tracker.step()
        return tracker.check()

    reset = run(True)
    assert not reset.details["accumulating"] and reset.details["gradients_reset_between_steps"]
    kept = run(False)
    assert kept.details["accumulating"] and not kept.details["gradients_reset_between_steps"]


def test_eval_deterministic_on_tiny_batches() -> None:
    torch.manual_seed(0)
    conv = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    images = torch.randn(2, 3, 8, 8)
    assert not check_eval_deterministic(conv, images).passed  # two rows are enough here
    assert check_eval_deterministic(conv.eval(), images).passed
    dense = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))  # refuses one row in train mode
    rows = torch.randn(3, 4)
    assert check_eval_deterministic(dense.eval(), rows).passed
    assert not check_eval_deterministic(dense.train(), rows).passed  # probed with 2 of 3 rows


def test_tracker_names_the_spike_step_and_divergence() -> None:
    torch.manual_seed(0)
    model = mlp(nn.ReLU, bn=True, depth=3)
    tracker = GradNormTracker(model)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    for k in range(15):
        X, y = regression_batch(k)
        if k == 9:
            y = y * 1000.0  # one corrupted batch: labels in the wrong unit
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        tracker.step(loss)
        opt.step()
    spiky = tracker.check()
    assert not spiky.passed and spiky.details["spikes"][0] == 9
    assert "steps [9" in spiky.message

    torch.manual_seed(0)
    model = mlp(nn.ReLU, depth=3)
    tracker = GradNormTracker(model)
    _train(model, tracker, lr=0.5, steps=20, optimizer="sgd")  # far too large a step
    diverged = tracker.check()
    assert not diverged.passed and diverged.details["divergence"] is not None
    assert "divergence" in diverged.message


def test_can_overfit_batch_fails_on_classic_broken_setups() -> None:
    torch.manual_seed(0)
    X = torch.randn(32, 8)
    y = torch.randint(0, 10, (32,))
    double_softmax = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(-1))
    capped = check_can_overfit_batch(double_softmax, (X, y), nn.functional.cross_entropy)
    assert not capped.passed and capped.value > 1.0  # probabilities fed to a loss on logits

    class Detached(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Linear(8, 10)

        def forward(self, x):
            return self.body(x).detach()  # the graph is cut

    cut = check_can_overfit_batch(Detached(), (X, y), nn.functional.cross_entropy)
    assert not cut.passed and cut.details["loss_detached"] and "grad_fn" in cut.message
    logits = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 10))
    assert check_can_overfit_batch(logits, (X, y), nn.functional.cross_entropy).passed


def _minibatch_run(*, zero_grad: str | None, micro: int = 1, clip: bool = False, seed: int = 0):
    """Minibatch SGD with momentum on a noisy regression; ``zero_grad`` is "none" (the
    default, set_to_none), "zero" (in place) or None (forgotten)."""
    torch.manual_seed(seed)
    model = mlp(nn.ReLU, depth=3)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    tracker = GradNormTracker(model)
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(2000, 8, generator=g)
    y = X[:, :2].sum(1, keepdim=True) + 0.3 * torch.randn(2000, 1, generator=g)
    for _ in range(40):
        if zero_grad is not None:
            opt.zero_grad(set_to_none=zero_grad == "none")
        for _ in range(micro):  # gradient accumulation over micro-batches, on purpose
            idx = torch.randint(0, 2000, (32,), generator=g)
            loss = nn.functional.mse_loss(model(X[idx]), y[idx]) / micro
            loss.backward()
            tracker.step(loss)
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return tracker.check()


@pytest.mark.parametrize("seed", range(3))
def test_forgotten_zero_grad_is_certain_with_minibatches(seed: int) -> None:
    """Noisy minibatch norms do not rise at every step, but the gradient tensors tell: each
    backward added to them, nothing ever reset them."""
    forgotten = _minibatch_run(zero_grad=None, seed=seed)
    assert not forgotten.passed and forgotten.details["accumulating"]
    assert "zero_grad() is missing" in forgotten.message
    for setup in (
        {"zero_grad": "none"},
        {"zero_grad": "zero"},
        {"zero_grad": "none", "micro": 4},  # tracked after every micro-batch
        {"zero_grad": "zero", "micro": 4},
        {"zero_grad": "none", "clip": True},
    ):
        healthy = _minibatch_run(seed=seed, **setup)  # type: ignore[arg-type]
        assert healthy.passed, (setup, healthy.message)


def test_zero_initialised_adapter_is_healthy_at_step_0_and_after_a_step() -> None:
    """Issue 12 changed this verdict: a parameter whose gradient is zero only because the
    zero-initialised weight right after it blocks it (LoRA's A before B) is healthy at step
    0, and the passing message says so; the same zero gradient with B not zero still fails."""
    torch.manual_seed(0)

    class LoRALinear(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = nn.Linear(8, 8).requires_grad_(False)
            self.lora_A = nn.Linear(8, 2, bias=False)
            self.lora_B = nn.Linear(2, 8, bias=False)
            nn.init.zeros_(self.lora_B.weight)  # the adapter starts as a no-op

        def forward(self, x):
            return self.base(x) + self.lora_B(self.lora_A(x))

    model = nn.Sequential(LoRALinear(), nn.ReLU(), nn.Linear(8, 1))
    X, y = regression_batch()
    nn.functional.mse_loss(model(X), y).backward()
    first = check_grad_norm_healthy(model)
    assert first.passed and first.details["gated_by_zero_init"] == ["0.lora_A.weight"]
    assert "zero-initialised weight right after them" in first.message
    assert "'0.lora_B.weight'" in first.message
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    model.zero_grad()
    nn.functional.mse_loss(model(X), y).backward()
    assert check_grad_norm_healthy(model).passed


# ------------------------------------------------------------------------ issue 12: blocks


class _Stack(nn.Module):
    """An embedding, a stack of attention-like blocks and a head, with gradients set by
    hand: ``block_grads[k]`` is block k's gradient scale, ``query`` the first block's query
    projection's."""

    def __init__(self, depth: int = 4) -> None:
        super().__init__()
        self.embeddings = nn.Embedding(100, 16)
        self.layer = nn.ModuleList(
            nn.ModuleDict(
                {
                    "query": nn.Linear(16, 16),
                    "key": nn.Linear(16, 16),
                    "value": nn.Linear(16, 16),
                    "dense": nn.Linear(16, 16),
                    "ffn": nn.Linear(16, 64),
                }
            )
            for _ in range(depth)
        )
        self.classifier = nn.Linear(16, 2)

    def set_grads(self, block_grads: list[float], query: float, head: float) -> None:
        for p in self.parameters():
            p.grad = torch.ones_like(p) * 0.01
        for k, block in enumerate(self.layer):
            for name, sub in block.items():
                scale = query if (k == 0 and name in ("query", "key")) else block_grads[k]
                sub.weight.grad = torch.full_like(sub.weight, scale)
        self.classifier.weight.grad = torch.full_like(self.classifier.weight, head)


def test_one_small_projection_is_not_vanishing_but_a_fall_with_depth_is() -> None:
    """BERT at init: the first block's query/key get ~1e-5 of the head's RMS gradient while
    its other weights are normal; vanishing means the blocks fall with depth."""
    net = _Stack()
    net.set_grads([1e-4] * 4, query=1e-9, head=0.05)
    flat = check_grad_norm_healthy(net)
    assert flat.passed, flat.message
    assert flat.details["compared_blocks"] == [f"layer.{k}" for k in range(4)]
    assert flat.value == pytest.approx(1.0)
    falling = _Stack()
    falling.set_grads([1e-8, 1e-6, 1e-4, 1e-2], query=1e-8, head=0.05)
    fell = check_grad_norm_healthy(falling)
    assert not fell.passed and fell.details["vanishing"]
    assert "first block 'layer.0'" in fell.message and fell.value == pytest.approx(1e-6)


def test_blocks_follow_repeat_indices_of_every_style() -> None:
    from pytest_mlchecks.checks.model.training import _block_keys

    keys = _block_keys(
        (
            "conv1",
            "bn1",
            "layer1.0.conv1",
            "layer2.1.conv2",
            "fc",
            "encoder.layers.encoder_layer_0.mlp",
            "encoder.layers.encoder_layer_11.mlp",
            "h.3.attn",
        )
    )
    assert keys["conv1"] == ("conv1", False) and keys["fc"] == ("fc", False)
    assert keys["layer1.0.conv1"] == ("layer1", True)  # layer1..layer2 are siblings
    assert keys["encoder.layers.encoder_layer_11.mlp"] == (
        "encoder.layers.encoder_layer_11",
        True,
    )
    assert keys["h.3.attn"] == ("h.3", True)


class _Residual(nn.Module):
    def __init__(self, zero_init: bool) -> None:
        super().__init__()
        self.conv1 = nn.Linear(16, 16)
        self.bn1 = nn.BatchNorm1d(16)
        self.conv2 = nn.Linear(16, 16)
        self.bn2 = nn.BatchNorm1d(16)
        if zero_init:
            nn.init.zeros_(self.bn2.weight)

    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


def _resnet_like(zero_init: bool) -> nn.Module:
    return nn.Sequential(
        nn.Linear(8, 16), *[_Residual(zero_init) for _ in range(3)], nn.Linear(16, 1)
    )


def test_zero_initialised_residual_branches_are_healthy_at_step_0() -> None:
    torch.manual_seed(0)
    model = _resnet_like(zero_init=True)
    backward(model)
    result = check_grad_norm_healthy(model)
    assert result.passed, result.message
    assert "1.conv1.weight" in result.details["gated_by_zero_init"]
    assert "zero-initialised weight right after them" in result.message
    assert "'1.bn2.weight'" in result.message
    assert result.details["zero_layers"] == []
    torch.manual_seed(0)
    plain = _resnet_like(zero_init=False)
    backward(plain)
    healthy = check_grad_norm_healthy(plain)
    assert healthy.passed and healthy.details["gated_by_zero_init"] == []


def test_a_dead_layer_before_a_nonzero_weight_still_fails() -> None:
    """A dying ReLU zeroes the gradient of the layer before it; the weight after it is not
    zero, so nothing excuses it."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
    with torch.no_grad():
        net[2].bias.fill_(-100.0)  # every unit of the second layer is dead
    backward(net)
    result = check_grad_norm_healthy(net)
    assert not result.passed and "0" in result.details["zero_layers"]
    assert result.details["gated_by_zero_init"] == []


def test_bare_parameters_are_not_layers() -> None:
    """A ViT-like class token (a bare tensor on a module with submodules) neither stands as
    the "first layer" nor counts as a layer in the vanishing comparison."""
    torch.manual_seed(0)

    class Tokens(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.class_token = nn.Parameter(torch.zeros(1, 8))
            self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))

        def forward(self, x):
            return self.body(x + 1e-6 * self.class_token)

    net = Tokens()
    backward(net)
    result = check_grad_norm_healthy(net)
    assert result.passed, result.message
    assert "class_token" not in result.details["blocks"]
    assert result.details["first_block"] == "body.0"


def test_exploding_is_relative_to_the_parameter_norm_with_an_absolute_override() -> None:
    from pytest_mlchecks._protocol import Recorder, Settings, recording

    big = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 10))
    with torch.no_grad():
        for p in big.parameters():
            p.fill_(1.0)  # parameter norm ~256
    for p in big.parameters():
        p.grad = torch.full_like(p, 8.0)  # total norm ~2,050: over the old 1e3, ~8x params
    result = check_grad_norm_healthy(big)
    assert result.passed and result.details["exploding_limit_kind"] == "relative"
    assert result.details["total_norm"] > 1e3
    assert result.details["grad_to_param_norm"] == pytest.approx(8.0, rel=1e-6)
    absolute = check_grad_norm_healthy(big, max_total_norm=1e3)
    assert not absolute.passed and absolute.details["exploding"]
    assert check_grad_norm_healthy(big, max_norm_ratio=5).details["exploding"]
    with recording(Recorder("ini", Settings(ini={"grad_max_norm_ratio": 5.0}))):
        assert check_grad_norm_healthy(big).details["exploding"]
    with recording(Recorder("ini", Settings(ini={"grad_max_total_norm": 100.0}))):
        assert check_grad_norm_healthy(big).details["exploding_limit_kind"] == "absolute"
    for bad in ({"max_total_norm": float("nan")}, {"max_norm_ratio": -1}, {"vanishing_ratio": 0}):
        with pytest.raises(MLCheckUsageError, match=next(iter(bad))):
            check_grad_norm_healthy(big, **bad)


def test_meta_parameters_are_a_usage_error() -> None:
    net = nn.Linear(4, 1, device="meta")
    net.weight.grad = torch.zeros_like(net.weight)
    with pytest.raises(MLCheckUsageError, match="meta device"):
        check_grad_norm_healthy(net)


# ------------------------------------------------------------------------ issue 12: tracker


def _scripted_tracker(losses: list[float], norms: list[float], **kw) -> GradNormTracker:
    """A tracker fed gradients of the given total norms and the given losses."""
    net = nn.Linear(4, 1, bias=False)
    tracker = GradNormTracker(net, **kw)
    for loss, norm in zip(losses, norms, strict=True):
        net.weight.grad = torch.full_like(net.weight, norm / 2.0)  # 4 entries: norm = 2 x
        tracker.step(loss)
    return tracker


def test_tracker_catches_sustained_loss_growth_under_100x() -> None:
    """A learning rate far too high (BERT, AdamW lr=1.0: loss 0.7 -> 5-50, no 100x jump)."""
    rising = [0.7, 4.0, 9.0, 10.2, 1.5, 2.0, 14.6, 7.2, 20.6, 20.8, 2.9, 10.2, 4.5, 26.3, 7.7]
    rising += [5.7, 15.7, 4.2, 1.7, 11.0]
    norms = [0.5, 5.0, 7.0, 3.0, 4.0, 1.5, 4.3, 4.7, 7.2, 8.5, 3.9, 5.7, 6.1, 8.6, 4.4]
    norms += [4.5, 7.4, 5.8, 1.5, 2.9]
    result = _scripted_tracker(rising, norms).check()
    assert not result.passed and result.details["divergence"] is None
    assert result.details["spikes"] == []
    assert result.details["sustained_growth"]["rule"] == "loss"
    assert "sustained growth" in result.message and "median loss" in result.message
    falling = [0.7 * 0.97**k for k in range(20)]
    assert _scripted_tracker(falling, norms[:2] * 10).check().passed
    assert not _scripted_tracker(rising, norms, growth_factor=3).check().passed
    assert _scripted_tracker(rising, norms, growth_factor=50).check().details["sustained_growth"][
        "rule"
    ] in (None, "gradient norm")


def test_tracker_norm_growth_counts_only_with_a_loss_that_does_not_fall() -> None:
    norms = [1.0, 1.0, 1.0] + [1.0 + k for k in range(1, 18)]  # ends ~10-18x
    flat = [1.0 + 0.01 * (k % 3) for k in range(20)]
    stuck = _scripted_tracker(flat, norms).check()
    assert not stuck.passed and stuck.details["sustained_growth"]["rule"] == "gradient norm"
    falling = [1.0 * 0.9**k for k in range(20)]
    learning = _scripted_tracker(falling, norms).check()
    assert learning.details["sustained_growth"]["rule"] is None


@pytest.mark.parametrize(
    "kw", [{"window": 0}, {"window": 2.5}, {"spike_factor": 1}, {"growth_factor": 0.5}]
)
def test_tracker_rejects_settings_that_disable_it(kw) -> None:
    with pytest.raises(MLCheckUsageError, match=next(iter(kw))):
        GradNormTracker(nn.Linear(2, 1), **kw)


# ------------------------------------------------------------------------ issue 12: training


def _small_net() -> nn.Module:
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 1))


def test_can_overfit_batch_stops_at_the_goal_and_is_seeded() -> None:
    torch.manual_seed(0)
    model = _small_net()
    X, y = torch.randn(8, 8), torch.randn(8, 1)
    torch.manual_seed(123)
    first = check_can_overfit_batch(model, (X, y), nn.functional.mse_loss, steps=500)
    torch.manual_seed(456)  # another global RNG state: same figure
    again = check_can_overfit_batch(model, (X, y), nn.functional.mse_loss, steps=500)
    assert first.passed and first.value == again.value
    assert first.details["steps"] < 500  # stopped once the goal was reached
    other = check_can_overfit_batch(
        model, (X, y), nn.functional.mse_loss, steps=500, random_state=7
    )
    assert other.passed
    broken = check_can_overfit_batch(
        model, (X, y), lambda out, t: nn.functional.mse_loss(out.detach() * 0 + 1, t), steps=5
    )
    assert not broken.passed


def test_eval_deterministic_figure_does_not_depend_on_the_global_rng() -> None:
    torch.manual_seed(0)
    model = _small_net().train()  # dropout on: the passes differ
    X = torch.randn(16, 8)
    torch.manual_seed(1)
    a = check_eval_deterministic(model, X)
    torch.manual_seed(2)
    b = check_eval_deterministic(model, X)
    assert not a.passed and a.value == b.value
    rng = torch.random.get_rng_state()
    check_eval_deterministic(model, X)
    assert torch.equal(torch.random.get_rng_state(), rng)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (torch.zeros(0, 8), "empty batch"),
        (torch.zeros(4, 8, device="meta"), "meta tensor"),
        (torch.zeros(4, 8).numpy(), "numpy array"),
        (torch.zeros(4, 8, dtype=torch.bfloat16), r"model\(X\) raised"),
        (torch.zeros(4, 3), r"model\(X\) raised"),
    ],
)
def test_eval_deterministic_bad_inputs_are_usage_errors(X, match: str) -> None:
    model = _small_net().eval()
    with pytest.raises(MLCheckUsageError, match=match):
        check_eval_deterministic(model, X)


def test_torch_checks_take_bfloat16_and_requires_grad_inputs_that_fit() -> None:
    torch.manual_seed(0)
    model = _small_net().eval()
    X = torch.randn(6, 8, requires_grad=True)
    assert check_eval_deterministic(model, X).passed
    assert check_eval_deterministic(model.to(torch.bfloat16), X.detach().bfloat16()).passed
    assert X.grad is None


def test_can_overfit_batch_bad_inputs_are_usage_errors() -> None:
    model = _small_net()
    X, y = torch.randn(8, 8), torch.randn(8, 1)
    with pytest.raises(MLCheckUsageError, match="numpy"):
        check_can_overfit_batch(model, (X.numpy(), y), nn.functional.mse_loss)
    with pytest.raises(MLCheckUsageError, match=r"loss_fn\(outputs, targets\) raised"):
        check_can_overfit_batch(model, (X, y[:3]), nn.functional.cross_entropy, steps=2)
    with pytest.raises(MLCheckUsageError, match="one number"):
        check_can_overfit_batch(
            model, (X, y), lambda o, t: nn.functional.mse_loss(o, t, reduction="none")
        )


def test_params_update_names_frozen_parameters_and_expectations() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)
    )
    model[2].requires_grad_(False)  # frozen: by design, or by mistake?
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    X, y = regression_batch()

    def step() -> None:
        opt.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        opt.step()

    ok = check_params_update(model, step)
    assert ok.passed and "2 frozen parameters stayed put: 2 (weight, bias)" in ok.message
    assert ok.details["frozen"] == ["2.weight", "2.bias"]
    assert check_params_update(model, step, expect_trainable=["0", "4"]).passed
    wrong = check_params_update(model, step, expect_trainable=["0", "2"])
    assert not wrong.passed and wrong.value == 2
    assert wrong.details["expected_trainable_but_frozen"] == ["2.weight", "2.bias"]
    assert "expected to train (expect_trainable) but frozen: 2 (weight, bias)" in wrong.message
    assert not check_params_update(model, step, expect_trainable="2.weight").passed
    with pytest.raises(MLCheckUsageError, match="expect_trainable"):
        check_params_update(model, step, expect_trainable=["decoder"])
    with pytest.raises(MLCheckUsageError, match="expect_trainable"):
        check_params_update(model, step, expect_trainable=[3])


def test_params_update_refuses_a_model_without_parameters_and_restores_the_rng() -> None:
    with pytest.raises(MLCheckUsageError, match="no parameters"):
        check_params_update(nn.ReLU(), lambda: None)
    assert not check_params_update(nn.Linear(2, 1), lambda: None).passed
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    X, y = regression_batch()

    def step() -> None:
        opt.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()  # dropout draws from the global RNG
        opt.step()

    rng = torch.random.get_rng_state()
    assert check_params_update(model, step).passed
    assert torch.equal(torch.random.get_rng_state(), rng)

    def failing() -> None:
        raise KeyError("batch")

    with pytest.raises(MLCheckUsageError, match=r"step_fn\(\) raised KeyError"):
        check_params_update(model, failing)


def test_params_update_zero_initialised_branches_are_not_stuck_at_the_first_step() -> None:
    torch.manual_seed(0)
    model = _resnet_like(zero_init=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    X, y = regression_batch()

    def step() -> None:
        opt.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        opt.step()

    result = check_params_update(model, step)
    assert result.passed, result.message
    assert "1.conv1.weight" in result.details["gated_by_zero_init"]
    assert "'1.bn2.weight'" in result.message
    plain = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    opt2 = torch.optim.SGD(plain[2].parameters(), lr=0.1)  # the first layer left out

    def partial() -> None:
        opt2.zero_grad()
        nn.functional.mse_loss(plain(X), y).backward()
        opt2.step()

    missed = check_params_update(plain, partial)
    assert not missed.passed and missed.details["did_not_change"] == ["0.weight", "0.bias"]


def test_more_torch_bad_inputs_are_usage_errors() -> None:
    with pytest.raises(MLCheckUsageError, match="meta device"):
        check_params_update(nn.Linear(4, 1, device="meta"), lambda: None)
    X, y = torch.randn(3, 4), torch.randn(3, 1)
    for kw in ({"target_loss": float("nan")}, {"lr": 0}, {"lr": float("inf")}):
        with pytest.raises(MLCheckUsageError, match=next(iter(kw))):
            check_can_overfit_batch(nn.Linear(4, 1), (X, y), nn.functional.mse_loss, **kw)
    with pytest.raises(MLCheckUsageError, match="max_fraction"):
        check_no_truncation(["a b"], whitespace_tokenizer, max_length=3, max_fraction=float("nan"))
    with pytest.raises(MLCheckUsageError, match="tokenizer raised ZeroDivisionError"):
        check_no_truncation(["a b"], lambda t: 1 / 0, max_length=3)


@pytest.mark.parametrize("seed", range(3))
def test_vanishing_through_a_module_list_stack_with_stem_and_head(seed: int) -> None:
    """A deep sigmoid stack written as stem + ModuleList + head (or fc1..fc8) is judged on
    its repeated blocks and still caught; the same with ReLU + LayerNorm passes."""
    torch.manual_seed(seed)

    class Net(nn.Module):
        def __init__(self, act: type, norm: bool) -> None:
            super().__init__()
            self.stem = nn.Linear(8, 64)
            self.blocks = nn.ModuleList(
                nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64) if norm else nn.Identity(), act())
                for _ in range(8)
            )
            self.head = nn.Linear(64, 1)

        def forward(self, x):
            h = torch.sigmoid(self.stem(x))
            for block in self.blocks:
                h = block(h)
            return self.head(h)

    sick = Net(nn.Sigmoid, norm=False)
    backward(sick, seed)
    result = check_grad_norm_healthy(sick)
    assert not result.passed and result.details["vanishing"]
    assert result.details["compared_blocks"] == [f"blocks.{k}" for k in range(8)]
    healthy = Net(nn.ReLU, norm=True)
    backward(healthy, seed)
    assert check_grad_norm_healthy(healthy).passed


def test_can_overfit_batch_leaves_inputs_that_require_grad_untouched() -> None:
    torch.manual_seed(0)
    X = torch.randn(5, 4, requires_grad=True)
    y = torch.randn(5, 1, requires_grad=True)
    result = check_can_overfit_batch(nn.Linear(4, 1), (X, y), nn.functional.mse_loss, steps=3)
    assert result.details["steps"] >= 1
    assert X.grad is None and y.grad is None


def test_can_overfit_batch_is_not_passed_by_a_lucky_dropout_draw() -> None:
    """Heavy dropout drives the train-mode output (and the loss on zero targets) to ~0
    while the model has learnt nothing: eval mode decides, training does not stop there."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.99))
    with torch.no_grad():
        model[0].bias.fill_(3.0)
    X, y = torch.randn(8, 4), torch.zeros(8, 4)
    result = check_can_overfit_batch(model, (X, y), nn.functional.mse_loss, lr=1e-9, steps=5)
    assert not result.passed and result.details["steps"] == 5
    assert result.value > 1.0


def test_tracker_growth_factor_from_ini_is_validated() -> None:
    from pytest_mlchecks._protocol import Recorder, Settings, recording

    tracker = _scripted_tracker([1.0] * 8, [1.0] * 8)
    nan = Settings(ini={"tracker_growth_factor": float("nan")})
    with recording(Recorder("ini", nan)), pytest.raises(MLCheckUsageError, match="growth_factor"):
        tracker.check()
    with recording(Recorder("ini", Settings(ini={"tracker_growth_factor": 2.0}))):
        assert tracker.check().details["sustained_growth"]["limit"] == 2.0
