"""Property checks for a user's own model or pipeline: row order, missing values, new categories."""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._messages import compose, plural
from pytest_mlchecks._protocol import check, current_seed, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.models import OutputMethod, method_list, model_output
from pytest_mlchecks.inputs.tables import (
    Columns,
    TableLike,
    as_dataframe,
    as_name_list,
    fmt,
    require_rows,
)

__all__ = [
    "check_handles_missing",
    "check_handles_unseen_categories",
    "check_invariant_to_row_order",
]


#: what a prediction of a row is read from, most informative first
ROW_OUTPUTS: tuple[OutputMethod, ...] = ("predict_proba", "predict", "transform")


def _dense(out: Any) -> np.ndarray:
    return np.asarray(out.toarray() if hasattr(out, "toarray") else out)


def _output(model: Any, X: Any) -> np.ndarray:
    """The model's output on X (a callable without those methods is called)."""
    found = model_output(model, X, prefer=ROW_OUTPUTS, convert=_dense, call=True)
    if found is None:
        raise MLCheckUsageError(
            f"{type(model).__name__} has no {method_list(ROW_OUTPUTS)} and is not callable."
        )
    return np.asarray(found[1])


def _nonfinite(out: np.ndarray) -> int:
    if out.dtype.kind in "fc":
        return int(np.count_nonzero(~np.isfinite(out)))
    if out.dtype.kind == "O":
        return int(sum(1 for v in out.ravel() if v is None or (isinstance(v, float) and v != v)))
    return 0


ROW_ORDER_WHY = (
    "a prediction must depend on its own row only; order effects mean batch "
    "statistics (batch-norm in train mode, per-batch scaling) or state carried "
    "between rows, so serving results depend on how requests were batched."
)
ROW_ORDER_FIX = "compute every feature per row or from fitted statistics, and predict in eval mode."


class RowOrderDetails(TypedDict):
    """What ``invariant_to_row_order`` measured (the record's ``details``)."""

    rows: int
    rows_changed: int  # rows whose prediction moved by more than atol
    max_abs_diff: float  # inf when labels differ


def _batch(X: TableLike) -> tuple[Any, int]:
    frame = as_dataframe(X, "X")
    n = require_rows(frame, "X")
    if n < 2:
        raise MLCheckUsageError(
            "X has 1 row: a single row has no other order, so nothing to decide. Expected at "
            "least 2 rows (a batch as the model is served)."
        )
    return frame, n


def _shuffled_order(n: int, seed: int) -> np.ndarray:
    """A seeded permutation of n rows that moves at least one row."""
    order = np.random.default_rng(seed).permutation(n)
    if bool(np.all(order == np.arange(n))):  # a shuffle that moved nothing tests nothing
        order = np.roll(order, 1)
    return order


def _measure_row_order(model: Any, frame: Any, order: np.ndarray, atol: float) -> RowOrderDetails:
    """Predictions on the rows and on the shuffled rows put back in order, compared."""
    n = len(frame)
    base = _output(model, frame)
    shuffled = _output(model, frame.iloc[order])
    restored = np.empty_like(shuffled)
    restored[order] = shuffled
    if base.dtype.kind in "OUSb" or restored.dtype.kind in "OUSb":
        differ = base != restored
        gap = float("inf") if np.any(differ) else 0.0
    else:
        delta = np.abs(base.astype(float) - restored.astype(float))
        differ = delta > atol
        gap = float(np.nanmax(delta)) if delta.size else 0.0
    rows = int(np.count_nonzero(differ.reshape(n, -1).any(axis=1))) if differ.size else 0
    return {"rows": n, "rows_changed": rows, "max_abs_diff": gap}


def _explain_invariant_to_row_order(details: RowOrderDetails) -> str:
    n, rows = details["rows"], details["rows_changed"]
    if rows == 0:
        return f"invariant_to_row_order: predictions on {n:,} rows do not depend on row order."
    return compose(
        f"invariant_to_row_order: shuffling the rows changes {rows:,} of {n:,} predictions "
        f"(largest difference {fmt(details['max_abs_diff'], 3)}).",
        why=ROW_ORDER_WHY,
        fix=ROW_ORDER_FIX,
    )


