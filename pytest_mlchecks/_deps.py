"""Optional dependencies: import them when a helper needs them, or say which extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from pytest_mlchecks._result import MLCheckUsageError

# import name -> (distribution name, extra of pytest-mlchecks that installs it)
OPTIONAL: dict[str, tuple[str, str]] = {
    "sklearn": ("scikit-learn", "sklearn"),
    "torch": ("torch", "torch"),
    "hypothesis": ("hypothesis", "hypothesis"),
    "narwhals": ("narwhals", "lazy"),
}


class MissingDependencyError(MLCheckUsageError, ImportError):
    """An optional dependency a helper needs is not installed (names the extra to install)."""


def require(module: str, *, helper: str) -> ModuleType:
    """Import ``module`` for ``helper`` or raise ``MissingDependencyError`` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        dist, extra = OPTIONAL.get(top, (top, "all"))
        raise MissingDependencyError(
            f"{helper} needs {dist}, which is not installed: "
            f"pip install 'pytest-mlchecks[{extra}]' (or pip install {dist}). "
            "The check cannot give a verdict without it."
        ) from exc
