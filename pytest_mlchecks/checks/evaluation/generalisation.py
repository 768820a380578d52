"""Evaluation rung: generalisation gap, suspicious scores, fold stability, fairness, slices."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from pytest_mlchecks._messages import compose, percent, plural, verdict
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.checks.model.baselines import (
    check_pairs,
    default_metric,
    fitted_copy,
    labels_of,
    scorer_for,
    sklearn_for,
    splitter,
    task_of,
    unseen_test_classes,
)
from pytest_mlchecks.inputs.tables import (
    fmt,
    require_array_like,
    require_rows,
    require_same_length,
    table,
)

__all__ = [
    "check_fair",
    "check_no_overfitting",
    "check_not_suspiciously_good",
    "check_slices_perform",
    "check_stable_across_folds",
]


def _train_test_scores(
    model: Any, X_train: Any, y_train: Any, X_test: Any, y_test: Any, metric: Any, helper: str
) -> tuple[float, float, str, dict[str, Any]]:
    sklearn_for(helper)
    X_train, ytr, X_test, yte = check_pairs(X_train, y_train, X_test, y_test)
    if X_test is None:
        raise MLCheckUsageError("pass X_test and y_test.")
    task = task_of(model, ytr)
    unseen_test_classes(task, yte)
    name, reason = (
        (metric, "chosen by the caller") if metric is not None else (default_metric(task, model))
    )
    scorer, label = scorer_for(name, model, task)
    fitted, refitted = fitted_copy(model, X_train, ytr)
    train_score = float(scorer(fitted, X_train, ytr))
    test_score = float(scorer(fitted, X_test, yte))
    details = {
        "task": task.kind,
        "metric": label,
        "metric_reason": reason,
        "train_score": train_score,
        "test_score": test_score,
        "fitted_a_clone": refitted,
    }
    return train_score, test_score, str(label), details


@check("no_overfitting")
def check_no_overfitting(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    max_gap: float | None = None,
    metric: Any = None,
) -> CheckResult:
    """Detect overfitting: the train score exceeds the test score by more than ``max_gap``.

    Figure: train minus test score with the default metric of ``beats_dummy`` (ini
    ``ml_overfitting_max_gap``, default 0.10).
    """
    limit = resolve_threshold("overfitting_max_gap", max_gap)
    train, test, label, details = _train_test_scores(
        model, X_train, y_train, X_test, y_test, metric, "assert_no_overfitting"
    )
    gap = train - test
    details["gap"] = gap
    head = (
        f"no_overfitting: train {label} {fmt(train, 4)} vs test {fmt(test, 4)} (gap "
        f"{fmt(gap, 4)}, limit {fmt(limit, 4)})."
    )
    return verdict(
        gap <= limit,
        gap,
        limit,
        head,
        details,
        why=(
            "the model memorised the training rows: its training score says nothing about "
            "new data, and small changes in the data will move its predictions a lot."
        ),
        fix=(
            "regularise (max_depth / min_samples_leaf for trees, alpha / C for linear "
            "models, dropout and weight decay for nets), get more data, or drop noisy "
            "features; tune on validation folds, not on the training score."
        ),
    )


@check("not_suspiciously_good")
def check_not_suspiciously_good(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    max_score: float | None = None,
    max_test_advantage: float | None = None,
    metric: Any = None,
) -> CheckResult:
    """Detect scores too good to be true: a near-perfect test score, or test beating train.

    Fails when the test score reaches ``max_score`` (ini ``ml_suspicious_max_score``, default
    0.99) or exceeds the train score by more than ``max_test_advantage`` (ini
    ``ml_suspicious_test_advantage``, default 0.05). Both are classic signs of leakage (a
    target-derived feature, duplicated rows across the split, a test set easier than train).
    Figure: the test score.
    """
    limit = resolve_threshold("suspicious_max_score", max_score)
    advantage = resolve_threshold("suspicious_test_advantage", max_test_advantage)
    train, test, label, details = _train_test_scores(
        model, X_train, y_train, X_test, y_test, metric, "assert_not_suspiciously_good"
    )
    reasons = []
    if test >= limit:
        reasons.append(f"near-perfect test {label} {fmt(test, 4)} (limit {fmt(limit, 4)})")
    if test - train > advantage:
        reasons.append(
            f"test beats train by {fmt(test - train, 4)} (more than {fmt(advantage, 4)})"
        )
    details["reasons"] = reasons
    if not reasons:
        message = (
            f"not_suspiciously_good: train {label} {fmt(train, 4)}, test {fmt(test, 4)}: "
            "nothing too good to be true."
        )
        return result(True, "error", test, limit, message, details)
    message = compose(
        f"not_suspiciously_good: {'; '.join(reasons)}.",
        why=(
            "real data is noisy: near-perfect held-out scores, or a test split that scores "
            "better than the data the model was fitted on, usually mean the test data leaks "
            "the answer."
        ),
        fix=(
            "run assert_no_leakage on the splits (shared rows, target-derived features, rows "
            "from the future), check how the split was made, and look at the top features."
        ),
    )
    return result(False, "error", test, limit, message, details)


@check("stable_across_folds")
def check_stable_across_folds(
    model: Any,
    X: Any,
    y: Any,
    *,
    cv: int = 5,
    max_std: float | None = None,
    groups: Any = None,
    metric: Any = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect unstable performance: the spread of cross-validated scores across folds.

    Folds are stratified for classification, grouped when ``groups`` is given, shuffled with
    the session seed otherwise. Figure: the standard deviation of the fold scores, held to
    ``max_std`` (ini ``ml_folds_max_std``, default 0.05); per-fold scores in the message.
    """
    from sklearn.model_selection import cross_val_score

    sklearn_for("assert_stable_across_folds")
    limit = resolve_threshold("folds_max_std", max_std)
    X = require_array_like(X, "X")
    require_rows(X, "X")
    yy = labels_of(y, "y")
    require_same_length(X, yy, "X", "y")
    task = task_of(model, yy)
    name, _ = (metric, "") if metric is not None else default_metric(task, model)
    scorer, label = scorer_for(name, model, task)
    split = splitter(task, cv, current_seed(random_state), groups)
    from sklearn.base import clone

    group_values = None
    if groups is not None:
        group_values = np.asarray(require_array_like(groups, "groups"))
        require_same_length(X, group_values, "X", "groups")
    scores = np.asarray(
        cross_val_score(clone(model), X, yy, scoring=scorer, cv=split, groups=group_values),
        dtype=float,
    )
    spread = float(scores.std(ddof=1)) if len(scores) > 1 else 0.0
    details = {
        "metric": label,
        "folds": scores.tolist(),
        "mean": float(scores.mean()),
        "std": spread,
        "grouped": groups is not None,
    }
    folds = ", ".join(fmt(s, 4) for s in scores)
    head = (
        f"stable_across_folds: {label} over {len(scores)} folds [{folds}], mean "
        f"{fmt(float(scores.mean()), 4)}, std {fmt(spread, 4)} (limit {fmt(limit, 4)})."
    )
    return verdict(
        spread <= limit,
        spread,
        limit,
        head,
        details,
        why=(
            "when the score moves this much with the split, any single test score (and any "
            "comparison between two models) is mostly luck."
        ),
        fix=(
            "get more data or fewer features, regularise, check for groups that should not "
            "be split (pass groups=), and report the spread together with the mean."
        ),
    )


