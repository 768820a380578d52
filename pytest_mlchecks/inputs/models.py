"""The model adapter: what a scikit-learn style model is asked, and what it answers.

What kind of task a target is (``task_of_target``, ``task_of``), which metric suits it and how
it is scored (``default_metric``, ``scorer_for``), fitted copies, baselines, folds and split
validation for the model checks, and one way to read a model's output (``model_output``,
``model_outputs``: each caller passes the order of methods it prefers).

scikit-learn is optional: it is imported when a function needs it, and ``sklearn_for`` names
the extra to install. A fitted model is never refitted or mutated: unfitted models are fitted
as clones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, TypeAlias

import numpy as np

from pytest_mlchecks._deps import require
from pytest_mlchecks._messages import percent
from pytest_mlchecks._result import MLCheckUsageError
from pytest_mlchecks.inputs.metrics import METRICS, needs_scores
from pytest_mlchecks.inputs.tables import (
    Metric,
    ModelInput,
    TaskName,
    VectorLike,
    is_series,
    is_sparse,
    label_vector,
    require_array_like,
    require_rows,
    require_same_length,
    require_unique_columns,
)

IMBALANCE = 0.10  # minority share under which PR-AUC replaces ROC-AUC
TASKS: tuple[TaskName, ...] = ("binary", "multiclass", "regression")
MAX_CLASSES = 20  # integer targets with more distinct values are regression targets

#: a scorer: (fitted estimator, X, y) -> figure, greater is better
Scorer: TypeAlias = Callable[[Any, Any, Any], float]


# ---------------------------------------------------------------------------- task


@dataclass
class Task:
    """The learning task a model is checked on, read from its training labels."""

    kind: TaskName
    classes: list[Any] = field(default_factory=list)
    minority: float = 0.0  # minority class share in y_train (classification)
    majority: float = 0.0
    # binary labels other than 0/1 or booleans: the label that precision-type metrics score
    # (the minority class, the one an imbalanced problem is about); None: scikit-learn's 1
    positive: Any = None


def task_of_target(y: Any, task: str | None = None, *, max_classes: int = MAX_CLASSES) -> TaskName:
    """The task a target vector calls for: ``task`` itself when given (validated), else
    booleans and non-numeric labels are binary or multiclass by their count, numbers with two
    values binary, integers (or whole floats) with at most ``max_classes`` values multiclass,
    anything else regression. ``y``: a pandas Series (missing values ignored) or a numpy
    vector."""
    if task is not None:
        for name in TASKS:
            if task == name:
                return name
        raise MLCheckUsageError(
            f"task must be 'binary', 'multiclass' or 'regression', got {task!r}."
        )
    if is_series(y):
        import pandas as pd

        dtype = y.dtype
        n_unique = int(y.nunique(dropna=True))
        labels = pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype)
        integer = bool(pd.api.types.is_integer_dtype(dtype))
        floating = bool(pd.api.types.is_float_dtype(dtype))
    else:
        kind = np.asarray(y).dtype.kind
        n_unique = len(np.unique(y))
        labels, integer, floating = kind in "bOUS", kind in "iu", kind == "f"
    if labels:
        return "binary" if n_unique <= 2 else "multiclass"
    if n_unique <= 2:
        return "binary"
    if integer and n_unique <= max_classes:
        return "multiclass"
    if floating and n_unique <= max_classes:
        values = y.dropna().to_numpy() if is_series(y) else np.asarray(y)
        if np.all(values == np.round(values)):
            return "multiclass"
    return "regression"


def require_estimator(model: Any, arg: str = "model") -> Any:
    """``model`` when it is a scikit-learn style estimator (fit and predict), else a usage
    error naming ``arg``."""
    if not (hasattr(model, "fit") and hasattr(model, "predict")):
        raise MLCheckUsageError(
            f"{arg} is a {type(model).__name__}: expected a scikit-learn style estimator "
            "with fit and predict."
        )
    return model


def task_of(model: Any, y_train: np.ndarray) -> Task:
    """The task of ``model`` on ``y_train``: regression for regressors; for classifiers the
    classes, their shares and the positive label of binary labels other than 0/1; for other
    estimators ``task_of_target`` with two classes at most (more numbers are regression)."""
    from sklearn.base import is_classifier, is_regressor

    require_estimator(model)
    if is_regressor(model):
        return Task("regression")
    if not is_classifier(model) and task_of_target(y_train, max_classes=2) == "regression":
        return Task("regression")
    classes, counts = np.unique(y_train, return_counts=True)
    if len(classes) < 2:
        raise MLCheckUsageError(
            f"y_train has a single class ({classes[0]!r}): expected at least two classes; no "
            "classifier can learn or be compared on one."
        )
    shares = counts / counts.sum()
    kind: TaskName = "binary" if len(classes) == 2 else "multiclass"
    positive = None
    if kind == "binary" and not {c.item() if hasattr(c, "item") else c for c in classes} <= {0, 1}:
        chosen = classes[int(np.argmin(counts))] if counts[0] != counts[1] else classes[1]
        positive = chosen.item() if hasattr(chosen, "item") else chosen
    return Task(kind, list(classes), float(shares.min()), float(shares.max()), positive)


# ---------------------------------------------------------------------------- fitting


def sklearn_for(helper: str) -> ModuleType:
    """scikit-learn, or a usage error naming ``helper`` and the extra that installs it."""
    return require("sklearn", helper=helper)


def is_fitted(model: Any) -> bool:
    """Whether scikit-learn sees ``model`` as fitted (an estimator it does not recognise is
    assumed fitted by the caller)."""
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
    """The model itself if fitted, else a fitted clone (the caller's object stays untouched),
    and whether a clone was fitted."""
    from sklearn.base import clone

    require_estimator(model, arg)
    if is_fitted(model):
        return model, False
    fresh = clone(model)
    fresh.fit(X, y)
    return fresh, True


def cross_validated(
    model: Any, X: Any, y: np.ndarray, scorer: Scorer, split: Any, groups: Any = None
) -> np.ndarray:
    """Scores of clones of ``model`` over the folds of ``split``."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    return np.asarray(
        cross_val_score(clone(model), X, y, scoring=scorer, cv=split, groups=groups),
        dtype=float,
    )


