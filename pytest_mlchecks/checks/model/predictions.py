"""Model rung: what a fitted model predicts, looked at without the labels.

A model regularised to death, trained with a learning rate of zero or fed the wrong columns
still predicts: one class for every row, or the same score for every row. Its test metric may
even look fine on imbalanced data (accuracy = the majority share).
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._charts import BarChart, Series, chart
from pytest_mlchecks._messages import compose, percent
from pytest_mlchecks._protocol import check, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.models import model_outputs
from pytest_mlchecks.inputs.tables import (
    VectorLike,
    describe_type,
    fmt,
    label_vector,
    require_array_like,
    require_rows,
    require_same_length,
)

__all__ = ["check_predictions_not_collapsed"]

COLLAPSED_WHY = (
    "a collapsed model ignores its input: it scores the majority share in accuracy and looks "
    "trained, yet it can never find the rows it exists for."
)
COLLAPSED_FIX = (
    "look for regularisation far too strong (C, alpha, weight decay), a learning rate of zero "
    "or training stopped after one step, features that are constant or were dropped before "
    "predict (column order, a scaler fitted on other columns), or a target that was constant "
    "in the training data."
)
THRESHOLD_FIX = (
    "its scores do vary, so the decision threshold is the problem, not the training: pick the "
    "threshold on validation data (see assert_decision_threshold_tuned) or score with a metric "
    "that reads the scores (average precision, ROC-AUC)."
)


class CollapseDetails(TypedDict, total=False):
    """What ``predictions_not_collapsed`` measured (the record's ``details``)."""

    rows: int
    task: str  # "classification" or "regression"
    distinct_predictions: int
    top_share: float  # share of the most frequent prediction
    known_classes: int  # classes the model was fitted on (classification, when it says)
    score_spread: float  # classification with scores: largest range of a class probability
    relative_spread: float  # regression with y: std of predictions / std of y


def _fitted_outputs(model: Any, X: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """``model.predict(X)`` as a 1-D array and, when the model has it, ``predict_proba(X)``."""
    outputs = model_outputs(model, X, prefer=("predict", "predict_proba"), convert=np.asarray)
    if "predict" not in outputs:
        raise MLCheckUsageError(
            f"model ({describe_type(model)}) has no predict method: expected a fitted estimator."
        )
    labels = outputs["predict"]
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise MLCheckUsageError(
            f"model.predict returned shape {labels.shape}: expected one prediction per row."
        )
    scores = outputs.get("predict_proba")
    if scores is not None:
        scores = scores.astype(float)
        if scores.ndim == 1:
            scores = np.column_stack([1 - scores, scores])
    return labels, scores


def _is_classifier(model: Any, labels: np.ndarray, scores: np.ndarray | None) -> bool:
    if getattr(model, "classes_", None) is not None or scores is not None:
        return True
    return labels.dtype.kind in "biuOUSb"


def _measure_collapse(
    model: Any, labels: np.ndarray, scores: np.ndarray | None, y: np.ndarray | None
) -> CollapseDetails:
    """Distinct predictions, the share of the most frequent one, and how much scores vary."""
    values, counts = np.unique(labels, return_counts=True)
    details: CollapseDetails = {
        "rows": len(labels),
        "task": "classification" if _is_classifier(model, labels, scores) else "regression",
        "distinct_predictions": len(values),
        "top_share": float(counts.max() / len(labels)),
    }
    classes = getattr(model, "classes_", None)
    if details["task"] == "classification":
        if classes is not None:
            details["known_classes"] = len(np.asarray(classes))
        if scores is not None and len(scores):
            finite = np.where(np.isfinite(scores), scores, np.nan)
            spread = np.nanmax(finite, axis=0) - np.nanmin(finite, axis=0)
            details["score_spread"] = float(np.nanmax(spread)) if np.isfinite(spread).any() else 0.0
    elif y is not None:
        spread_y = float(np.std(y.astype(float)))
        if spread_y > 0:
            details["relative_spread"] = float(np.std(labels.astype(float)) / spread_y)
    return details


def _collapse_findings(details: CollapseDetails, max_share: float, min_spread: float) -> list[str]:
    """The ways the predictions collapsed (empty: they did not)."""
    found = []
    known = details.get("known_classes", 2)
    if details["distinct_predictions"] == 1 and (details["task"] == "regression" or known > 1):
        found.append("one_value")
    elif details["top_share"] >= max_share:
        found.append("top_share")
    if details.get("score_spread", np.inf) < min_spread:
        found.append("flat_scores")
    if details.get("relative_spread", np.inf) < min_spread:
        found.append("flat_predictions")
    return found


def _explain_collapse(
    details: CollapseDetails, found: list[str], max_share: float, min_spread: float
) -> str:
    n, share = details["rows"], details["top_share"]
    spread = details.get("score_spread", details.get("relative_spread"))
    spread_text = "" if spread is None else f", score spread {fmt(spread, 3)}"
    if not found:
        return (
            f"predictions_not_collapsed: {details['distinct_predictions']:,} distinct "
            f"predictions on {n:,} rows, the most frequent on {percent(share)}{spread_text} "
            f"(limits: share {percent(max_share)}, spread {fmt(min_spread, 3)})."
        )
    what = []
    if "one_value" in found:
        same = "class" if details["task"] == "classification" else "value"
        what.append(f"every one of {n:,} predictions is the same {same}")
    if "top_share" in found:
        what.append(
            f"{percent(share)} of {n:,} predictions are one value (limit {percent(max_share)})"
        )
    if "flat_scores" in found:
        what.append(
            f"every class probability stays within {fmt(details['score_spread'], 3)} across rows "
            f"(limit {fmt(min_spread, 3)})"
        )
    if "flat_predictions" in found:
        what.append(
            f"predictions vary {fmt(details['relative_spread'], 3)} as much as y (std ratio, "
            f"limit {fmt(min_spread, 3)})"
        )
    scores_vary = "score_spread" in details and "flat_scores" not in found
    return compose(
        f"predictions_not_collapsed: {'; '.join(what)}.",
        why=COLLAPSED_WHY,
        fix=THRESHOLD_FIX if scores_vary else COLLAPSED_FIX,
    )


@check("predictions_not_collapsed")
def check_predictions_not_collapsed(
    model: Any,
    X: Any,
    *,
    y: VectorLike | None = None,
    max_share: float | None = None,
    min_spread: float | None = None,
) -> CheckResult:
    """Detect a model whose predictions collapsed: one class or one value for every row, or
    class probabilities that barely move from row to row.

    Figure: the share of rows given the most frequent prediction, held to ``max_share``
    (ini ``ml_collapse_max_share``, default 1.0: only "every row the same" fails, since a rare
    class is legitimately predicted rarely); and the largest range of a class probability
    across rows, held to ``min_spread`` (ini ``ml_collapse_min_spread``). For a regressor,
    pass ``y`` to compare the predictions' spread with the target's (std ratio).
    """
    limit_share = resolve_threshold("collapse_max_share", max_share)
    limit_spread = resolve_threshold("collapse_min_spread", min_spread)
    X = require_array_like(X, "X", allow_sparse=True)
    rows = require_rows(X, "X")
    target = None
    if y is not None:
        target = label_vector(y, "y")
        require_same_length(X, target, "X", "y")
    labels, scores = _fitted_outputs(model, X)
    if len(labels) != rows or (scores is not None and len(scores) != rows):
        raise MLCheckUsageError(
            f"model returned {len(labels):,} predictions for {rows:,} rows of X: expected one "
            "per row."
        )
    details = _measure_collapse(model, labels, scores, target)
    found = _collapse_findings(details, limit_share, limit_spread)
    message = _explain_collapse(details, found, limit_share, limit_spread)
    out: dict[str, Any] = dict(details)
    out["findings"] = found
    return result(not found, "error", details["top_share"], limit_share, message, out)


# --------------------------------------------------------------- the HTML report's charts


@chart("predictions_not_collapsed")
def _chart_collapse(details: dict[str, Any]) -> list[BarChart]:
    """Share of the most frequent prediction, and how far scores move across rows."""
    if "top_share" not in details:
        return []
    labels, values = ["most frequent prediction (share)"], [details["top_share"]]
    if "score_spread" in details:
        labels.append("score spread")
        values.append(details["score_spread"])
    return [BarChart("Prediction diversity", labels, [Series("figure", values, "cur")])]
