"""Input handling shared by the checks: recognise, validate and convert user data cheaply.

Every kind of input (numpy, pandas, torch, polars / pyarrow, scipy sparse, lists) is one
``InputAdapter`` in ``INPUT_ADAPTERS``: how it is recognised, the form checks read, a table, an
array and a row count. ``require_array_like``, ``as_dataframe``, ``n_rows`` and
``label_vector`` dispatch through them; a new kind of input is one more adapter. Native frames
of other engines (Spark, Dask, DuckDB, Polars lazy, Ibis) are computed on in place by
:mod:`pytest_mlchecks.engines`, not converted here.

numpy is imported here (this module is only imported when a check runs); pandas and torch are
recognised by their type's module, so a numpy-only call never imports pandas or torch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from pytest_mlchecks._messages import fmt as fmt  # figures read the same everywhere
from pytest_mlchecks._result import MLCheckUsageError

# ---------------------------------------------------------------- types of public inputs


class SupportsToPandas(Protocol):
    """A polars / pyarrow table (or anything else that converts itself to pandas)."""

    def to_pandas(self) -> Any: ...


class SparseMatrix(Protocol):
    """A scipy sparse matrix or array (accepted where scikit-learn reads sparse X)."""

    def tocsr(self) -> Any: ...


#: A 1-D vector: labels, predictions, groups, time stamps (numpy, pandas, torch, lists).
VectorLike: TypeAlias = npt.ArrayLike | SupportsToPandas
#: A table: numpy 2-D or structured arrays, pandas, torch, lists of rows or of dicts,
#: polars / pyarrow tables.
TableLike: TypeAlias = npt.ArrayLike | Sequence[Mapping[str, Any]] | SupportsToPandas
#: X handed to a scikit-learn model: a table, or a scipy sparse matrix.
ModelInput: TypeAlias = TableLike | SparseMatrix
#: Column names: one name or several.
Columns: TypeAlias = Hashable | Sequence[Hashable]
#: A metric: a scikit-learn scorer name, or a function ``(y_true, y_pred_or_score) -> float``.
Metric: TypeAlias = str | Callable[..., float]
TaskName: TypeAlias = Literal["binary", "multiclass", "regression"]
#: A native frame of another engine (PySpark, Dask, DuckDB, Polars lazy, Ibis), recognised at
#: run time by its type's module; no stub describes them all, hence ``Any``.
NativeTable: TypeAlias = Any


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


def is_sparse(obj: Any) -> bool:
    """A scipy sparse matrix or array (recognised without importing scipy)."""
    return _module_of(obj).startswith("scipy.sparse") and hasattr(obj, "tocsr")


def _is_foreign(obj: Any) -> bool:
    return _module_of(obj).startswith(("polars", "pyarrow")) and hasattr(obj, "to_pandas")


def from_foreign_table(obj: Any) -> Any:
    """Convert polars / pyarrow frames to pandas once; anything else is returned unchanged."""
    if _is_foreign(obj):
        try:
            return obj.to_pandas()
        except ModuleNotFoundError as exc:  # polars needs pyarrow for to_pandas
            missing = exc.name or "pyarrow"
            raise MLCheckUsageError(
                f"a {describe_type(obj)} needs {missing} to be converted to pandas, which is "
                f"not installed: pip install {missing} (or pass a pandas DataFrame)."
            ) from exc
    return obj


def tensor_numpy(t: Any, arg: str) -> np.ndarray:
    """A numpy copy of a torch tensor's values: detached, on the CPU, half precision and
    bfloat16 widened to float32 (numpy has no bfloat16). Meta tensors have no values."""
    if t.device.type == "meta":
        raise MLCheckUsageError(
            f"{arg} is a meta tensor (a shape without values): expected a tensor with data "
            "(materialise it, e.g. with .to_empty(device='cpu') and real weights or values)."
        )
    t = t.detach()
    if t.dtype in _narrow_floats():
        t = t.float()
    return np.asarray(t.cpu().numpy())


def _narrow_floats() -> tuple[Any, ...]:
    import torch

    return tuple(
        d for d in (torch.bfloat16, torch.float16, getattr(torch, "float8_e4m3fn", None)) if d
    )


def _records_frame(obj: list[Any] | tuple[Any, ...]) -> Any:
    """A list of dicts (records) as a DataFrame, or None when ``obj`` is not one."""
    from collections.abc import Mapping

    if not obj or not all(isinstance(row, Mapping) for row in obj):
        return None
    import pandas as pd

    return pd.DataFrame.from_records(list(obj))


def describe_type(obj: Any) -> str:
    return f"{_module_of(obj)}.{type(obj).__qualname__}".lstrip(".")


SUPPORTED = "a numpy array, a pandas DataFrame or Series, a torch tensor or a list"


# ---------------------------------------------------------------- input adapters


@dataclass(frozen=True)
class InputRequest:
    """What a check asks of an input: the argument's name (for messages), what it expects,
    and whether scipy sparse matrices pass (checks that hand X to scikit-learn)."""

    arg: str
    what: str = SUPPORTED
    allow_sparse: bool = False


def _len(obj: Any, arg: str) -> int:
    return len(obj)


def _no_frame(obj: Any, arg: str) -> Any:
    raise MLCheckUsageError(f"{arg} is a {describe_type(obj)}: expected a table.")


def _no_array(obj: Any, arg: str) -> np.ndarray:
    raise MLCheckUsageError(f"{arg} is a {describe_type(obj)}: expected dense values.")


@dataclass(frozen=True)
class InputAdapter:
    """One kind of input: how it is recognised (by its type, never by importing its library)
    and converted. ``normalise`` gives the form checks read, or a usage error (it may hand
    over to another kind: a polars frame becomes pandas); ``to_frame``, ``to_array`` and
    ``rows`` read a normalised value."""

    kind: str
    recognise: Callable[[Any], bool]
    normalise: Callable[[Any, InputRequest], Any]
    to_frame: Callable[[Any, str], Any] = _no_frame
    to_array: Callable[[Any, str], np.ndarray] = _no_array
    rows: Callable[[Any, str], int] = _len


def _normalise_foreign(obj: Any, request: InputRequest) -> Any:
    return normalise_input(from_foreign_table(obj), request)


def _normalise_sparse(obj: Any, request: InputRequest) -> Any:
    if not request.allow_sparse:
        raise MLCheckUsageError(
            f"{request.arg} is a scipy sparse matrix, which this check cannot read: expected "
            f"{request.what} (densify a sample with .toarray(), or use a check that takes "
            "sparse X)."
        )
    if len(obj.shape) != 2:
        raise MLCheckUsageError(
            f"{request.arg} is a sparse array of shape {obj.shape}: expected 2-D."
        )
    return obj


def _sparse_rows(obj: Any, arg: str) -> int:
    return int(obj.shape[0])


def _is_numpy(obj: Any) -> bool:
    return isinstance(obj, np.ndarray)


def _normalise_numpy(obj: np.ndarray, request: InputRequest) -> Any:
    if not obj.dtype.names:
        return obj
    # a structured (record) array is a table: one column per field
    import pandas as pd

    if obj.ndim != 1:
        raise MLCheckUsageError(
            f"{request.arg} is a {obj.ndim}-D structured array: expected one record per row."
        )
    return pd.DataFrame({name: obj[name] for name in obj.dtype.names})


def _numpy_frame(obj: Any, arg: str) -> Any:
    import pandas as pd

    values = np.asarray(obj)
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    if values.ndim != 2:
        raise MLCheckUsageError(
            f"{arg} has {values.ndim} dimensions: expected a table (a DataFrame or a 2-D array)."
        )
    return pd.DataFrame(values, columns=[str(i) for i in range(values.shape[1])], copy=False)


def _numpy_array(obj: Any, arg: str) -> np.ndarray:
    return np.asarray(obj)


def _numpy_rows(obj: np.ndarray, arg: str) -> int:
    if obj.ndim == 0:
        raise MLCheckUsageError(f"{arg} is a 0-d array (a scalar): expected rows.")
    return len(obj)


def _normalise_torch(obj: Any, request: InputRequest) -> Any:
    if obj.device.type == "meta":
        raise MLCheckUsageError(
            f"{request.arg} is a meta tensor (a shape without values): expected a tensor with data."
        )
    return obj


def _torch_frame(obj: Any, arg: str) -> Any:
    return _numpy_frame(tensor_numpy(obj, arg), arg)


def _torch_rows(obj: Any, arg: str) -> int:
    if obj.dim() == 0:
        raise MLCheckUsageError(f"{arg} is a 0-d tensor: expected at least one dimension.")
    return int(obj.shape[0])


def _normalise_pandas(obj: Any, request: InputRequest) -> Any:
    if is_dataframe(obj) or is_series(obj):
        return obj
    import pandas as pd

    if isinstance(obj, pd.Index):
        return obj.to_series(index=None).reset_index(drop=True)
    raise MLCheckUsageError(f"{request.arg} is a {describe_type(obj)}: expected {request.what}.")


def _pandas_frame(obj: Any, arg: str) -> Any:
    if is_series(obj):
        return obj.to_frame(name=obj.name if obj.name is not None else arg)
    return require_unique_columns(obj, arg)


def _pandas_array(obj: Any, arg: str) -> np.ndarray:
    return np.asarray(obj.to_numpy())


def _is_sequence(obj: Any) -> bool:
    return isinstance(obj, (list, tuple))


def _normalise_sequence(obj: list[Any] | tuple[Any, ...], request: InputRequest) -> Any:
    records = _records_frame(obj)
    if records is not None:
        return records
    try:
        return np.asarray(obj)
    except ValueError as exc:
        raise MLCheckUsageError(
            f"{request.arg} is a ragged {type(obj).__name__} ({exc}): expected {request.what}."
        ) from exc


#: Every kind of input the checks read, tried in order (the first that recognises an input
#: handles it). A new kind of input is one more adapter (``register_input``).
INPUT_ADAPTERS: list[InputAdapter] = [
    InputAdapter("foreign", _is_foreign, _normalise_foreign),
    InputAdapter("sparse", is_sparse, _normalise_sparse, rows=_sparse_rows),
    InputAdapter("numpy", _is_numpy, _normalise_numpy, _numpy_frame, _numpy_array, _numpy_rows),
    InputAdapter("torch", is_torch, _normalise_torch, _torch_frame, tensor_numpy, _torch_rows),
    InputAdapter("pandas", is_pandas, _normalise_pandas, _pandas_frame, _pandas_array),
    InputAdapter("sequence", _is_sequence, _normalise_sequence),
]


def register_input(adapter: InputAdapter, *, before: str | None = None) -> None:
    """Teach the checks a new kind of input: ``adapter`` is tried before the adapter of kind
    ``before`` (by default after all others); an adapter of the same kind is replaced."""
    INPUT_ADAPTERS[:] = [a for a in INPUT_ADAPTERS if a.kind != adapter.kind]
    kinds = [a.kind for a in INPUT_ADAPTERS]
    INPUT_ADAPTERS.insert(kinds.index(before) if before in kinds else len(kinds), adapter)


def adapter_of(obj: Any) -> InputAdapter | None:
    """The adapter of ``obj``'s kind, or None for an input no check reads."""
    return next((a for a in INPUT_ADAPTERS if a.recognise(obj)), None)


