"""pytest-mlchecks: a pytest plugin that turns a project's tests into its ML debugging ladder.

Every public name is importable from here; the modules behind them (and numpy, pandas,
scikit-learn, torch) load only when a name is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._registry import CHECKS
from ._result import (
    RUNGS,
    CheckReport,
    CheckResult,
    MLCheckError,
    MLCheckUsageError,
    MLCheckWarning,
)

__version__ = "0.1.0.dev0"

_LAZY: dict[str, str] = {}
for _spec in CHECKS.values():
    _LAZY[_spec.assert_name] = _spec.module
    _LAZY[_spec.check_name] = _spec.module

__all__ = [
    "RUNGS",
    "CheckReport",
    "CheckResult",
    "MLCheckError",
    "MLCheckUsageError",
    "MLCheckWarning",
    *sorted(_LAZY),
]

if TYPE_CHECKING:
    from .checks.data import (
        assert_aligned as assert_aligned,
    )
    from .checks.data import (
        assert_class_balance as assert_class_balance,
    )
    from .checks.data import (
        assert_finite as assert_finite,
    )
    from .checks.data import (
        check_aligned as check_aligned,
    )
    from .checks.data import (
        check_class_balance as check_class_balance,
    )
    from .checks.data import (
        check_finite as check_finite,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_mlchecks' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
