"""Data rung: checks on the raw table before anything is fitted."""

from __future__ import annotations

import math
from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._messages import compose, percent, plural
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks._stats import chi2_sf as _chi2_sf
from pytest_mlchecks._stats import normal_sf as _normal_sf
from pytest_mlchecks.engines import is_native
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
    if not 0.0 <= limit <= 1.0:
        raise MLCheckUsageError(f"max_fraction must be within [0, 1], got {limit}.")
    if is_native(X):
        return _finite_verdict(*_native_finite_counts(X), allow_nan, limit)
    data: Any = require_array_like(X, "X")
    n = require_rows(data, "X")
    skipped: list[str] = []
    if is_dataframe(data):
        names, nan, pos, neg, rows_hit, skipped = _frame_counts(data, "X")
        if not names:
            raise MLCheckUsageError(
                f"X has no numeric columns (got {len(skipped)} non-numeric): assert_finite "
                "checks numeric data; select the numeric columns or encode them first."
            )
    elif is_series(data):
        label = str(data.name) if data.name is not None else "X"
        names, nan, pos, neg, rows_hit, skipped = _frame_counts(data.to_frame(label), "X")
        if not names:
            raise MLCheckUsageError(
                f"X is a Series of dtype {data.dtype}: expected numeric values for assert_finite."
            )
    elif is_torch(data):
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

    counts = (np.asarray(nan), np.asarray(pos), np.asarray(neg))
    return _finite_verdict(names, *counts, int(rows_hit), n, skipped, {}, allow_nan, limit)


def _native_finite_counts(
    X: Any,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, int, int, list[str], dict[str, Any]]:
    """Per numeric column NaN (NULL or NaN), +Inf and -Inf counts and the rows hit, computed
    inside the user's engine (two queries, only counts come back)."""
    from pytest_mlchecks.engines import NativeFrame

    frame = NativeFrame(X, "X")
    kinds = {c: frame.kind(c) for c in frame.columns}
    names = [c for c, k in kinds.items() if k in ("float", "int")]
    skipped = [c for c, k in kinds.items() if k not in ("float", "int")]
    if not names:
        raise MLCheckUsageError(
            f"X has no numeric columns (got {len(skipped)} non-numeric): assert_finite "
            "checks numeric data; select the numeric columns or encode them first."
        )
    counts = frame.missing_counts(names)
    n = counts[names[0]]["n"]
    if n == 0:
        raise MLCheckUsageError("X is empty (0 rows): expected at least one row.")
    nan = np.array([counts[c]["missing"] for c in names])
    pos = np.array([counts[c]["posinf"] for c in names])
    neg = np.array([counts[c]["neginf"] for c in names])
    rows_hit = frame.count_where(frame.non_finite(names))  # as the pandas path: NaN or Inf
    extra = {"engine": frame.engine, "exact": True}
    return names, nan, pos, neg, rows_hit, n, skipped, extra


