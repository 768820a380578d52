"""Pipeline rung: was the fitted preprocessing learned from the training split alone?"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._deps import require
from pytest_mlchecks._messages import compose, percent, plural
from pytest_mlchecks._protocol import check, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.models import (
    OutputMethod,
    is_fitted,
    method_list,
    model_output,
    model_outputs,
)
from pytest_mlchecks.inputs.tables import (
    ModelInput,
    TableLike,
    VectorLike,
    as_dataframe,
    fmt,
    is_torch,
    require_array_like,
    require_rows,
    require_same_length,
    require_unique_columns,
    table,
)

__all__ = [
    "check_fit_on_train_only",
    "check_roundtrip_consistent",
    "check_same_features",
]

_MAX_DEPTH = 16


_NESTED = ("steps", "transformer_list", "estimators", "estimator", "base_estimator")


def _fitted_attrs(est: Any) -> dict[str, Any]:
    """Public fitted attributes (trailing underscore) and nested steps of meta-estimators."""
    return {
        k: v
        for k, v in vars(est).items()
        if (k.endswith("_") and not k.startswith("_") and not k.endswith("__")) or k in _NESTED
    }


def _is_estimator(obj: Any) -> bool:
    return hasattr(obj, "get_params") and hasattr(obj, "fit")


Difference = tuple[str, float, str]  # (where, relative difference, what differs)
_NUMBERS = (bool, int, float, np.number, np.ndarray)


def _compare(a: Any, b: Any, path: str, out: list[Difference], depth: int) -> int:
    """Append differences between fitted state ``a`` and reference ``b``; return #compared."""
    if depth > _MAX_DEPTH:
        return 0
    if _is_estimator(a) and _is_estimator(b):
        return _compare_estimators(a, b, path, out, depth)
    if isinstance(a, dict) and isinstance(b, dict):
        return _compare_mappings(a, b, path, out, depth)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return _compare_sequences(a, b, path, out, depth)
    if isinstance(a, np.ndarray) and a.dtype.names and isinstance(b, np.ndarray):
        return _compare_records(a, b, path, out, depth)
    if isinstance(a, _NUMBERS) and isinstance(b, _NUMBERS):
        return _compare_arrays(np.asarray(a), np.asarray(b), path, out)
    if isinstance(a, str) and isinstance(b, str):
        if a != b:
            out.append((path, float("inf"), f"{a!r} vs {b!r}"))
        return 1
    state_a = _opaque_state(a)
    state_b = _opaque_state(b)
    if state_a is not None and state_b is not None and type(a) is type(b):
        # compiled objects such as a tree's node arrays expose their state for pickling
        return _compare(state_a, state_b, path, out, depth + 1)
    return 0


def _compare_estimators(a: Any, b: Any, path: str, out: list[Difference], depth: int) -> int:
    if type(a) is not type(b):
        out.append((path, float("inf"), f"{type(a).__name__} vs {type(b).__name__}"))
        return 1
    attrs_a, attrs_b = _fitted_attrs(a), _fitted_attrs(b)
    compared = 0
    for key in sorted(set(attrs_a) | set(attrs_b)):
        if key not in attrs_a or key not in attrs_b:
            continue
        compared += _compare(attrs_a[key], attrs_b[key], f"{path}.{key}", out, depth + 1)
    return compared


def _compare_mappings(
    a: dict[Any, Any], b: dict[Any, Any], path: str, out: list[Difference], depth: int
) -> int:
    compared = 0
    for key in set(a) | set(b):
        if key not in a or key not in b:
            out.append((f"{path}[{key!r}]", float("inf"), "present on one side only"))
            compared += 1
        else:
            compared += _compare(a[key], b[key], f"{path}[{key!r}]", out, depth + 1)
    return compared


