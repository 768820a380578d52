"""Evaluation rung: generalisation gap, suspicious scores, fold stability.

The group checks (fairness, slices) live in :mod:`.groups`.
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._charts import BarChart, Chart, Series, chart
from pytest_mlchecks._messages import compose, explain
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.models import (
    Scorer,
    check_pairs,
    choose_metric,
    cross_validated,
    fitted_copy,
    fold_inputs,
    fold_spread,
    scorer_for,
    sklearn_for,
    splitter,
    task_of,
    unseen_test_classes,
)
from pytest_mlchecks.inputs.tables import (
    Metric,
    ModelInput,
    TableLike,
    VectorLike,
    fmt,
    require_array_like,
    require_same_length,
)

__all__ = [
    "check_no_overfitting",
    "check_not_suspiciously_good",
    "check_stable_across_folds",
]


class TrainTestDetails(TypedDict, total=False):
    """A model's scores on its training and test splits (the record's ``details``)."""

    task: str
    metric: str
    metric_reason: str
    train_score: float
    test_score: float
    fitted_a_clone: bool
    gap: float  # no_overfitting: train minus test
    reasons: list[str]  # not_suspiciously_good: what is too good


def _measure_train_test(
    model: Any,
    X_train: ModelInput,
    y_train: VectorLike,
    X_test: ModelInput,
    y_test: VectorLike,
    metric: Metric | None,
    helper: str,
) -> TrainTestDetails:
    """Train and test scores of the model (a fitted clone if it is not fitted) with the
    caller's metric or the default of ``beats_dummy``."""
    sklearn_for(helper)
    X_train, ytr, X_test, yte = check_pairs(X_train, y_train, X_test, y_test)
    if X_test is None or yte is None:
        raise MLCheckUsageError("pass X_test and y_test.")
    task = task_of(model, ytr)
    unseen_test_classes(task, yte)
    name, reason = choose_metric(metric, task, model)
    scorer, label = scorer_for(name, model, task)
    fitted, refitted = fitted_copy(model, X_train, ytr)
    return {
        "task": task.kind,
        "metric": str(label),
        "metric_reason": reason,
        "train_score": float(scorer(fitted, X_train, ytr)),
        "test_score": float(scorer(fitted, X_test, yte)),
        "fitted_a_clone": refitted,
    }


# ---------------------------------------------------------------------------- overfitting

NO_OVERFITTING_WHY = (
    "the model memorised the training rows: its training score says nothing about "
    "new data, and small changes in the data will move its predictions a lot."
)
NO_OVERFITTING_FIX = (
    "regularise (max_depth / min_samples_leaf for trees, alpha / C for linear "
    "models, dropout and weight decay for nets), get more data, or drop noisy "
    "features; tune on validation folds, not on the training score."
)


def _explain_no_overfitting(details: TrainTestDetails, limit: float) -> str:
    head = (
        f"no_overfitting: train {details['metric']} {fmt(details['train_score'], 4)} vs test "
        f"{fmt(details['test_score'], 4)} (gap {fmt(details['gap'], 4)}, limit {fmt(limit, 4)})."
    )
    passed = details["gap"] <= limit
    return explain(passed, head, why=NO_OVERFITTING_WHY, fix=NO_OVERFITTING_FIX)


@check("no_overfitting")
def check_no_overfitting(
    model: Any,
    X_train: ModelInput,
    y_train: VectorLike,
    X_test: ModelInput,
    y_test: VectorLike,
    *,
    max_gap: float | None = None,
    metric: Metric | None = None,
) -> CheckResult:
    """Detect overfitting: the train score exceeds the test score by more than ``max_gap``.

    Figure: train minus test score with the default metric of ``beats_dummy`` (ini
    ``ml_overfitting_max_gap``, default 0.10).
    """
    limit = resolve_threshold("overfitting_max_gap", max_gap)
    details = _measure_train_test(
        model, X_train, y_train, X_test, y_test, metric, "assert_no_overfitting"
    )
    gap = details["gap"] = details["train_score"] - details["test_score"]
    message = _explain_no_overfitting(details, limit)
    return result(gap <= limit, "error", gap, limit, message, dict(details))


# ---------------------------------------------------------------------------- too good

NOT_SUSPICIOUSLY_GOOD_WHY = (
    "real data is noisy: near-perfect held-out scores, or a test split that scores "
    "better than the data the model was fitted on, usually mean the test data leaks "
    "the answer."
)
NOT_SUSPICIOUSLY_GOOD_FIX = (
    "run assert_no_leakage on the splits (shared rows, target-derived features, rows "
    "from the future), check how the split was made, and look at the top features."
)


def _judge_not_suspiciously_good(
    details: TrainTestDetails, limit: float, advantage: float
) -> list[str]:
    """What is too good to be true: a near-perfect test score, test beating train."""
    train, test = details["train_score"], details["test_score"]
    reasons = []
    if test >= limit:
        reasons.append(
            f"near-perfect test {details['metric']} {fmt(test, 4)} (limit {fmt(limit, 4)})"
        )
    if test - train > advantage:
        reasons.append(
            f"test beats train by {fmt(test - train, 4)} (more than {fmt(advantage, 4)})"
        )
    return reasons


