"""Data rung, labels: identical feature rows that carry different labels.

Rows are grouped exactly through the row hashes of :mod:`pytest_mlchecks.inputs.rows` (NaN
equals NaN, -0.0 equals 0.0, verified cell by cell), then each group's labels are compared:
one sort, so a million rows take about a second. Only counts are reported, never values.
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._messages import compose, percent, plural
from pytest_mlchecks._protocol import check, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.models import task_of_target
from pytest_mlchecks.inputs.rows import comparable, row_groups
from pytest_mlchecks.inputs.tables import (
    TableLike,
    VectorLike,
    as_dataframe,
    fmt,
    label_vector,
    require_rows,
    require_same_length,
    split_columns,
)

__all__ = ["check_no_conflicting_labels"]

CONFLICTING_WHY = (
    "one input cannot have two right answers: a model fits at most one of the labels, so "
    "conflicting rows cap every score, and they are usually labelling errors, a join that "
    "attached two targets to one record, or features too coarse to tell the cases apart; "
    "across splits they make test rows unpredictable whatever the model learns."
)
CONFLICTING_FIX = (
    "look at the groups (e.g. df[df.duplicated(features, keep=False)].groupby(features)"
    "[target].nunique() > 1), correct or drop mislabelled rows, add the feature that tells "
    "the cases apart, or raise max_fraction when the features are coarse by design (binned "
    "values, survey answers)."
)
REGRESSION_HINT = (
    "identical inputs with different numeric targets are ordinary noise in regression: pass "
    "tolerance=t to count groups whose targets spread by more than t (tolerance=0 compares "
    "them exactly)."
)


class ConflictingLabelsDetails(TypedDict):
    """What ``no_conflicting_labels`` measured (the record's ``details``): counts only."""

    rows: int  # rows compared: X plus X_test
    rows_test: int  # 0 without a test split
    columns_compared: int
    tolerance: float | None  # None: labels compared exactly as classes
    conflicting_groups: int  # groups of identical feature rows whose labels differ
    conflicting_rows: int  # rows in those groups
    conflicting_fraction: float  # conflicting_rows / rows
    groups_within_x: int  # conflicting groups with rows of X only
    groups_within_test: int  # ... of X_test only
    groups_across_splits: int  # ... with rows of both
    test_rows_contradicting_train: int  # test rows whose features occur in X with another label
    largest_group: int  # rows of the largest conflicting group
    max_fraction: float


# ---------------------------------------------------------------------------- inputs


def _split(X: Any, y: VectorLike, x_arg: str, y_arg: str) -> tuple[Any, np.ndarray]:
    frame = as_dataframe(X, x_arg)
    require_rows(frame, x_arg)
    labels = label_vector(y, y_arg)
    require_same_length(frame, labels, x_arg, y_arg)
    return frame, labels


def _pooled(
    X: TableLike, y: VectorLike, X_test: TableLike | None, y_test: VectorLike | None
) -> tuple[Any, np.ndarray, int]:
    """Both splits' features (dtypes reconciled, X first) and labels, and the rows of X_test."""
    import pandas as pd

    frame, labels = _split(X, y, "X", "y")
    if X_test is None and y_test is None:
        return frame, labels, 0
    if X_test is None or y_test is None:
        raise MLCheckUsageError("pass both X_test and y_test, or neither.")
    test, test_labels = _split(X_test, y_test, "X_test", "y_test")
    cols = split_columns(frame, test, None)
    left, right = comparable(frame, test, cols)
    pooled = pd.concat([left, right], ignore_index=True)
    both = np.concatenate([np.asarray(labels, dtype=object), np.asarray(test_labels, dtype=object)])
    if labels.dtype.kind in "biuf" and test_labels.dtype.kind in "biuf":
        both = np.concatenate([labels.astype(float), test_labels.astype(float)])
    return pooled, both, len(test)


def _tolerance(labels: np.ndarray, tolerance: float | None) -> float | None:
    """The tolerance in force: None compares labels as classes; regression targets need one."""
    if tolerance is None:
        if labels.dtype.kind in "biuf" and task_of_target(labels) == "regression":
            n = len(np.unique(labels))
            raise MLCheckUsageError(
                f"y looks like a regression target ({n:,} distinct numbers): {REGRESSION_HINT}"
            )
        return None
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)):
        raise MLCheckUsageError(f"tolerance must be a number >= 0, got {tolerance!r}.")
    if not np.isfinite(tolerance) or tolerance < 0:
        raise MLCheckUsageError(f"tolerance must be a finite number >= 0, got {tolerance!r}.")
    if labels.dtype.kind not in "biuf":
        raise MLCheckUsageError(
            "tolerance applies to numeric targets, but y holds non-numeric labels: leave "
            "tolerance=None to compare the labels as classes."
        )
    return float(tolerance)


# ---------------------------------------------------------------------------- measure


