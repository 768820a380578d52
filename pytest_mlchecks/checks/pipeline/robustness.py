"""Property checks for a user's own model or pipeline: row order, missing values, new categories."""

from __future__ import annotations

from typing import Any

import numpy as np

from pytest_mlchecks._messages import compose, plural
from pytest_mlchecks._protocol import check, current_seed, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
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


def _output(model: Any, X: Any) -> np.ndarray:
    for method in ("predict_proba", "predict", "transform"):
        fn = getattr(model, method, None)
        if callable(fn):
            out = fn(X)
            if hasattr(out, "toarray"):
                out = out.toarray()
            return np.asarray(out)
    if callable(model):
        return np.asarray(model(X))
    raise MLCheckUsageError(
        f"{type(model).__name__} has no predict_proba, predict or transform and is not callable."
    )


def _nonfinite(out: np.ndarray) -> int:
    if out.dtype.kind in "fc":
        return int(np.count_nonzero(~np.isfinite(out)))
    if out.dtype.kind == "O":
        return int(sum(1 for v in out.ravel() if v is None or (isinstance(v, float) and v != v)))
    return 0


@check("invariant_to_row_order")
def check_invariant_to_row_order(
    model: Any, X: TableLike, *, atol: float = 1e-9, random_state: int | None = None
) -> CheckResult:
    """Detect predictions that depend on the order of rows (batch effects, leaks across rows).

    Predicts on ``X`` and on a seeded shuffle of it, puts the second back in order and
    compares. Figure: the largest absolute difference (threshold ``atol``).
    """
    frame = as_dataframe(X, "X")
    n = require_rows(frame, "X")
    if n < 2:
        raise MLCheckUsageError(
            "X has 1 row: a single row has no other order, so nothing to decide. Expected at "
            "least 2 rows (a batch as the model is served)."
        )
    order = np.random.default_rng(current_seed(random_state)).permutation(n)
    if bool(np.all(order == np.arange(n))):  # a shuffle that moved nothing tests nothing
        order = np.roll(order, 1)
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
    details = {"rows": n, "rows_changed": rows, "max_abs_diff": gap}
    if rows == 0:
        message = f"invariant_to_row_order: predictions on {n:,} rows do not depend on row order."
        return result(True, "error", 0, atol, message, details)
    message = compose(
        f"invariant_to_row_order: shuffling the rows changes {rows:,} of {n:,} predictions "
        f"(largest difference {fmt(gap, 3)}).",
        why=(
            "a prediction must depend on its own row only; order effects mean batch "
            "statistics (batch-norm in train mode, per-batch scaling) or state carried "
            "between rows, so serving results depend on how requests were batched."
        ),
        fix="compute every feature per row or from fitted statistics, and predict in eval mode.",
    )
    return result(False, "error", gap, atol, message, details)


def _probe(model: Any, frame: Any, column: Any, value: Any, rows: np.ndarray) -> str | None:
    """What goes wrong when ``rows`` of ``column`` are set to ``value`` (None: missing)."""
    changed = frame[column].copy()  # only the probed column is copied
    if value == "__unseen__" and hasattr(changed, "cat"):
        changed = changed.cat.add_categories(["__unseen__"])
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
    from pytest_mlchecks.inputs.tables import as_name_list

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


def _broken_result(
    head: str, broken: dict[str, str], details: dict[str, Any], why: str, fix: str
) -> CheckResult:
    lines = "\n".join(f"  - {c}: {p}" for c, p in list(broken.items())[:15])
    message = compose(head, body=lines, why=why, fix=fix)
    return result(False, "error", len(broken), 0, message, details)


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
    details = {"columns_tested": len(cols), "broken": broken}
    if not broken:
        message = (
            f"handles_missing: missing values in any of {plural(len(cols), 'column')} are handled."
        )
        return result(True, "error", 0, 0, message, details)
    return _broken_result(
        f"handles_missing: a missing value breaks the pipeline in {plural(len(broken), 'column')}.",
        broken,
        details,
        why=(
            "production data has gaps the training data did not; a crash takes the service "
            "down, a NaN output is worse: it flows on as a prediction."
        ),
        fix="impute inside the pipeline (SimpleImputer fitted on train) or use a model that "
        "handles NaN natively, and validate inputs at the service boundary.",
    )


@check("handles_unseen_categories")
def check_handles_unseen_categories(
    pipeline: Any, X: TableLike, *, columns: Columns | None = None, random_state: int | None = None
) -> CheckResult:
    """Detect a pipeline that crashes or outputs NaN on a category it never saw.

    For each categorical / string column, sets 10% of its rows (seeded) to a new category.
    Figure: the number of columns that break the pipeline (threshold 0).
    """
    import pandas as pd

    frame = as_dataframe(X, "X")
    require_rows(frame, "X")
    if columns is None:
        cols = [
            c
            for c in frame.columns
            if isinstance(frame[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(frame[c].dtype)
            or pd.api.types.is_object_dtype(frame[c].dtype)
        ]
    else:
        cols = as_name_list(columns, "columns")
    if not cols:
        raise MLCheckUsageError("X has no categorical or string column to test.")
    cols = _columns_to_probe(frame, cols)
    _baseline_output(pipeline, frame)
    broken = _probe_columns(pipeline, frame, cols, "__unseen__", current_seed(random_state))
    details = {"columns_tested": [str(c) for c in cols], "broken": broken}
    if not broken:
        message = (
            f"handles_unseen_categories: new categories in {plural(len(cols), 'column')} are "
            "handled."
        )
        return result(True, "error", 0, 0, message, details)
    return _broken_result(
        f"handles_unseen_categories: a new category breaks the pipeline in "
        f"{plural(len(broken), 'column')}.",
        broken,
        details,
        why=(
            "new products, regions or app versions appear after training; an encoder that "
            "raises on them takes the service down on the first such request."
        ),
        fix="use OneHotEncoder(handle_unknown='ignore' or 'infrequent_if_exist'), "
        "OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1) or TargetEncoder.",
    )
