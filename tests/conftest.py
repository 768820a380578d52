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

# Test modules that run the examples/ audit in a subprocess: the examples import scikit-learn
# and torch, so without either the audit cannot show what those tests expect. They are
# skipped (with the reason) rather than failing; the rest of the suite uses needs_torch /
# needs_sklearn or pytest.importorskip per test.
NEEDS_BY_MODULE: dict[str, tuple[str, ...]] = {
    "test_examples.py": ("sklearn", "torch"),
    "test_html_report.py": ("sklearn", "torch"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        needed = NEEDS_BY_MODULE.get(item.path.name, ())
        missing = [m for m in needed if importlib.util.find_spec(m) is None]
        if missing:
            item.add_marker(
                pytest.mark.skip(reason=f"the examples audit needs {', '.join(missing)}")
            )