@check("invariant_to_row_order")
def check_invariant_to_row_order(
    model: Any, X: TableLike, *, atol: float = 1e-9, random_state: int | None = None
) -> CheckResult:
    """Detect predictions that depend on the order of rows (batch effects, leaks across rows).

    Predicts on ``X`` and on a seeded shuffle of it, puts the second back in order and
    compares. Figure: the largest absolute difference (threshold ``atol``).
    """
    frame, n = _batch(X)
    order = _shuffled_order(n, current_seed(random_state))
    details = _measure_row_order(model, frame, order, atol)
    passed = details["rows_changed"] == 0
    value = 0 if passed else details["max_abs_diff"]
    message = _explain_invariant_to_row_order(details)
    return result(passed, "error", value, atol, message, dict(details))


UNSEEN = "__unseen__"  # the category no pipeline has seen


def _probe(model: Any, frame: Any, column: Any, value: Any, rows: np.ndarray) -> str | None:
    """What goes wrong when ``rows`` of ``column`` are set to ``value`` (None: missing)."""
    changed = frame[column].copy()  # only the probed column is copied
    if value == UNSEEN and hasattr(changed, "cat"):
        changed = changed.cat.add_categories([UNSEEN])
    if value is None and changed.dtype.kind in "iub":
        changed = changed.astype("float64")
    changed.iloc[rows] = np.nan if value is None else value
    probe = frame.copy(deep=False)  # the caller's frame is never written to
    probe[column] = changed
    try:
        out = _output(model, probe)
    except Exception as exc:  # the finding itself: the pipeline crashes on this input
        return f"raises {type(exc).__name__}: {str(exc)[:120]}"
    bad = _nonfinite(out)
    if bad:
        return f"outputs {bad:,} NaN/Inf values"
    return None


