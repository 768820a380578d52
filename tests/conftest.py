"""Shared helpers for the plugin's own tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
needs_scipy = pytest.mark.skipif(
    importlib.util.find_spec("scipy") is None, reason="scipy not installed"
)
needs_polars = pytest.mark.skipif(
    importlib.util.find_spec("polars") is None, reason="polars not installed"
)
needs_tokenizers = pytest.mark.skipif(
    importlib.util.find_spec("tokenizers") is None, reason="tokenizers not installed"
)

# One way to skip on a missing optional library: the needs_* markers above, on a test or as a
# module's `pytestmark`. The two tables below, keyed by test file name, cover what a marker
# cannot.
#
# Test modules that run the examples/ audit in a subprocess: the examples import scikit-learn
# and torch, so without either the audit cannot show what those tests expect. They are
# skipped (with the reason) rather than failing.
NEEDS_BY_MODULE: dict[str, tuple[str, ...]] = {
    "test_examples.py": ("sklearn", "torch"),
    "test_html_report.py": ("sklearn", "torch"),
}


# Check test modules whose top level needs a library (torch modules, scikit-learn estimators
# defined at import): a marker cannot stop their import, so without the library the whole
# module is skipped at collection, with the reason. They also carry `pytestmark = needs_<lib>`.
NEEDS_AT_IMPORT: dict[str, str] = {
    "test_baselines.py": "sklearn",
    "test_generalisation.py": "sklearn",
    "test_robustness.py": "sklearn",
    "test_text.py": "torch",
    "test_training.py": "torch",
}


class _MissingLibraryModule(pytest.Module):
    """A test module not imported because the library its top level needs is missing."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        pytest.skip(f"{self.path.name} needs {NEEDS_AT_IMPORT[self.path.name]} (not installed)")


def pytest_pycollect_makemodule(
    module_path: Path, parent: pytest.Collector
) -> pytest.Module | None:
    library = NEEDS_AT_IMPORT.get(module_path.name)
    if library is not None and importlib.util.find_spec(library) is None:
        return _MissingLibraryModule.from_parent(parent, path=module_path)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        needed = NEEDS_BY_MODULE.get(item.path.name, ())
        missing = [m for m in needed if importlib.util.find_spec(m) is None]
        if missing:
            item.add_marker(
                pytest.mark.skip(reason=f"the examples audit needs {', '.join(missing)}")
            )
