"""Model rung for scikit-learn style estimators: does the model beat trivial baselines?

scikit-learn is optional; these helpers import it when called and name the extra otherwise.
A fitted model is never refitted or mutated: unfitted models are fitted as clones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_mlchecks._deps import require
from pytest_mlchecks._messages import compose, percent
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.tables import (
    Metric,
    ModelInput,
    VectorLike,
    fmt,
    is_sparse,
    label_vector,
    require_array_like,
    require_rows,
    require_same_length,
    require_unique_columns,
    table,
)

__all__ = [
    "check_beats_baselines",
    "check_beats_dummy",
]

IMBALANCE = 0.10  # minority share under which PR-AUC replaces ROC-AUC


# ---------------------------------------------------------------------------- shared helpers


@dataclass
class Task:
    kind: str  # "binary", "multiclass", "regression"
    classes: list[Any]
    minority: float  # minority class share in y_train (classification)
    majority: float
    # binary labels other than 0/1 or booleans: the label that precision-type metrics score
    # (the minority class, the one an imbalanced problem is about); None: scikit-learn's 1
    positive: Any = None


def sklearn_for(helper: str) -> Any:
    return require("sklearn", helper=helper)


def is_fitted(model: Any) -> bool:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        return False
    except TypeError:  # not an estimator sklearn recognises: assume the caller fitted it
        return True
    return True


def fitted_copy(model: Any, X: Any, y: Any, arg: str = "model") -> tuple[Any, bool]:
    """The model itself if fitted, else a fitted clone (the caller's object stays untouched)."""
    from sklearn.base import clone

    if not (hasattr(model, "fit") and hasattr(model, "predict")):
        raise MLCheckUsageError(
            f"{arg} is a {type(model).__name__}: expected a scikit-learn style estimator "
            "with fit and predict."
        )
    if is_fitted(model):
        return model, False
    fresh = clone(model)
    fresh.fit(X, y)
    return fresh, True


labels_of = label_vector


def task_of(model: Any, y_train: np.ndarray) -> Task:
    from sklearn.base import is_classifier, is_regressor

    if not (hasattr(model, "fit") and hasattr(model, "predict")):
        raise MLCheckUsageError(
            f"model is a {type(model).__name__}: expected a scikit-learn style estimator "
            "with fit and predict."
        )
    if is_regressor(model):
        return Task("regression", [], 0.0, 0.0)
    classes, counts = np.unique(y_train, return_counts=True)
    classification = is_classifier(model) or y_train.dtype.kind in "bOUS" or len(classes) <= 2
    if not classification:
        return Task("regression", [], 0.0, 0.0)
    if len(classes) < 2:
        raise MLCheckUsageError(
            f"y_train has a single class ({classes[0]!r}): expected at least two classes; no "
            "classifier can learn or be compared on one."
        )
    shares = counts / counts.sum()
    kind = "binary" if len(classes) == 2 else "multiclass"
    positive = None
    if kind == "binary" and not {c.item() if hasattr(c, "item") else c for c in classes} <= {0, 1}:
        chosen = classes[int(np.argmin(counts))] if counts[0] != counts[1] else classes[1]
        positive = chosen.item() if hasattr(chosen, "item") else chosen
    return Task(kind, list(classes), float(shares.min()), float(shares.max()), positive)


def has_scores(model: Any) -> bool:
    return callable(getattr(model, "predict_proba", None)) or callable(
        getattr(model, "decision_function", None)
    )


def default_metric(task: Task, model: Any) -> tuple[str, str]:
    """The metric to use and why."""
    if task.kind == "regression":
        return "r2", "R^2 for regression"
    if task.kind == "multiclass":
        return "f1_macro", "macro F1 for multiclass (every class counts alike)"
    if not has_scores(model):
        return "balanced_accuracy", "balanced accuracy (the model gives no scores for AUC)"
    if task.minority < IMBALANCE:
        return (
            "average_precision",
            f"PR-AUC (average precision): the minority class is {percent(task.minority)}",
        )
    return "roc_auc", "ROC-AUC for balanced binary classification with scores"


_NEEDS_SCORES = {"roc_auc", "average_precision", "roc_auc_ovr", "roc_auc_ovo", "neg_log_loss"}


_POSITIVE_METRICS = {"average_precision": True, "f1": False, "precision": False, "recall": False}


def _positive_scorer(metric: str, positive: Any) -> Callable[[Any, Any, Any], float]:
    """A scorer of ``metric`` for the label ``positive`` (scikit-learn's own scorers assume
    the positive label is 1): scores of that class for average precision, labels otherwise."""
    from sklearn import metrics

    func = getattr(metrics, f"{metric}_score")

    def score(estimator: Any, X: Any, y: Any) -> float:
        if not _POSITIVE_METRICS[metric]:
            return float(func(y, estimator.predict(X), pos_label=positive))
        index = list(estimator.classes_).index(positive)
        proba = getattr(estimator, "predict_proba", None)
        if callable(proba):
            scores = np.asarray(proba(X))[:, index]
        else:
            decision = np.asarray(estimator.decision_function(X))
            scores = decision if index == 1 else -decision
        return float(func(y, scores, pos_label=positive))

    return score


def scorer_for(
    metric: Any, model: Any, task: Task | None = None
) -> tuple[Callable[[Any, Any, Any], float], str]:
    """A scorer (estimator, X, y) -> float, greater is better, and its display name."""
    from sklearn.metrics import get_scorer, make_scorer

    if isinstance(metric, str):
        try:
            scorer = get_scorer(metric)
        except ValueError as exc:
            raise MLCheckUsageError(
                f"metric {metric!r} is not a scikit-learn scorer name (e.g. 'roc_auc', "
                "'average_precision', 'f1_macro', 'balanced_accuracy', 'r2')."
            ) from exc
        if metric in _NEEDS_SCORES and not has_scores(model):
            raise MLCheckUsageError(
                f"metric {metric!r} needs predicted scores but {type(model).__name__} has "
                "neither predict_proba nor decision_function: pick a label metric such as "
                "'balanced_accuracy' or 'f1_macro'."
            )
        if task is not None and task.positive is not None and metric in _POSITIVE_METRICS:
            return _positive_scorer(metric, task.positive), f"{metric} of {task.positive!r}"
        return scorer, metric
    if callable(metric):
        if hasattr(metric, "_score_func"):  # already a scorer from make_scorer
            return metric, getattr(metric._score_func, "__name__", "custom scorer")
        return make_scorer(metric), getattr(metric, "__name__", "custom metric")
    raise MLCheckUsageError(
        f"metric must be a scorer name, a scorer or a function (y_true, y_pred), got {metric!r}."
    )


def dummy_for(task: Task, metric_name: str) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if task.kind == "regression":
        return DummyRegressor(strategy="mean")
    if metric_name in _NEEDS_SCORES:
        return DummyClassifier(strategy="prior")
    return DummyClassifier(strategy="most_frequent")


def check_pairs(X_train: Any, y_train: Any, X_test: Any, y_test: Any) -> tuple[Any, ...]:
    # scipy sparse X is handed to scikit-learn as is (it reads CSR/CSC), never densified
    X_train = require_unique_columns(
        require_array_like(X_train, "X_train", allow_sparse=True), "X_train"
    )
    require_rows(X_train, "X_train")
    ytr = labels_of(y_train, "y_train")
    require_same_length(X_train, ytr, "X_train", "y_train")
    if X_test is None and y_test is None:
        return X_train, ytr, None, None
    if X_test is None or y_test is None:
        raise MLCheckUsageError("pass both X_test and y_test, or neither (with cv=).")
    X_test = require_unique_columns(
        require_array_like(X_test, "X_test", allow_sparse=True), "X_test"
    )
    require_rows(X_test, "X_test")
    if is_sparse(X_train) != is_sparse(X_test):
        raise MLCheckUsageError(
            "X_train and X_test must both be sparse or both dense: pass the same kind of matrix."
        )
    columns = (_width(X_train), _width(X_test))
    if None not in columns and columns[0] != columns[1]:
        raise MLCheckUsageError(
            f"X_train has {columns[0]} columns but X_test has {columns[1]}: expected the same "
            "features in both splits."
        )
    yte = labels_of(y_test, "y_test")
    require_same_length(X_test, yte, "X_test", "y_test")
    return X_train, ytr, X_test, yte


def _width(X: Any) -> int | None:
    shape = getattr(X, "shape", None)
    return int(shape[1]) if shape is not None and len(shape) == 2 else None


def unseen_test_classes(task: Task, y_test: np.ndarray) -> None:
    if task.kind == "regression":
        return
    unseen = sorted(set(np.unique(y_test).tolist()) - set(np.asarray(task.classes).tolist()))
    if unseen:
        raise MLCheckUsageError(
            f"y_test has classes never seen in y_train ({unseen[:5]}): expected test classes "
            "to be a subset of training classes (stratify the split)."
        )


def splitter(task: Task, cv: int, seed: int, groups: Any = None) -> Any:
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

    if not isinstance(cv, int) or cv < 2:
        raise MLCheckUsageError(f"cv must be an integer >= 2, got {cv!r}.")
    if groups is not None:
        return GroupKFold(n_splits=cv)
    if task.kind == "regression":
        return KFold(n_splits=cv, shuffle=True, random_state=seed)
    return StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)


