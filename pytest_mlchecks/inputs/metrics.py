"""Metrics by name, in one table: how each is computed, which way is better, what it needs.

One entry per metric name the checks know: the numpy computation on ``(y_true, y_pred or
scores)`` (``None`` for names that only scikit-learn's scorers compute), whether greater is
better, whether it reads scores rather than labels, whether it scores one positive label and
whether that choice changes the figure, whether it needs numeric targets. ``slices_perform``
computes the metrics here; the model checks score with scikit-learn's scorers of the same
names and read the table for what a name needs (``inputs.models.scorer_for``).
numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_mlchecks._result import MLCheckUsageError
from pytest_mlchecks._stats import rank_auc

#: a metric on the labels (or scores) of some rows: (y_true, y_pred) -> figure
MetricFn = Callable[[np.ndarray, np.ndarray], float]
#: a table entry's computation: (y_true, y_pred or scores, positive label) -> figure
PositiveMetricFn = Callable[[np.ndarray, np.ndarray, Any], float]


@dataclass(frozen=True)
class MetricSpec:
    """What a metric name means to the checks."""

    name: str
    #: the numpy computation; None: a scikit-learn scorer name the table only describes
    compute: PositiveMetricFn | None
    greater_is_better: bool = True
    #: reads predicted scores (predict_proba / decision_function), not labels
    needs_scores: bool = False
    #: scores one label as the positive class (``pos_label``)
    positive: bool = False
    #: gives the same figure whichever label is called positive (ROC-AUC)
    symmetric: bool = False
    #: needs numeric y_true and y_pred (regression metrics)
    numeric: bool = False


def _accuracy(t: np.ndarray, p: np.ndarray, positive: Any) -> float:
    return float(np.mean(t == p))


def _recall(t: np.ndarray, p: np.ndarray, positive: Any) -> float:
    pos = t == positive
    return float(np.mean(p[pos] == positive)) if pos.any() else float("nan")


def _precision(t: np.ndarray, p: np.ndarray, positive: Any) -> float:
    sel = p == positive
    return float(np.mean(t[sel] == positive)) if sel.any() else float("nan")


def _f1(t: np.ndarray, p: np.ndarray, positive: Any) -> float:
    r, q = _recall(t, p, positive), _precision(t, p, positive)
    return 0.0 if not (r + q) or r != r or q != q else 2 * r * q / (r + q)


def _roc_auc(t: np.ndarray, p: np.ndarray, positive: Any) -> float:
    return rank_auc(p.astype(float), t == positive)


def _mae(t: np.ndarray, p: np.ndarray, positive: Any) -> float:
    return float(np.mean(np.abs(t - p)))


def _rmse(t: np.ndarray, p: np.ndarray, positive: Any) -> float:
    return float(np.sqrt(np.mean((t - p) ** 2)))


def _r2(t: np.ndarray, p: np.ndarray, positive: Any) -> float:
    sst = float(np.sum((t - t.mean()) ** 2))
    return float("nan") if sst == 0 else 1 - float(np.sum((t - p) ** 2)) / sst


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("accuracy", _accuracy),
        MetricSpec("recall", _recall, positive=True),
        MetricSpec("precision", _precision, positive=True),
        MetricSpec("f1", _f1, positive=True),
        MetricSpec("roc_auc", _roc_auc, needs_scores=True, positive=True, symmetric=True),
        MetricSpec("average_precision", None, needs_scores=True, positive=True),
        MetricSpec("roc_auc_ovr", None, needs_scores=True),
        MetricSpec("roc_auc_ovo", None, needs_scores=True),
        MetricSpec("neg_log_loss", None, needs_scores=True),
        MetricSpec("r2", _r2, numeric=True),
        MetricSpec("mae", _mae, greater_is_better=False, numeric=True),
        MetricSpec("rmse", _rmse, greater_is_better=False, numeric=True),
    )
}

#: names computed here (the metrics ``slices_perform`` takes by name)
COMPUTED: tuple[str, ...] = tuple(n for n, s in METRICS.items() if s.compute is not None)
#: computed metrics that score one positive label
POSITIVE_METRICS: tuple[str, ...] = tuple(n for n in COMPUTED if METRICS[n].positive)
#: metrics of numeric targets
NUMERIC_METRICS: tuple[str, ...] = tuple(n for n, s in METRICS.items() if s.numeric)
#: metric names that read predicted scores
SCORE_METRICS: frozenset[str] = frozenset(n for n, s in METRICS.items() if s.needs_scores)


def needs_scores(metric: object) -> bool:
    """Whether the metric ``metric`` names reads predicted scores rather than labels."""
    return isinstance(metric, str) and metric in SCORE_METRICS


def metric_function(metric: str | MetricFn, positive: Any = 1) -> tuple[MetricFn, str, bool]:
    """A metric ``(y_true, y_pred) -> float``, its name and whether greater is better, for a
    name computed here (metrics that score a positive label score ``positive``) or a function
    (greater is better)."""
    if isinstance(metric, str):
        spec = METRICS.get(metric)
        if spec is None or spec.compute is None:
            raise MLCheckUsageError(
                f"metric must be one of {sorted(COMPUTED)} or a function, got {metric!r}."
            )
        compute = spec.compute

        def fn(t: np.ndarray, p: np.ndarray) -> float:
            return compute(t, p, positive)

        return fn, metric, spec.greater_is_better
    if callable(metric):
        return metric, getattr(metric, "__name__", "metric"), True
    raise MLCheckUsageError(
        f"metric must be a name or a function (y_true, y_pred), got {metric!r}."
    )