# ---------------------------------------------------------------------------- fairness


def _label_values(y: Any, arg: str) -> np.ndarray:
    values = labels_of(y, arg)
    if values.dtype.kind == "f" and not np.all(np.isin(values, (0.0, 1.0))):
        raise MLCheckUsageError(
            f"{arg} holds scores, not labels: expected predicted labels (threshold the "
            "scores first, e.g. y_score >= 0.5)."
        )
    return values


def _positive_label(truth: np.ndarray, pred: np.ndarray, pos_label: Any) -> Any:
    """The favourable outcome: ``pos_label`` if given (it must occur), else 1 for 0/1 or
    boolean labels; other labels must name it (a wrong guess would compare nothing)."""
    seen = {
        v.item() if hasattr(v, "item") else v
        for v in np.unique(np.concatenate([truth.astype(object), pred.astype(object)]))
    }
    shown = sorted(map(str, seen))[:10]
    if pos_label is None:
        if seen <= {0, 1}:  # also True / False
            return 1
        raise MLCheckUsageError(
            f"y_true / y_pred hold the labels {shown}: pass pos_label= the positive "
            "(favourable) outcome that rates and metrics are about."
        )
    if pos_label not in seen:
        raise MLCheckUsageError(
            f"pos_label {pos_label!r} never occurs in y_true or y_pred (labels {shown}): "
            "expected one of them."
        )
    return pos_label