def accuracy_trap(task: Task, metric_name: str) -> str:
    if task.kind == "regression" or metric_name != "accuracy" or task.majority < 0.8:
        return ""
    return (
        f" Accuracy misleads here: the majority class is {percent(task.majority)} of the "
        "labels, so always predicting it scores that much while finding nothing; use "
        "average_precision (PR-AUC), balanced_accuracy or f1_macro."
    )


# ---------------------------------------------------------------------------- beats dummy


def _cv_scores(model: Any, X: Any, y: Any, scorer: Any, split: Any, groups: Any) -> np.ndarray:
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    return np.asarray(
        cross_val_score(clone(model), X, y, scoring=scorer, cv=split, groups=groups),
        dtype=float,
    )


@check("beats_dummy")
def check_beats_dummy(
    model: Any,
    X_train: ModelInput,
    y_train: VectorLike,
    X_test: ModelInput | None = None,
    y_test: VectorLike | None = None,
    *,
    metric: Metric | None = None,
    margin: float | None = None,
    cv: int | None = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect a model that does not beat the matching ``Dummy*`` baseline.

    The baseline (prior / most-frequent class, or the mean) is fitted on the training split
    and both are scored on the test split; with ``cv=k`` both are cross-validated on the
    training data instead (seeded folds). Default metric: ROC-AUC for balanced binary with
    scores, PR-AUC when the minority class is under 10%, macro F1 for multiclass, R^2 for
    regression. Figure: model score minus dummy score, held to ``margin`` (ini
    ``ml_beats_dummy_margin``, default 0.02).
    """
    sklearn_for("assert_beats_dummy")
    gap_needed = resolve_threshold("beats_dummy_margin", margin)
    X_train, ytr, X_test, yte = check_pairs(X_train, y_train, X_test, y_test)
    task = task_of(model, ytr)
    name, why_metric = (
        (metric, "chosen by the caller") if metric is not None else (default_metric(task, model))
    )
    scorer, label = scorer_for(name, model, task)
    dummy = dummy_for(task, str(name))
    seed = current_seed(random_state)
    details: dict[str, Any] = {"task": task.kind, "metric": label, "metric_reason": why_metric}
    if cv is not None:
        split = splitter(task, cv, seed)
        model_scores = _cv_scores(model, X_train, ytr, scorer, split, None)
        dummy_scores = _cv_scores(dummy, X_train, ytr, scorer, split, None)
        ours, base = float(model_scores.mean()), float(dummy_scores.mean())
        details.update(
            {"cv": cv, "model_folds": model_scores.tolist(), "dummy_folds": dummy_scores.tolist()}
        )
        where = f"{cv}-fold cross-validated"
    else:
        if X_test is None:
            raise MLCheckUsageError("pass X_test and y_test, or cv=k to cross-validate.")
        unseen_test_classes(task, yte)
        fitted, refitted = fitted_copy(model, X_train, ytr)
        dummy.fit(X_train, ytr)
        ours, base = float(scorer(fitted, X_test, yte)), float(scorer(dummy, X_test, yte))
        details["fitted_a_clone"] = refitted
        where = "test"
    gap = ours - base
    passed = gap >= gap_needed
    details.update({"model_score": ours, "dummy_score": base, "gap": gap})
    trap = accuracy_trap(task, str(label))
    head = (
        f"beats_dummy: model {label} {fmt(ours, 4)} vs {type(dummy).__name__} "
        f"{fmt(base, 4)} on {where} data (gap {fmt(gap, 4)}, needs {fmt(gap_needed, 4)})."
    )
    if passed:
        return result(True, "error", gap, gap_needed, head + trap, details)
    message = compose(
        head + trap,
        why=(
            "a model no better than predicting the prior or the mean has learned nothing "
            "usable; everything downstream (tuning, fairness, monitoring) is moot."
        ),
        fix=(
            "check the labels (shuffled or misaligned?), the features (informative, leaked "
            "noise, wrong join?) and the metric; try the linear baseline "
            "(assert_beats_baselines) to see whether any signal is there."
        ),
    )
    return result(False, "error", gap, gap_needed, message, details)


# ---------------------------------------------------------------------------- baselines


def linear_baseline(task: Task, X: Any) -> Any:
    """Impute + scale (+ one-hot for categorical columns) + logistic / ridge regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from pytest_mlchecks.inputs.tables import is_dataframe, is_sparse

    final = Ridge() if task.kind == "regression" else LogisticRegression(max_iter=2000)
    # centring would densify a sparse X: scale it only
    numeric = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(with_mean=not is_sparse(X))
    )
    if is_dataframe(X):
        import pandas as pd

        cat_cols = [
            c
            for c in X.columns
            if not pd.api.types.is_numeric_dtype(X[c].dtype) or X[c].dtype == bool
        ]
        if cat_cols:
            num_cols = [c for c in X.columns if c not in cat_cols]
            pre = ColumnTransformer(
                [
                    ("num", numeric, num_cols),
                    (
                        "cat",
                        make_pipeline(
                            SimpleImputer(strategy="most_frequent"),
                            OneHotEncoder(handle_unknown="ignore"),
                        ),
                        cat_cols,
                    ),
                ]
            )
            return make_pipeline(pre, final)
    return make_pipeline(numeric, final)


