"""Data rung: checks on the raw table before anything is fitted."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._messages import compose, percent, plural
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks._stats import chi2_sf as _chi2_sf
from pytest_mlchecks._stats import normal_sf as _normal_sf
from pytest_mlchecks.engines import NativeFrame, is_native
from pytest_mlchecks.inputs.tables import (
    NativeTable,
    TableLike,
    TaskName,
    VectorLike,
    describe_type,
    fmt,
    is_dataframe,
    is_series,
    is_torch,
    label_vector,
    require_array_like,
    require_rows,
    require_same_length,
    table,
    tensor_numpy,
)

__all__ = [
    "check_aligned",
    "check_class_balance",
    "check_finite",
    "check_missingness_not_predictive",
    "check_time_grid_valid",
]


# --------------------------------------------------------------------------- finite


def _numpy_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Per-column NaN, +Inf, -Inf counts of a 2-D array and the number of rows hit."""
    n_cols = values.shape[1]
    zeros = np.zeros(n_cols, dtype=np.int64)
    if values.dtype.kind in "biu" or np.isfinite(values).all():
        return zeros, zeros.copy(), zeros.copy(), 0
    bad = ~np.isfinite(values)
    per_col = bad.sum(axis=0)
    nan = zeros.copy()
    pos = zeros.copy()
    neg = zeros.copy()
    for j in np.flatnonzero(per_col):
        column = values[:, j]
        nan[j] = np.count_nonzero(np.isnan(column))
        if values.dtype.kind == "c":
            pos[j] = per_col[j] - nan[j]
        else:
            pos[j] = np.count_nonzero(column == np.inf)
            neg[j] = np.count_nonzero(column == -np.inf)
    rows_hit = int(np.count_nonzero(bad.any(axis=1)))
    return nan, pos, neg, rows_hit


def _as_numeric_2d(values: np.ndarray, arg: str) -> np.ndarray:
    if values.dtype.kind == "O":
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise MLCheckUsageError(
                f"{arg} holds non-numeric objects (dtype object): expected numeric values; "
                "pass a DataFrame to have non-numeric columns skipped."
            ) from exc
    if values.dtype.kind not in "biufc":
        raise MLCheckUsageError(
            f"{arg} has dtype {values.dtype} with no numeric values: expected a numeric array."
        )
    if values.ndim == 1:
        return values.reshape(-1, 1)
    return values.reshape(values.shape[0], -1)


def _frame_counts(
    frame: Any, arg: str
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, int, list[str]]:
    import pandas as pd

    numeric: list[str] = []
    skipped: list[str] = []
    nan_l: list[int] = []
    pos_l: list[int] = []
    neg_l: list[int] = []
    any_bad: np.ndarray | None = None
    for name in frame.columns:
        column = frame[name]
        if isinstance(column, pd.DataFrame):
            raise MLCheckUsageError(
                f"{arg} has a duplicated column name {name!r}: expected unique column names."
            )
        dtype = column.dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            skipped.append(str(name))
            continue
        numeric.append(str(name))
        if isinstance(dtype, np.dtype):
            values = column.to_numpy(copy=False)
            missing = None
        else:  # pandas extension dtypes (Int64, Float64, ...): pd.NA counts as NaN
            missing = column.isna().to_numpy()
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        if values.dtype.kind in "biu" and missing is None:
            nan_l.append(0)
            pos_l.append(0)
            neg_l.append(0)
            continue
        nan, pos, neg, _ = _numpy_counts(values.reshape(-1, 1))
        nan_l.append(int(nan[0]))
        pos_l.append(int(pos[0]))
        neg_l.append(int(neg[0]))
        if nan[0] or pos[0] or neg[0]:
            bad = ~np.isfinite(values)
            any_bad = bad if any_bad is None else (any_bad | bad)
    rows_hit = 0 if any_bad is None else int(np.count_nonzero(any_bad))
    return (
        numeric,
        np.asarray(nan_l, dtype=np.int64),
        np.asarray(pos_l, dtype=np.int64),
        np.asarray(neg_l, dtype=np.int64),
        rows_hit,
        skipped,
    )