def _compare_sequences(
    a: Sequence[Any], b: Sequence[Any], path: str, out: list[Difference], depth: int
) -> int:
    if len(a) != len(b):
        out.append((path, float("inf"), f"length {len(a)} vs {len(b)}"))
        return 1
    compared = 0
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if isinstance(x, tuple) and len(x) >= 2 and isinstance(x[0], str):
            # (name, estimator, ...) as in Pipeline.steps or ColumnTransformer
            compared += _compare(x[1], y[1], f"{path}[{x[0]!r}]", out, depth + 1)
        else:
            compared += _compare(x, y, f"{path}[{i}]", out, depth + 1)
    return compared


def _compare_records(
    a: np.ndarray, b: np.ndarray, path: str, out: list[Difference], depth: int
) -> int:
    if a.dtype != b.dtype or a.shape != b.shape:
        out.append((path, float("inf"), "structure differs"))
        return 1
    names = a.dtype.names or ()
    return sum(_compare(a[field], b[field], f"{path}.{field}", out, depth + 1) for field in names)


def _compare_arrays(x: np.ndarray, y: np.ndarray, path: str, out: list[Difference]) -> int:
    """Numbers by their largest relative difference (NaN equals NaN), labels exactly."""
    if x.shape != y.shape:
        out.append((path, float("inf"), f"shape {x.shape} vs {y.shape}"))
        return 1
    if x.dtype.kind in "biufc" and y.dtype.kind in "biufc":
        kind = complex if "c" in (x.dtype.kind, y.dtype.kind) else float
        xf, yf = x.astype(kind), y.astype(kind)
        both_nan = np.isnan(xf) & np.isnan(yf)
        diff = np.where(both_nan, 0.0, np.abs(xf - yf))
        scale = np.maximum(np.abs(yf), 1e-12)
        rel = float(np.max(np.where(both_nan, 0.0, diff / scale))) if diff.size else 0.0
        if rel > 0:
            out.append((path, rel, f"max relative difference {fmt(rel, 3)}"))
        return 1
    if x.dtype.kind in "OUSb" and not np.array_equal(x, y):
        out.append((path, float("inf"), "values differ"))
    return 1


def _opaque_state(obj: Any) -> dict[str, Any] | None:
    if isinstance(obj, (type, type(None))) or callable(obj):
        return None
    getter = getattr(obj, "__getstate__", None)
    if getter is None or type(obj).__module__.startswith(("builtins", "numpy")):
        return None
    try:
        state = getter()
    except TypeError:
        return None
    return state if isinstance(state, dict) else None


# ---------------------------------------------------------------------------- fit on train

_OUTPUT_ROWS = 2000
#: what a fitted step is compared by beyond its attributes: its first output method
STATE_OUTPUTS: tuple[OutputMethod, ...] = (
    "transform",
    "predict_proba",
    "decision_function",
    "predict",
)
FIT_ON_TRAIN_ONLY_WHY = (
    "preprocessing fitted on data beyond the training split (the whole data set "
    "before splitting, or train + test) carries test-set statistics into training, so "
    "evaluation is optimistic; target encoders fitted that way leak labels outright."
)
FIT_ON_TRAIN_ONLY_FIX = (
    "split first, then fit the transformer (better: put it in a Pipeline and fit the "
    "Pipeline on the training split, or inside each cross-validation fold)."
)
_COMPARED = "fitted attributes and outputs on X_train"


class StateDifference(TypedDict):
    attribute: str
    relative_difference: float
    note: str


class FitOnTrainOnlyDetails(TypedDict, total=False):
    """What ``fit_on_train_only`` measured (the record's ``details``)."""

    compared: str
    values_compared: int
    rows_X_train: int
    differences: list[StateDifference]  # beyond rtol, largest first, the first 20
    n_samples_seen: int  # when the estimator records it


@dataclass(frozen=True)
class FitComparison:
    """A fitted estimator against a clone refitted on the training rows alone."""

    estimator: str  # class name
    compared: int  # values compared
    rows: int  # rows of X_train
    significant: list[Difference]  # beyond rtol, largest first
    largest: float  # the largest relative difference (beyond rtol, else of all)
    seen: int | None  # rows the estimator says it has seen

    def details(self) -> FitOnTrainOnlyDetails:
        details: FitOnTrainOnlyDetails = {
            "compared": _COMPARED,
            "values_compared": self.compared,
            "rows_X_train": self.rows,
            "differences": [
                {"attribute": p, "relative_difference": r, "note": note}
                for p, r, note in self.significant[:20]
            ],
        }
        if self.seen is not None:
            details["n_samples_seen"] = self.seen
        return details