def _within(
    value: float, key: str, arg: str, low: float, high: float, *, open_low: bool = False
) -> float:
    """``value`` if it lies in [low, high] ((low, high] with ``open_low``), else a usage error
    naming the argument and its ini option (NaN never passes)."""
    ok = (low < value if open_low else low <= value) and value <= high
    if not ok:  # also NaN
        bracket = "(" if open_low else "["
        raise MLCheckUsageError(
            f"{arg} (ini ml_{key}) must be in {bracket}{low:g}, {high:g}], got {value!r}."
        )
    return value


FAIR_ALPHA = 0.005  # family-wise: how often random groups may cross the noise bar


def _z_two_sided(alpha: float) -> float:
    """The z with P(|N(0, 1)| > z) == alpha."""
    from pytest_mlchecks._stats import chi2_isf

    return math.sqrt(chi2_isf(alpha, 1))


def _rate_pairs(
    groups: list[dict[str, Any]],
    rate: str,
    size: str,
    z: float,
    beyond: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[int, int, list[dict[str, Any]]]:
    """Pairs of groups (both rates defined) whose effect is ``beyond`` the limit (a mask from
    the ratio and the gap of each pair): how many, how many of them also pass sampling
    noise, and the six most significant (gap over noise), each with its low and high group,
    rates, gap, ratio, noise bar and sizes. Vectorised: a thousand groups are half a million
    pairs."""
    defined = [g for g in groups if g[rate] is not None and g[size] > 0]
    if len(defined) < 2:
        return 0, 0, []
    r = np.array([g[rate] for g in defined], dtype=float)
    n = np.array([g[size] for g in defined], dtype=float)
    i, j = np.triu_indices(len(defined), 1)
    low = np.where(r[i] <= r[j], i, j)
    high = np.where(r[i] <= r[j], j, i)
    gap = r[high] - r[low]
    ratio = np.where(r[high] > 0, r[low] / np.where(r[high] > 0, r[high], 1.0), 1.0)
    pooled = (r[low] * n[low] + r[high] * n[high]) / (n[low] + n[high])
    inverse = 1.0 / n[low] + 1.0 / n[high]
    # z standard errors of the difference when both groups share the pooled rate, plus
    # Yates' continuity correction (keeps small groups and rare outcomes from false alarms)
    noise = z * np.sqrt(np.maximum(pooled * (1.0 - pooled), 0.0) * inverse) + 0.5 * inverse
    over = np.flatnonzero(beyond(ratio, gap))
    real = int(np.count_nonzero(gap[over] > noise[over]))
    order = over[np.argsort(-(gap[over] / noise[over]), kind="stable")][:6]
    top = [
        {
            "low": defined[low[k]]["group"],
            "high": defined[high[k]]["group"],
            "low_rate": float(r[low[k]]),
            "high_rate": float(r[high[k]]),
            "gap": float(gap[k]),
            "ratio": float(ratio[k]),
            "noise": float(noise[k]),
            "sizes": [int(n[low[k]]), int(n[high[k]])],
        }
        for k in order
    ]
    return len(over), real, top


@check("fair")
def check_fair(
    y_true: Any,
    y_pred: Any,
    sensitive: Any,
    *,
    min_disparate_impact: float | None = None,
    max_tpr_gap: float | None = None,
    max_fpr_gap: float | None = None,
    min_group_size: int = 30,
    pos_label: Any = None,
) -> CheckResult:
    """Detect unequal treatment of groups of a sensitive attribute (binary predictions).

    Per group: selection rate, true- and false-positive rates. Disparate impact = lowest /
    highest selection rate, held to ``min_disparate_impact`` (ini ``ml_fair_min_di``, default
    0.8, the four-fifths rule); the TPR gap (equal opportunity) to ``max_tpr_gap`` (ini
    ``ml_fair_max_tpr_gap``, default 0.1); the FPR gap to ``max_fpr_gap`` (ini
    ``ml_fair_max_fpr_gap``, default 0.1). A pair of groups is a finding only when its effect
    passes the limit AND its rate gap passes sampling noise: the gap two groups of these sizes
    show by chance when they share one rate (pooled two-proportion z with continuity
    correction, family-wise 0.5% over all pairs and the three rates; sizes are rows for the
    selection rate, positives for TPR, negatives for FPR). An effect past the limit that
    noise explains passes with a note saying more rows are needed. Groups under
    ``min_group_size`` rows are reported and left out (a warning if that leaves fewer than
    two groups). ``pos_label`` is the favourable outcome: 1 by default for 0/1 or boolean
    labels, required for other labels (other labels count as not selected).
    """
    di_limit = _within(
        resolve_threshold("fair_min_di", min_disparate_impact),
        "fair_min_di",
        "min_disparate_impact",
        0.0,
        1.0,
        open_low=True,
    )
    tpr_limit = _within(
        resolve_threshold("fair_max_tpr_gap", max_tpr_gap), "fair_max_tpr_gap", "max_tpr_gap", 0, 1
    )
    fpr_limit = _within(
        resolve_threshold("fair_max_fpr_gap", max_fpr_gap), "fair_max_fpr_gap", "max_fpr_gap", 0, 1
    )
    if (
        isinstance(min_group_size, bool)
        or not isinstance(min_group_size, int)
        or min_group_size < 1
    ):
        raise MLCheckUsageError(f"min_group_size must be an integer >= 1, got {min_group_size!r}.")
    true_values = _label_values(y_true, "y_true")
    pred_values = _label_values(y_pred, "y_pred")
    positive = _positive_label(true_values, pred_values, pos_label)
    truth = np.asarray(true_values == positive)
    pred = np.asarray(pred_values == positive)
    groups = labels_of(sensitive, "sensitive").astype(str)
    require_same_length(truth, pred, "y_true", "y_pred")
    require_same_length(truth, groups, "y_true", "sensitive")
    stats: list[dict[str, Any]] = []
    small: list[str] = []
    names, index = np.unique(groups, return_inverse=True)
    k = len(names)
    sizes = np.bincount(index, minlength=k)
    positives = np.bincount(index, weights=truth, minlength=k).astype(int)
    selected = np.bincount(index, weights=pred, minlength=k)
    true_pos = np.bincount(index, weights=pred & truth, minlength=k)
    false_pos = selected - true_pos
    for g, group in enumerate(names):
        n, pos_n = int(sizes[g]), int(positives[g])
        neg_n = n - pos_n
        row = {
            "group": str(group),
            "n": n,
            "positives": pos_n,
            "negatives": neg_n,
            "selection_rate": float(selected[g] / n),
            "tpr": float(true_pos[g] / pos_n) if pos_n else None,
            "fpr": float(false_pos[g] / neg_n) if neg_n else None,
        }
        if n < min_group_size:
            small.append(str(group))
            row["too_small"] = True
        stats.append(row)
    usable = [r for r in stats if not r.get("too_small")]
    details: dict[str, Any] = {"groups": stats, "too_small": small}
    rows = [
        [
            r["group"],
            f"{r['n']:,}",
            percent(r["selection_rate"]),
            "-" if r["tpr"] is None else percent(r["tpr"]),
            "-" if r["fpr"] is None else percent(r["fpr"]),
            "too few rows" if r.get("too_small") else "",
        ]
        for r in stats
    ]
    body = table(["group", "rows", "selected", "TPR", "FPR", ""], rows)
    if len(usable) < 2:
        message = compose(
            f"fair: fewer than two groups have {min_group_size} rows or more "
            f"({len(stats)} groups): rates cannot be compared with confidence.",
            body=body,
            fix="collect more data for the small groups or lower min_group_size knowingly.",
        )
        return result(False, "warning", None, di_limit, message, details)
    rates = [r["selection_rate"] for r in usable]
    di = min(rates) / max(rates) if max(rates) > 0 else 1.0
    tprs = [r["tpr"] for r in usable if r["tpr"] is not None]
    fprs = [r["fpr"] for r in usable if r["fpr"] is not None]
    tpr_gap = max(tprs) - min(tprs) if len(tprs) > 1 else 0.0
    fpr_gap = max(fprs) - min(fprs) if len(fprs) > 1 else 0.0
    n_pairs = len(usable) * (len(usable) - 1) // 2
    z = _z_two_sided(FAIR_ALPHA / (3 * n_pairs))
    measures: tuple[tuple[str, str, str, Callable[[np.ndarray, np.ndarray], np.ndarray]], ...]
    measures = (
        ("disparate impact", "selection_rate", "n", lambda ratio, gap: ratio < di_limit),
        ("TPR gap", "tpr", "positives", lambda ratio, gap: gap > tpr_limit),
        ("FPR gap", "fpr", "negatives", lambda ratio, gap: gap > fpr_limit),
    )
    problems: list[str] = []
    noise_notes: list[str] = []
    findings: dict[str, Any] = {}
    for label, rate, size, beyond_limit in measures:
        n_over, n_real, top = _rate_pairs(usable, rate, size, z, beyond_limit)
        findings[label] = {"beyond_limit": n_over, "beyond_noise": n_real, "pairs": top}
        if not n_over:
            continue
        worst = top[0]
        figure = (
            f"{fmt(worst['ratio'], 3)} ({worst['low']!r} {percent(worst['low_rate'])} vs "
            f"{worst['high']!r} {percent(worst['high_rate'])})"
            if rate == "selection_rate"
            else f"{fmt(worst['gap'], 3)} ({worst['low']!r} {percent(worst['low_rate'])} vs "
            f"{worst['high']!r} {percent(worst['high_rate'])})"
        )
        limit_text = (
            f"< {fmt(di_limit, 3)} (four-fifths rule)"
            if rate == "selection_rate"
            else f"> {fmt(tpr_limit if rate == 'tpr' else fpr_limit, 3)}"
            + (" (equal opportunity)" if rate == "tpr" else "")
        )
        noise_text = (
            f"gap {fmt(worst['gap'], 3)}, chance explains up to {fmt(worst['noise'], 3)} "
            f"at {worst['sizes'][0]:,} / {worst['sizes'][1]:,} {_size_word(size)}"
        )
        if n_real:
            problems.append(f"{label} {figure} {limit_text}; {noise_text}")
        else:
            noise_notes.append(f"{label} {figure} {limit_text} but within noise ({noise_text})")
    details.update(
        {
            "disparate_impact": di,
            "tpr_gap": tpr_gap,
            "fpr_gap": fpr_gap,
            "noise_z": z,
            "family_alpha": FAIR_ALPHA,
            "findings": findings,
        }
    )
    small_note = f" Too small to compare: {small[:10]}." if small else ""
    if not problems:
        note = (
            f" Not a finding: {'; '.join(noise_notes)}; more rows per group would tell."
            if noise_notes
            else ""
        )
        message = (
            f"fair: disparate impact {fmt(di, 3)}, TPR gap {fmt(tpr_gap, 3)}, FPR gap "
            f"{fmt(fpr_gap, 3)} across {plural(len(usable), 'group')}.{note}{small_note}"
        )
        return result(True, "error", di, di_limit, message, details)
    message = compose(
        f"fair: {'; '.join(problems)} across {plural(len(usable), 'group')}.{small_note}",
        body=body,
        why=(
            "the model selects or misses people at different rates depending on the group, "
            "beyond what chance gives at these group sizes: a legal and ethical risk (the "
            "four-fifths rule of the US EEOC guidelines), and often a sign that the data "
            "under-represents a group."
        ),
        fix=(
            "look at the per-group error rates above; rebalance or collect data for the "
            "disadvantaged group, use group-aware thresholds where lawful, and remove "
            "proxies of the sensitive attribute."
        ),
    )
    return result(False, "error", di, di_limit, message, details)


def _size_word(size: str) -> str:
    return {"n": "rows", "positives": "positives", "negatives": "negatives"}[size]


# ---------------------------------------------------------------------------- slices


POSITIVE_METRICS = ("recall", "precision", "f1", "roc_auc")
NUMERIC_METRICS = ("mae", "rmse", "r2")


def _metric_fn(
    metric: Any, positive: Any = 1
) -> tuple[Callable[[np.ndarray, np.ndarray], float], str, bool]:
    """A metric (y_true, y_pred) -> float, its name and whether greater is better; recall,
    precision, f1 and roc_auc score the ``positive`` label."""

    def accuracy(t: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(t == p))

    def recall(t: np.ndarray, p: np.ndarray) -> float:
        pos = t == positive
        return float(np.mean(p[pos] == positive)) if pos.any() else float("nan")

    def precision(t: np.ndarray, p: np.ndarray) -> float:
        sel = p == positive
        return float(np.mean(t[sel] == positive)) if sel.any() else float("nan")

    def f1(t: np.ndarray, p: np.ndarray) -> float:
        r, q = recall(t, p), precision(t, p)
        return 0.0 if not (r + q) or r != r or q != q else 2 * r * q / (r + q)

    def mae(t: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(np.abs(t - p)))

    def rmse(t: np.ndarray, p: np.ndarray) -> float:
        return float(np.sqrt(np.mean((t - p) ** 2)))

    def r2(t: np.ndarray, p: np.ndarray) -> float:
        sst = float(np.sum((t - t.mean()) ** 2))
        return float("nan") if sst == 0 else 1 - float(np.sum((t - p) ** 2)) / sst

    def roc_auc(t: np.ndarray, p: np.ndarray) -> float:
        from pytest_mlchecks.checks.data.leakage import _rank_auc

        return _rank_auc(p.astype(float), t == positive)

    known: dict[str, tuple[Callable[[np.ndarray, np.ndarray], float], bool]] = {
        "accuracy": (accuracy, True),
        "recall": (recall, True),
        "precision": (precision, True),
        "f1": (f1, True),
        "roc_auc": (roc_auc, True),
        "r2": (r2, True),
        "mae": (mae, False),
        "rmse": (rmse, False),
    }
    if isinstance(metric, str):
        if metric not in known:
            raise MLCheckUsageError(
                f"metric must be one of {sorted(known)} or a function, got {metric!r}."
            )
        fn, greater = known[metric]
        return fn, metric, greater
    if callable(metric):
        return metric, getattr(metric, "__name__", "metric"), True
    raise MLCheckUsageError(
        f"metric must be a name or a function (y_true, y_pred), got {metric!r}."
    )


def _slice_masks(slices: Any, n: int) -> dict[str, np.ndarray]:
    from pytest_mlchecks.inputs.tables import is_dataframe

    if isinstance(slices, dict):
        masks = {}
        for name, mask in slices.items():
            values = np.asarray(mask, dtype=bool)
            if values.shape != (n,):
                raise MLCheckUsageError(
                    f"slice {name!r} has shape {values.shape}: expected a boolean mask of {n} rows."
                )
            masks[str(name)] = values
        return masks
    obj = require_array_like(slices, "slices")
    if is_dataframe(obj):
        columns = {str(c): obj[c].astype(str).to_numpy() for c in obj.columns}
    else:
        columns = {"slice": labels_of(obj, "slices").astype(str)}
    masks = {}
    for col, values in columns.items():
        if len(values) != n:
            raise MLCheckUsageError(f"slices has {len(values):,} rows: expected {n:,}.")
        for value in np.unique(values):
            masks[f"{col}={value}" if len(columns) > 1 or col != "slice" else str(value)] = (
                values == value
            )
    return masks


SLICE_ALPHA = 0.001  # family-wise: how often a healthy model's slices cross the noise bar
SLICE_DRAWS = 200
SLICE_SIZES = 24  # distinct slice sizes simulated; others scale from the nearest one
SLICE_MAX_SIMULATED = 20_000  # larger slices scale from this size (cost stays bounded)


def _slice_noise(
    fn: Callable[[np.ndarray, np.ndarray], float],
    truth: np.ndarray,
    pred: np.ndarray,
    overall: float,
    greater: bool,
    seed: int,
    z: float,
) -> Callable[[int], float]:
    """The noise bar (in units of ``z``) of the shortfall of a random slice of a given size:
    its root mean square over seeded draws with a Cornish-Fisher skew term, or the worst draw
    over ``z`` if larger (rows drawn with replacement: a little wider than without, so
    conservative). A size within 10% of a simulated one, and any size once ``SLICE_SIZES``
    sizes are simulated, reuses the nearest simulated size, scaled by 1/sqrt(size)."""
    n = len(truth)
    cache: dict[int, float] = {}

    def simulate(size: int) -> float:
        rng = np.random.default_rng([seed, size])
        scores = np.empty(SLICE_DRAWS)
        for i in range(SLICE_DRAWS):
            rows = rng.integers(0, n, size)
            scores[i] = float(fn(truth[rows], pred[rows]))
        finite = scores[np.isfinite(scores)]
        if len(finite) < SLICE_DRAWS // 2:
            return math.inf  # the metric is mostly undefined at this size: no verdict
        shortfall = (overall - finite) if greater else (finite - overall)
        # spread around the overall score (a bias counts as noise), widened for skew by the
        # Cornish-Fisher term: precision or recall of a small slice has a longer lower tail
        # than a normal one; the worst draw guards heavier tails still (f1 drops to 0 when a
        # small slice happens to have no predicted positives)
        spread = float(np.sqrt(np.mean(shortfall**2)))
        centred = shortfall - shortfall.mean()
        sd = float(centred.std())
        skew = float(np.mean(centred**3)) / sd**3 if sd > 0 else 0.0
        widened = spread * (1.0 + max(skew, 0.0) * (z * z - 1.0) / (6.0 * z))
        return float(max(widened, shortfall.max() / z))

    def noise(size: int) -> float:
        if size > SLICE_MAX_SIMULATED:  # noise of large slices scales as 1/sqrt(size)
            return noise(SLICE_MAX_SIMULATED) * math.sqrt(SLICE_MAX_SIMULATED / size)
        if size in cache:
            return cache[size]
        nearest = min(cache, key=lambda s: abs(math.log(s / size)), default=None)
        close = nearest is not None and abs(math.log(nearest / size)) < 0.1
        if nearest is None or (not close and len(cache) < SLICE_SIZES):
            cache[size] = simulate(size)
            return cache[size]
        return cache[nearest] * math.sqrt(nearest / size)

    return noise


@check("slices_perform")
def check_slices_perform(
    y_true: Any,
    y_pred: Any,
    slices: Any,
    *,
    metric: Any,
    max_gap: float | None = None,
    min_size: int = 30,
    pos_label: Any = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect slices of the data where the model does much worse than overall.

    ``slices``: a vector of slice labels, a DataFrame (every column's values define slices) or
    a dict of boolean masks. ``metric``: accuracy, recall, precision, f1, roc_auc, r2, mae,
    rmse, or a function (y_true, y_pred) where greater is better. Figure: the largest shortfall
    of a slice against the overall score, held to ``max_gap`` (ini ``ml_slices_max_gap``,
    default 0.1); slices under ``min_size`` rows are listed but not judged. A slice is a
    finding only when its shortfall passes ``max_gap`` AND sampling noise: the shortfall a
    random set of rows of the slice's size shows (200 seeded draws, z at family-wise 0.1%
    over the judged slices), so small slices of a healthy model pass. recall,
    precision, f1 and roc_auc score ``pos_label`` (1 by default for 0/1 or boolean labels,
    required for other labels).
    """
    limit = _within(
        resolve_threshold("slices_max_gap", max_gap), "slices_max_gap", "max_gap", 0, math.inf
    )
    if isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 1:
        raise MLCheckUsageError(f"min_size must be an integer >= 1, got {min_size!r}.")
    truth = labels_of(y_true, "y_true")
    pred = labels_of(y_pred, "y_pred")
    require_same_length(truth, pred, "y_true", "y_pred")
    positive: Any = 1
    if metric in POSITIVE_METRICS:
        labels = pred if metric != "roc_auc" else truth  # roc_auc's y_pred are scores
        positive = _positive_label(truth, labels, pos_label)
    elif metric in NUMERIC_METRICS and not (
        truth.dtype.kind in "biuf" and pred.dtype.kind in "biuf"
    ):
        raise MLCheckUsageError(
            f"metric {metric} needs numeric y_true and y_pred, got {truth.dtype} and "
            f"{pred.dtype}: use accuracy, recall, precision or f1 for labels."
        )
    fn, name, greater = _metric_fn(metric, positive)
    overall = float(fn(truth, pred))
    if overall != overall:
        raise MLCheckUsageError(f"metric {name} is undefined on the whole data: cannot decide.")
    results: list[dict[str, Any]] = []
    for label, mask in _slice_masks(slices, len(truth)).items():
        size = int(mask.sum())
        score = float(fn(truth[mask], pred[mask])) if size else float("nan")
        shortfall = (overall - score) if greater else (score - overall)
        results.append(
            {
                "slice": label,
                "size": size,
                "score": score,
                "shortfall": shortfall,
                "judged": size >= min_size and score == score,
            }
        )
    results.sort(key=lambda r: -(r["shortfall"] if r["shortfall"] == r["shortfall"] else -1e9))
    judged = [r for r in results if r["judged"]]
    worst = judged[0]["shortfall"] if judged else 0.0
    z = _z_two_sided(2 * SLICE_ALPHA / max(len(judged), 1))  # one-sided
    noise_of = _slice_noise(fn, truth, pred, overall, greater, current_seed(random_state), z)
    for r in judged:
        r["noise"] = z * noise_of(r["size"])
    if len(judged) == 1 and judged[0]["size"] == len(truth):
        raise MLCheckUsageError(
            "slices define a single slice holding every row: nothing to compare it with; "
            "expected at least two slice values (or masks of part of the rows)."
        )
    if judged and all(r["noise"] == math.inf for r in judged):
        raise MLCheckUsageError(
            f"metric {name} is undefined on most random slices of these sizes (e.g. no "
            "positive rows): cannot tell a weak slice from chance; use larger slices "
            "(min_size) or a metric defined on every slice, such as accuracy."
        )
    over = [r for r in judged if r["shortfall"] > limit]
    failing = [r for r in over if r["shortfall"] > r["noise"]]
    details = {
        "metric": name,
        "overall": overall,
        "noise_z": z,
        "family_alpha": SLICE_ALPHA,
        "slices": results[:50],
    }
    rows = [
        [
            r["slice"],
            f"{r['size']:,}",
            fmt(r["score"], 4),
            fmt(r["shortfall"], 4),
            fmt(r["noise"], 4) if "noise" in r else "-",
            "" if r["judged"] else "too small",
        ]
        for r in results[:12]
    ]
    body = table(["slice", "rows", name, "shortfall", "noise", ""], rows)
    if not judged:
        raise MLCheckUsageError(
            f"no slice has {min_size} rows or more with a defined {name}: cannot decide."
        )
    if not failing:
        note = (
            f" {plural(len(over), 'slice')} past the limit within sampling noise (e.g. "
            f"{over[0]['slice']!r}: shortfall {fmt(over[0]['shortfall'], 4)}, chance explains up "
            f"to {fmt(over[0]['noise'], 4)} at {over[0]['size']:,} rows): not a finding; more "
            "rows would tell."
            if over
            else ""
        )
        message = (
            f"slices_perform: weakest slice {judged[0]['slice']!r} ({judged[0]['size']:,} rows) "
            f"scores {fmt(judged[0]['score'], 4)} vs {fmt(overall, 4)} overall ({name}; "
            f"shortfall {fmt(worst, 4)}, limit {fmt(limit, 4)}).{note}"
        )
        return result(True, "error", worst, limit, message, details)
    message = compose(
        f"slices_perform: {plural(len(failing), 'slice')} fall more than {fmt(limit, 4)} below "
        f"the overall {name} {fmt(overall, 4)}; weakest {failing[0]['slice']!r} "
        f"({failing[0]['size']:,} rows) at {fmt(failing[0]['score'], 4)} (sampling noise "
        f"explains a shortfall up to {fmt(failing[0]['noise'], 4)} at that size).",
        body=body,
        why=(
            "an average hides where the model fails: a weak slice is a group of users, a "
            "region or a product for which the model is much worse than reported."
        ),
        fix=(
            "look at the weakest slices first: more or better data for them, features that "
            "describe them, or a separate model / rule; keep this test to watch them."
        ),
    )
    return result(False, "error", worst, limit, message, details)


# --------------------------------------------------------------- the HTML report's charts
from pytest_mlchecks._charts import BarChart, Series, chart  # noqa: E402


@chart("no_overfitting", "not_suspiciously_good")
def _chart_train_vs_test(details: dict[str, Any]) -> list[BarChart]:
    """Train vs test score."""
    if "train_score" not in details:
        return []
    scores = [details["train_score"], details["test_score"]]
    metric = str(details.get("metric", "score"))
    return [BarChart("Train vs test score", ["train", "test"], [Series(metric, scores)])]


@chart("fair")
def _chart_fair(details: dict[str, Any]) -> list[BarChart]:
    """Selection rate and true positive rate per group (the first 20 groups)."""
    groups = (details.get("groups") or [])[:20]
    if not groups:
        return []
    return [
        BarChart(
            "Per-group rates",
            [g["group"] for g in groups],
            [
                Series("selection rate", [g["selection_rate"] for g in groups], "ref"),
                Series("TPR", [g["tpr"] for g in groups], "cur"),
            ],
        )
    ]
