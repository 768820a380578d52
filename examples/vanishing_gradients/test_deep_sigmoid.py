"""Vanishing gradients: the first layers of an 8-layer sigmoid net get almost no signal."""

from __future__ import annotations

import pytest
from deep_sigmoid import batch, make_net

from pytest_mlchecks import assert_grad_norm_healthy


@pytest.mark.ml_model
def test_sigmoid_net_gradients_are_healthy():
    torch = pytest.importorskip("torch")
    net = make_net()
    X, y = batch()
    torch.nn.functional.mse_loss(net(X), y).backward()
    assert_grad_norm_healthy(net)  # fails: first layer ~1e-5 of the largest; use ReLU + norms


@pytest.mark.ml_model
def test_relu_net_gradients_are_healthy():
    torch = pytest.importorskip("torch")
    net = make_net(torch.nn.ReLU, depth=3)
    X, y = batch()
    torch.nn.functional.mse_loss(net(X), y).backward()
    assert_grad_norm_healthy(net)
