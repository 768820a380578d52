"""Evaluation rung: is the decision threshold in use anywhere near the best one?

``predict`` thresholds a binary classifier's probability at 0.5. On imbalanced data the model
may rank the rows well while 0.5 finds almost none of the positives: every metric on scores
looks fine, the product does not. The gain from tuning is measured honestly: the threshold is
picked on one half of the validation rows and scored on the other (both ways), so the
optimism of "best threshold on the same rows" does not count as a gain.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

import numpy as np

from pytest_mlchecks._charts import BarChart, Series, chart
from pytest_mlchecks._messages import compose
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.models import positive_scores
from pytest_mlchecks.inputs.tables import (
    VectorLike,
    fmt,
    label_vector,
    require_array_like,
    require_rows,
    require_same_length,
)

__all__ = ["check_decision_threshold_tuned"]

ThresholdMetric = Literal["f1", "balanced_accuracy", "mcc"]
METRICS: tuple[ThresholdMetric, ...] = ("f1", "balanced_accuracy", "mcc")
Z_GAIN = 2.326  # one-sided 1%: the gain's lower bound must clear the margin
Z_WARN = 1.645  # one-sided 95%: a likely gain, not established at 99%: a warning
BOOTSTRAPS = 300

THRESHOLD_WHY = (
    "the threshold turns scores into decisions: at the wrong one a model that ranks the rows "
    "well still misses most positives (or flags most negatives), and every score-based metric "
    "(ROC-AUC, average precision) hides it."
)
THRESHOLD_FIX = (
    "choose the threshold on validation data for the metric the product needs (e.g. "
    "scikit-learn's TunedThresholdClassifierCV, or predict_proba(X)[:, 1] >= t), keep it "
    "with the model, and pass it here as threshold=t so this test guards it."
)


class ThresholdDetails(TypedDict):
    """What ``decision_threshold_tuned`` measured (the record's ``details``)."""

    metric: str
    rows: int
    positives: int
    threshold_in_use: float | None  # None: the model's own predict
    score_in_use: float
    best_threshold: float  # on all validation rows
    best_score: float  # on all validation rows (optimistic: for the message only)
    gain: float  # cross-fitted: tuned on one half, scored on the other
    gain_se: float
    margin: float


def _metric(tp: np.ndarray, fp: np.ndarray, pos: int, neg: int, name: str) -> np.ndarray:
    """``name`` from confusion counts (arrays: one entry per threshold)."""
    tp, fp = tp.astype(float), fp.astype(float)
    fn, tn = pos - tp, neg - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "f1":
            out = 2 * tp / (2 * tp + fp + fn)
        elif name == "balanced_accuracy":
            out = 0.5 * (tp / max(pos, 1) + tn / max(neg, 1))
        else:
            denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
            out = (tp * tn - fp * fn) / denom
    return np.asarray(np.nan_to_num(out, nan=0.0), dtype=float)


def _score_of(truth: np.ndarray, decided: np.ndarray, name: str) -> float:
    pos, neg = int(truth.sum()), int((~truth).sum())
    tp = np.array([int((truth & decided).sum())])
    fp = np.array([int((~truth & decided).sum())])
    return float(_metric(tp, fp, pos, neg, name)[0])


def _best_threshold(scores: np.ndarray, truth: np.ndarray, name: str) -> tuple[float, float]:
    """The cut-off (predict positive when score >= it) that maximises ``name``, and its value."""
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], truth[order]
    last = np.r_[s[1:] != s[:-1], True]  # the last row of each run of equal scores
    tp, fp = np.cumsum(t)[last], np.cumsum(~t)[last]
    cuts = s[last]
    values = _metric(tp, fp, int(truth.sum()), int((~truth).sum()), name)
    none = _metric(np.array([0]), np.array([0]), int(truth.sum()), int((~truth).sum()), name)
    best = int(np.argmax(values))
    if none[0] > values[best]:
        return float("inf"), float(none[0])
    return float(cuts[best]), float(values[best])