def _spread_by_group(
    groups: np.ndarray, values: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group id: the smallest and the largest value (groups without rows: +inf, -inf)."""
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, groups, values)
    np.maximum.at(hi, groups, values)
    return lo, hi


def _conflicts_exact(
    groups: np.ndarray, labels: np.ndarray, is_test: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Classes: which groups hold two labels or more, and which test rows meet another label
    of X in their group."""
    import pandas as pd

    codes = np.asarray(pd.factorize(labels)[0], dtype=np.int64)
    width = int(codes.max()) + 1
    pairs = np.unique(groups * width + codes)
    conflicting = np.bincount(pairs // width, minlength=n_groups) > 1
    train = ~is_test
    train_pairs = np.unique(groups[train] * width + codes[train])
    train_labels = np.bincount(train_pairs // width, minlength=n_groups)
    g_test = groups[is_test]
    own_in_train = np.isin(g_test * width + codes[is_test], train_pairs)
    has_train = train_labels[g_test] > 0
    contradicting = has_train & ((train_labels[g_test] > 1) | ~own_in_train)
    return conflicting, contradicting


def _conflicts_numeric(
    groups: np.ndarray, labels: np.ndarray, is_test: np.ndarray, n_groups: int, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers: which groups' targets spread by more than ``tolerance``, and which test rows
    differ by more than it from a target of X in their group."""
    values = labels.astype(float)
    lo, hi = _spread_by_group(groups, values, n_groups)
    conflicting = hi - lo > tolerance
    train = ~is_test
    lo_tr, hi_tr = _spread_by_group(groups[train], values[train], n_groups)
    g_test, v_test = groups[is_test], values[is_test]
    contradicting = (hi_tr[g_test] - v_test > tolerance) | (v_test - lo_tr[g_test] > tolerance)
    return conflicting, contradicting


def _measure_conflicting_labels(
    X: TableLike,
    y: VectorLike,
    X_test: TableLike | None,
    y_test: VectorLike | None,
    tolerance: float | None,
    limit: float,
) -> ConflictingLabelsDetails:
    frame, labels, n_test = _pooled(X, y, X_test, y_test)
    tol = _tolerance(labels, tolerance)
    groups = row_groups(frame)
    n = len(groups)
    n_groups = int(groups.max()) + 1
    is_test = np.zeros(n, dtype=bool)
    is_test[n - n_test :] = True
    if tol is None:
        conflicting, contradicting = _conflicts_exact(groups, labels, is_test, n_groups)
    else:
        conflicting, contradicting = _conflicts_numeric(groups, labels, is_test, n_groups, tol)
    sizes = np.bincount(groups, minlength=n_groups)
    test_sizes = np.bincount(groups[is_test], minlength=n_groups)
    only_test = test_sizes == sizes
    only_x = test_sizes == 0
    rows_in = int(sizes[conflicting].sum())
    return {
        "rows": n,
        "rows_test": n_test,
        "columns_compared": int(frame.shape[1]),
        "tolerance": tol,
        "conflicting_groups": int(conflicting.sum()),
        "conflicting_rows": rows_in,
        "conflicting_fraction": rows_in / n,
        "groups_within_x": int((conflicting & only_x).sum()),
        "groups_within_test": int((conflicting & only_test).sum()),
        "groups_across_splits": int((conflicting & ~only_x & ~only_test).sum()),
        "test_rows_contradicting_train": int(contradicting.sum()),
        "largest_group": int(sizes[conflicting].max()) if conflicting.any() else 0,
        "max_fraction": limit,
    }


# ---------------------------------------------------------------------------- explain


def _explain_conflicting_labels(details: ConflictingLabelsDetails, passed: bool) -> str:
    d = details
    labels = "labels" if d["tolerance"] is None else f"targets (beyond {fmt(d['tolerance'])})"
    head = (
        f"no_conflicting_labels: identical feature rows with different {labels} in "
        f"{plural(d['conflicting_groups'], 'group')}: {d['conflicting_rows']:,} of "
        f"{d['rows']:,} rows ({percent(d['conflicting_fraction'])}; limit "
        f"{percent(d['max_fraction'])})."
    )
    if passed:
        return head
    body = ""
    if d["rows_test"]:
        body = (
            f"Within X: {plural(d['groups_within_x'], 'group')}; within X_test: "
            f"{plural(d['groups_within_test'], 'group')}; across the splits: "
            f"{plural(d['groups_across_splits'], 'group')}, "
            f"{plural(d['test_rows_contradicting_train'], 'test row')} whose features occur in "
            f"X with another label. The largest group has {d['largest_group']:,} rows."
        )
    else:
        body = f"The largest group has {d['largest_group']:,} rows."
    return compose(head, body=body, why=CONFLICTING_WHY, fix=CONFLICTING_FIX)


@check("no_conflicting_labels")
def check_no_conflicting_labels(
    X: TableLike,
    y: VectorLike,
    *,
    X_test: TableLike | None = None,
    y_test: VectorLike | None = None,
    max_fraction: float | None = None,
    tolerance: float | None = None,
) -> CheckResult:
    """Detect identical feature rows with different labels, inside ``X`` and, with
    ``X_test`` / ``y_test``, inside the test split and across the splits (a test row whose
    exact features occur in ``X`` with another label).

    Figure: the fraction of all rows (X plus X_test) in a group of identical feature rows
    whose labels differ, held to ``max_fraction`` (ini ``ml_conflicting_labels_max_fraction``,
    default 0: any conflict fails). Labels are compared exactly; a regression target (many
    distinct numbers) needs ``tolerance``: a group conflicts when its targets spread by more
    than it (``tolerance=0``: exactly).
    """
    limit = resolve_threshold("conflicting_labels_max_fraction", max_fraction)
    details = _measure_conflicting_labels(X, y, X_test, y_test, tolerance, limit)
    fraction = details["conflicting_fraction"]
    passed = fraction <= limit if limit > 0 else details["conflicting_groups"] == 0
    message = _explain_conflicting_labels(details, passed)
    return result(passed, "error", fraction, limit, message, dict(details))