def fold_inputs(X: Any, y: Any) -> tuple[Any, np.ndarray]:
    """``X`` (any table scikit-learn reads, non-empty) and the label vector ``y``, validated
    for cross-validation: same length, usage errors naming ``X`` or ``y``."""
    X = require_array_like(X, "X")
    require_rows(X, "X")
    labels = label_vector(y, "y")
    require_same_length(X, labels, "X", "y")
    return X, labels


def fold_spread(scores: Any) -> float:
    """The sample standard deviation of per-fold figures (0 for a single fold): the fold
    noise that cross-validated comparisons are judged against."""
    values = np.asarray(scores, dtype=float)
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def splitter(task: Task, cv: int, seed: int, groups: Any = None) -> Any:
    """The folds for ``task``: grouped with ``groups``, else shuffled with ``seed``
    (stratified for classification)."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

    if not isinstance(cv, int) or cv < 2:
        raise MLCheckUsageError(f"cv must be an integer >= 2, got {cv!r}.")
    if groups is not None:
        return GroupKFold(n_splits=cv)
    if task.kind == "regression":
        return KFold(n_splits=cv, shuffle=True, random_state=seed)
    return StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)


def dummy_for(task: Task, metric_name: str) -> Any:
    """The Dummy baseline for ``task``: the mean, the prior (score metrics) or the most
    frequent class."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if task.kind == "regression":
        return DummyRegressor(strategy="mean")
    if needs_scores(metric_name):
        return DummyClassifier(strategy="prior")
    return DummyClassifier(strategy="most_frequent")


# ---------------------------------------------------------------------------- outputs


OutputMethod = Literal["predict", "predict_proba", "decision_function", "transform"]
#: methods giving per-class scores, most informative first
SCORE_METHODS: tuple[OutputMethod, ...] = ("predict_proba", "decision_function")


def _unchanged(value: Any) -> Any:
    return value


def output_methods(model: Any, prefer: Sequence[OutputMethod]) -> list[OutputMethod]:
    """The methods of ``prefer`` that ``model`` has, in that order."""
    return [method for method in prefer if callable(getattr(model, method, None))]


def method_list(methods: Sequence[str]) -> str:
    """Method names as prose: ``a, b or c``."""
    return f"{', '.join(methods[:-1])} or {methods[-1]}" if len(methods) > 1 else methods[0]


def model_output(
    model: Any,
    X: Any,
    *,
    prefer: Sequence[OutputMethod],
    convert: Callable[[Any], Any] = _unchanged,
    call: bool = False,
) -> tuple[str, Any] | None:
    """``(method, convert(output))`` of the first method of ``prefer`` that ``model`` has;
    with ``call``, a model with none of them but callable gives ``("call", model(X))`` as an
    array. None when nothing answers."""
    for method in output_methods(model, prefer):
        return method, convert(getattr(model, method)(X))
    if call and callable(model):
        return "call", np.asarray(model(X))
    return None


def model_outputs(
    model: Any,
    X: Any,
    *,
    prefer: Sequence[OutputMethod],
    convert: Callable[[Any], Any] = _unchanged,
    call: bool = False,
) -> dict[str, Any]:
    """Every output of the methods of ``prefer`` that ``model`` has, by method name,
    converted (a method that raises AttributeError or NotImplementedError is skipped); with
    ``call``, ``{"call": model(X)}`` as an array when none answers and the model is
    callable."""
    outputs: dict[str, Any] = {}
    for method in output_methods(model, prefer):
        try:
            value = getattr(model, method)(X)
        except (AttributeError, NotImplementedError):
            continue
        outputs[method] = convert(value)
    if not outputs and call and callable(model):
        outputs["call"] = np.asarray(model(X))
    return outputs


def has_scores(model: Any) -> bool:
    """Whether ``model`` gives scores (predict_proba or decision_function)."""
    return bool(output_methods(model, SCORE_METHODS))


