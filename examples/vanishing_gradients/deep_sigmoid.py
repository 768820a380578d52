"""A deep fully connected regressor built with sigmoid activations (a classic mistake)."""

from __future__ import annotations

import torch
from torch import nn


def make_net(activation: type[nn.Module] = nn.Sigmoid, depth: int = 8) -> nn.Module:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    width_in = 10
    for _ in range(depth):
        layers += [nn.Linear(width_in, 64), activation()]
        width_in = 64
    layers.append(nn.Linear(64, 1))
    return nn.Sequential(*layers)


def batch(n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    X = torch.randn(n, 10, generator=g)
    return X, (X[:, :3].sum(1, keepdim=True) + 0.1 * torch.randn(n, 1, generator=g))