def input_kind(obj: Any) -> str | None:
    """The kind of input ``obj`` is ("numpy", "pandas", "torch", ...), None if unknown."""
    adapter = adapter_of(obj)
    return adapter.kind if adapter is not None else None


def normalise_input(obj: Any, request: InputRequest) -> Any:
    """``obj`` in the form checks read, or a usage error naming ``request.arg``."""
    if obj is None:
        raise MLCheckUsageError(f"{request.arg} is None: expected {request.what}.")
    adapter = adapter_of(obj)
    if adapter is None:
        raise MLCheckUsageError(
            f"{request.arg} is a {describe_type(obj)}: expected {request.what}."
        )
    return adapter.normalise(obj, request)


def require_array_like(
    obj: Any, arg: str, *, what: str = SUPPORTED, allow_sparse: bool = False
) -> Any:
    """Return ``obj`` in a supported form or raise ``MLCheckUsageError`` naming ``arg``.

    Lists and tuples become numpy arrays (a list of dicts, and a numpy structured array,
    become a DataFrame: one column per key or field); polars / pyarrow tables become pandas;
    meta tensors (no values) are refused; scipy sparse matrices pass only with
    ``allow_sparse`` (checks that hand X to scikit-learn, which reads them).
    """
    return normalise_input(obj, InputRequest(arg, what, allow_sparse))