def _differences(fitted: Any, reference: Any, X: Any) -> tuple[list[Difference], int]:
    """Differences in fitted state and in outputs on (the first rows of) X, and how many
    values were compared."""
    diffs: list[Difference] = []
    compared = _compare(fitted, reference, type(fitted).__name__, diffs, 0)
    head = X.iloc[:_OUTPUT_ROWS] if hasattr(X, "iloc") else X[:_OUTPUT_ROWS]
    out_a = model_output(fitted, head, prefer=STATE_OUTPUTS, convert=_comparable)
    out_b = model_output(reference, head, prefer=STATE_OUTPUTS, convert=_comparable)
    if out_a is not None and out_b is not None:
        compared += _compare(out_a[1], out_b[1], "output on X_train", diffs, 0)
    return diffs, compared


def _comparable(value: Any) -> Any:
    """An output in a form ``_compare`` reads: numbers as float arrays, labels as they are,
    sparse matrices (one-hot, TF-IDF) as their CSR parts, never densified."""
    if hasattr(value, "tocsr") and hasattr(value, "nnz"):
        csr = value.tocsr(copy=True)
        csr.sum_duplicates()
        csr.sort_indices()
        return {
            "shape": np.asarray(csr.shape),
            "indptr": np.asarray(csr.indptr),
            "indices": np.asarray(csr.indices),
            "data": np.asarray(csr.data, dtype=float),
        }
    array = np.asarray(value)
    return array.astype(float) if array.dtype.kind in "biufc" else array


def _fit_reference(fitted: Any, X: Any, y: Any) -> Any:
    from sklearn.base import clone

    reference = clone(fitted)
    try:
        if y is None:
            reference.fit(X)
        else:
            reference.fit(X, y)
    except TypeError as exc:
        if y is None and "y" in str(exc):
            raise MLCheckUsageError(
                f"{type(fitted).__name__} needs labels to be fitted: pass y_train (supervised "
                "steps such as TargetEncoder or a final estimator learn from y)."
            ) from exc
        raise
    except ValueError as exc:
        if y is None and ("y" in str(exc) or "target" in str(exc).lower()):
            raise MLCheckUsageError(
                f"{type(fitted).__name__} could not be refitted without labels ({exc}): "
                "pass y_train."
            ) from exc
        raise
    return reference


def _require_fitted_estimator(fitted: Any) -> Any:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not _is_estimator(fitted):
        raise MLCheckUsageError(
            f"fitted is a {type(fitted).__name__}: expected a fitted scikit-learn style "
            "estimator, transformer or Pipeline (with get_params and fit)."
        )
    try:
        check_is_fitted(fitted)
    except NotFittedError as exc:
        raise MLCheckUsageError(
            f"fitted ({type(fitted).__name__}) is not fitted yet: expected the transformer "
            "as your pipeline fitted it."
        ) from exc
    except TypeError:
        pass
    return fitted


def _training_rows(X_train: ModelInput, y_train: VectorLike | None) -> tuple[Any, Any, int]:
    X = require_unique_columns(require_array_like(X_train, "X_train"), "X_train")
    n = require_rows(X, "X_train")
    y = None
    if y_train is not None:
        y = require_array_like(y_train, "y_train")
        require_same_length(X, y, "X_train", "y_train")
    return X, y, n


def _samples_seen(seen: Any) -> int | None:
    if seen is None:
        return None
    values = np.asarray(seen)
    if values.size == 0:
        return None
    return int(values.max())