def _torch_counts(tensor: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    import torch

    t = tensor.detach()
    flat = t.reshape(t.shape[0], -1) if t.dim() > 1 else t.reshape(-1, 1)
    n_cols = flat.shape[1]
    if not (torch.is_floating_point(flat) or torch.is_complex(flat)):
        zeros = np.zeros(n_cols, dtype=np.int64)
        return zeros, zeros.copy(), zeros.copy(), 0
    bad = ~torch.isfinite(flat)
    nan = torch.isnan(flat).sum(dim=0)
    if torch.is_complex(flat):
        pos = bad.sum(dim=0) - nan
        neg = torch.zeros_like(pos)
    else:
        pos = torch.isposinf(flat).sum(dim=0)
        neg = torch.isneginf(flat).sum(dim=0)
    rows = bad.any(dim=1).sum().reshape(1)
    # One transfer to the host for every figure.
    packed = torch.cat([nan, pos, neg, rows]).cpu().numpy().astype(np.int64)
    return (
        packed[:n_cols],
        packed[n_cols : 2 * n_cols],
        packed[2 * n_cols : 3 * n_cols],
        int(packed[-1]),
    )


class FiniteColumn(TypedDict):
    """Non-finite cells of one numeric column."""

    nan: int
    posinf: int
    neginf: int


class FiniteDetails(TypedDict, total=False):
    """What ``finite`` measured (the record's ``details``)."""

    rows: int
    numeric_columns: int
    non_finite_cells: int  # NaN (unless allowed), +Inf and -Inf
    rows_affected: int  # rows with a NaN or Inf in any numeric column
    columns: dict[str, FiniteColumn]  # the columns with a counted cell, most first
    allow_nan: bool
    skipped_columns: list[str]  # non-numeric and boolean DataFrame columns, when any
    engine: str  # native engines only, with exact=True
    exact: bool


FINITE_WHY = (
    "NaN and Inf propagate through arithmetic (a single one makes a mean, a scaler's "
    "statistics or a loss NaN), and tree models route NaN down one branch, so they learn from "
    "the missingness instead of failing."
)
FINITE_FIX = (
    "impute inside the pipeline (an imputer fitted on the training split only), drop or repair "
    "the rows at the source, replace Inf produced by divisions or logs; pass allow_nan=True "
    "only if the model handles missing values by design."
)
NO_NUMERIC_COLUMNS = (
    "X has no numeric columns (got {skipped} non-numeric): assert_finite checks numeric data; "
    "select the numeric columns or encode them first."
)


@dataclass(frozen=True)
class _FiniteCounts:
    """Per numeric column NaN, +Inf and -Inf counts, and the rows with any of them."""

    names: list[str]
    nan: np.ndarray
    pos: np.ndarray
    neg: np.ndarray
    rows_hit: int
    rows: int
    skipped: list[str] = field(default_factory=list)
    engine: str | None = None  # the native engine that counted, if any

    def details(self, allow_nan: bool) -> FiniteDetails:
        """The counts as ``details``: NaN counted unless ``allow_nan``."""
        counted = self.pos + self.neg + (0 if allow_nan else self.nan)
        bad = [int(j) for j in np.flatnonzero(counted)]
        bad.sort(key=lambda j: -int(counted[j]))
        details: FiniteDetails = {
            "rows": self.rows,
            "numeric_columns": len(self.names),
            "non_finite_cells": int(counted.sum()),
            "rows_affected": self.rows_hit,
            "columns": {
                self.names[j]: {
                    "nan": int(self.nan[j]),
                    "posinf": int(self.pos[j]),
                    "neginf": int(self.neg[j]),
                }
                for j in bad
            },
            "allow_nan": allow_nan,
        }
        if self.skipped:
            details["skipped_columns"] = self.skipped
        if self.engine is not None:
            details["engine"] = self.engine
            details["exact"] = True
        return details


def _finite_counts(X: TableLike) -> _FiniteCounts:
    """The non-finite counts of an in-memory table, per numeric column (a 1-D input or a
    Series is one column; a tensor of more than two dimensions is flattened per row)."""
    data: Any = require_array_like(X, "X")
    n = require_rows(data, "X")
    if is_dataframe(data) or is_series(data):
        frame = data if is_dataframe(data) else data.to_frame(_series_label(data))
        names, nan, pos, neg, rows_hit, skipped = _frame_counts(frame, "X")
        if not names and is_series(data):
            raise MLCheckUsageError(
                f"X is a Series of dtype {data.dtype}: expected numeric values for assert_finite."
            )
        if not names:
            raise MLCheckUsageError(NO_NUMERIC_COLUMNS.format(skipped=len(skipped)))
        return _FiniteCounts(names, nan, pos, neg, rows_hit, n, skipped)
    if is_torch(data):
        nan, pos, neg, rows_hit = _torch_counts(data)
        names = [str(i) for i in range(len(nan))] if data.dim() == 2 else ["X"]
        if data.dim() > 2:
            names = [f"X[:, {i}]" for i in range(len(nan))]
    elif isinstance(data, np.ndarray):
        values = _as_numeric_2d(data, "X")
        nan, pos, neg, rows_hit = _numpy_counts(values)
        names = ["X"] if data.ndim == 1 else [str(i) for i in range(values.shape[1])]
    else:  # pragma: no cover - require_array_like rejects everything else
        raise MLCheckUsageError(f"X is a {describe_type(X)}: expected a numeric table.")
    return _FiniteCounts(names, np.asarray(nan), np.asarray(pos), np.asarray(neg), rows_hit, n)


def _series_label(series: Any) -> str:
    return str(series.name) if series.name is not None else "X"


def _native_finite_counts(X: NativeTable) -> _FiniteCounts:
    """Per numeric column NaN (NULL or NaN), +Inf and -Inf counts and the rows hit, computed
    inside the user's engine (two queries, only counts come back)."""
    from pytest_mlchecks.engines import NativeFrame

    frame = NativeFrame(X, "X")
    kinds = {c: frame.kind(c) for c in frame.columns}
    names = [c for c, k in kinds.items() if k in ("float", "int")]
    skipped = [c for c, k in kinds.items() if k not in ("float", "int")]
    if not names:
        raise MLCheckUsageError(NO_NUMERIC_COLUMNS.format(skipped=len(skipped)))
    counts = frame.missing_counts(names)
    n = counts[names[0]]["n"]
    if n == 0:
        raise MLCheckUsageError("X is empty (0 rows): expected at least one row.")
    nan = np.array([counts[c]["missing"] for c in names])
    pos = np.array([counts[c]["posinf"] for c in names])
    neg = np.array([counts[c]["neginf"] for c in names])
    rows_hit = frame.count_where(frame.non_finite(names))  # as the pandas path: NaN or Inf
    return _FiniteCounts(names, nan, pos, neg, rows_hit, n, skipped, frame.engine)


def _finite_fraction(details: FiniteDetails) -> float:
    """The share of numeric cells that are non-finite (as counted)."""
    cells = details["rows"] * details["numeric_columns"]
    return details["non_finite_cells"] / cells if cells else 0.0


def _explain_finite(details: FiniteDetails, passed: bool, limit: float) -> str:
    n, n_numeric = details["rows"], details["numeric_columns"]
    total, columns = details["non_finite_cells"], details["columns"]
    fraction = _finite_fraction(details)
    what = "Inf" if details["allow_nan"] else "NaN/Inf"
    if passed and total == 0:
        return f"finite: no {what} in {plural(n_numeric, 'numeric column')} ({n:,} rows)."
    if passed:
        return (
            f"finite: {percent(fraction)} of numeric cells are {what}, within the limit "
            f"{percent(limit)}."
        )
    rows = [
        [name, fmt(c["nan"]), fmt(c["posinf"]), fmt(c["neginf"])]
        for name, c in list(columns.items())[:20]
    ]
    more = f"\n  ... and {len(columns) - 20} more columns" if len(columns) > 20 else ""
    return compose(
        f"finite: {plural(total, what + ' value')} in {plural(len(columns), 'column')} of "
        f"{n_numeric} numeric ({percent(fraction)} of cells, {details['rows_affected']:,} of "
        f"{n:,} rows hit; limit {percent(limit)}).",
        body=table(["column", "NaN", "+Inf", "-Inf"], rows) + more,
        why=FINITE_WHY,
        fix=FINITE_FIX,
    )


@check("finite")
def check_finite(
    X: TableLike | NativeTable, *, allow_nan: bool = False, max_fraction: float | None = None
) -> CheckResult:
    """Detect NaN and +/-Inf in numeric columns.

    Figure: the fraction of non-finite numeric cells (NaN ignored with ``allow_nan=True``),
    with counts per column. Threshold ``max_fraction`` (ini ``ml_finite_max_fraction``, default 0).
    Non-numeric and boolean DataFrame columns are skipped and listed in ``details``.
    """
    limit = resolve_threshold("finite_max_fraction", max_fraction)
    counts = _native_finite_counts(X) if is_native(X) else _finite_counts(X)
    details = counts.details(allow_nan)
    fraction = _finite_fraction(details)
    passed = fraction <= limit if limit > 0 else details["non_finite_cells"] == 0
    message = _explain_finite(details, passed, limit)
    return result(passed, "error", fraction, limit, message, dict(details))


# --------------------------------------------------------------------------- aligned


class AlignedDetails(TypedDict, total=False):
    """What ``aligned`` measured (the record's ``details``)."""

    rows_X: int
    rows_y: int
    reason: str  # "length" when the lengths differ (nothing else is compared then)
    index_compared: bool  # both sides carry a pandas index
    mismatched_positions: int  # the keys below only when the indexes differ
    first_mismatch_position: int
    same_labels_other_order: bool


ALIGNED_WHY = (
    "a model fitted on misaligned rows learns each row's features against another row's "
    "label; it still trains and scores, only worse, so nothing crashes."
)
ALIGNED_INDEX_WHY = " pandas also aligns on labels in arithmetic, which reshuffles silently."
ALIGNED_LENGTH_FIX = (
    "filter, sample or drop rows on X and y together (one DataFrame, or one index applied to "
    "both) instead of separately."
)
ALIGNED_REORDERED = (
    "Both carry the same index labels in a different order: one side was sorted, shuffled or "
    "grouped without the other."
)
ALIGNED_REORDERED_FIX = "reorder one side to the other (y = y.loc[X.index]) or split them together."
ALIGNED_RELABELLED = (
    "The index labels differ: typically reset_index() on one side only, or rows filtered or "
    "resampled on one side only."
)
ALIGNED_RELABELLED_FIX = (
    "build X and y from the same filtered frame, or reset both indexes together; if positions "
    "are right and only labels differ, reset_index(drop=True) on both."
)


def _measure_aligned(X: TableLike, y: TableLike) -> AlignedDetails:
    """Both lengths; when they agree and both sides are pandas, where the index labels differ."""
    data: Any = require_array_like(X, "X")
    target: Any = require_array_like(y, "y")
    details: AlignedDetails = {
        "rows_X": require_rows(data, "X"),
        "rows_y": require_rows(target, "y"),
    }
    if details["rows_X"] != details["rows_y"]:
        details["reason"] = "length"
        return details
    details["index_compared"] = (is_dataframe(data) or is_series(data)) and (
        is_dataframe(target) or is_series(target)
    )
    if not details["index_compared"] or data.index.equals(target.index):
        return details
    differs = data.index.to_numpy() != target.index.to_numpy()
    mismatched = int(np.count_nonzero(differs))
    details["mismatched_positions"] = mismatched
    details["first_mismatch_position"] = int(np.flatnonzero(differs)[0]) if mismatched else 0
    details["same_labels_other_order"] = _same_label_set(data.index, target.index)
    return details


def _same_label_set(a: Any, b: Any) -> bool:
    """Whether two indexes hold the same labels (repeats counted), in any order."""
    if a.has_duplicates or b.has_duplicates:
        return bool(a.sort_values().equals(b.sort_values()))
    try:
        return len(a) == len(b) and bool(a.isin(b).all())
    except TypeError:
        return False


def _misaligned(details: AlignedDetails) -> int | None:
    """The figure of a misalignment (rows apart, or positions whose labels differ), or None
    when X and y line up."""
    if details.get("reason") == "length":
        return abs(details["rows_X"] - details["rows_y"])
    return details.get("mismatched_positions")


def _explain_aligned(details: AlignedDetails) -> str:
    n_x, n_y = details["rows_X"], details["rows_y"]
    if details.get("reason") == "length":
        return compose(
            f"aligned: X has {n_x:,} rows but y has {n_y:,} "
            f"({plural(abs(n_x - n_y), 'row')} apart; expected 0).",
            why=ALIGNED_WHY,
            fix=ALIGNED_LENGTH_FIX,
        )
    if "mismatched_positions" not in details:
        if details["index_compared"]:
            return f"aligned: X and y have {n_x:,} rows with the same index."
        return f"aligned: X and y both have {n_x:,} rows (no index to compare)."
    reordered = details["same_labels_other_order"]
    return compose(
        f"aligned: {details['mismatched_positions']:,} of {n_x:,} positions have different "
        f"index labels in X and y (first at position {details['first_mismatch_position']:,}; "
        "expected 0).",
        body=ALIGNED_REORDERED if reordered else ALIGNED_RELABELLED,
        why=ALIGNED_WHY + ALIGNED_INDEX_WHY,
        fix=ALIGNED_REORDERED_FIX if reordered else ALIGNED_RELABELLED_FIX,
    )


@check("aligned")
def check_aligned(X: TableLike, y: TableLike) -> CheckResult:
    """Detect features and target that do not line up row for row.

    Figure: the number of misaligned rows (the length difference, or for pandas inputs the
    number of positions whose index labels differ). Threshold: 0.
    """
    details = _measure_aligned(X, y)
    misaligned = _misaligned(details)
    passed = misaligned is None
    message = _explain_aligned(details)
    return result(passed, "error", misaligned or 0, 0, message, dict(details))


# --------------------------------------------------------------------------- class balance


_labels = label_vector

CLASS_BALANCE_WHY = (
    "accuracy rewards ignoring rare classes: always predicting the majority class already "
    "scores {majority} accuracy, and ROC-AUC looks good while precision on the rare class is "
    "poor."
)
CLASS_BALANCE_FIX = (
    "score with {metric}; stratify splits and folds; consider class weights or resampling "
    "inside the training folds only."
)


class ClassBalanceDetails(TypedDict, total=False):
    """What ``class_balance`` measured (the record's ``details``)."""

    n: int
    n_classes: int
    counts: dict[str, int]  # rarest first
    rare_classes: list[str]
    recommended_metric: str  # only when a class is rare
    engine: str  # native engines only, with exact=True
    exact: bool


NOT_CLASSES = (
    "y holds non-integer numbers (a regression target?): expected class labels; "
    "class_balance applies to classification."
)
SINGLE_CLASS = (
    "y has a single class ({label!r}): expected at least two classes; a classifier cannot be "
    "trained or evaluated on one."
)


def _class_labels(y: VectorLike) -> np.ndarray:
    """The labels of ``y``, or a usage error when they are not classes (or one class)."""
    labels = _labels(y, "y")
    if labels.dtype.kind == "f" and not np.all(np.mod(labels, 1) == 0):
        raise MLCheckUsageError(NOT_CLASSES)
    if len(np.unique(labels)) < 2:
        raise MLCheckUsageError(SINGLE_CLASS.format(label=labels[0]))
    return labels


def _measure_class_balance(labels: np.ndarray, limit: float) -> ClassBalanceDetails:
    """Class counts, rarest first, and the classes whose share is below ``limit``."""
    classes, counts = np.unique(labels, return_counts=True)
    return _class_balance_details(list(classes), [int(c) for c in counts], limit)


def _class_balance_details(
    classes: list[Any], counts: list[int], limit: float, engine: str | None = None
) -> ClassBalanceDetails:
    """The counts of the sorted ``classes`` as ``details``: rarest first (ties in class
    order), the classes whose share is below ``limit``."""
    n = sum(counts)
    order = np.argsort(np.asarray(counts) / n, kind="stable")
    details: ClassBalanceDetails = {
        "n": n,
        "n_classes": len(classes),
        "counts": {str(classes[i]): counts[i] for i in order},
        "rare_classes": [str(classes[i]) for i in order if counts[i] / n < limit],
    }
    if details["rare_classes"]:
        details["recommended_metric"] = "average_precision" if len(classes) == 2 else "f1_macro"
    if engine is not None:
        details["engine"] = engine
        details["exact"] = True
    return details


#: a native label column with more distinct values than this is not a class label
MAX_NATIVE_CLASSES = 100_000


def _native_class_counts(y: NativeTable) -> tuple[list[Any], list[int], str]:
    """The classes of a one-column native frame (sorted) and their counts, counted inside
    the engine (one group-by; only the counts come back), and the engine; the usage errors
    of the in-memory path."""
    frame = NativeFrame(y, "y")
    if len(frame.columns) != 1:
        raise MLCheckUsageError(
            f"y is a frame with {len(frame.columns)} columns: expected one label column "
            "(select it first, e.g. frame.select('label'))."
        )
    name = frame.columns[0]
    figures = frame.missing_counts([name])[name]
    if figures["n"] == 0:
        raise MLCheckUsageError("y is empty (0 rows): expected at least one row.")
    if figures["missing"]:
        raise MLCheckUsageError(
            f"y has {figures['missing']:,} missing labels: expected every row labelled."
        )
    if frame.kind(name) == "float" and frame.count_where(frame.non_integer(name)):
        raise MLCheckUsageError(NOT_CLASSES)
    found = frame.value_counts(name, limit=MAX_NATIVE_CLASSES + 1, floats=True)
    if len(found) > MAX_NATIVE_CLASSES:
        raise MLCheckUsageError(
            f"y has more than {MAX_NATIVE_CLASSES:,} distinct values: expected class labels "
            "(ids or a regression target?); class_balance applies to classification."
        )
    classes = sorted(found)
    if len(classes) < 2:
        raise MLCheckUsageError(SINGLE_CLASS.format(label=classes[0]))
    return classes, [found[c] for c in classes], frame.engine


def _explain_class_balance(details: ClassBalanceDetails, limit: float) -> str:
    n, counts, rare = details["n"], details["counts"], details["rare_classes"]
    smallest = next(iter(counts.values()))
    if not rare:
        return (
            f"class_balance: smallest class holds {percent(smallest / n)} of {n:,} labels "
            f"(limit {percent(limit)})."
        )
    rows = [[label, f"{count:,}", percent(count / n)] for label, count in counts.items()]
    metric = (
        "average precision (PR-AUC) or recall/precision of the minority class"
        if details["n_classes"] == 2
        else "macro-averaged F1 or balanced accuracy"
    )
    majority = max(counts.values()) / n
    return compose(
        f"class_balance: {plural(len(rare), 'class', 'classes')} below {percent(limit)} of "
        f"the labels; the smallest holds {percent(smallest / n)} ({smallest:,} of {n:,}).",
        body=table(["class", "count", "share"], rows[:20]),
        why=CLASS_BALANCE_WHY.format(majority=percent(majority)),
        fix=CLASS_BALANCE_FIX.format(metric=metric),
    )


@check("class_balance")
def check_class_balance(
    y: VectorLike | NativeTable, *, min_fraction: float | None = None
) -> CheckResult:
    """Detect rare classes: the smallest class's share of the labels.

    Figure: the minority class fraction, held to ``min_fraction`` (ini
    ``ml_class_balance_min_fraction``, default 0.1). Severity ``warning``: imbalance is a fact
    of the data to design for, not a bug; the message names the metrics that stay honest.
    A one-column Spark, Dask, DuckDB or Polars frame is counted inside its engine (exact).
    """
    limit = resolve_threshold("class_balance_min_fraction", min_fraction)
    if not 0.0 < limit < 1.0:
        raise MLCheckUsageError(f"min_fraction must be within (0, 1), got {limit}.")
    if is_native(y):
        classes, counts, engine = _native_class_counts(y)
        details = _class_balance_details(classes, counts, limit, engine)
    else:
        details = _measure_class_balance(_class_labels(y), limit)
    smallest = next(iter(details["counts"].values())) / details["n"]
    passed = not details["rare_classes"]
    message = _explain_class_balance(details, limit)
    return result(passed, "warning", smallest, limit, message, dict(details))


MIN_GROUP = 20  # rows needed on each side (missing / present) to test a column
EXACT_BELOW = 200  # smaller groups get a permutation test instead of an asymptotic one

MISSINGNESS_WHY = (
    "when a value is missing because of the outcome (not recorded for churned customers, a "
    "test skipped for healthy patients), models learn 'missing means label X'; the pattern "
    "breaks as soon as collection changes, and trees and NaN-tolerant models pick it up "
    "without any warning."
)
MISSINGNESS_FIX = (
    "find out why the values are missing; if the reason is only known after the outcome, fix "
    "the collection or drop the column; otherwise model it explicitly (a documented "
    "missing-indicator feature) and monitor it in production."
)


class FlaggedColumn(TypedDict):
    """A column whose missingness predicts the target."""

    column: str
    p_adjusted: float  # Bonferroni-adjusted over the columns tested
    effect: float
    missing: int  # rows where it is missing


class MissingnessDetails(TypedDict):
    """What ``missingness_not_predictive`` measured (the record's ``details``)."""

    task: str
    columns_with_missing: int  # partly missing: tested unless too few rows on a side
    columns_tested: int
    too_few_to_test: list[str]
    missing_in_every_row: list[str]
    flagged: list[FlaggedColumn]  # largest effect first


class _MeanGap:
    """Regression: the gap between the target mean of the rows where a column is missing and
    of the others, tested by a Welch z-test; effect in target standard deviations."""

    effect_name = "mean difference in target SDs"

    def __init__(self, target: np.ndarray) -> None:
        self.target = target
        self.total = float(target.sum())
        self.sd = float(target.std())

    def statistic(self, idx: np.ndarray) -> np.ndarray:
        """The absolute mean gap for each row of ``idx`` (index sets of the 'missing' rows)."""
        k = idx.shape[1]
        s_miss = self.target[idx].sum(axis=1)
        return np.asarray(np.abs(s_miss / k - (self.total - s_miss) / (len(self.target) - k)))

    def p_value(self, missing: np.ndarray, observed: float) -> float:
        a, b = self.target[missing], self.target[~missing]
        se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        return 1.0 if se == 0 else 2 * _normal_sf(observed / se)

    def effect(self, missing: np.ndarray) -> float:
        diff = float(self.target[missing].mean() - self.target[~missing].mean())
        return abs(diff) / self.sd if self.sd > 0 else 0.0


class _ClassTable:
    """Classification: the class distribution of the rows where a column is missing against
    the others, tested by a chi-square test; effect: the largest class-rate gap."""

    effect_name = "largest class-rate gap"

    def __init__(self, onehot: np.ndarray) -> None:
        self.onehot = onehot
        total = onehot.sum(axis=0)
        keep = total > 0
        self.kept, self.total = onehot[:, keep], total[keep]
        self.n = float(self.total.sum())

    def statistic(self, idx: np.ndarray) -> np.ndarray:
        """The chi-square statistic for each row of ``idx`` (index sets of the 'missing' rows)."""
        n_miss = idx.shape[1]
        obs_miss = self.kept[idx].sum(axis=1)  # (batch, classes)
        exp_miss = self.total * n_miss / self.n
        exp_pres = self.total * (self.n - n_miss) / self.n
        obs_pres = self.total - obs_miss
        return np.asarray(
            ((obs_miss - exp_miss) ** 2 / exp_miss).sum(axis=1)
            + ((obs_pres - exp_pres) ** 2 / exp_pres).sum(axis=1)
        )

    def p_value(self, missing: np.ndarray, observed: float) -> float:
        return _chi2_sf(observed, int(np.count_nonzero(self.onehot.sum(axis=0))) - 1)

    def effect(self, missing: np.ndarray) -> float:
        n, n_miss = len(self.onehot), int(np.count_nonzero(missing))
        obs_miss = self.onehot[missing].sum(axis=0)
        obs_pres = self.onehot[~missing].sum(axis=0)
        return float(np.max(np.abs(obs_miss / n_miss - obs_pres / (n - n_miss))))


def _contrast(y: Any, kind: str) -> _MeanGap | _ClassTable:
    """How the target of 'missing' rows is compared with the others' for this task."""
    import pandas as pd

    if kind == "regression":
        return _MeanGap(y.to_numpy(dtype=np.float64))
    codes, labels = pd.factorize(y, sort=True)
    if len(labels) < 2:
        raise MLCheckUsageError("y has a single class: expected at least two classes.")
    onehot = np.zeros((len(y), len(labels)))
    onehot[np.arange(len(y)), codes] = 1.0
    return _ClassTable(onehot)


@dataclass(frozen=True)
class _ColumnTest:
    column: str
    p: float  # before the Bonferroni adjustment
    effect: float
    missing: int


@dataclass(frozen=True)
class _Missingness:
    """The tested columns, and those with missing values that could not be tested."""

    task: str
    columns_with_missing: int
    tested: list[_ColumnTest]
    too_few: list[str]
    all_missing: list[str]

    def flagged(self, level: float, effect_limit: float) -> list[FlaggedColumn]:
        """Columns significant at ``level`` after Bonferroni whose effect reaches the limit."""
        m_tests = max(len(self.tested), 1)
        flagged: list[FlaggedColumn] = [
            {
                "column": t.column,
                "p_adjusted": min(1.0, t.p * m_tests),
                "effect": t.effect,
                "missing": t.missing,
            }
            for t in self.tested
            if t.p * m_tests < level and t.effect >= effect_limit
        ]
        flagged.sort(key=lambda f: -f["effect"])
        return flagged

    def largest_effect(self) -> float:
        return max((t.effect for t in self.tested), default=0.0)

    def details(self, level: float, effect_limit: float) -> MissingnessDetails:
        return {
            "task": self.task,
            "columns_with_missing": self.columns_with_missing,
            "columns_tested": len(self.tested),
            "too_few_to_test": self.too_few,
            "missing_in_every_row": self.all_missing,
            "flagged": self.flagged(level, effect_limit),
        }


def _missingness_inputs(X: TableLike, y: VectorLike, task: TaskName | None) -> tuple[Any, Any, str]:
    """X as a DataFrame with columns, y as a Series with a label on every row, and the task."""
    import pandas as pd

    from pytest_mlchecks.inputs.tables import as_dataframe

    frame = as_dataframe(X, "X")
    require_rows(frame, "X")
    if frame.shape[1] == 0:
        raise MLCheckUsageError(
            "X has no columns: expected the feature table whose missing values are tested."
        )
    y_arr = require_array_like(y, "y")
    require_same_length(frame, y_arr, "X", "y")
    y_series = y_arr if is_series(y_arr) else pd.Series(np.asarray(_labels(y_arr, "y")))
    if y_series.isna().any():
        raise MLCheckUsageError("y has missing labels: expected every row labelled.")
    from pytest_mlchecks.inputs.models import task_of_target

    kind = task_of_target(y_series, task)
    return frame, y_series, kind


def _test_column(
    contrast: _MeanGap | _ClassTable,
    missing: np.ndarray,
    n_tests: int,
    level: float,
    rng: np.random.Generator,
    n_perm: int,
) -> tuple[float, float]:
    """The p-value (before adjustment) and the effect of one column's missingness."""
    n, n_miss = len(missing), int(np.count_nonzero(missing))
    observed = float(contrast.statistic(np.flatnonzero(missing)[None, :])[0])
    p = contrast.p_value(missing, observed)
    adjusted = p * max(n_tests, 1)
    near = level / 100 <= adjusted < 10 * level
    if near and min(n_miss, n - n_miss) < EXACT_BELOW:
        # small groups: the asymptotic p-value is too optimistic near the decision
        # boundary; a seeded permutation test of the same statistic replaces it
        idx = np.argpartition(rng.random((n_perm, n)), n_miss, axis=1)[:, :n_miss]
        null = contrast.statistic(idx)
        p = (1.0 + float(np.count_nonzero(null >= observed * (1 - 1e-12)))) / (n_perm + 1.0)
    return p, contrast.effect(missing)


def _measure_missingness(frame: Any, y: Any, kind: str, level: float, seed: int) -> _Missingness:
    """Each partly missing column with enough rows on both sides, tested against the target."""
    missing = frame.isna().to_numpy()
    counts = missing.sum(axis=0)
    n, n_cols = frame.shape
    names = [str(c) for c in frame.columns]
    candidates = [j for j in range(n_cols) if 0 < counts[j] < n]
    # a column missing in every row carries no signal in its missingness (nor any value)
    all_missing = [names[j] for j in range(n_cols) if counts[j] == n]
    if len(all_missing) == n_cols:
        raise MLCheckUsageError(
            f"X is missing in every cell ({plural(n_cols, 'column')} x {n:,} rows): "
            "there is no observed value, so nothing to decide on. Expected the feature table."
        )
    contrast = _contrast(y, kind)
    small = {j for j in candidates if counts[j] < MIN_GROUP or n - counts[j] < MIN_GROUP}
    testable = [j for j in candidates if j not in small]
    rng = np.random.default_rng(seed)
    # permutations resolve p-values well below the Bonferroni level alpha / m
    n_perm = int(min(20_000, math.ceil(5 * max(len(testable), 1) / level)))
    tested = [
        _ColumnTest(
            names[j],
            *_test_column(contrast, missing[:, j], len(testable), level, rng, n_perm),
            int(counts[j]),
        )
        for j in testable
    ]
    too_few = [names[j] for j in candidates if j in small]
    return _Missingness(kind, len(candidates), tested, too_few, all_missing)


def _explain_missingness(details: MissingnessDetails, level: float, effect_limit: float) -> str:
    too_few, all_missing = details["too_few_to_test"], details["missing_in_every_row"]
    note = (
        f" Not tested (fewer than {MIN_GROUP} missing or present rows): {too_few[:10]}."
        if too_few
        else ""
    )
    if all_missing:
        note += f" Missing in every row (no information at all): {all_missing[:10]}."
    flagged = details["flagged"]
    if not flagged:
        return (
            f"missingness_not_predictive: none of {plural(details['columns_tested'], 'column')} "
            f"with partly missing values has missingness that predicts the target (family-wise "
            f"alpha {fmt(level)}, min effect {fmt(effect_limit)}).{note}"
        )
    effect_name = (
        _MeanGap.effect_name if details["task"] == "regression" else _ClassTable.effect_name
    )
    rows = [
        [f["column"], f"{f['missing']:,}", fmt(f["effect"], 3), f"{f['p_adjusted']:.2g}"]
        for f in flagged[:10]
    ]
    return compose(
        f"missingness_not_predictive: missingness predicts the target in "
        f"{plural(len(flagged), 'column')} ({effect_name} up to {fmt(flagged[0]['effect'], 3)}, "
        f"limit {fmt(effect_limit)}; Bonferroni-adjusted p < {fmt(level)}).{note}",
        body=table(["column", "missing", "effect", "p (adjusted)"], rows),
        why=MISSINGNESS_WHY,
        fix=MISSINGNESS_FIX,
    )


@check("missingness_not_predictive")
def check_missingness_not_predictive(
    X: TableLike,
    y: VectorLike,
    *,
    task: TaskName | None = None,
    alpha: float | None = None,
    min_effect: float | None = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect columns whose missingness predicts the target (missing-not-at-random).

    For each column with missing values, the target among rows where it is missing is
    compared with rows where it is present: a chi-square test of the class distribution
    (classification) or a Welch z-test of the mean (regression); near the decision boundary
    with fewer than 200 rows in a group, a seeded permutation test of the same statistic.
    A column is flagged when its Bonferroni-adjusted p-value is below ``alpha`` (ini
    ``ml_missingness_alpha``, default 0.005, family-wise, so the false-alarm rate does not
    grow with n or with the number of columns) and its effect reaches ``min_effect`` (ini
    ``ml_missingness_min_effect``, default 0.05: the largest class-rate difference, or the
    mean difference in target standard deviations). Figure: the largest flagged effect.
    """
    level = resolve_threshold("missingness_alpha", alpha)
    effect_limit = resolve_threshold("missingness_min_effect", min_effect)
    frame, y_series, kind = _missingness_inputs(X, y, task)
    figures = _measure_missingness(frame, y_series, kind, level, current_seed(random_state))
    details = figures.details(level, effect_limit)
    flagged = details["flagged"]
    worst = flagged[0]["effect"] if flagged else figures.largest_effect()
    message = _explain_missingness(details, level, effect_limit)
    return result(not flagged, "error", worst, effect_limit, message, dict(details))


# --------------------------------------------------------------------------- time grid


def _grid_values(t: Any) -> np.ndarray:
    t = require_array_like(t, "t")
    if is_torch(t):
        t = tensor_numpy(t, "t")
    if is_dataframe(t):
        values = t.to_numpy()
    elif is_series(t):
        import pandas as pd

        if pd.api.types.is_datetime64_any_dtype(t.dtype):
            if getattr(t.dt, "tz", None) is not None:
                t = t.dt.tz_convert("UTC").dt.tz_localize(None)
            values = np.asarray(t.to_numpy(dtype="datetime64[ns]"))
        else:
            values = t.to_numpy()
    else:
        values = np.asarray(t)
    if values.dtype.kind == "M":
        values = values.astype("datetime64[ns]").astype(np.int64).astype(np.float64)
        values[values == float(np.iinfo(np.int64).min)] = np.nan  # NaT
    elif values.dtype.kind == "O":
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise MLCheckUsageError(
                "t holds non-numeric objects: expected numbers or datetimes."
            ) from exc
    elif values.dtype.kind not in "biuf":
        raise MLCheckUsageError(f"t has dtype {values.dtype}: expected numbers or datetimes.")
    if values.ndim not in (1, 2):
        raise MLCheckUsageError(f"t has {values.ndim} dimensions: expected 1-D or 2-D (rows).")
    return np.asarray(values, dtype=np.float64)


class GridViolation(TypedDict):
    row: int
    position: int  # the stamp that fails to increase over the one before


class TimeGridDetails(TypedDict):
    """What ``time_grid_valid`` measured (the record's ``details``)."""

    rows: int
    length: int  # stamps per row
    duplicated_steps: int
    decreasing_steps: int
    missing_stamps: int
    rows_affected: int  # rows with a bad step (as ``strict`` counts them) or a missing stamp
    first_violation: GridViolation | None


TIME_GRID_WHY = (
    "models and resampling code assume time moves forward: a repeated stamp (often from edge "
    "padding or a merge) or a step back silently corrupts differences, rolling windows and "
    "interpolation, and sorted-time splits leak."
)
TIME_GRID_FIX = (
    "sort by time and drop or merge repeated stamps; when padding sequences, pad with "
    "increasing stamps (or mask the padding) instead of repeating the edge."
)


def _measure_time_grid(grid: np.ndarray, strict: bool) -> TimeGridDetails:
    """Steps that repeat or go back (missing stamps break no step), per row of ``grid``."""
    missing = np.isnan(grid)
    steps = np.diff(grid, axis=1)
    valid = ~(missing[:, 1:] | missing[:, :-1])
    equal = (steps == 0) & valid
    decreasing = (steps < 0) & valid
    bad = decreasing | (equal if strict else np.zeros_like(equal))
    first: GridViolation | None = None
    flat = np.flatnonzero(bad.ravel())
    if len(flat):
        r, c = divmod(int(flat[0]), bad.shape[1])
        first = {"row": r, "position": c + 1}
    return {
        "rows": int(grid.shape[0]),
        "length": int(grid.shape[1]),
        "duplicated_steps": int(equal.sum()),
        "decreasing_steps": int(decreasing.sum()),
        "missing_stamps": int(missing.sum()),
        "rows_affected": int((bad.any(axis=1) | missing.any(axis=1)).sum()),
        "first_violation": first,
    }


def _grid_violations(details: TimeGridDetails, strict: bool) -> int:
    """Steps that do not increase (equal ones only when ``strict``), plus missing stamps."""
    duplicated = details["duplicated_steps"] if strict else 0
    return duplicated + details["decreasing_steps"] + details["missing_stamps"]


def _explain_time_grid(details: TimeGridDetails, strict: bool) -> str:
    rows, length = details["rows"], details["length"]
    if _grid_violations(details, strict) == 0:
        return (
            f"time_grid_valid: {rows:,} × {length:,} time stamps, "
            f"{'strictly ' if strict else ''}increasing."
        )
    first = details["first_violation"]
    where = f" (first at row {first['row']}, position {first['position']})" if first else ""
    return compose(
        f"time_grid_valid: {details['duplicated_steps']:,} duplicated and "
        f"{details['decreasing_steps']:,} decreasing steps, {details['missing_stamps']:,} "
        f"missing stamps in {details['rows_affected']:,} of {rows:,} rows{where}.",
        why=TIME_GRID_WHY,
        fix=TIME_GRID_FIX,
    )


@check("time_grid_valid")
def check_time_grid_valid(t: TableLike, *, strict: bool = True) -> CheckResult:
    """Detect duplicated or non-increasing time stamps (per row of a 2-D grid).

    Figure: the number of steps that do not increase (equal or decreasing; with
    ``strict=False`` only decreasing), plus missing stamps. Threshold: 0.
    """
    values = _grid_values(t)
    grid = values.reshape(1, -1) if values.ndim == 1 else values
    if grid.shape[-1] == 0 or grid.shape[0] == 0:
        raise MLCheckUsageError("t is empty: expected at least one time stamp.")
    details = _measure_time_grid(grid, strict)
    n_bad = _grid_violations(details, strict)
    message = _explain_time_grid(details, strict)
    return result(n_bad == 0, "error", n_bad, 0, message, dict(details))