def _explain_not_suspiciously_good(details: TrainTestDetails) -> str:
    if not details["reasons"]:
        return (
            f"not_suspiciously_good: train {details['metric']} "
            f"{fmt(details['train_score'], 4)}, test {fmt(details['test_score'], 4)}: "
            "nothing too good to be true."
        )
    return compose(
        f"not_suspiciously_good: {'; '.join(details['reasons'])}.",
        why=NOT_SUSPICIOUSLY_GOOD_WHY,
        fix=NOT_SUSPICIOUSLY_GOOD_FIX,
    )


@check("not_suspiciously_good")
def check_not_suspiciously_good(
    model: Any,
    X_train: ModelInput,
    y_train: VectorLike,
    X_test: ModelInput,
    y_test: VectorLike,
    *,
    max_score: float | None = None,
    max_test_advantage: float | None = None,
    metric: Metric | None = None,
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
    details = _measure_train_test(
        model, X_train, y_train, X_test, y_test, metric, "assert_not_suspiciously_good"
    )
    details["reasons"] = _judge_not_suspiciously_good(details, limit, advantage)
    message = _explain_not_suspiciously_good(details)
    passed = not details["reasons"]
    return result(passed, "error", details["test_score"], limit, message, dict(details))


# ---------------------------------------------------------------------------- folds

STABLE_ACROSS_FOLDS_WHY = (
    "when the score moves this much with the split, any single test score (and any "
    "comparison between two models) is mostly luck."
)
STABLE_ACROSS_FOLDS_FIX = (
    "get more data or fewer features, regularise, check for groups that should not "
    "be split (pass groups=), and report the spread together with the mean."
)


class FoldsDetails(TypedDict):
    """What ``stable_across_folds`` measured (the record's ``details``)."""

    metric: str
    folds: list[float]
    mean: float
    std: float  # sample standard deviation of the fold scores
    grouped: bool


def _fold_groups(groups: VectorLike | None, X: Any) -> np.ndarray | None:
    if groups is None:
        return None
    values = np.asarray(require_array_like(groups, "groups"))
    require_same_length(X, values, "X", "groups")
    return values


def _measure_folds(
    model: Any, X: Any, y: np.ndarray, scorer: Scorer, split: Any, groups: np.ndarray | None
) -> tuple[list[float], float, float]:
    """Cross-validated scores, their mean and their spread (sample standard deviation)."""
    scores = cross_validated(model, X, y, scorer, split, groups)
    return scores.tolist(), float(scores.mean()), fold_spread(scores)


def _explain_stable_across_folds(details: FoldsDetails, limit: float) -> str:
    folds = ", ".join(fmt(s, 4) for s in details["folds"])
    head = (
        f"stable_across_folds: {details['metric']} over {len(details['folds'])} folds "
        f"[{folds}], mean {fmt(details['mean'], 4)}, std {fmt(details['std'], 4)} (limit "
        f"{fmt(limit, 4)})."
    )
    passed = details["std"] <= limit
    return explain(passed, head, why=STABLE_ACROSS_FOLDS_WHY, fix=STABLE_ACROSS_FOLDS_FIX)


@check("stable_across_folds")
def check_stable_across_folds(
    model: Any,
    X: TableLike,
    y: VectorLike,
    *,
    cv: int = 5,
    max_std: float | None = None,
    groups: VectorLike | None = None,
    metric: Metric | None = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect unstable performance: the spread of cross-validated scores across folds.

    Folds are stratified for classification, grouped when ``groups`` is given, shuffled with
    the session seed otherwise. Figure: the standard deviation of the fold scores, held to
    ``max_std`` (ini ``ml_folds_max_std``, default 0.05); per-fold scores in the message.
    """
    sklearn_for("assert_stable_across_folds")
    limit = resolve_threshold("folds_max_std", max_std)
    X, labels = fold_inputs(X, y)
    task = task_of(model, labels)
    scorer, label = scorer_for(choose_metric(metric, task, model)[0], model, task)
    split = splitter(task, cv, current_seed(random_state), groups)
    folds, mean, spread = _measure_folds(model, X, labels, scorer, split, _fold_groups(groups, X))
    details: FoldsDetails = {
        "metric": label,
        "folds": folds,
        "mean": mean,
        "std": spread,
        "grouped": groups is not None,
    }
    message = _explain_stable_across_folds(details, limit)
    return result(spread <= limit, "error", spread, limit, message, dict(details))


# --------------------------------------------------------------- the HTML report's charts


@chart("no_overfitting", "not_suspiciously_good")
def _chart_train_vs_test(details: dict[str, Any]) -> list[Chart]:
    """Train vs test score, as dots on an axis zoomed to the scores."""
    if "train_score" not in details:
        return []
    labels, scores = ["train", "test"], [details["train_score"], details["test_score"]]
    metric = str(details.get("metric", "score"))
    return [BarChart("Train vs test score", labels, [Series(metric, scores)], zoom=True)]