def _measure_fit_on_train_only(fitted: Any, X: Any, y: Any, n: int, limit: float) -> FitComparison:
    """Compare ``fitted`` with a clone refitted on X (and y); when they differ beyond
    ``limit``, a second clone rules out randomness (an unseeded estimator) as the cause."""
    name = type(fitted).__name__
    seen = getattr(fitted, "n_samples_seen_", None)
    reference = _fit_reference(fitted, X, y)
    diffs, compared = _differences(fitted, reference, X)
    if compared == 0:
        raise MLCheckUsageError(
            f"{name} exposes neither fitted attributes nor an output "
            "method (transform/predict) to compare: the check cannot decide."
        )
    significant = [d for d in diffs if d[1] > limit]
    if significant:
        noise, _ = _differences(_fit_reference(fitted, X, y), reference, X)
        if any(d[1] > limit for d in noise):
            raise MLCheckUsageError(
                f"{name} does not refit deterministically (two fits on the "
                "same rows differ): set random_state so that the check can decide."
            )
    largest = max((d[1] for d in significant), default=max((d[1] for d in diffs), default=0.0))
    ranked = sorted(significant, key=lambda d: -d[1])
    return FitComparison(name, compared, n, ranked, largest, _samples_seen(seen))


def _explain_fit_on_train_only(figures: FitComparison, limit: float) -> str:
    name, largest = figures.estimator, figures.largest
    if not figures.significant:
        return (
            f"fit_on_train_only: {name} matches a refit on X_train "
            f"({figures.compared:,} {_COMPARED} compared; largest relative difference "
            f"{fmt(largest, 3)}, limit {fmt(limit, 3)})."
        )
    seen_note = (
        f" It has seen {figures.seen:,} rows; X_train has {figures.rows:,}."
        if figures.seen is not None and figures.seen != figures.rows
        else ""
    )
    rows = [[p, note] for p, _, note in figures.significant[:10]]
    return compose(
        f"fit_on_train_only: {name}'s fitted state differs from a refit on "
        f"X_train alone in {plural(len(figures.significant), 'value')} (largest relative "
        f"difference {fmt(largest, 3)}, limit {fmt(limit, 3)}).{seen_note}",
        body=table(["attribute", "difference"], rows),
        why=FIT_ON_TRAIN_ONLY_WHY,
        fix=FIT_ON_TRAIN_ONLY_FIX,
    )


@check("fit_on_train_only")
def check_fit_on_train_only(
    fitted: Any,
    X_train: ModelInput,
    y_train: VectorLike | None = None,
    *,
    rtol: float | None = None,
) -> CheckResult:
    """Detect a transformer or Pipeline fitted on more than the training data (contamination).

    A clone is fitted on ``X_train`` (and ``y_train``) alone and its fitted attributes are
    compared with those of ``fitted`` (for estimators with opaque state, the outputs on
    ``X_train``). Figure: the largest relative difference, held to ``rtol`` (ini
    ``ml_fit_on_train_rtol``, default 1e-6). A scaler fitted before the split differs by
    about the test share of the data; refitting on identical rows reproduces the state exactly.
    """
    require("sklearn", helper="assert_fit_on_train_only")
    limit = resolve_threshold("fit_on_train_rtol", rtol)
    _require_fitted_estimator(fitted)
    X, y, n = _training_rows(X_train, y_train)
    figures = _measure_fit_on_train_only(fitted, X, y, n, limit)
    message = _explain_fit_on_train_only(figures, limit)
    passed = not figures.significant
    return result(passed, "error", figures.largest, limit, message, dict(figures.details()))


# ---------------------------------------------------------------------------- round trip

#: every prediction-like output a saved model is compared by
SAVED_OUTPUTS: tuple[OutputMethod, ...] = (
    "predict",
    "predict_proba",
    "decision_function",
    "transform",
)
ROUNDTRIP_WHY = (
    "the model served is then not the model tested: state kept outside the pickled "
    "attributes (a global, a cache, an unseeded random draw at predict time, a custom "
    "__getstate__) is lost or differs."
)
ROUNDTRIP_FIX = (
    "keep all fitted state in attributes that serialise, seed any randomness used "
    "in predict, and pin library versions between training and serving."
)
UNSERIALISABLE_WHY = "a model that cannot be saved cannot be deployed or reproduced."
UNSERIALISABLE_FIX = (
    "remove lambdas, open handles or local classes from the model, or pick another method."
)