def is_linear_model(model: Any) -> bool:
    """A scikit-learn linear model, or a pipeline ending in one."""
    final = getattr(model, "_final_estimator", model)
    return type(final).__module__.startswith("sklearn.linear_model")


@check("beats_baselines")
def check_beats_baselines(
    model: Any,
    X_train: ModelInput,
    y_train: VectorLike,
    X_test: ModelInput,
    y_test: VectorLike,
    *,
    metric: Metric | None = None,
    margin: float | None = None,
) -> CheckResult:
    """Detect where a model stalls on the ladder dummy < linear < model.

    Scores the Dummy baseline, a linear baseline (imputer + scaler + one-hot + logistic
    regression or ridge) and the model on the test split with one metric (defaults as in
    ``beats_dummy``), and diagnoses the first rung that fails. A linear model (or a pipeline
    ending in one) is its own linear rung: it only has to beat the dummy. Figure: the
    model's score minus the best baseline's, held to ``margin`` (ini
    ``ml_beats_dummy_margin``, 0.02).
    """
    sklearn_for("assert_beats_baselines")
    gap_needed = resolve_threshold("beats_dummy_margin", margin)
    X_train, ytr, X_test, yte = check_pairs(X_train, y_train, X_test, y_test)
    task = task_of(model, ytr)
    unseen_test_classes(task, yte)
    name = metric if metric is not None else default_metric(task, model)[0]
    scorer, label = scorer_for(name, model, task)
    fitted, _ = fitted_copy(model, X_train, ytr)
    dummy = dummy_for(task, str(name)).fit(X_train, ytr)
    linear = linear_baseline(task, X_train).fit(X_train, ytr)
    scores = {
        "dummy": float(scorer(dummy, X_test, yte)),
        "linear": float(scorer(linear, X_test, yte)),
        "model": float(scorer(fitted, X_test, yte)),
    }
    linear_model = is_linear_model(model)
    details: dict[str, Any] = {
        "task": task.kind,
        "metric": label,
        "scores": scores,
        "linear_rung_skipped": linear_model,
    }
    rows = [[k, fmt(v, 4)] for k, v in scores.items()]
    body = table(["rung", label], rows)
    over_dummy = scores["model"] - scores["dummy"]
    over_linear = scores["model"] - scores["linear"]
    if over_dummy < gap_needed:
        stage, gap = "dummy", over_dummy
        diagnosis = (
            "barely above dummy: check data and labels (shuffled, misaligned or noisy "
            "labels; features that carry no signal; a broken join)."
        )
    elif over_linear < gap_needed and not linear_model:
        stage, gap = "linear", over_linear
        diagnosis = (
            "worse than (or level with) the linear baseline: check scaling and encoding, "
            "features that add noise, and whether the model's capacity or tuning fits the "
            "problem; otherwise ship the simpler model."
        )
    else:
        stage, gap = "", over_dummy if linear_model else min(over_dummy, over_linear)
        diagnosis = ""
    details.update({"failed_rung": stage or None, "gap": gap})
    if not stage:
        beaten = (
            f"dummy {fmt(scores['dummy'], 4)} (the model is linear: it is its own linear "
            f"rung; the linear baseline scores {fmt(scores['linear'], 4)})"
            if linear_model
            else f"dummy {fmt(scores['dummy'], 4)} and linear {fmt(scores['linear'], 4)}"
        )
        message = (
            f"beats_baselines: model {label} {fmt(scores['model'], 4)} beats {beaten} by at "
            f"least {fmt(gap, 4)} (needs {fmt(gap_needed, 4)})."
        )
        return result(True, "error", gap, gap_needed, message, details)
    message = compose(
        f"beats_baselines: the model stalls at the {stage} rung ({label}: model "
        f"{fmt(scores['model'], 4)} vs {stage} {fmt(scores[stage], 4)}, gap {fmt(gap, 4)}, "
        f"needs {fmt(gap_needed, 4)}) - {diagnosis}",
        body=body,
        why=(
            "each rung of the ladder is a cheaper model that must be beaten; a model that "
            "cannot beat them adds cost and risk without value."
        ),
        fix=diagnosis,
    )
    return result(False, "error", gap, gap_needed, message, details)


# --------------------------------------------------------------- the HTML report's charts
from pytest_mlchecks._charts import BarChart, Series, chart  # noqa: E402


@chart("beats_dummy")
def _chart_beats_dummy(details: dict[str, Any]) -> list[BarChart]:
    """Model vs dummy baseline score."""
    if "model_score" not in details:
        return []
    scores = [details["dummy_score"], details["model_score"]]
    metric = str(details.get("metric", "score"))
    return [BarChart("Model vs dummy baseline", ["dummy", "model"], [Series(metric, scores)])]


@chart("beats_baselines")
def _chart_beats_baselines(details: dict[str, Any]) -> list[BarChart]:
    """The score of each rung of the baseline ladder."""
    scores = details.get("scores") or {}
    if not scores:
        return []
    metric = str(details.get("metric", "score"))
    series = [Series(metric, list(scores.values()))]
    return [BarChart("The baseline ladder", list(scores), series)]
