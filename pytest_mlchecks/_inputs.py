"""Input handling shared by the checks: recognise, validate and convert user data cheaply.

numpy is imported here (this module is only imported when a check runs); pandas and torch are
recognised by their type's module, so a numpy-only call never imports pandas or torch.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ._result import MLCheckUsageError


def _module_of(obj: Any) -> str:
    return type(obj).__module__ or ""


def is_pandas(obj: Any) -> bool:
    return _module_of(obj).startswith("pandas") and "pandas" in sys.modules


def is_dataframe(obj: Any) -> bool:
    if not is_pandas(obj):
        return False
    import pandas as pd

    return isinstance(obj, pd.DataFrame)


def is_series(obj: Any) -> bool:
    if not is_pandas(obj):
        return False
    import pandas as pd

    return isinstance(obj, pd.Series)


def is_torch(obj: Any) -> bool:
    if "torch" not in sys.modules:
        return False
    import torch

    return isinstance(obj, torch.Tensor)


def from_foreign_table(obj: Any) -> Any:
    """Convert polars / pyarrow frames to pandas once; anything else is returned unchanged."""
    module = _module_of(obj)
    if module.startswith(("polars", "pyarrow")) and hasattr(obj, "to_pandas"):
        return obj.to_pandas()
    return obj


def describe_type(obj: Any) -> str:
    return f"{_module_of(obj)}.{type(obj).__qualname__}".lstrip(".")


SUPPORTED = "a numpy array, a pandas DataFrame or Series, a torch tensor or a list"


def require_array_like(obj: Any, arg: str, *, what: str = SUPPORTED) -> Any:
    """Return ``obj`` in a supported form (lists and tuples become numpy arrays) or raise."""
    obj = from_foreign_table(obj)
    if obj is None:
        raise MLCheckUsageError(f"{arg} is None: expected {what}.")
    if isinstance(obj, np.ndarray) or is_pandas(obj) or is_torch(obj):
        if is_pandas(obj) and not (is_dataframe(obj) or is_series(obj)):
            import pandas as pd

            if isinstance(obj, pd.Index):
                return obj.to_series(index=None).reset_index(drop=True)
            raise MLCheckUsageError(f"{arg} is a {describe_type(obj)}: expected {what}.")
        return obj
    if isinstance(obj, (list, tuple)):
        try:
            return np.asarray(obj)
        except ValueError as exc:
            raise MLCheckUsageError(
                f"{arg} is a ragged {type(obj).__name__} ({exc}): expected {what}."
            ) from exc
    raise MLCheckUsageError(f"{arg} is a {describe_type(obj)}: expected {what}.")


def n_rows(obj: Any, arg: str) -> int:
    """Number of rows (first dimension) of an already validated array-like."""
    if is_torch(obj):
        if obj.dim() == 0:
            raise MLCheckUsageError(f"{arg} is a 0-d tensor: expected at least one dimension.")
        return int(obj.shape[0])
    if isinstance(obj, np.ndarray) and obj.ndim == 0:
        raise MLCheckUsageError(f"{arg} is a 0-d array (a scalar): expected rows.")
    return len(obj)


def require_rows(obj: Any, arg: str) -> int:
    """Raise ``MLCheckUsageError`` for empty input; return the number of rows."""
    rows = n_rows(obj, arg)
    if rows == 0:
        raise MLCheckUsageError(f"{arg} is empty (0 rows): expected at least one row.")
    return rows


def require_same_length(a: Any, b: Any, arg_a: str, arg_b: str) -> int:
    """Usage error when two inputs that must be paired have different lengths."""
    rows_a, rows_b = n_rows(a, arg_a), n_rows(b, arg_b)
    if rows_a != rows_b:
        raise MLCheckUsageError(
            f"{arg_a} has {rows_a:,} rows but {arg_b} has {rows_b:,}: expected one row of "
            f"{arg_b} per row of {arg_a} (assert_aligned tells where they part)."
        )
    return rows_a


def fmt(value: float, digits: int = 3) -> str:
    """Human formatting for figures in messages."""
    if value != value:  # NaN
        return "nan"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def table(headers: list[str], rows: list[list[str]], *, indent: str = "  ") -> str:
    """A small aligned text table for failure messages."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = [indent + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    for row in rows:
        lines.append(indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)