def as_array(obj: Any, arg: str) -> np.ndarray:
    """The numpy values of an already validated input (torch: a detached CPU copy)."""
    adapter = adapter_of(obj)
    return adapter.to_array(obj, arg) if adapter is not None else np.asarray(obj)


def n_rows(obj: Any, arg: str) -> int:
    """Number of rows (first dimension) of an already validated array-like."""
    adapter = adapter_of(obj)
    return adapter.rows(obj, arg) if adapter is not None else len(obj)


def require_unique_columns(obj: Any, arg: str) -> Any:
    """``obj`` unchanged, or a usage error when it is a DataFrame with repeated column names
    (which column a model or a comparison reads is then ambiguous)."""
    if is_dataframe(obj) and not obj.columns.is_unique:
        dup = sorted({str(c) for c in obj.columns[obj.columns.duplicated()]})
        raise MLCheckUsageError(f"{arg} has duplicated column names {dup}: expected unique.")
    return obj


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


def one_column(obj: Any, arg: str, what: str = "one value per row") -> Any:
    """``obj`` as one column: a pandas Series as given (a one-column DataFrame's column), else
    a 1-D numpy array (an (n, 1) array flattened); anything wider is a usage error naming
    ``arg`` and ``what`` was expected."""
    obj = require_array_like(obj, arg)
    require_rows(obj, arg)
    if is_dataframe(obj):
        if obj.shape[1] != 1:
            raise MLCheckUsageError(
                f"{arg} is a table with {obj.shape[1]} columns: expected {what}."
            )
        obj = obj.iloc[:, 0]
    if is_series(obj):
        return obj
    values = as_array(obj, arg)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise MLCheckUsageError(f"{arg} has shape {values.shape}: expected {what}.")
    return values