def _rows(n: int, seed: int) -> np.ndarray:
    k = max(1, n // 10)
    return np.sort(np.random.default_rng(seed).choice(n, k, replace=False))


def _probe_columns(
    pipeline: Any, frame: Any, cols: list[Any], value: Any, seed: int
) -> dict[str, str]:
    """Probe each column in turn (10% of its present rows, seeded): column -> what broke."""
    everywhere = _rows(len(frame), seed)
    broken = {}
    for col in cols:
        present = np.flatnonzero(frame[col].notna().to_numpy())
        # blanking a cell that is already missing would test nothing
        full = len(present) == len(frame)
        rows = everywhere if full else present[_rows(len(present), seed)]
        problem = _probe(pipeline, frame, col, value, rows)
        if problem:
            broken[str(col)] = problem
    return broken


def _columns_to_probe(frame: Any, columns: Any) -> list[Any]:
    """``columns`` (or all), checked to exist; columns without any value are left out."""
    if frame.shape[1] == 0:
        raise MLCheckUsageError("X has no columns: expected the table the pipeline reads.")
    cols = list(frame.columns) if columns is None else as_name_list(columns, "columns")
    absent = [c for c in cols if c not in frame.columns]
    if absent:
        raise MLCheckUsageError(f"columns names {absent[:10]}, which X does not have.")
    usable = [c for c in cols if bool(frame[c].notna().any())]
    if not usable:
        raise MLCheckUsageError(
            f"every probed column of X is missing in every row ({plural(len(cols), 'column')})"
            ": there is no value to blank or replace, so nothing to decide on."
        )
    return usable


def _baseline_output(pipeline: Any, frame: Any) -> None:
    """The pipeline must work on X as given, or no probe can be blamed on one column."""
    try:
        out = _output(pipeline, frame)
    except MLCheckUsageError:
        raise
    except Exception as exc:
        raise MLCheckUsageError(
            f"the pipeline fails on X as given ({type(exc).__name__}: {str(exc)[:200]}): "
            "expected data it can predict on, so that each probe tests one change."
        ) from exc
    bad = _nonfinite(out)
    if bad:
        raise MLCheckUsageError(
            f"the pipeline already outputs {bad:,} NaN/Inf values on X as given: expected "
            "data it predicts finite values on, so that each probe tests one change."
        )


HANDLES_MISSING_WHY = (
    "production data has gaps the training data did not; a crash takes the service "
    "down, a NaN output is worse: it flows on as a prediction."
)
HANDLES_MISSING_FIX = (
    "impute inside the pipeline (SimpleImputer fitted on train) or use a model that "
    "handles NaN natively, and validate inputs at the service boundary."
)
UNSEEN_CATEGORIES_WHY = (
    "new products, regions or app versions appear after training; an encoder that "
    "raises on them takes the service down on the first such request."
)
UNSEEN_CATEGORIES_FIX = (
    "use OneHotEncoder(handle_unknown='ignore' or 'infrequent_if_exist'), "
    "OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1) or TargetEncoder."
)


class HandlesMissingDetails(TypedDict):
    """What ``handles_missing`` measured (the record's ``details``)."""

    columns_tested: int
    broken: dict[str, str]  # column -> what went wrong


class HandlesUnseenDetails(TypedDict):
    """What ``handles_unseen_categories`` measured (the record's ``details``)."""

    columns_tested: list[str]
    broken: dict[str, str]  # column -> what went wrong


def _broken_lines(broken: dict[str, str]) -> str:
    return "\n".join(f"  - {c}: {p}" for c, p in list(broken.items())[:15])


def _explain_handles_missing(details: HandlesMissingDetails) -> str:
    broken = details["broken"]
    if not broken:
        return (
            "handles_missing: missing values in any of "
            f"{plural(details['columns_tested'], 'column')} are handled."
        )
    return compose(
        f"handles_missing: a missing value breaks the pipeline in {plural(len(broken), 'column')}.",
        body=_broken_lines(broken),
        why=HANDLES_MISSING_WHY,
        fix=HANDLES_MISSING_FIX,
    )


@check("handles_missing")
def check_handles_missing(
    pipeline: Any, X: TableLike, *, columns: Columns | None = None, random_state: int | None = None
) -> CheckResult:
    """Detect a pipeline that crashes or outputs NaN when a value is missing.

    For each column in turn, blanks 10% of its rows (seeded) and predicts / transforms.
    Figure: the number of columns whose missing values break the pipeline (threshold 0).
    """
    frame = as_dataframe(X, "X")
    require_rows(frame, "X")
    cols = _columns_to_probe(frame, columns)
    _baseline_output(pipeline, frame)
    broken = _probe_columns(pipeline, frame, cols, None, current_seed(random_state))
    details: HandlesMissingDetails = {"columns_tested": len(cols), "broken": broken}
    message = _explain_handles_missing(details)
    return result(not broken, "error", len(broken), 0, message, dict(details))


def _categorical_columns(frame: Any, columns: Columns | None) -> list[Any]:
    """``columns``, or the categorical, string and object columns of the frame."""
    import pandas as pd

    if columns is not None:
        return as_name_list(columns, "columns")
    return [
        c
        for c in frame.columns
        if isinstance(frame[c].dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(frame[c].dtype)
        or pd.api.types.is_object_dtype(frame[c].dtype)
    ]


def _explain_handles_unseen_categories(details: HandlesUnseenDetails) -> str:
    broken = details["broken"]
    if not broken:
        return (
            "handles_unseen_categories: new categories in "
            f"{plural(len(details['columns_tested']), 'column')} are handled."
        )
    return compose(
        "handles_unseen_categories: a new category breaks the pipeline in "
        f"{plural(len(broken), 'column')}.",
        body=_broken_lines(broken),
        why=UNSEEN_CATEGORIES_WHY,
        fix=UNSEEN_CATEGORIES_FIX,
    )


@check("handles_unseen_categories")
def check_handles_unseen_categories(
    pipeline: Any, X: TableLike, *, columns: Columns | None = None, random_state: int | None = None
) -> CheckResult:
    """Detect a pipeline that crashes or outputs NaN on a category it never saw.

    For each categorical / string column, sets 10% of its rows (seeded) to a new category.
    Figure: the number of columns that break the pipeline (threshold 0).
    """
    frame = as_dataframe(X, "X")
    require_rows(frame, "X")
    cols = _categorical_columns(frame, columns)
    if not cols:
        raise MLCheckUsageError("X has no categorical or string column to test.")
    cols = _columns_to_probe(frame, cols)
    _baseline_output(pipeline, frame)
    broken = _probe_columns(pipeline, frame, cols, UNSEEN, current_seed(random_state))
    details: HandlesUnseenDetails = {"columns_tested": [str(c) for c in cols], "broken": broken}
    message = _explain_handles_unseen_categories(details)
    return result(not broken, "error", len(broken), 0, message, dict(details))
