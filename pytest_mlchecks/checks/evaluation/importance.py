"""Evaluation rung: does one feature carry the model? (permutation importance)

The model-side signature of leakage: one feature carries nearly all of the model's
permutation importance on held-out data (a copy or consequence of the target), or on its
training rows while it barely helps on test (memorised ids, a target encoding fitted on train,
a leak present in train only). Importances are seeded permutation importances over several
repeats; each share is judged as small as their standard errors allow, so permutation noise
does not decide the verdict.
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._charts import BarChart, Series, chart
from pytest_mlchecks._messages import compose, percent
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.checks.production.noise import Z_NOISE
from pytest_mlchecks.inputs.models import (
    Scorer,
    check_pairs,
    choose_metric,
    dummy_for,
    fitted_copy,
    scorer_for,
    sklearn_for,
    task_of,
    unseen_test_classes,
)
from pytest_mlchecks.inputs.tables import Metric, ModelInput, VectorLike, fmt, is_sparse

__all__ = ["check_no_dominant_feature"]

MAX_ROWS = 5_000  # larger splits are permuted on a seeded sample of this many rows
MIN_SKILL = 1e-3  # skill over the dummy below which a split's shares are not judged
# a top feature whose shuffling costs less than this fraction of the split's skill over the
# dummy carries nothing, whatever its share: a random forest scoring its own training rows
# barely moves when any one feature is shuffled, and one tiny importance can then be 90% of
# a tiny total (seen on breast_cancer)
MATERIAL = 0.1
RATIO_FLOOR = 0.05  # test shares below this count as this much in the reported ratio
SHOWN = 10  # features listed in the message and the chart

DOMINANT_WHY = (
    "one feature that carries nearly all of a model's skill is the model-side signature of "
    "leakage: a copy or consequence of the target (recorded after the outcome, a transform "
    "of it, a field filled in only for one class) that will not exist, or not mean the same, "
    "when the model predicts."
)
TRAIN_ONLY_WHY = (
    "a feature the model leans on for its training rows but that barely helps on test was "
    "memorised: an id or timestamp, a target encoding fitted on the training rows, or a leak "
    "that only the training split holds."
)
DOMINANT_FIX = (
    "find out how and when the feature is produced (assert_no_target_leakage compares it with "
    "the target on both splits); retrain without it to see the honest score; if it is "
    "legitimately this strong (one measurement that decides the outcome), raise max_share "
    "(ini ml_dominant_feature_max_share)."
)


class FeatureImportance(TypedDict):
    """One feature's permutation importance (score lost when it is shuffled)."""

    feature: str
    test: float
    test_se: float
    test_share: float  # test / the sum of the positive test importances
    train: float
    train_se: float
    train_share: float  # train / the sum of the positive train importances
    ratio: float  # train_share / max(test_share, RATIO_FLOOR): for the message


class Dominance(TypedDict):
    """The top feature of one split and its share judged low (see :func:`_dominance`)."""

    feature: str
    share: float  # point estimate
    share_lower: float  # top Z_NOISE SE below its mean, every other Z_NOISE SE above
    of_skill: float  # its importance / the split's skill over the dummy (judged >= MATERIAL)


class DominantFeatureDetails(TypedDict):
    """What ``no_dominant_feature`` measured (the record's ``details``)."""

    task: str
    metric: str
    fitted_a_clone: bool
    rows_test: int  # rows permuted (a seeded sample above MAX_ROWS)
    rows_train: int
    repeats: int
    test_score: float
    dummy_test_score: float
    skill: float  # test score - dummy test score
    train_score: float
    dummy_train_score: float
    features: list[FeatureImportance]  # sorted by test importance, at most SHOWN
    n_features: int
    test_top: Dominance | None  # None: no held-out skill over the dummy to attribute
    train_top: Dominance | None
    share_lower: float  # the larger judged share of the two splits: the figure
    max_share: float
    reasons: list[str]


# ---------------------------------------------------------------------------- measure