def label_vector(y: Any, arg: str) -> np.ndarray:
    """A 1-D numpy view of a label vector (NaN / None labels are rejected)."""
    y = one_column(y, arg, "a 1-D label vector (one label per row)")
    if is_series(y):
        if y.isna().any():
            raise MLCheckUsageError(
                f"{arg} has {int(y.isna().sum()):,} missing labels: expected every row labelled."
            )
        return np.asarray(y.to_numpy())
    values: np.ndarray = y
    if values.dtype.kind == "O":
        odd = next((v for v in values if isinstance(v, _NOT_A_LABEL)), None)
        if odd is not None:
            raise MLCheckUsageError(
                f"{arg} holds {type(odd).__name__} values: expected one scalar label per row "
                "(numbers, strings or booleans)."
            )
        missing = int(sum(v is None or (isinstance(v, float) and v != v) for v in values))
        if missing:
            raise MLCheckUsageError(
                f"{arg} has {missing:,} missing labels: expected every row labelled."
            )
    if values.dtype.kind == "V":
        raise MLCheckUsageError(f"{arg} is a structured array: expected a 1-D label vector.")
    if values.dtype.kind == "f" and np.isnan(values).any():
        raise MLCheckUsageError(
            f"{arg} has {int(np.isnan(values).sum()):,} NaN labels: expected every row labelled."
        )
    return values


_NOT_A_LABEL = (dict, list, set, tuple, np.ndarray)


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


def as_dataframe(obj: Any, arg: str) -> Any:
    """A pandas DataFrame for a 2-D input (pandas as is; numpy/torch get columns "0", "1", ...)."""
    obj = require_array_like(obj, arg, what="a pandas DataFrame or a 2-D array")
    adapter = adapter_of(obj)
    return adapter.to_frame(obj, arg) if adapter is not None else _no_frame(obj, arg)


def split_columns(train: Any, test: Any, columns: Any, *, exclude: Any = ()) -> list[str]:
    """The columns two splits are compared on: ``columns`` if given, else all (minus exclude).

    Raises ``MLCheckUsageError`` when the splits' columns differ or a named column is absent.
    """
    excluded = list(as_name_list(exclude, "id_columns"))
    for name in excluded:
        if name not in train.columns and name not in test.columns:
            raise MLCheckUsageError(f"column {name!r} (to exclude) is in neither split.")
    if columns is not None:
        wanted = list(as_name_list(columns, "columns"))
        for name in wanted:
            where = [s for s, f in (("train", train), ("test", test)) if name not in f.columns]
            if where:
                raise MLCheckUsageError(
                    f"columns names {name!r}, which is missing from {' and '.join(where)}."
                )
        return [c for c in wanted if c not in excluded]
    only_train = [str(c) for c in train.columns if c not in test.columns and c not in excluded]
    only_test = [str(c) for c in test.columns if c not in train.columns and c not in excluded]
    if only_train or only_test:
        raise MLCheckUsageError(
            "train and test have different columns "
            f"(only in train: {only_train[:10]}, only in test: {only_test[:10]}): expected the "
            "same columns in both splits, or pass columns=[...] to compare a subset."
        )
    return [c for c in train.columns if c not in excluded]


def as_name_list(value: Any, arg: str) -> list[Any]:
    """A list of column names from None, one name, or an iterable of names."""
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise MLCheckUsageError(
            f"{arg} must be a column name or a list of column names, got {value!r}."
        ) from None
