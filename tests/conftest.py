"""Shared helpers for the plugin's own tests."""

from __future__ import annotations

import importlib.util

# Loaded once, before any in-process pytester run: pytester restores sys.modules after each
# run, and numpy and torch cannot be imported a second time in one process (numpy raises,
# torch crashes), so they must already be loaded when an inner run first needs them.
import numpy  # noqa: F401
import pandas  # noqa: F401
import pytest

if importlib.util.find_spec("torch") is not None:
    import torch  # noqa: F401

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_XDIST = importlib.util.find_spec("xdist") is not None

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
needs_xdist = pytest.mark.skipif(not HAS_XDIST, reason="pytest-xdist not installed")
needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="scikit-learn not installed"
)