class OutputDifference(TypedDict):
    max_abs_diff: float
    rows: float  # rows whose output differs


class RoundtripDetails(TypedDict):
    """What ``roundtrip_consistent`` measured (the record's ``details``)."""

    method: str
    outputs: list[str]
    differing: dict[str, OutputDifference]


def _predict_outputs(model: Any, X: Any) -> dict[str, Any]:
    """Every prediction-like output the model offers, as float arrays (torch: forward)."""
    if _is_torch_module(model):
        return _torch_outputs(model, X)
    if hasattr(model, "fit") and not is_fitted(model):
        raise MLCheckUsageError(
            f"model ({type(model).__name__}) is not fitted: expected the fitted model or "
            "pipeline that gets saved."
        )
    outputs = model_outputs(model, X, prefer=SAVED_OUTPUTS, convert=_comparable, call=True)
    if not outputs:
        raise MLCheckUsageError(
            f"model ({type(model).__name__}) has no {method_list(SAVED_OUTPUTS)}: expected a "
            "fitted model or pipeline."
        )
    return outputs


def _torch_outputs(model: Any, X: Any) -> dict[str, Any]:
    """The tensors of a torch module's forward on X, as float64 arrays."""
    import torch

    from pytest_mlchecks.inputs.torch import forward, output_tensors

    inputs = X if is_torch(X) else torch.as_tensor(np.asarray(X, dtype=np.float32))
    with torch.no_grad():
        outs = output_tensors(forward(model, inputs))
    names = ["forward"] + [f"forward[{i}]" for i in range(1, len(outs))]
    return {n: t.detach().cpu().double().numpy() for n, t in zip(names, outs, strict=True)}


def _is_torch_module(obj: Any) -> bool:
    import sys

    if "torch" not in sys.modules:
        return False
    import torch

    return isinstance(obj, torch.nn.Module)


def _reload(model: Any, method: str) -> Any:
    import io
    import pickle

    if method == "pickle":
        return pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    if method == "joblib":
        joblib = require("joblib", helper="assert_roundtrip_consistent(method='joblib')")
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        buffer.seek(0)
        return joblib.load(buffer)
    if method == "skops":
        skops_io = require("skops.io", helper="assert_roundtrip_consistent(method='skops')")
        data = skops_io.dumps(model)
        trusted = skops_io.get_untrusted_types(data=data)
        return skops_io.loads(data, trusted=trusted)
    if method == "torch":
        return _reload_state_dict(model)
    raise MLCheckUsageError(
        f"method must be 'pickle', 'joblib', 'skops' or 'torch', got {method!r}."
    )


def _reload_state_dict(model: Any) -> Any:
    """A copy of a torch module with zeroed weights that loads the saved ``state_dict``."""
    import copy
    import io

    import torch

    if not _is_torch_module(model):
        raise MLCheckUsageError("method='torch' needs a torch.nn.Module as model.")
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    fresh = copy.deepcopy(model)
    with torch.no_grad():
        for p in fresh.parameters():
            p.zero_()
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    return fresh


def _sparse_gap(a: dict[str, np.ndarray], b: Any) -> tuple[float, float]:
    """A sparse output: structure must match, then the values; every row counts."""
    gap = math.inf
    if isinstance(b, dict) and all(
        np.array_equal(a[k], b[k]) for k in ("shape", "indptr", "indices")
    ):
        gap = float(np.max(np.abs(a["data"] - b["data"]), initial=0.0))
    return gap, float(a["shape"][0])


def _dense_gap(a: np.ndarray, b: np.ndarray, atol: float) -> tuple[float, float]:
    """The largest absolute difference (labels: inf when any differs; NaN equals NaN) and
    the rows whose output differs."""
    if a.dtype.kind in "OUS" or b.dtype.kind in "OUS":
        diff_rows = a != b
        gap = float("inf") if diff_rows.any() else 0.0
    else:
        both_nan = np.isnan(a) & np.isnan(b)
        delta = np.where(both_nan, 0.0, np.abs(a - b))
        delta = np.where(np.isnan(delta), np.inf, delta)
        gap = float(delta.max()) if delta.size else 0.0
        diff_rows = delta > atol
    rows = diff_rows.reshape(len(a), -1).any(axis=1) if diff_rows.ndim else diff_rows
    return gap, float(np.count_nonzero(rows))


