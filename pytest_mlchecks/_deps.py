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


#: how to install a library whose plain ``pip install`` is the wrong advice: an unpinned torch
#: resolves to several GB of CUDA packages on Linux, so name the pinned CPU wheel the project
#: tests with (README) and where to pick another build
INSTALL_HINTS: dict[str, str] = {
    "torch": (
        "pip install 'torch==2.13.0' (the CPU wheel pytest-mlchecks is tested with; for a GPU "
        "build pick the command for your platform at https://pytorch.org/get-started/locally/)"
    ),
}


def install_hint(dist: str, extra: str) -> str:
    """The install command a message suggests for ``dist`` (never an unpinned torch)."""
    hint = INSTALL_HINTS.get(dist)
    if hint is not None:
        return hint
    if extra == "all":  # no extra of its own: the "all" extra would bring torch along
        return f"pip install {dist}"
    return f"pip install 'pytest-mlchecks[{extra}]' (or pip install {dist})"


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
            f"{helper} needs {dist}, which is not installed: {install_hint(dist, extra)}. "
            "The check cannot give a verdict without it."
        ) from exc