def _finite_verdict(
    names: list[str],
    nan: np.ndarray,
    pos: np.ndarray,
    neg: np.ndarray,
    rows_hit: int,
    n: int,
    skipped: list[str],
    extra: dict[str, Any],
    allow_nan: bool,
    limit: float,
) -> CheckResult:
    counted = pos + neg + (0 if allow_nan else nan)
    total_bad = int(counted.sum())
    cells = n * len(names)
    fraction = total_bad / cells if cells else 0.0
    passed = fraction <= limit if limit > 0 else total_bad == 0
    bad_idx = [int(j) for j in np.flatnonzero(counted)]
    bad_idx.sort(key=lambda j: -int(counted[j]))
    per_column = {
        names[j]: {"nan": int(nan[j]), "posinf": int(pos[j]), "neginf": int(neg[j])}
        for j in bad_idx
    }
    details: dict[str, Any] = {
        "rows": n,
        "numeric_columns": len(names),
        "non_finite_cells": total_bad,
        "rows_affected": rows_hit,
        "columns": per_column,
        "allow_nan": allow_nan,
    }
    if skipped:
        details["skipped_columns"] = skipped
    details.update(extra)
    what = "Inf" if allow_nan else "NaN/Inf"
    if passed and total_bad == 0:
        message = f"finite: no {what} in {plural(len(names), 'numeric column')} ({n:,} rows)."
    elif passed:
        message = (
            f"finite: {percent(fraction)} of numeric cells are {what}, within the limit "
            f"{percent(limit)}."
        )
    else:
        rows = [[names[j], fmt(nan[j]), fmt(pos[j]), fmt(neg[j])] for j in bad_idx[:20]]
        more = f"\n  ... and {len(bad_idx) - 20} more columns" if len(bad_idx) > 20 else ""
        message = compose(
            f"finite: {plural(total_bad, what + ' value')} in {plural(len(bad_idx), 'column')} of "
            f"{len(names)} numeric ({percent(fraction)} of cells, {rows_hit:,} of {n:,} rows "
            f"hit; limit {percent(limit)}).",
            body=table(["column", "NaN", "+Inf", "-Inf"], rows) + more,
            why=(
                "NaN and Inf propagate through arithmetic (a single one makes a mean, a "
                "scaler's statistics or a loss NaN), and tree models route NaN down one branch, "
                "so they learn from the missingness instead of failing."
            ),
            fix=(
                "impute inside the pipeline (an imputer fitted on the training split only), "
                "drop or repair the rows at the source, replace Inf produced by divisions or "
                "logs; pass allow_nan=True only if the model handles missing values by design."
            ),
        )
    return result(
        passed,
        value=fraction,
        threshold=limit,
        message=message,
        details=details,
    )


# --------------------------------------------------------------------------- aligned


@check("aligned")
def check_aligned(X: TableLike, y: TableLike) -> CheckResult:
    """Detect features and target that do not line up row for row.

    Figure: the number of misaligned rows (the length difference, or for pandas inputs the
    number of positions whose index labels differ). Threshold: 0.
    """
    data: Any = require_array_like(X, "X")
    target: Any = require_array_like(y, "y")
    n_x = require_rows(data, "X")
    n_y = require_rows(target, "y")
    details: dict[str, Any] = {"rows_X": n_x, "rows_y": n_y}
    why = (
        "a model fitted on misaligned rows learns each row's features against another row's "
        "label; it still trains and scores, only worse, so nothing crashes."
    )
    if n_x != n_y:
        diff = abs(n_x - n_y)
        message = compose(
            f"aligned: X has {n_x:,} rows but y has {n_y:,} ({plural(diff, 'row')} apart; "
            "expected 0).",
            why=why,
            fix=(
                "filter, sample or drop rows on X and y together (one DataFrame, or one index "
                "applied to both) instead of separately."
            ),
        )
        details["reason"] = "length"
        return result(False, value=diff, threshold=0, message=message, details=details)
    if (is_dataframe(data) or is_series(data)) and (is_dataframe(target) or is_series(target)):
        if data.index.equals(target.index):
            details["index_compared"] = True
            return result(
                True,
                value=0,
                threshold=0,
                message=f"aligned: X and y have {n_x:,} rows with the same index.",
                details=details,
            )
        differs = data.index.to_numpy() != target.index.to_numpy()
        mismatched = int(np.count_nonzero(differs))
        first = int(np.flatnonzero(differs)[0]) if mismatched else 0
        same_labels = _same_label_set(data.index, target.index)
        details.update(
            {
                "index_compared": True,
                "mismatched_positions": mismatched,
                "first_mismatch_position": first,
                "same_labels_other_order": same_labels,
            }
        )
        if same_labels:
            cause = (
                "Both carry the same index labels in a different order: one side was sorted, "
                "shuffled or grouped without the other."
            )
            fix = "reorder one side to the other (y = y.loc[X.index]) or split them together."
        else:
            cause = (
                "The index labels differ: typically reset_index() on one side only, or rows "
                "filtered or resampled on one side only."
            )
            fix = (
                "build X and y from the same filtered frame, or reset both indexes together; "
                "if positions are right and only labels differ, reset_index(drop=True) on both."
            )
        message = compose(
            f"aligned: {mismatched:,} of {n_x:,} positions have different index labels in X "
            f"and y (first at position {first:,}; expected 0).",
            body=cause,
            why=why + " pandas also aligns on labels in arithmetic, which reshuffles silently.",
            fix=fix,
        )
        return result(
            False,
            value=mismatched,
            threshold=0,
            message=message,
            details=details,
        )
    details["index_compared"] = False
    return result(
        True,
        value=0,
        threshold=0,
        message=f"aligned: X and y both have {n_x:,} rows (no index to compare).",
        details=details,
    )