def _halves(truth: np.ndarray, seed: int) -> np.ndarray:
    """A seeded split of the rows in two, stratified by class: True marks the first half."""
    rng = np.random.default_rng(seed)
    first = np.zeros(len(truth), dtype=bool)
    for cls in (True, False):
        rows = np.flatnonzero(truth == cls)
        rng.shuffle(rows)
        first[rows[: len(rows) // 2]] = True
    return first


def _cross_fitted_gain(
    scores: np.ndarray, truth: np.ndarray, in_use: np.ndarray, name: str, seed: int
) -> tuple[float, float]:
    """The metric's gain from a threshold tuned on the other half over the decisions in use,
    on held-out rows, and its bootstrap standard error (paired, rows resampled)."""
    first = _halves(truth, seed)
    tuned = np.zeros(len(truth), dtype=bool)
    for fit in (first, ~first):
        cut, _ = _best_threshold(scores[fit], truth[fit], name)
        tuned[~fit] = scores[~fit] >= cut
    gain = _score_of(truth, tuned, name) - _score_of(truth, in_use, name)
    rng = np.random.default_rng(seed + 1)
    n = len(truth)
    draws = np.empty(BOOTSTRAPS)
    for b in range(BOOTSTRAPS):
        rows = rng.integers(0, n, n)
        t = truth[rows]
        draws[b] = _score_of(t, tuned[rows], name) - _score_of(t, in_use[rows], name)
    return gain, float(draws.std(ddof=1))


def _threshold_inputs(
    model: Any, X_val: Any, y_val: VectorLike, metric: str
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Validated (positive-class scores, truth as booleans, positive label)."""
    if metric not in METRICS:
        raise MLCheckUsageError(f"metric must be one of {METRICS}, got {metric!r}.")
    X_val = require_array_like(X_val, "X_val", allow_sparse=True)
    require_rows(X_val, "X_val")
    y = label_vector(y_val, "y_val")
    require_same_length(X_val, y, "X_val", "y_val")
    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) != 2:
        raise MLCheckUsageError(
            "model must be a fitted binary classifier (classes_ with two classes): the "
            "decision threshold applies to binary decisions."
        )
    positive = classes[1]
    truth = np.asarray(y == positive, dtype=bool)
    if truth.all() or not truth.any():
        raise MLCheckUsageError(
            f"y_val holds only one class: expected both {classes[0]!r} and {positive!r}."
        )
    scores = np.asarray(positive_scores(model, X_val, positive), dtype=float)
    if not np.isfinite(scores).all():
        raise MLCheckUsageError("the model's scores on X_val are not all finite (NaN / Inf).")
    return scores, truth, positive


def _explain_threshold(details: ThresholdDetails, failed: bool, *, established: bool) -> str:
    d = details
    used = "predict (0.5)" if d["threshold_in_use"] is None else fmt(d["threshold_in_use"], 4)
    best = (
        "none (predict no positive)"
        if np.isinf(d["best_threshold"])
        else fmt(d["best_threshold"], 4)
    )
    head = (
        f"decision_threshold_tuned: {d['metric']} {fmt(d['score_in_use'], 4)} at threshold "
        f"{used}; the best threshold on these {d['rows']:,} rows, {best}, gives "
        f"{fmt(d['best_score'], 4)}; tuned on one half and scored on the other it gains "
        f"{fmt(d['gain'], 3)} (SE {fmt(d['gain_se'], 3)}; margin {fmt(d['margin'], 3)})"
    )
    if not failed:
        return head + "."
    if not established:
        head += (
            f": its 95% lower bound ({fmt(d['gain'] - Z_WARN * d['gain_se'], 3)}) is above "
            f"the margin, its 99% one ({fmt(d['gain'] - Z_GAIN * d['gain_se'], 3)}) is not "
            "(a warning; more validation rows settle it)"
        )
    return compose(head + ".", why=THRESHOLD_WHY, fix=THRESHOLD_FIX)


@check("decision_threshold_tuned")
def check_decision_threshold_tuned(
    model: Any,
    X_val: Any,
    y_val: VectorLike,
    *,
    metric: ThresholdMetric = "f1",
    threshold: float | None = None,
    margin: float | None = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect a decision threshold far from the best one on validation data.

    Figure: the metric's gain (``f1``, ``balanced_accuracy`` or ``mcc``) from a threshold
    tuned on one half of the validation rows and scored on the other (both ways), over the
    decisions in use (``model.predict``, or ``scores >= threshold``). Fails when the gain's
    one-sided 99% lower bound exceeds ``margin`` (ini ``ml_decision_threshold_margin``);
    a gain whose 95% lower bound exceeds the margin is a warning (fails under
    ``--ml-strict``).
    """
    limit = resolve_threshold("decision_threshold_margin", margin)
    scores, truth, positive = _threshold_inputs(model, X_val, y_val, metric)
    if threshold is None:
        in_use = np.asarray(model.predict(X_val)) == positive
    else:
        if isinstance(threshold, bool) or not np.isfinite(float(threshold)):
            raise MLCheckUsageError(f"threshold must be a finite number, got {threshold!r}.")
        in_use = scores >= float(threshold)
    best_cut, best_score = _best_threshold(scores, truth, metric)
    gain, se = _cross_fitted_gain(scores, truth, in_use, metric, current_seed(random_state))
    details: ThresholdDetails = {
        "metric": metric,
        "rows": len(truth),
        "positives": int(truth.sum()),
        "threshold_in_use": None if threshold is None else float(threshold),
        "score_in_use": _score_of(truth, in_use, metric),
        "best_threshold": best_cut,
        "best_score": best_score,
        "gain": gain,
        "gain_se": se,
        "margin": limit,
    }
    failed = gain - Z_GAIN * se > limit  # the gain is established beyond its noise
    likely = gain - Z_WARN * se > limit  # beyond the margin at 95%, not at 99%
    message = _explain_threshold(details, failed or likely, established=failed)
    severity = "error" if failed else "warning"
    return result(not likely, severity, gain, limit, message, dict(details))


# --------------------------------------------------------------- the HTML report's charts


@chart("decision_threshold_tuned")
def _chart_decision_threshold(details: dict[str, Any]) -> list[BarChart]:
    """The metric at the threshold in use and at the best one."""
    if "score_in_use" not in details:
        return []
    return [
        BarChart(
            f"{details.get('metric', 'metric')} at the threshold in use vs the best one",
            ["in use", "best on validation"],
            [Series(str(details.get("metric")), [details["score_in_use"], details["best_score"]])],
            zoom=True,
        )
    ]