def _measure_roundtrip(
    before: dict[str, Any], after: dict[str, Any], atol: float
) -> tuple[float, dict[str, OutputDifference]]:
    """The largest difference over all outputs, and the outputs that differ beyond
    ``atol``."""
    worst = 0.0
    differing: dict[str, OutputDifference] = {}
    for name, a in before.items():
        b = after.get(name)
        if isinstance(a, dict):
            gap, rows = _sparse_gap(a, b)
        elif b is None or a.shape != b.shape:  # an output lost or reshaped: always differs
            differing[name] = {"max_abs_diff": float("inf"), "rows": float(len(a))}
            worst = float("inf")
            continue
        else:
            gap, rows = _dense_gap(a, b, atol)
        if gap > atol:
            differing[name] = {"max_abs_diff": gap, "rows": rows}
        worst = max(worst, gap)
    return worst, differing


def _explain_roundtrip_consistent(
    details: RoundtripDetails, model_name: str, worst: float, atol: float
) -> str:
    method = details["method"]
    if not details["differing"]:
        return (
            f"roundtrip_consistent: {model_name} gives identical "
            f"{', '.join(details['outputs'])} after a {method} round trip."
        )
    rows = [
        [k, fmt(v["max_abs_diff"], 3), f"{int(v['rows']):,}"]
        for k, v in details["differing"].items()
    ]
    return compose(
        f"roundtrip_consistent: predictions change after a {method} round trip "
        f"(largest absolute difference {fmt(worst, 3)}, tolerance {fmt(atol, 3)}).",
        body=table(["output", "max |diff|", "rows"], rows),
        why=ROUNDTRIP_WHY,
        fix=ROUNDTRIP_FIX,
    )


def _unserialisable(model: Any, method: str, exc: Exception, atol: float) -> CheckResult:
    """The failure when the model cannot be saved and loaded at all."""
    message = compose(
        f"roundtrip_consistent: {type(model).__name__} cannot be serialised with "
        f"{method}: {type(exc).__name__}: {exc}.",
        why=UNSERIALISABLE_WHY,
        fix=UNSERIALISABLE_FIX,
    )
    details = {"method": method, "error": type(exc).__name__}
    return result(False, "error", None, atol, message, details)


@check("roundtrip_consistent")
def check_roundtrip_consistent(
    model: Any, X: ModelInput, *, method: str | None = None, atol: float = 0.0
) -> CheckResult:
    """Detect a model whose predictions change after saving and loading it.

    Serialises with ``method`` (``pickle`` by default; ``joblib`` and ``skops`` when
    installed; ``torch`` saves and reloads a module's ``state_dict`` into a copy) and compares
    every prediction output on ``X``. Figure: the largest absolute difference (threshold
    ``atol``, default 0: identical). torch modules are compared in eval mode under no_grad, on
    copies, so the caller's module keeps its mode.
    """
    import copy

    X = require_unique_columns(require_array_like(X, "X"), "X")
    require_rows(X, "X")
    if method is None:
        method = "torch" if _is_torch_module(model) else "pickle"
    try:
        loaded = _reload(model, method)
    except MLCheckUsageError:
        raise
    except Exception as exc:
        return _unserialisable(model, method, exc, atol)
    original = model
    if _is_torch_module(model):
        original = copy.deepcopy(model).eval()
        loaded = loaded.eval()
    before = _predict_outputs(original, X)
    worst, differing = _measure_roundtrip(before, _predict_outputs(loaded, X), atol)
    details: RoundtripDetails = {
        "method": method,
        "outputs": sorted(before),
        "differing": differing,
    }
    message = _explain_roundtrip_consistent(details, type(model).__name__, worst, atol)
    return result(not differing, "error", worst, atol, message, dict(details))