def positive_scores(estimator: Any, X: Any, positive: Any) -> np.ndarray:
    """The scores of class ``positive``: its predict_proba column, or the decision function
    (negated when ``positive`` is the first of two classes)."""
    index = list(estimator.classes_).index(positive)
    found = model_output(estimator, X, prefer=SCORE_METHODS, convert=np.asarray)
    if found is None:
        raise MLCheckUsageError(
            f"{type(estimator).__name__} has neither predict_proba nor decision_function: "
            "expected scores of the positive class."
        )
    method, scores = found
    if method == "predict_proba":
        return np.asarray(scores[:, index])
    return np.asarray(scores if index == 1 else -scores)


# ---------------------------------------------------------------------------- metrics


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


def choose_metric(metric: Metric | None, task: Task, model: Any) -> tuple[Metric, str]:
    """The caller's metric, else the default for ``task`` and ``model``; and why."""
    if metric is not None:
        return metric, "chosen by the caller"
    return default_metric(task, model)


def _scores_a_label(metric: str) -> bool:
    """A metric whose figure depends on which label is positive (scikit-learn's own scorers
    assume the label 1)."""
    spec = METRICS.get(metric)
    return spec is not None and spec.positive and not spec.symmetric


def positive_scorer(metric: str, positive: Any) -> Scorer:
    """A scorer of ``metric`` for the label ``positive``: scores of that class for score
    metrics (average precision), labels otherwise."""
    from sklearn import metrics

    func = getattr(metrics, f"{metric}_score")
    by_scores = METRICS[metric].needs_scores

    def score(estimator: Any, X: Any, y: Any) -> float:
        if not by_scores:
            return float(func(y, estimator.predict(X), pos_label=positive))
        return float(func(y, positive_scores(estimator, X, positive), pos_label=positive))

    return score


def scorer_for(metric: Metric, model: Any, task: Task | None = None) -> tuple[Scorer, str]:
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
        if needs_scores(metric) and not has_scores(model):
            raise MLCheckUsageError(
                f"metric {metric!r} needs predicted scores but {type(model).__name__} has "
                "neither predict_proba nor decision_function: pick a label metric such as "
                "'balanced_accuracy' or 'f1_macro'."
            )
        if task is not None and task.positive is not None and _scores_a_label(metric):
            return positive_scorer(metric, task.positive), f"{metric} of {task.positive!r}"
        return scorer, metric
    if callable(metric):
        if hasattr(metric, "_score_func"):  # already a scorer from make_scorer
            return metric, getattr(metric._score_func, "__name__", "custom scorer")
        return make_scorer(metric), getattr(metric, "__name__", "custom metric")
    raise MLCheckUsageError(
        f"metric must be a scorer name, a scorer or a function (y_true, y_pred), got {metric!r}."
    )


def accuracy_trap(task: Task, metric_name: str) -> str:
    """A warning sentence when accuracy is used on labels dominated by one class."""
    if task.kind == "regression" or metric_name != "accuracy" or task.majority < 0.8:
        return ""
    return (
        f" Accuracy misleads here: the majority class is {percent(task.majority)} of the "
        "labels, so always predicting it scores that much while finding nothing; use "
        "average_precision (PR-AUC), balanced_accuracy or f1_macro."
    )


# ---------------------------------------------------------------------------- splits


labels_of = label_vector


def _model_matrix(X: ModelInput, arg: str) -> Any:
    """X as scikit-learn reads it (scipy sparse passes as is, never densified), non-empty,
    with unique column names."""
    X = require_unique_columns(require_array_like(X, arg, allow_sparse=True), arg)
    require_rows(X, arg)
    return X


def _width(X: Any) -> int | None:
    shape = getattr(X, "shape", None)
    return int(shape[1]) if shape is not None and len(shape) == 2 else None


def check_pairs(
    X_train: ModelInput,
    y_train: VectorLike,
    X_test: ModelInput | None,
    y_test: VectorLike | None,
) -> tuple[Any, np.ndarray, Any, np.ndarray | None]:
    """The training split (and the test split, or None for both) validated: non-empty,
    paired lengths, labels without gaps, both splits dense or both sparse with the same
    number of columns."""
    X_train = _model_matrix(X_train, "X_train")
    ytr = labels_of(y_train, "y_train")
    require_same_length(X_train, ytr, "X_train", "y_train")
    if X_test is None and y_test is None:
        return X_train, ytr, None, None
    if X_test is None or y_test is None:
        raise MLCheckUsageError("pass both X_test and y_test, or neither (with cv=).")
    X_test = _model_matrix(X_test, "X_test")
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


def unseen_test_classes(task: Task, y_test: np.ndarray) -> None:
    """A usage error when ``y_test`` holds classes the training labels do not."""
    if task.kind == "regression":
        return
    unseen = sorted(set(np.unique(y_test).tolist()) - set(np.asarray(task.classes).tolist()))
    if unseen:
        raise MLCheckUsageError(
            f"y_test has classes never seen in y_train ({unseen[:5]}): expected test classes "
            "to be a subset of training classes (stratify the split)."
        )
