"""Cost of check_grad_norm_healthy and GradNormTracker.step: 100-layer MLP, Transformer, conv net.

Compares, on the same gradients: torch.nn.utils.get_total_norm over model.parameters() (as
clip_grad_norm_ is called in a training loop; clip_grad_norm_ with max_norm=inf on older torch),
a naive per-parameter `.norm().item()` loop, and our check.
Then the tracker's overhead per training step as a share of the step itself.
Goals: check <= 1.5x get_total_norm, faster than the naive loop; tracker overhead < 5%.

Run: python benchmarks/grads.py [--repeats 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn


def mlp(depth: int = 100, width: int = 256, *, he_init: bool = True) -> nn.Module:
    """A deep ReLU MLP. With He initialisation it trains (the check passes); with torch's
    default initialisation 100 layers are too deep: the first layers' gradients are exactly
    zero and the check fails, which times the failure path (diagnosis and per-layer table)."""
    layers: list[nn.Module] = [nn.Linear(64, width), nn.ReLU()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), nn.ReLU()]
    layers.append(nn.Linear(width, 1))
    if he_init:
        for layer in layers:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


def convnet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


class Encoder(nn.Module):
    """A 6-layer Transformer encoder regressing 4 targets from the first token."""

    def __init__(self) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(128, 4, 256, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 6, enable_nested_tensor=False)
        self.head = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x)[:, 0])


def best(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def total_norm(model: nn.Module) -> float:
    # as a training loop calls it: from model.parameters(), like clip_grad_norm_ does
    params = list(model.parameters())
    grads = [p.grad for p in params if p.grad is not None]
    get_total = getattr(torch.nn.utils, "get_total_norm", None)
    if get_total is not None:
        return float(get_total(grads))
    return float(torch.nn.utils.clip_grad_norm_(params, float("inf")))


def naive(model: nn.Module) -> float:
    return max(p.grad.norm().item() for p in model.parameters() if p.grad is not None)


def bench(
    name: str,
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    repeats: int,
    *,
    track: bool = True,
) -> None:
    from pytest_mlchecks import GradNormTracker, check_grad_norm_healthy

    loss_fn = nn.functional.cross_entropy if y.dtype == torch.long else nn.functional.mse_loss
    loss_fn(model(x), y).backward()
    params = list(model.parameters())
    verdict = "passes" if check_grad_norm_healthy(model).passed else "fails"  # also a warm-up
    t_total = best(lambda: total_norm(model), repeats)
    t_naive = best(lambda: naive(model), repeats)
    t_ours = best(lambda: check_grad_norm_healthy(model), repeats)
    print(f"{name}: {len(params)} parameter tensors, the check {verdict}")
    print(f"  get_total_norm       : {t_total * 1e3:8.3f} ms")
    print(f"  naive .norm().item() : {t_naive * 1e3:8.3f} ms")
    print(
        f"  check_grad_norm_healthy: {t_ours * 1e3:6.3f} ms  -> {t_ours / t_total:.2f}x "
        f"get_total_norm (goal <= 1.5x), {t_naive / t_ours:.2f}x faster than naive"
    )
    if not track:
        return

    opt = torch.optim.SGD(model.parameters(), lr=1e-4)

    def step(tracker: GradNormTracker | None) -> None:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if tracker is not None:
            tracker.step(loss)
        opt.step()

    tracker = GradNormTracker(model)
    # interleave the two kinds of step so that machine noise hits both alike
    plain_times, tracked_times = [], []
    for _ in range(repeats):
        plain_times.append(best(lambda: step(None), 1))
        tracked_times.append(best(lambda: step(tracker), 1))
    plain, tracked = statistics.median(plain_times), statistics.median(tracked_times)
    print(
        f"  training step {plain * 1e3:.2f} ms, with tracker.step {tracked * 1e3:.2f} ms: "
        f"overhead {100 * (tracked - plain) / plain:+.1f}% (goal < 5%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=50)
    opts = parser.parse_args()
    torch.manual_seed(0)
    bench(
        "100-layer MLP, He init (width 256, batch 256)",
        mlp(),
        torch.randn(256, 64),
        torch.randn(256, 1),
        opts.repeats,
    )
    bench(
        "100-layer MLP, torch default init (dead early layers)",
        mlp(he_init=False),
        torch.randn(256, 64),
        torch.randn(256, 1),
        opts.repeats,
        track=False,
    )
    bench(
        "6-layer Transformer encoder (d 128, batch 16 x 32 tokens)",
        Encoder(),
        torch.randn(16, 32, 128),
        torch.randn(16, 4),
        opts.repeats,
    )
    bench(
        "conv net (3 conv + BN, batch 32 of 3x32x32)",
        convnet(),
        torch.randn(32, 3, 32, 32),
        torch.randint(0, 10, (32,)),
        opts.repeats,
    )


if __name__ == "__main__":
    main()