def _same_label_set(a: Any, b: Any) -> bool:
    if a.has_duplicates or b.has_duplicates:
        return bool(a.sort_values().equals(b.sort_values()))
    try:
        return len(a) == len(b) and bool(a.isin(b).all())
    except TypeError:
        return False


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


def _class_labels(y: VectorLike) -> np.ndarray:
    """The labels of ``y``, or a usage error when they are not classes (or one class)."""
    labels = _labels(y, "y")
    if labels.dtype.kind == "f" and not np.all(np.mod(labels, 1) == 0):
        raise MLCheckUsageError(
            "y holds non-integer numbers (a regression target?): expected class labels; "
            "class_balance applies to classification."
        )
    if len(np.unique(labels)) < 2:
        raise MLCheckUsageError(
            f"y has a single class ({labels[0]!r}): expected at least two classes; a "
            "classifier cannot be trained or evaluated on one."
        )
    return labels


def _measure_class_balance(labels: np.ndarray, limit: float) -> ClassBalanceDetails:
    """Class counts, rarest first, and the classes whose share is below ``limit``."""
    classes, counts = np.unique(labels, return_counts=True)
    n = int(counts.sum())
    order = np.argsort(counts / n, kind="stable")
    details: ClassBalanceDetails = {
        "n": n,
        "n_classes": len(classes),
        "counts": {str(classes[i]): int(counts[i]) for i in order},
        "rare_classes": [str(classes[i]) for i in order if counts[i] / n < limit],
    }
    if details["rare_classes"]:
        details["recommended_metric"] = "average_precision" if len(classes) == 2 else "f1_macro"
    return details


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
def check_class_balance(y: VectorLike, *, min_fraction: float | None = None) -> CheckResult:
    """Detect rare classes: the smallest class's share of the labels.

    Figure: the minority class fraction, held to ``min_fraction`` (ini
    ``ml_class_balance_min_fraction``, default 0.1). Severity ``warning``: imbalance is a fact
    of the data to design for, not a bug; the message names the metrics that stay honest.
    """
    limit = resolve_threshold("class_balance_min_fraction", min_fraction)
    if not 0.0 < limit < 1.0:
        raise MLCheckUsageError(f"min_fraction must be within (0, 1), got {limit}.")
    details = _measure_class_balance(_class_labels(y), limit)
    smallest = next(iter(details["counts"].values())) / details["n"]
    passed = not details["rare_classes"]
    message = _explain_class_balance(details, limit)
    return result(passed, "warning", smallest, limit, message, dict(details))


# --------------------------------------------------------------------------- missingness


MIN_GROUP = 20  # rows needed on each side (missing / present) to test a column
EXACT_BELOW = 200  # smaller groups get a permutation test instead of an asymptotic one


def _chi2_stat(onehot: np.ndarray) -> Any:
    """Chi-square statistic of the class table, for index sets of the 'missing' rows."""
    total = onehot.sum(axis=0)
    keep = total > 0
    onehot, total = onehot[:, keep], total[keep]
    n = float(total.sum())

    def stat(idx: np.ndarray) -> np.ndarray:
        n_miss = idx.shape[1]
        obs_miss = onehot[idx].sum(axis=1)  # (batch, classes)
        exp_miss = total * n_miss / n
        exp_pres = total * (n - n_miss) / n
        obs_pres = total - obs_miss
        return np.asarray(
            ((obs_miss - exp_miss) ** 2 / exp_miss).sum(axis=1)
            + ((obs_pres - exp_pres) ** 2 / exp_pres).sum(axis=1)
        )

    return stat


