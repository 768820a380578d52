"""Model rung for scikit-learn style estimators: does the model beat trivial baselines?

scikit-learn is optional; these checks import it when called and name the extra otherwise.
A fitted model is never refitted or mutated: unfitted models are fitted as clones. What a
model is asked (task, metric, scorer, folds) is the model adapter's (``inputs.models``).
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._charts import BarChart, Chart, Series, chart, fmt_report
from pytest_mlchecks._messages import compose, explain
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.models import (
    Scorer,
    Task,
    accuracy_trap,
    check_pairs,
    choose_metric,
    cross_validated,
    dummy_for,
    fitted_copy,
    scorer_for,
    sklearn_for,
    splitter,
    task_of,
    unseen_test_classes,
)
from pytest_mlchecks.inputs.tables import (
    Metric,
    ModelInput,
    VectorLike,
    fmt,
    is_dataframe,
    is_sparse,
    table,
)

__all__ = [
    "check_beats_baselines",
    "check_beats_dummy",
]


# ---------------------------------------------------------------------------- beats dummy

BEATS_DUMMY_WHY = (
    "a model no better than predicting the prior or the mean has learned nothing "
    "usable; everything downstream (tuning, fairness, monitoring) is moot."
)
BEATS_DUMMY_FIX = (
    "check the labels (shuffled or misaligned?), the features (informative, leaked "
    "noise, wrong join?) and the metric; try the linear baseline "
    "(assert_beats_baselines) to see whether any signal is there."
)


class BeatsDummyDetails(TypedDict, total=False):
    """What ``beats_dummy`` measured (the record's ``details``)."""

    task: str
    metric: str  # display name of the metric
    metric_reason: str
    dummy: str  # the baseline's class name
    cv: int  # cross-validated only
    model_folds: list[float]
    dummy_folds: list[float]
    fitted_a_clone: bool  # test split only
    model_score: float
    dummy_score: float
    gap: float  # model score minus dummy score


def _measure_beats_dummy(
    model: Any,
    splits: tuple[Any, np.ndarray, Any, np.ndarray | None],
    task: Task,
    metric: tuple[Metric, str],
    cv: int | None,
    seed: int,
) -> BeatsDummyDetails:
    """Model and dummy scores on the test split, or cross-validated with ``cv`` folds."""
    X_train, ytr, X_test, yte = splits
    name, why_metric = metric
    scorer, label = scorer_for(name, model, task)
    dummy = dummy_for(task, str(name))
    details: BeatsDummyDetails = {"task": task.kind, "metric": label, "metric_reason": why_metric}
    if cv is not None:
        split = splitter(task, cv, seed)
        model_scores = cross_validated(model, X_train, ytr, scorer, split)
        dummy_scores = cross_validated(dummy, X_train, ytr, scorer, split)
        ours, base = float(model_scores.mean()), float(dummy_scores.mean())
        details["cv"] = cv
        details["model_folds"] = model_scores.tolist()
        details["dummy_folds"] = dummy_scores.tolist()
    else:
        if X_test is None or yte is None:
            raise MLCheckUsageError("pass X_test and y_test, or cv=k to cross-validate.")
        unseen_test_classes(task, yte)
        fitted, refitted = fitted_copy(model, X_train, ytr)
        dummy.fit(X_train, ytr)
        ours, base = float(scorer(fitted, X_test, yte)), float(scorer(dummy, X_test, yte))
        details["fitted_a_clone"] = refitted
    details.update(
        {
            "model_score": ours,
            "dummy_score": base,
            "gap": ours - base,
            "dummy": type(dummy).__name__,
        }
    )
    return details


def _explain_beats_dummy(details: BeatsDummyDetails, gap_needed: float, note: str) -> str:
    """The message: the two scores and their gap; ``note`` warns about the metric."""
    where = f"{details['cv']}-fold cross-validated" if "cv" in details else "test"
    head = (
        f"beats_dummy: model {details['metric']} {fmt(details['model_score'], 4)} vs "
        f"{details['dummy']} {fmt(details['dummy_score'], 4)} on {where} data (gap "
        f"{fmt(details['gap'], 4)}, needs {fmt(gap_needed, 4)})." + note
    )
    passed = details["gap"] >= gap_needed
    return explain(passed, head, why=BEATS_DUMMY_WHY, fix=BEATS_DUMMY_FIX)


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
    splits = check_pairs(X_train, y_train, X_test, y_test)
    task = task_of(model, splits[1])
    chosen = choose_metric(metric, task, model)
    details = _measure_beats_dummy(model, splits, task, chosen, cv, current_seed(random_state))
    gap = details["gap"]
    message = _explain_beats_dummy(details, gap_needed, accuracy_trap(task, details["metric"]))
    return result(gap >= gap_needed, "error", gap, gap_needed, message, dict(details))


# ---------------------------------------------------------------------------- baselines

BEATS_BASELINES_WHY = (
    "each rung of the ladder is a cheaper model that must be beaten; a model that "
    "cannot beat them adds cost and risk without value."
)
#: what to look at when the model stalls at a rung
LADDER_DIAGNOSIS = {
    "dummy": (
        "barely above dummy: check data and labels (shuffled, misaligned or noisy "
        "labels; features that carry no signal; a broken join)."
    ),
    "linear": (
        "worse than (or level with) the linear baseline: check scaling and encoding, "
        "features that add noise, and whether the model's capacity or tuning fits the "
        "problem; otherwise ship the simpler model."
    ),
}


class BeatsBaselinesDetails(TypedDict):
    """What ``beats_baselines`` measured (the record's ``details``)."""

    task: str
    metric: str
    scores: dict[str, float]  # dummy, linear, model
    linear_rung_skipped: bool  # the model is linear: it is its own linear rung
    failed_rung: str | None
    gap: float


def linear_baseline(task: Task, X: Any) -> Any:
    """Impute + scale (+ one-hot for categorical columns) + logistic / ridge regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

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
            categorical = make_pipeline(
                SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
            )
            pre = ColumnTransformer([("num", numeric, num_cols), ("cat", categorical, cat_cols)])
            return make_pipeline(pre, final)
    return make_pipeline(numeric, final)


def is_linear_model(model: Any) -> bool:
    """A scikit-learn linear model, or a pipeline ending in one."""
    final = getattr(model, "_final_estimator", model)
    return type(final).__module__.startswith("sklearn.linear_model")


def _measure_ladder(
    model: Any,
    splits: tuple[Any, np.ndarray, Any, np.ndarray],
    task: Task,
    metric_name: str,
    scorer: Scorer,
) -> dict[str, float]:
    """Test scores of the dummy, the linear baseline and the model (each fitted on train)."""
    X_train, ytr, X_test, yte = splits
    fitted, _ = fitted_copy(model, X_train, ytr)
    dummy = dummy_for(task, metric_name).fit(X_train, ytr)
    linear = linear_baseline(task, X_train).fit(X_train, ytr)
    return {
        "dummy": float(scorer(dummy, X_test, yte)),
        "linear": float(scorer(linear, X_test, yte)),
        "model": float(scorer(fitted, X_test, yte)),
    }


def _judge_ladder(
    scores: dict[str, float], linear_model: bool, gap_needed: float
) -> tuple[str | None, float]:
    """The first rung the model fails to beat by ``gap_needed`` (None: none) and the gap
    that decides: over that rung, else over the best baseline (the dummy's alone when the
    model is its own linear rung)."""
    over_dummy = scores["model"] - scores["dummy"]
    over_linear = scores["model"] - scores["linear"]
    if over_dummy < gap_needed:
        return "dummy", over_dummy
    if over_linear < gap_needed and not linear_model:
        return "linear", over_linear
    return None, over_dummy if linear_model else min(over_dummy, over_linear)


def _explain_beats_baselines(details: BeatsBaselinesDetails, gap_needed: float) -> str:
    """The message: the scores of the rungs, and where the model stalls and what to check."""
    label, scores, gap, stage = (
        details["metric"],
        details["scores"],
        details["gap"],
        details["failed_rung"],
    )
    if stage is None:
        beaten = (
            f"dummy {fmt(scores['dummy'], 4)} (the model is linear: it is its own linear "
            f"rung; the linear baseline scores {fmt(scores['linear'], 4)})"
            if details["linear_rung_skipped"]
            else f"dummy {fmt(scores['dummy'], 4)} and linear {fmt(scores['linear'], 4)}"
        )
        return (
            f"beats_baselines: model {label} {fmt(scores['model'], 4)} beats {beaten} by at "
            f"least {fmt(gap, 4)} (needs {fmt(gap_needed, 4)})."
        )
    diagnosis = LADDER_DIAGNOSIS[stage]
    return compose(
        f"beats_baselines: the model stalls at the {stage} rung ({label}: model "
        f"{fmt(scores['model'], 4)} vs {stage} {fmt(scores[stage], 4)}, gap {fmt(gap, 4)}, "
        f"needs {fmt(gap_needed, 4)}) - {diagnosis}",
        body=table(["rung", label], [[k, fmt(v, 4)] for k, v in scores.items()]),
        why=BEATS_BASELINES_WHY,
        fix=diagnosis,
    )


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
    if X_test is None or yte is None:
        raise MLCheckUsageError("pass X_test and y_test.")
    task = task_of(model, ytr)
    unseen_test_classes(task, yte)
    name = choose_metric(metric, task, model)[0]
    scorer, label = scorer_for(name, model, task)
    scores = _measure_ladder(model, (X_train, ytr, X_test, yte), task, str(name), scorer)
    linear_model = is_linear_model(model)
    stage, gap = _judge_ladder(scores, linear_model, gap_needed)
    details: BeatsBaselinesDetails = {
        "task": task.kind,
        "metric": label,
        "scores": scores,
        "linear_rung_skipped": linear_model,
        "failed_rung": stage,
        "gap": gap,
    }
    message = _explain_beats_baselines(details, gap_needed)
    return result(stage is None, "error", gap, gap_needed, message, dict(details))


# --------------------------------------------------------------- the HTML report's charts


@chart("beats_dummy")
def _chart_beats_dummy(details: dict[str, Any]) -> list[Chart]:
    """Model vs dummy baseline score, as dots on an axis zoomed to the two scores (0.91 vs
    0.89 must not look like two equal bars)."""
    if "model_score" not in details:
        return []
    scores = [details["dummy_score"], details["model_score"]]
    metric = str(details.get("metric", "score"))
    title = f"Model vs dummy baseline ({metric}, gap {fmt_report(details.get('gap'))})"
    return [BarChart(title, ["dummy", "model"], [Series(metric, scores)], zoom=True)]


@chart("beats_baselines")
def _chart_beats_baselines(details: dict[str, Any]) -> list[Chart]:
    """The score of each rung of the baseline ladder, as dots on a zoomed axis."""
    scores = details.get("scores") or {}
    if not scores:
        return []
    metric = str(details.get("metric", "score"))
    series = [Series(metric, list(scores.values()), "bad" if details.get("failed_rung") else "ref")]
    return [BarChart(f"The baseline ladder ({metric})", list(scores), series, zoom=True)]