def _names(X: Any) -> list[str]:
    columns = getattr(X, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    return [f"x{i}" for i in range(int(X.shape[1]))]


def _sample(X: Any, y: np.ndarray, seed: int) -> tuple[Any, np.ndarray]:
    """At most MAX_ROWS rows, a seeded sample without replacement."""
    if len(y) <= MAX_ROWS:
        return X, y
    from sklearn.utils import resample

    Xs, ys = resample(X, y, n_samples=MAX_ROWS, replace=False, random_state=seed)
    return Xs, np.asarray(ys)


def _permutation(
    fitted: Any, X: Any, y: np.ndarray, scorer: Scorer, repeats: int, seed: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """The score on (X, y), and per feature the mean score lost when it is shuffled and the
    standard error of that mean across repeats."""
    from sklearn.inspection import permutation_importance

    base = float(scorer(fitted, X, y))
    out = permutation_importance(fitted, X, y, scoring=scorer, n_repeats=repeats, random_state=seed)
    imp = np.asarray(out.importances, dtype=float)
    se = imp.std(axis=1, ddof=1) / np.sqrt(repeats)
    return base, imp.mean(axis=1), se


def _total(imp: np.ndarray) -> float:
    """The importance the shares divide: the sum of the positive importances."""
    return float(np.clip(imp, 0.0, None).sum())


def _dominance(names: list[str], imp: np.ndarray, se: np.ndarray, skill: float) -> Dominance:
    """The feature with the largest importance and its share of the total, judged as small
    as the noise allows: its importance ``Z_NOISE`` standard errors below its mean over
    itself plus every other importance ``Z_NOISE`` standard errors above its mean."""
    top = int(np.argmax(imp))
    low = max(float(imp[top] - Z_NOISE * se[top]), 0.0)
    high = np.clip(imp + Z_NOISE * se, 0.0, None)
    rest = float(high.sum() - high[top])
    return {
        "feature": names[top],
        "share": float(imp[top]) / _total(imp),
        "share_lower": low / (low + rest) if low + rest > 0 else 0.0,
        "of_skill": float(imp[top]) / skill,
    }


def _features(
    names: list[str], test: tuple[np.ndarray, np.ndarray], train: tuple[np.ndarray, np.ndarray]
) -> list[FeatureImportance]:
    """Per feature: importances and shares on both splits, sorted by test importance."""
    (imp_te, se_te), (imp_tr, se_tr) = test, train
    total_te, total_tr = _total(imp_te), _total(imp_tr)
    out: list[FeatureImportance] = []
    for j, name in enumerate(names):
        share_te = float(imp_te[j] / total_te) if total_te > 0 else 0.0
        share_tr = float(imp_tr[j] / total_tr) if total_tr > 0 else 0.0
        out.append(
            {
                "feature": name,
                "test": float(imp_te[j]),
                "test_se": float(se_te[j]),
                "test_share": share_te,
                "train": float(imp_tr[j]),
                "train_se": float(se_tr[j]),
                "train_share": share_tr,
                "ratio": share_tr / max(share_te, RATIO_FLOOR),
            }
        )
    out.sort(key=lambda f: (-f["test"], -f["train"]))
    return out


def _require_repeats(n_repeats: int) -> int:
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, int) or n_repeats < 2:
        raise MLCheckUsageError(
            f"n_repeats must be an integer >= 2 (the spread across repeats is the noise), "
            f"got {n_repeats!r}."
        )
    return n_repeats


def _measure_dominant_feature(
    model: Any,
    splits: tuple[Any, np.ndarray, Any, np.ndarray],
    metric: Metric | None,
    repeats: int,
    seed: int,
) -> DominantFeatureDetails:
    """Scores, dummy scores and permutation importances on both splits; each split's top
    feature where the model has skill there over the dummy."""
    X_train, ytr, X_test, yte = splits
    task = task_of(model, ytr)
    unseen_test_classes(task, yte)
    name, _ = choose_metric(metric, task, model)
    scorer, label = scorer_for(name, model, task)
    fitted, refitted = fitted_copy(model, X_train, ytr)
    dummy = dummy_for(task, str(name)).fit(X_train, ytr)
    Xte, yte_s = _sample(X_test, yte, seed)
    Xtr, ytr_s = _sample(X_train, ytr, seed + 1)
    score_te, imp_te, se_te = _permutation(fitted, Xte, yte_s, scorer, repeats, seed)
    score_tr, imp_tr, se_tr = _permutation(fitted, Xtr, ytr_s, scorer, repeats, seed + 2)
    dummy_te, dummy_tr = float(scorer(dummy, Xte, yte_s)), float(scorer(dummy, Xtr, ytr_s))
    names = _names(X_test)
    skilled_te = score_te - dummy_te > MIN_SKILL and _total(imp_te) > 0
    skilled_tr = score_tr - dummy_tr > MIN_SKILL and _total(imp_tr) > 0
    return {
        "task": task.kind,
        "metric": str(label),
        "fitted_a_clone": refitted,
        "rows_test": len(yte_s),
        "rows_train": len(ytr_s),
        "repeats": repeats,
        "test_score": score_te,
        "dummy_test_score": dummy_te,
        "skill": score_te - dummy_te,
        "train_score": score_tr,
        "dummy_train_score": dummy_tr,
        "features": _features(names, (imp_te, se_te), (imp_tr, se_tr))[:SHOWN],
        "n_features": len(names),
        "test_top": _dominance(names, imp_te, se_te, score_te - dummy_te) if skilled_te else None,
        "train_top": (
            _dominance(names, imp_tr, se_tr, score_tr - dummy_tr) if skilled_tr else None
        ),
        "share_lower": 0.0,
        "max_share": 1.0,
        "reasons": [],
    }


# ---------------------------------------------------------------------------- judge, explain


def _judge(details: DominantFeatureDetails, share: float) -> None:
    """The figure (the larger judged share) and what dominates, into ``details``."""
    details["max_share"] = share
    test, train = details["test_top"], details["train_top"]
    if test is not None and test["of_skill"] < MATERIAL:
        test = None
    if train is not None and train["of_skill"] < MATERIAL:
        train = None
    lows = [d["share_lower"] for d in (test, train) if d is not None]
    details["share_lower"] = max(lows, default=0.0)
    if test is not None and test["share_lower"] > share:
        details["reasons"].append(
            f"{test['feature']!r} carries {percent(test['share'])} of the model's held-out "
            f"permutation importance (at least {percent(test['share_lower'])} within "
            f"{Z_NOISE:g} standard errors; limit {percent(share)})"
        )
    if train is None or train["share_lower"] <= share:
        return
    if test is not None and test["feature"] == train["feature"] and details["reasons"]:
        return  # dominant on both splits: said once
    on_test = next((f for f in details["features"] if f["feature"] == train["feature"]), None)
    seen = "" if on_test is None else f", but {percent(on_test['test_share'])} on test"
    details["reasons"].append(
        f"{train['feature']!r} carries {percent(train['share'])} of the permutation importance "
        f"on the training rows (at least {percent(train['share_lower'])}; limit "
        f"{percent(share)}){seen}"
    )


def _explain_dominant_feature(details: DominantFeatureDetails) -> str:
    d = details
    head = (
        f"no_dominant_feature: test {d['metric']} {fmt(d['test_score'], 4)} vs dummy "
        f"{fmt(d['dummy_test_score'], 4)}"
    )
    if d["test_top"] is None and not d["reasons"]:
        return (
            f"{head}: the model has no held-out skill over the dummy (no feature's shuffling "
            "costs any score), so no feature can carry it (assert_beats_dummy tells more)."
        )
    shares = ", ".join(
        f"{f['feature']!r} {percent(f['test_share'])} (train {percent(f['train_share'])})"
        for f in d["features"][:5]
    )
    body = (
        f"Share of the score lost when each feature is shuffled ({d['repeats']} repeats, of "
        f"the total over all {d['n_features']} features), on test: {shares}."
    )
    if not d["reasons"]:
        return f"{head}; no feature dominates. {body}"
    test = d["test_top"]
    why = (
        DOMINANT_WHY
        if test is not None and test["share_lower"] > d["max_share"]
        else TRAIN_ONLY_WHY
    )
    return compose(f"{head}: {'; '.join(d['reasons'])}.", body=body, why=why, fix=DOMINANT_FIX)


@check("no_dominant_feature")
def check_no_dominant_feature(
    model: Any,
    X_train: ModelInput,
    y_train: VectorLike,
    X_test: ModelInput,
    y_test: VectorLike,
    *,
    max_share: float | None = None,
    metric: Metric | None = None,
    n_repeats: int = 5,
    random_state: int | None = None,
) -> CheckResult:
    """Detect one feature carrying most of the model's permutation importance on held-out
    data, or on its training rows (seeded, ``n_repeats`` repeats).

    Figure: the top feature's share of the permutation importance (the score lost when it is
    shuffled, over the sum of the positive importances of all features), judged as small as
    the noise allows (its importance ``Z_NOISE`` standard errors below its mean, the others
    as many above), on ``X_test`` and on ``X_train`` where shuffling it costs at least
    ``MATERIAL`` (10%) of the model's skill over a dummy there; the larger against
    ``max_share`` (ini ``ml_dominant_feature_max_share``). On test it is the signature of a
    leaked feature; on train only, of a memorised one or a leak the training split alone
    holds. A split where the model has no skill over a dummy is not judged. An unfitted
    model is fitted as a clone on the training split; a fitted one is used as is. The metric
    is ``beats_dummy``'s default.
    """
    share = resolve_threshold("dominant_feature_max_share", max_share)
    sklearn_for("assert_no_dominant_feature")
    repeats = _require_repeats(n_repeats)
    X_train, ytr, X_test, yte = check_pairs(X_train, y_train, X_test, y_test)
    if X_test is None or yte is None:  # pragma: no cover - check_pairs requires both here
        raise MLCheckUsageError("pass X_test and y_test.")
    if is_sparse(X_train):
        raise MLCheckUsageError(
            "X_train and X_test are sparse: permutation importance shuffles dense columns; "
            "pass dense arrays or a DataFrame."
        )
    details = _measure_dominant_feature(
        model, (X_train, ytr, X_test, yte), metric, repeats, current_seed(random_state)
    )
    _judge(details, share)
    passed = not details["reasons"]
    message = _explain_dominant_feature(details)
    return result(passed, "error", details["share_lower"], share, message, dict(details))


# --------------------------------------------------------------- the HTML report's charts


@chart("no_dominant_feature")
def _chart_dominant_feature(details: dict[str, Any]) -> list[BarChart]:
    """Each feature's share of the permutation importance, on test and on train."""
    features = details.get("features") or []
    if not features:
        return []
    labels = [str(f["feature"]) for f in features]
    test = [max(float(f["test_share"]), 0.0) for f in features]
    train = [max(float(f["train_share"]), 0.0) for f in features]
    series = [Series("test", test, "bad"), Series("train", train)]
    title = "share of the permutation importance (score lost when the feature is shuffled)"
    return [BarChart(title, labels, series)]