# ---------------------------------------------------------------------------- train vs serve

SAME_FEATURES_WHY = (
    "training-serving skew: the model was fitted on one feature definition and is "
    "served another (fillna(0) for a fitted median, another rounding, reordered "
    "columns), so production accuracy falls short of test accuracy with no error."
)
SAME_FEATURES_FIX = (
    "compute features with one shared function or the fitted pipeline itself at "
    "serving time; if two implementations must exist, keep this test on them."
)


class ColumnDifference(TypedDict):
    cells: int
    max_abs_diff: float
    share: float  # of the rows


class SameFeaturesDetails(TypedDict, total=False):
    """What ``same_features`` measured (the record's ``details``)."""

    rows: int
    only_training: list[str]
    only_serving: list[str]
    columns: dict[str, ColumnDifference]  # columns whose values differ
    problems: list[str]  # structural differences: rows, columns, column order


def _features(producer: Any, X: Any, arg: str) -> tuple[Any, bool]:
    """The features a producer computes, as a DataFrame, and whether its columns have names
    (False for plain arrays, which are then compared by position)."""
    import pandas as pd

    if hasattr(producer, "transform") and callable(producer.transform):
        out = producer.transform(X)
    elif callable(producer):
        out = producer(X)
    else:
        raise MLCheckUsageError(
            f"{arg} is a {type(producer).__name__}: expected a fitted transformer/pipeline "
            "(with transform) or a function from raw rows to features."
        )
    if hasattr(out, "toarray"):  # scipy sparse
        out = out.toarray()
    named = isinstance(out, pd.DataFrame)
    names = None
    if hasattr(producer, "get_feature_names_out") and not named:
        try:
            names = [str(n) for n in producer.get_feature_names_out()]
        except Exception:
            names = None
    frame = as_dataframe(out, f"the output of {arg}")
    if names is not None and len(names) == frame.shape[1]:
        frame = frame.set_axis(names, axis=1)
        named = True
    return frame, named


def _both_features(train_fn_or_pipeline: Any, serve_fn: Any, X: Any) -> tuple[Any, Any]:
    """Both feature tables; when one side is a plain array with as many columns as the
    other, it is compared by position under the named side's names."""
    train, train_named = _features(train_fn_or_pipeline, X, "train_fn_or_pipeline")
    serve, serve_named = _features(serve_fn, X, "serve_fn")
    if not (train_named and serve_named) and train.shape[1] == serve.shape[1]:
        names = list(train.columns if train_named else serve.columns)
        train, serve = train.set_axis(names, axis=1), serve.set_axis(names, axis=1)
    return train, serve


def _structure(train: Any, serve: Any) -> SameFeaturesDetails:
    """Structural differences: row counts, columns on one side only, column order."""
    problems: list[str] = []
    if len(train) != len(serve):
        problems.append(f"row counts differ: training {len(train):,}, serving {len(serve):,}")
    t_names, s_names = [str(c) for c in train.columns], [str(c) for c in serve.columns]
    only_train = [c for c in t_names if c not in s_names]
    only_serve = [c for c in s_names if c not in t_names]
    if only_train:
        problems.append(f"columns only in training features: {only_train[:10]}")
    if only_serve:
        problems.append(f"columns only in serving features: {only_serve[:10]}")
    common = [c for c in t_names if c in s_names]
    if [c for c in s_names if c in common] != common:
        problems.append(
            "column order differs (a model fed arrays reads the wrong features): training "
            f"{common[:8]}, serving {[c for c in s_names if c in common][:8]}"
        )
    return {"only_training": only_train, "only_serving": only_serve, "problems": problems}


