"""Pipeline rung: was the fitted preprocessing learned from the training split alone?"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._deps import require
from .._inputs import fmt, require_array_like, require_rows, require_same_length, table
from .._messages import compose, plural
from .._result import CheckResult, MLCheckUsageError
from .._runtime import assertion, check, resolve_threshold

__all__ = ["assert_fit_on_train_only", "check_fit_on_train_only"]

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


def _compare(a: Any, b: Any, path: str, out: list[tuple[str, float, str]], depth: int) -> int:
    """Append differences between fitted state ``a`` and reference ``b``; return #compared."""
    if depth > _MAX_DEPTH:
        return 0
    if _is_estimator(a) and _is_estimator(b):
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
    if isinstance(a, dict) and isinstance(b, dict):
        compared = 0
        for key in set(a) | set(b):
            if key not in a or key not in b:
                out.append((f"{path}[{key!r}]", float("inf"), "present on one side only"))
                compared += 1
            else:
                compared += _compare(a[key], b[key], f"{path}[{key!r}]", out, depth + 1)
        return compared
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
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
    if isinstance(a, np.ndarray) and a.dtype.names and isinstance(b, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            out.append((path, float("inf"), "structure differs"))
            return 1
        return sum(
            _compare(a[field], b[field], f"{path}.{field}", out, depth + 1)
            for field in a.dtype.names
        )
    if isinstance(a, (bool, int, float, np.number, np.ndarray)) and isinstance(
        b, (bool, int, float, np.number, np.ndarray)
    ):
        x, y = np.asarray(a), np.asarray(b)
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


_OUTPUT_ROWS = 2000


def _differences(fitted: Any, reference: Any, X: Any) -> list[tuple[str, float, str]]:
    """Differences in fitted state and in outputs on (the first rows of) X; the last entry
    is ``("#compared", count, "")``."""
    diffs: list[tuple[str, float, str]] = []
    compared = _compare(fitted, reference, type(fitted).__name__, diffs, 0)
    head = X.iloc[:_OUTPUT_ROWS] if hasattr(X, "iloc") else X[:_OUTPUT_ROWS]
    out_a, out_b = _output(fitted, head), _output(reference, head)
    if out_a is not None and out_b is not None:
        compared += _compare(out_a, out_b, "output on X_train", diffs, 0)
    diffs.append(("#compared", float(compared), ""))
    return diffs


def _output(est: Any, X: Any) -> Any:
    for method in ("transform", "predict_proba", "decision_function", "predict"):
        fn = getattr(est, method, None)
        if callable(fn):
            return np.asarray(fn(X), dtype=float)
    return None


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


@check
def check_fit_on_train_only(
    fitted: Any, X_train: Any, y_train: Any = None, *, rtol: float | None = None
) -> CheckResult:
    """Detect a transformer or Pipeline fitted on more than the training data (contamination).

    A clone is fitted on ``X_train`` (and ``y_train``) alone and its fitted attributes are
    compared with those of ``fitted`` (for estimators with opaque state, the outputs on
    ``X_train``). Figure: the largest relative difference, held to ``rtol`` (ini
    ``ml_fit_on_train_rtol``, default 1e-6). A scaler fitted before the split differs by
    about the test share of the data; refitting on identical rows reproduces the state exactly.
    """
    require("sklearn", helper="assert_fit_on_train_only")
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    limit = resolve_threshold("fit_on_train_rtol", rtol)
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
    X = require_array_like(X_train, "X_train")
    n = require_rows(X, "X_train")
    if y_train is not None:
        y_train = require_array_like(y_train, "y_train")
        require_same_length(X, y_train, "X_train", "y_train")
    seen = getattr(fitted, "n_samples_seen_", None)
    reference = _fit_reference(fitted, X, y_train)
    diffs = _differences(fitted, reference, X)
    compared = diffs.pop()[1] if diffs and diffs[-1][0] == "#compared" else 0
    if compared == 0:
        raise MLCheckUsageError(
            f"{type(fitted).__name__} exposes neither fitted attributes nor an output "
            "method (transform/predict) to compare: the check cannot decide."
        )
    method = "fitted attributes and outputs on X_train"
    significant = [d for d in diffs if d[1] > limit]
    if significant:
        # a second clone rules out randomness (an unseeded estimator) as the cause
        again = _fit_reference(fitted, X, y_train)
        noise = _differences(again, reference, X)[:-1]
        if any(d[1] > limit for d in noise):
            raise MLCheckUsageError(
                f"{type(fitted).__name__} does not refit deterministically (two fits on the "
                "same rows differ): set random_state so that the check can decide."
            )
    worst = max((d[1] for d in significant), default=max((d[1] for d in diffs), default=0.0))
    details: dict[str, Any] = {
        "compared": method,
        "values_compared": compared,
        "rows_X_train": n,
        "differences": [
            {"attribute": p, "relative_difference": r, "note": note}
            for p, r, note in sorted(significant, key=lambda d: -d[1])[:20]
        ],
    }
    seen_total = _samples_seen(seen)
    if seen_total is not None:
        details["n_samples_seen"] = seen_total
    if not significant:
        message = (
            f"fit_on_train_only: {type(fitted).__name__} matches a refit on X_train "
            f"({compared:,} {method} compared; largest relative difference {fmt(worst, 3)}, "
            f"limit {fmt(limit, 3)})."
        )
        return CheckResult(
            "fit_on_train_only", "pipeline", True, "error", worst, limit, message, details
        )
    seen_note = (
        f" It has seen {seen_total:,} rows; X_train has {n:,}."
        if seen_total is not None and seen_total != n
        else ""
    )
    rows = [[p, note] for p, _, note in sorted(significant, key=lambda d: -d[1])[:10]]
    message = compose(
        f"fit_on_train_only: {type(fitted).__name__}'s fitted state differs from a refit on "
        f"X_train alone in {plural(len(significant), 'value')} (largest relative "
        f"difference {fmt(worst, 3)}, limit {fmt(limit, 3)}).{seen_note}",
        body=table(["attribute", "difference"], rows),
        why=(
            "preprocessing fitted on data beyond the training split (the whole data set "
            "before splitting, or train + test) carries test-set statistics into training, so "
            "evaluation is optimistic; target encoders fitted that way leak labels outright."
        ),
        fix=(
            "split first, then fit the transformer (better: put it in a Pipeline and fit the "
            "Pipeline on the training split, or inside each cross-validation fold)."
        ),
    )
    return CheckResult(
        "fit_on_train_only", "pipeline", False, "error", worst, limit, message, details
    )


def _samples_seen(seen: Any) -> int | None:
    if seen is None:
        return None
    values = np.asarray(seen)
    if values.size == 0:
        return None
    return int(values.max())


assert_fit_on_train_only = assertion(check_fit_on_train_only)
