"""Class probabilities as checks receive them: a vector of positive-class probabilities or an
(n, k) matrix (``predict_proba``), and the class each column stands for."""

from __future__ import annotations

from typing import Any

import numpy as np

from pytest_mlchecks._result import MLCheckUsageError
from pytest_mlchecks.inputs.tables import (
    as_array,
    require_array_like,
    require_rows,
    require_same_length,
)

__all__ = ["ROW_SUM_TOL", "class_index", "class_names", "probability_matrix", "scored_labels"]

ROW_SUM_TOL = 1e-3  # multiclass rows must sum to 1 within this


def probability_matrix(y_prob: Any, name: str) -> np.ndarray:
    """The probabilities ``name`` as a float matrix (n, k): a vector becomes (1 - p, p);
    usage errors name the argument ``name``."""
    obj = require_array_like(y_prob, name)
    require_rows(obj, name)
    try:
        values = np.asarray(as_array(obj, name), dtype=float)
    except (TypeError, ValueError) as exc:
        raise MLCheckUsageError(
            f"{name} holds values that are not numbers: expected probabilities in [0, 1]."
        ) from exc
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim == 1:
        values = np.column_stack([1 - values, values])
    if values.ndim != 2:
        raise MLCheckUsageError(
            f"{name} has shape {values.shape}: expected a vector of positive-class "
            "probabilities or an (n, k) matrix of class probabilities."
        )
    finite = np.isfinite(values)
    outside = int((~finite | (values < 0) | (values > 1)).any(axis=1).sum())
    if outside:
        raise MLCheckUsageError(
            f"{name} has {outside:,} rows with values outside [0, 1] (or NaN / Inf): expected "
            "probabilities (pass predict_proba, not decision_function or logits)."
        )
    off = int((np.abs(values.sum(axis=1) - 1) > ROW_SUM_TOL).sum())
    if off:
        raise MLCheckUsageError(
            f"{name} has {off:,} rows whose probabilities do not sum to 1: expected one "
            "column per class (predict_proba), each row summing to 1."
        )
    return values


def class_names(truth: np.ndarray, width: int, classes: Any, name: str) -> list[Any]:
    """The class of each column of the probabilities ``name``: ``classes`` when given, else
    the integers 0..k-1 (or False / True) when the labels are those, else the sorted labels."""
    if classes is not None:
        names = list(np.asarray(classes).ravel())
        if len(names) != width:
            raise MLCheckUsageError(
                f"classes has {len(names)} entries but {name} has {width} columns: expected "
                "one class per column (e.g. model.classes_)."
            )
        return names
    found = np.unique(truth)
    if truth.dtype.kind == "b" and width == 2:
        return [False, True]
    if (
        (
            truth.dtype.kind in "iu"
            or (truth.dtype.kind == "f" and np.array_equal(found, np.round(found)))
        )
        and found.min() >= 0
        and found.max() < width
    ):
        return list(range(width))
    if len(found) == width:
        return list(found)
    raise MLCheckUsageError(
        f"y_true holds {len(found)} labels but {name} has {width} columns: pass classes= "
        "(the class of each column, e.g. model.classes_)."
    )


def class_index(labels: np.ndarray, names: list[Any]) -> np.ndarray:
    """The column of each label among the classes ``names`` (-1: not one of them); each
    distinct label is looked up once, not each row."""
    lookup = {(n.item() if hasattr(n, "item") else n): i for i, n in enumerate(names)}
    try:
        distinct, inverse = np.unique(labels, return_inverse=True)
    except TypeError:  # labels of mixed types that do not sort: one lookup per row
        distinct, inverse = labels, np.arange(len(labels))
    columns = np.fromiter(
        (lookup.get(v.item() if hasattr(v, "item") else v, -1) for v in distinct),
        dtype=int,
        count=len(distinct),
    )
    out: np.ndarray = columns[inverse.reshape(-1)]
    return out


def scored_labels(
    truth: np.ndarray, labels: np.ndarray, probabilities: Any, classes: Any, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Validated (probabilities (n, k), the column of each of ``labels``, class names);
    ``names``: the arguments of ``labels`` and of the probabilities, for usage errors."""
    labels_arg, prob_arg = names
    prob = probability_matrix(probabilities, prob_arg)
    require_same_length(truth, prob, "y_true", prob_arg)
    found = class_names(truth, prob.shape[1], classes, prob_arg)
    index = class_index(labels, found)
    unknown = int((index < 0).sum())
    if unknown:
        raise MLCheckUsageError(
            f"{labels_arg} has {unknown:,} rows whose label is not one of the {prob_arg} "
            f"columns' classes {[str(n) for n in found][:10]}: pass classes= in the order of "
            "the columns (e.g. model.classes_)."
        )
    return prob, index, found