def _mean_gap_stat(target: np.ndarray) -> Any:
    """Absolute gap between the target mean of the 'missing' rows and of the others."""
    total = float(target.sum())
    n = len(target)

    def stat(idx: np.ndarray) -> np.ndarray:
        k = idx.shape[1]
        s_miss = target[idx].sum(axis=1)
        return np.asarray(np.abs(s_miss / k - (total - s_miss) / (n - k)))

    return stat


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
    import pandas as pd

    from pytest_mlchecks.inputs.tables import as_dataframe

    level = resolve_threshold("missingness_alpha", alpha)
    effect_limit = resolve_threshold("missingness_min_effect", min_effect)
    if not 0 < level < 1:
        raise MLCheckUsageError(f"alpha must be within (0, 1), got {level}.")
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
    missing = frame.isna().to_numpy()
    counts = missing.sum(axis=0)
    n = len(frame)
    candidates = [j for j in range(frame.shape[1]) if 0 < counts[j] < n]
    # a column missing in every row carries no signal in its missingness (nor any value)
    all_missing = [str(frame.columns[j]) for j in range(frame.shape[1]) if counts[j] == n]
    if len(all_missing) == frame.shape[1]:
        raise MLCheckUsageError(
            f"X is missing in every cell ({plural(frame.shape[1], 'column')} x {n:,} rows): "
            "there is no observed value, so nothing to decide on. Expected the feature table."
        )
    if kind == "regression":
        target = y_series.to_numpy(dtype=np.float64)
        sd = float(target.std())
    else:
        codes, labels = pd.factorize(y_series, sort=True)
        if len(labels) < 2:
            raise MLCheckUsageError("y has a single class: expected at least two classes.")
        onehot = np.zeros((n, len(labels)))
        onehot[np.arange(n), codes] = 1.0
    tested: list[tuple[str, float, float, int]] = []  # name, p, effect, n_missing
    too_few: list[str] = []
    testable: list[int] = []
    for j in candidates:
        if counts[j] < MIN_GROUP or n - counts[j] < MIN_GROUP:
            too_few.append(str(frame.columns[j]))
        else:
            testable.append(j)
    rng = np.random.default_rng(current_seed(random_state))
    # permutations resolve p-values well below the Bonferroni level alpha / m
    n_perm = int(min(20_000, math.ceil(5 * max(len(testable), 1) / level)))
    stat_fn = _mean_gap_stat(target) if kind == "regression" else _chi2_stat(onehot)
    for j in testable:
        name = str(frame.columns[j])
        m = missing[:, j]
        n_miss = int(counts[j])
        observed = float(stat_fn(np.flatnonzero(m)[None, :])[0])
        if kind == "regression":
            a, b = target[m], target[~m]
            se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
            p = 1.0 if se == 0 else 2 * _normal_sf(observed / se)
        else:
            p = _chi2_sf(observed, int(np.count_nonzero(onehot.sum(axis=0))) - 1)
        adjusted = p * max(len(testable), 1)
        near = level / 100 <= adjusted < 10 * level
        if near and min(n_miss, n - n_miss) < EXACT_BELOW:
            # small groups: the asymptotic p-value is too optimistic near the decision
            # boundary; a seeded permutation test of the same statistic replaces it
            idx = np.argpartition(rng.random((n_perm, n)), n_miss, axis=1)[:, :n_miss]
            null = stat_fn(idx)
            p = (1.0 + float(np.count_nonzero(null >= observed * (1 - 1e-12)))) / (n_perm + 1.0)
        if kind == "regression":
            diff = float(target[m].mean() - target[~m].mean())
            effect = abs(diff) / sd if sd > 0 else 0.0
        else:
            obs_miss = onehot[m].sum(axis=0)
            obs_pres = onehot[~m].sum(axis=0)
            effect = float(np.max(np.abs(obs_miss / n_miss - obs_pres / (n - n_miss))))
        tested.append((name, p, effect, n_miss))
    m_tests = max(len(tested), 1)
    flagged = [
        (name, min(1.0, p * m_tests), effect, n_miss)
        for name, p, effect, n_miss in tested
        if p * m_tests < level and effect >= effect_limit
    ]
    flagged.sort(key=lambda item: -item[2])
    worst = flagged[0][2] if flagged else max((t[2] for t in tested), default=0.0)
    details: dict[str, Any] = {
        "task": kind,
        "columns_with_missing": len(candidates),
        "columns_tested": len(tested),
        "too_few_to_test": too_few,
        "missing_in_every_row": all_missing,
        "flagged": [
            {"column": name, "p_adjusted": p, "effect": effect, "missing": n_miss}
            for name, p, effect, n_miss in flagged
        ],
    }
    effect_name = (
        "mean difference in target SDs" if kind == "regression" else "largest class-rate gap"
    )
    note = (
        f" Not tested (fewer than {MIN_GROUP} missing or present rows): {too_few[:10]}."
        if too_few
        else ""
    )
    if all_missing:
        note += f" Missing in every row (no information at all): {all_missing[:10]}."
    if not flagged:
        message = (
            f"missingness_not_predictive: none of {plural(len(tested), 'column')} with "
            f"partly missing values has missingness that predicts the target (family-wise alpha "
            f"{fmt(level)}, min effect {fmt(effect_limit)}).{note}"
        )
        return result(
            True,
            "error",
            worst,
            effect_limit,
            message,
            details,
        )
    rows = [[n_, f"{k:,}", fmt(e, 3), f"{p:.2g}"] for n_, p, e, k in flagged[:10]]
    message = compose(
        f"missingness_not_predictive: missingness predicts the target in "
        f"{plural(len(flagged), 'column')} ({effect_name} up to {fmt(worst, 3)}, limit "
        f"{fmt(effect_limit)}; Bonferroni-adjusted p < {fmt(level)}).{note}",
        body=table(["column", "missing", "effect", "p (adjusted)"], rows),
        why=(
            "when a value is missing because of the outcome (not recorded for churned "
            "customers, a test skipped for healthy patients), models learn 'missing means "
            "label X'; the pattern breaks as soon as collection changes, and trees and "
            "NaN-tolerant models pick it up without any warning."
        ),
        fix=(
            "find out why the values are missing; if the reason is only known after the "
            "outcome, fix the collection or drop the column; otherwise model it explicitly "
            "(a documented missing-indicator feature) and monitor it in production."
        ),
    )
    return result(
        False,
        "error",
        worst,
        effect_limit,
        message,
        details,
    )


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
    missing = np.isnan(grid)
    steps = np.diff(grid, axis=1)
    valid = ~(missing[:, 1:] | missing[:, :-1])
    equal = (steps == 0) & valid
    decreasing = (steps < 0) & valid
    bad = decreasing | (equal if strict else np.zeros_like(equal))
    bad_rows = bad.any(axis=1) | missing.any(axis=1)
    n_bad = int(bad.sum()) + int(missing.sum())
    first = None
    flat = np.flatnonzero(bad.ravel())
    if len(flat):
        r, c = divmod(int(flat[0]), bad.shape[1])
        first = {"row": r, "position": c + 1}
    details = {
        "rows": int(grid.shape[0]),
        "length": int(grid.shape[1]),
        "duplicated_steps": int(equal.sum()),
        "decreasing_steps": int(decreasing.sum()),
        "missing_stamps": int(missing.sum()),
        "rows_affected": int(bad_rows.sum()),
        "first_violation": first,
    }
    if n_bad == 0:
        message = (
            f"time_grid_valid: {grid.shape[0]:,} × {grid.shape[1]:,} time stamps, "
            f"{'strictly ' if strict else ''}increasing."
        )
        return result(True, "error", 0, 0, message, details)
    where = f" (first at row {first['row']}, position {first['position']})" if first else ""
    rows_note = f" in {grid.shape[0] and int(bad_rows.sum()):,} of {grid.shape[0]:,} rows"
    message = compose(
        f"time_grid_valid: {int(equal.sum()):,} duplicated and {int(decreasing.sum()):,} "
        f"decreasing steps, {int(missing.sum()):,} missing stamps{rows_note}{where}.",
        why=(
            "models and resampling code assume time moves forward: a repeated stamp (often "
            "from edge padding or a merge) or a step back silently corrupts differences, "
            "rolling windows and interpolation, and sorted-time splits leak."
        ),
        fix=(
            "sort by time and drop or merge repeated stamps; when padding sequences, pad "
            "with increasing stamps (or mask the padding) instead of repeating the edge."
        ),
    )
    return result(False, "error", n_bad, 0, message, details)
