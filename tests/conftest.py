"""Shared helpers for the plugin's own tests."""

from __future__ import annotations

import importlib.util

import pytest

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_XDIST = importlib.util.find_spec("xdist") is not None

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
needs_xdist = pytest.mark.skipif(not HAS_XDIST, reason="pytest-xdist not installed")