def _cell_differences(a: Any, b: Any, rtol: float, atol: float) -> tuple[int, float]:
    """Cells of two columns that differ (numbers within rtol / atol and NaN = NaN count as
    equal; other values compared as text) and the largest absolute difference (inf for
    text, or a value against a missing one)."""
    try:
        x = a.to_numpy(dtype=np.float64, na_value=np.nan)
        y = b.to_numpy(dtype=np.float64, na_value=np.nan)
        both_nan = np.isnan(x) & np.isnan(y)
        close = np.isclose(x, y, rtol=rtol, atol=atol) | both_nan
        delta = np.where(close, 0.0, np.abs(x - y))
        gap = float(np.nanmax(delta)) if delta.size else 0.0
        if np.isnan(delta).any() or (~close & (np.isnan(x) ^ np.isnan(y))).any():
            gap = float("inf")
    except (TypeError, ValueError):
        close = (a.astype(str).to_numpy() == b.astype(str).to_numpy()) | (
            a.isna().to_numpy() & b.isna().to_numpy()
        )
        gap = float("inf")
    return int(np.count_nonzero(~close)), gap


def _common_columns(train: Any, serve: Any) -> list[str]:
    """The training features' names (as text) that the serving features also have."""
    s_names = [str(c) for c in serve.columns]
    return [c for c in (str(c) for c in train.columns) if c in s_names]


def _measure_same_features(
    train: Any, serve: Any, n: int, rtol: float, atol: float
) -> SameFeaturesDetails:
    """Structural differences, and per shared column the cells whose values differ."""
    details = _structure(train, serve)
    columns: dict[str, ColumnDifference] = {}
    if len(train) == len(serve):
        t_by = {str(c): c for c in train.columns}
        s_by = {str(c): c for c in serve.columns}
        for name in _common_columns(train, serve):
            bad, gap = _cell_differences(train[t_by[name]], serve[s_by[name]], rtol, atol)
            if bad:
                columns[name] = {"cells": bad, "max_abs_diff": gap, "share": bad / n}
    return {"rows": n, **details, "columns": columns}


def _explain_same_features(details: SameFeaturesDetails, common: int) -> str:
    problems, columns, n = details["problems"], details["columns"], details["rows"]
    if not problems and not columns:
        return (
            f"same_features: training and serving produce the same {common} features on {n:,} rows."
        )
    ranked = sorted(columns.items(), key=lambda kv: -kv[1]["cells"])
    body_rows = [
        [k, f"{int(v['cells']):,}", percent(v["share"]), fmt(v["max_abs_diff"], 3)]
        for k, v in ranked[:12]
    ]
    body = "\n".join(f"  - {p}" for p in problems)
    if body_rows:
        body = (body + "\n" if body else "") + table(
            ["feature", "cells differ", "share", "max |diff|"], body_rows
        )
    return compose(
        f"same_features: training and serving features disagree on the same raw rows "
        f"({plural(len(columns), 'column')} with different values, "
        f"{len(problems)} structural difference{'s' if len(problems) != 1 else ''}).",
        body=body,
        why=SAME_FEATURES_WHY,
        fix=SAME_FEATURES_FIX,
    )


@check("same_features")
def check_same_features(
    train_fn_or_pipeline: Any,
    serve_fn: Any,
    X: TableLike,
    *,
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> CheckResult:
    """Detect training-serving skew: the two feature computations disagree on the same rows.

    Both are applied to the same raw ``X``; columns are matched by name (reordered columns
    are reported), then values compared with ``rtol`` / ``atol`` (NaN equals NaN). Catches
    fillna(0) at serving vs the fitted median, reordered or renamed columns, different
    rounding or units. Figure: the number of differing cells (threshold 0).
    """
    X = require_array_like(X, "X")
    n = require_rows(X, "X")
    train, serve = _both_features(train_fn_or_pipeline, serve_fn, X)
    details = _measure_same_features(train, serve, n, rtol, atol)
    common = len(_common_columns(train, serve))
    problems, columns = details["problems"], details["columns"]
    if not problems and not columns and not common:
        raise MLCheckUsageError(
            "both feature computations return no columns on X: there are no features to "
            "compare, so nothing to decide on. Expected functions that compute features."
        )
    value = sum(c["cells"] for c in columns.values())
    value += len(details["only_training"]) + len(details["only_serving"])
    message = _explain_same_features(details, common)
    return result(not problems and not columns, "error", value, 0, message, dict(details))
