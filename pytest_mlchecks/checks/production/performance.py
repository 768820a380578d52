"""Production rung: does the model still perform as its labels arrive, and does the relation
between features and label still hold?

``performance_holds`` scores the model window by window as delayed labels come in and compares
each window with the training baseline: a window fails only when its fall passes the tolerated
drop *and* the window's own sampling noise, so small windows warn instead of crying wolf.
``no_concept_drift`` asks whether knowing the period (reference or current) helps predict the
label once the features are known: it does when P(y | x) changed, and it does not when only
the inputs moved (covariate shift), which ``no_drift`` reports instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from pytest_mlchecks._charts import BarChart, Chart, Line, LineChart, Mark, Series, chart
from pytest_mlchecks._messages import compose, plural
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks._stats import auc_se
from pytest_mlchecks.inputs.metrics import COMPUTED, METRICS, MetricSpec
from pytest_mlchecks.inputs.tables import (
    VectorLike,
    fmt,
    is_series,
    one_column,
    table,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_no_concept_drift", "check_performance_holds"]


class _DefaultFloat(float):
    """A default that reads as its value in signatures (``max_drop=0.05``, the public
    contract) but is told apart from the same number passed on purpose, so that the ini
    option ``ml_performance_max_drop`` applies whenever the caller did not pass one."""

    def __repr__(self) -> str:
        return repr(float(self))


MAX_DROP_DEFAULT: float = _DefaultFloat(0.05)
PERF_ALPHA = 0.01  # family-wise (Bonferroni over judged windows) one-sided false-alarm level
PERF_WARN_ALPHA = 0.05  # the same for warnings: a drop past max_drop, likely but not established
MIN_CLASS = 5  # fewest rows of each class (positives, negatives) a window needs for AUC
BOOTSTRAPS = 200
MAX_LISTED = 200  # windows listed in the details (the worst ones when there are more)
MAX_WINDOWS = 10_000

# ------------------------------------------------------------------------------- inputs


def _vector(obj: Any, arg: str) -> Any:
    """``obj`` as a pandas Series (1-D input, or a one-column table), positions as index."""
    import pandas as pd

    values = one_column(obj, arg)
    if is_series(values):
        return pd.Series(values.to_numpy(), copy=True)
    if values.dtype.kind == "V":
        raise MLCheckUsageError(
            f"{arg} has shape {values.shape}: expected a 1-D vector (one value per row)."
        )
    return pd.Series(np.array(values, copy=True))


def _metric_spec(metric: object) -> MetricSpec:
    if not isinstance(metric, str) or metric not in COMPUTED:
        raise MLCheckUsageError(f"metric must be one of {sorted(COMPUTED)}, got {metric!r}.")
    return METRICS[metric]


def _baseline_value(baseline: object, metric: str) -> tuple[float, float]:
    """The baseline figure and its standard error (0 unless given as a mapping's ``se``)."""
    value: object = baseline
    se: object = 0.0
    if isinstance(baseline, Mapping):
        key = metric if metric in baseline else "value" if "value" in baseline else None
        if key is None:
            raise MLCheckUsageError(
                f"baseline is a mapping without a {metric!r} or 'value' key: expected the "
                f"training / validation {metric} as a number (or {{{metric!r}: number, "
                "'se': its standard error}})."
            )
        value, se = baseline[key], baseline.get("se", 0.0)
    for name, raw in (("baseline", value), ("baseline['se']", se)):
        if isinstance(raw, (bool, str, bytes)) or not isinstance(raw, (int, float, np.number)):
            raise MLCheckUsageError(
                f"{name} must be a finite number (the training / validation {metric}), got {raw!r}."
            )
        if not math.isfinite(float(raw)):
            raise MLCheckUsageError(f"{name} must be a finite number, got {raw!r}.")
    if float(se) < 0:  # type: ignore[arg-type]
        raise MLCheckUsageError(f"baseline['se'] must be >= 0, got {se!r}.")
    return float(value), float(se)  # type: ignore[arg-type]


def _positive_label(spec: MetricSpec, truth: Any, pos_label: Any) -> Any:
    """The label the metric scores as positive (None for metrics without one)."""
    if not spec.positive:
        return None
    labels = set(truth.unique().tolist())
    if pos_label is not None:
        if pos_label not in labels:
            raise MLCheckUsageError(
                f"pos_label {pos_label!r} is not a label of y_true (labels: "
                f"{sorted(map(repr, labels))[:10]})."
            )
        return pos_label
    if labels <= {0, 1}:
        return True if labels <= {True, False} and truth.dtype == bool else 1
    raise MLCheckUsageError(
        f"metric {spec.name!r} scores one positive label and y_true's labels are "
        f"{sorted(map(repr, labels))[:10]}: pass pos_label= (1 is assumed only for 0/1 labels)."
    )


def _labels_and_scores(
    y_true: VectorLike, y_score: VectorLike, spec: MetricSpec
) -> tuple[Any, Any, Any]:
    """(labels, scores, labelled mask): rows whose label has not arrived (NaN / None in
    ``y_true``) stay in the windows' row counts but are not scored."""
    truth, score = _vector(y_true, "y_true"), _vector(y_score, "y_score")
    if len(truth) != len(score):
        raise MLCheckUsageError(
            f"y_true has {len(truth):,} rows but y_score has {len(score):,}: expected one "
            "score per label (NaN in y_true for rows whose label has not arrived yet)."
        )
    labelled = truth.notna().to_numpy()
    if not labelled.any():
        raise MLCheckUsageError(
            "y_true has no label yet (every value is missing): performance_holds needs "
            "the labels that have arrived."
        )
    if score.isna().any():
        raise MLCheckUsageError(
            f"y_score has {int(score.isna().sum()):,} missing values: expected a prediction "
            "for every row."
        )
    if spec.needs_scores or spec.numeric:
        try:
            score = score.astype(float)
        except (TypeError, ValueError):
            raise MLCheckUsageError(
                f"y_score must be numeric for {spec.name!r} (scores or predictions), got "
                f"{score.dtype} values."
            ) from None
        if not np.isfinite(score.to_numpy()).all():
            raise MLCheckUsageError("y_score has infinite values: expected finite predictions.")
    if spec.numeric:
        try:
            truth = truth.astype(float)
        except (TypeError, ValueError):
            raise MLCheckUsageError(
                f"y_true must be numeric for {spec.name!r}, got {truth.dtype} values."
            ) from None
    return truth, score, labelled


# ------------------------------------------------------------------------------ windows


class _Window(TypedDict):
    rows: np.ndarray  # positions of the window's rows
    start: str | int
    end: str | int


def _iso(stamp: Any) -> str:
    return str(stamp.isoformat())


def _timestamps(timestamps: Any, n: int) -> Any:
    """The timestamps as a pandas Series (datetimes, or numbers for row windows)."""
    import pandas as pd

    stamps = _vector(timestamps, "timestamps")
    if len(stamps) != n:
        raise MLCheckUsageError(
            f"timestamps has {len(stamps):,} rows but y_true has {n:,}: expected one time "
            "stamp per row."
        )
    if stamps.isna().any():
        raise MLCheckUsageError(
            f"timestamps has {int(stamps.isna().sum()):,} missing values: expected a time "
            "stamp for every row."
        )
    if stamps.dtype.kind in "iuf" or pd.api.types.is_datetime64_any_dtype(stamps):
        return stamps
    for utc in (False, True):  # mixed UTC offsets (a daylight-saving change) need utc=True
        try:
            return pd.Series(pd.to_datetime(stamps.to_numpy(), utc=utc))
        except (TypeError, ValueError, OverflowError):
            continue
    raise MLCheckUsageError(
        f"timestamps holds {stamps.dtype} values that are not dates or numbers: expected "
        "datetimes (or ISO strings) to order the rows by."
    )


def _span(window: object) -> Any:
    """A fixed time span (pandas Timedelta) from ``window``, or a usage error."""
    import pandas as pd

    try:
        span = pd.Timedelta(window)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        span = None
    if span is None or span is pd.NaT or span <= pd.Timedelta(0):
        raise MLCheckUsageError(
            f"window must be a number of rows (int >= 1) or a fixed time span such as '7D', "
            f"'12h' or a Timedelta (calendar months vary: use '30D'), got {window!r}."
        )
    return span


def _windows(n: int, timestamps: Any, window: object) -> list[_Window]:
    """The windows: consecutive rows (in time order when stamped) or time spans."""
    if isinstance(window, (bool, float)):
        raise MLCheckUsageError(
            f"window must be an int number of rows or a time span ('7D'), got {window!r}."
        )
    if window is None and timestamps is None:
        return [{"rows": np.arange(n), "start": 0, "end": n - 1}]
    order = np.arange(n)
    stamps = None
    if timestamps is not None:
        stamps = _timestamps(timestamps, n)
        order = np.argsort(stamps.to_numpy(), kind="stable")

    def bound(position: int) -> str | int:
        return int(position) if stamps is None else _stamp(stamps.iloc[position])

    if window is None:
        return [{"rows": order, "start": bound(order[0]), "end": bound(order[-1])}]
    if isinstance(window, (int, np.integer)):
        if window < 1:
            raise MLCheckUsageError(f"window must be >= 1 row, got {window!r}.")
        size = int(window)
        return [
            {"rows": rows, "start": bound(rows[0]), "end": bound(rows[-1])}
            for rows in (order[i : i + size] for i in range(0, n, size))
        ]
    if stamps is None:
        raise MLCheckUsageError(
            f"window={window!r} is a time span: pass timestamps= (one per row), or give "
            "window as a number of rows."
        )
    return _time_windows(stamps, order, _span(window))


def _stamp(value: Any) -> str | int:
    if hasattr(value, "isoformat"):
        return _iso(value)
    return float(value) if isinstance(value, float) else int(value)  # type: ignore[return-value]


def _time_windows(stamps: Any, order: np.ndarray, span: Any) -> list[_Window]:
    import pandas as pd

    if not pd.api.types.is_datetime64_any_dtype(stamps):
        raise MLCheckUsageError(
            "window is a time span but timestamps are numbers: pass datetimes (or ISO "
            "strings), or give window as a number of rows."
        )
    first = stamps.min()
    index = ((stamps - first) // span).to_numpy().astype(np.int64)
    count = int(index.max()) + 1
    if count > MAX_WINDOWS:
        raise MLCheckUsageError(
            f"window={span} cuts the {stamps.max() - first} covered by timestamps into "
            f"{count:,} windows (at most {MAX_WINDOWS:,}): use a longer span."
        )
    sorted_index = index[order]
    cuts = np.searchsorted(sorted_index, np.arange(count + 1))
    return [
        {
            "rows": order[cuts[k] : cuts[k + 1]],
            "start": _iso(first + k * span),
            "end": _iso(first + (k + 1) * span),
        }
        for k in range(count)
    ]


# ------------------------------------------------------------------------------ measure


class PerformanceWindow(TypedDict):
    """One window of ``performance_holds``: rows (positions, inclusive) or time span
    ([start, end) for time windows, first and last stamp for row windows)."""

    start: str | int
    end: str | int
    rows: int
    n: int  # labelled rows
    positives: int | None  # classification metrics with a positive label
    metric: float | None  # None: undecided
    se: float | None
    drop: float | None  # baseline - metric (metric - baseline when lower is better)
    verdict: str  # "ok", "drop" (error), "warning" (past max_drop, noise 5% not 1%), "undecided"
    reason: str  # why a window is undecided ("" otherwise)


class PerformanceDetails(TypedDict):
    """What ``performance_holds`` measured (the record's ``details``)."""

    metric: str
    greater_is_better: bool
    baseline: float
    baseline_se: float
    max_drop: float
    z: float  # the noise bar: a drop counts when above z standard errors
    rows: int
    labelled: int
    windows_total: int
    judged: int
    undecided: int
    drops: int
    warnings: int
    worst_drop: float | None
    windows: list[PerformanceWindow]  # in time order; the worst MAX_LISTED when more


def _se(
    spec: MetricSpec, t: np.ndarray, p: np.ndarray, positive: Any, value: float, rng: Any
) -> float:
    """The window metric's standard error: Hanley-McNeil for ROC-AUC, binomial for shares,
    a seeded bootstrap otherwise."""
    name = spec.name
    if name == "roc_auc":
        n_pos = int(np.count_nonzero(t == positive))
        return auc_se(value, n_pos, len(t) - n_pos)
    if name in ("accuracy", "recall", "precision"):
        if name == "accuracy":
            base = len(t)
        elif name == "recall":
            base = int(np.count_nonzero(t == positive))
        else:
            base = int(np.count_nonzero(p == positive))
        hits = value * base
        share = (hits + 0.5) / (base + 1.0)  # never exactly 0 or 1
        return math.sqrt(share * (1.0 - share) / max(base, 1))
    assert spec.compute is not None
    n = len(t)
    draws = []
    for _ in range(BOOTSTRAPS):
        rows = rng.integers(0, n, n)
        draws.append(spec.compute(t[rows], p[rows], positive))
    finite = np.asarray(draws, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(finite.std(ddof=1)) if len(finite) > 1 else math.inf


def _undecided_reason(
    spec: MetricSpec, t: np.ndarray, p: np.ndarray, positive: Any, min_labels: int
) -> str:
    n = len(t)
    if n < min_labels:
        return f"{n:,} labels < min_labels {min_labels}"
    if spec.positive:
        pos = int(np.count_nonzero(t == positive))
        if spec.name in ("roc_auc", "recall", "f1") and pos < MIN_CLASS:
            return f"{pos} positive labels (< {MIN_CLASS})"
        if spec.name == "roc_auc" and n - pos < MIN_CLASS:
            return f"{n - pos} negative labels (< {MIN_CLASS})"
        if spec.name == "precision" and np.count_nonzero(p == positive) < MIN_CLASS:
            return f"fewer than {MIN_CLASS} predicted positives"
    if spec.name == "r2" and float(np.var(t)) == 0.0:
        return "constant labels (R² undefined)"
    return ""


def _measure_window(
    spec: MetricSpec,
    window: _Window,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    positive: Any,
    min_labels: int,
    rng: Any,
) -> PerformanceWindow:
    truth, score, labelled = data
    rows = window["rows"]
    keep = rows[labelled[rows]]
    t, p = truth[keep], score[keep]
    out: PerformanceWindow = {
        "start": window["start"],
        "end": window["end"],
        "rows": len(rows),
        "n": len(keep),
        "positives": int(np.count_nonzero(t == positive)) if spec.positive else None,
        "metric": None,
        "se": None,
        "drop": None,
        "verdict": "undecided",
        "reason": _undecided_reason(spec, t, p, positive, min_labels),
    }
    if out["reason"]:
        return out
    assert spec.compute is not None
    value = float(spec.compute(t, p, positive))
    if not math.isfinite(value):
        out["reason"] = f"{spec.name} undefined on these labels"
        return out
    out["metric"] = value
    out["se"] = _se(spec, t, p, positive, value, rng)
    out["verdict"] = "ok"
    return out


def _judge(
    windows: list[PerformanceWindow], spec: MetricSpec, baseline: tuple[float, float], limit: float
) -> float:
    """Give each judged window its drop and verdict; returns the noise bar's z."""
    judged = [w for w in windows if w["verdict"] != "undecided"]
    z = NormalDist().inv_cdf(1.0 - PERF_ALPHA / max(len(judged), 1))
    z_warn = NormalDist().inv_cdf(1.0 - PERF_WARN_ALPHA / max(len(judged), 1))
    value, base_se = baseline
    for w in judged:
        assert w["metric"] is not None and w["se"] is not None
        drop = value - w["metric"] if spec.greater_is_better else w["metric"] - value
        w["drop"] = drop
        se = math.sqrt(w["se"] ** 2 + base_se**2)
        if drop > limit and drop > z_warn * se:
            w["verdict"] = "drop" if drop > z * se else "warning"
    return z


def _listed(windows: list[PerformanceWindow]) -> list[PerformanceWindow]:
    """Every window, or the MAX_LISTED worst (in time order) when there are more."""
    if len(windows) <= MAX_LISTED:
        return windows
    drops = [-math.inf if w["drop"] is None else w["drop"] for w in windows]
    rank = sorted(range(len(windows)), key=drops.__getitem__, reverse=True)
    keep = sorted(rank[:MAX_LISTED])
    return [windows[i] for i in keep]


# ------------------------------------------------------------------------------ explain

PERFORMANCE_WHY = (
    "a model that lost skill in production keeps deciding with the confidence its validation "
    "score earned; the usual retrain trigger is a drop of 0.05 in AUC."
)
PERFORMANCE_FIX = (
    "find the cause before retraining: input drift (assert_no_drift on the features and on "
    "the scores), a broken upstream feature or join, a changed label definition, or a changed "
    "relation (assert_no_concept_drift); then retrain on recent labelled data and record the "
    "new baseline."
)
WITHIN_NOISE_FIX = (
    "the fall passes max_drop but not these windows' sampling noise: wait for more labels or "
    "use longer windows (window=) before acting; a real fall of this size is confirmed once "
    "a window holds enough labels."
)


def _window_name(w: PerformanceWindow) -> str:
    return f"{w['start']}..{w['end']}"


def _explain_performance(d: PerformanceDetails) -> str:
    metric, base = d["metric"], fmt(d["baseline"], 4)
    undecided = ""
    if d["undecided"]:
        named = [w for w in d["windows"] if w["verdict"] == "undecided"][:5]
        shown = "; ".join(f"{_window_name(w)} ({w['reason']})" for w in named)
        more = f" and {d['undecided'] - len(named)} more" if d["undecided"] > len(named) else ""
        undecided = (
            f" {plural(d['undecided'], 'window')} not judged (too few labels): {shown}{more}."
        )
    judged = [w for w in d["windows"] if w["drop"] is not None]
    worst = max(judged, key=lambda w: w["drop"] or 0.0) if judged else None
    moved = "fell" if d["greater_is_better"] else "rose"
    where = "below" if d["greater_is_better"] else "above"
    if not d["drops"] and not d["warnings"]:
        worst_text = (
            f"; worst {fmt(worst['metric'], 4)} (drop {fmt(worst['drop'], 3)}) in "
            f"{_window_name(worst)}"
            if worst is not None
            else ""
        )
        return (
            f"performance_holds: {metric} stayed within max_drop {fmt(d['max_drop'], 3)} of "
            f"the baseline {base} in {plural(d['judged'], 'judged window')} "
            f"({d['labelled']:,} labels){worst_text}.{undecided}"
        )
    flagged = [w for w in d["windows"] if w["verdict"] in ("drop", "warning")]
    rows = [
        [
            _window_name(w),
            f"{w['n']:,}",
            "-" if w["positives"] is None else f"{w['positives']:,}",
            fmt(w["metric"], 4),
            fmt(w["drop"], 3),
            fmt(d["z"] * math.sqrt((w["se"] or 0.0) ** 2 + d["baseline_se"] ** 2), 3),
            w["verdict"],
        ]
        for w in flagged[:12]
    ]
    body = table(["window", "labels", "positives", metric, "drop", "noise bar", "verdict"], rows)
    assert worst is not None
    if d["drops"]:
        head = (
            f"performance_holds: {metric} {moved} more than max_drop {fmt(d['max_drop'], 3)} "
            f"{where} the baseline {base}, beyond sampling noise, in "
            f"{d['drops']} of {plural(d['judged'], 'judged window')}: worst "
            f"{fmt(worst['metric'], 4)} (drop {fmt(worst['drop'], 3)}) in "
            f"{_window_name(worst)}.{undecided}"
        )
        return compose(head, body=body, why=PERFORMANCE_WHY, fix=PERFORMANCE_FIX)
    head = (
        f"performance_holds: {metric} {moved} more than max_drop {fmt(d['max_drop'], 3)} "
        f"{where} the baseline {base} in {d['warnings']} of "
        f"{plural(d['judged'], 'judged window')}, beyond noise at 5% but not at 1% "
        f"(warning): worst {fmt(worst['metric'], 4)} (drop {fmt(worst['drop'], 3)}) in "
        f"{_window_name(worst)}.{undecided}"
    )
    return compose(head, body=body, why=PERFORMANCE_WHY, fix=WITHIN_NOISE_FIX)


@check("performance_holds")
def check_performance_holds(
    y_true: VectorLike,
    y_score: VectorLike,
    *,
    baseline: float | Mapping[str, float],
    metric: str = "roc_auc",
    max_drop: float = MAX_DROP_DEFAULT,
    timestamps: VectorLike | None = None,
    window: int | str | pd.Timedelta | None = None,
    pos_label: Any = None,
    min_labels: int = 30,
    random_state: int | None = None,
) -> CheckResult:
    """Detect a fall of production performance below the training baseline, window by window
    as delayed labels arrive.

    ``y_true``: the labels that have arrived (NaN / None for rows still waiting: counted,
    not scored); ``y_score``: scores for ``roc_auc``, predicted labels for ``accuracy``,
    ``precision``, ``recall``, ``f1``, predictions for ``r2``, ``mae``, ``rmse``.
    ``baseline``: the training / validation figure (a number, or a mapping with the metric's
    name or ``"value"`` and optionally ``"se"``, its standard error). ``window``: None (one
    window), an int (consecutive rows, in time order when ``timestamps`` are given) or a
    fixed time span (``"7D"``, a Timedelta) over ``timestamps``. Windows with fewer than
    ``min_labels`` labels (or fewer than 5 of a class the metric needs) are named and not
    judged; if none can be judged the check raises ``MLCheckUsageError`` (no verdict).

    Figure: the worst window's drop (baseline - metric, or metric - baseline for error
    metrics). A window fails when its drop exceeds ``max_drop`` (ini
    ``ml_performance_max_drop`` when not passed; 0.05) **and** z standard errors of the
    window's metric (Hanley-McNeil for ROC-AUC, binomial for shares, seeded bootstrap
    otherwise; z family-wise 1% over the judged windows); past ``max_drop`` and beyond noise
    at family-wise 5% but not 1% it is a warning.
    """
    spec = _metric_spec(metric)
    limit = resolve_threshold(
        "performance_max_drop", None if max_drop is MAX_DROP_DEFAULT else max_drop
    )
    if isinstance(min_labels, bool) or not isinstance(min_labels, int) or min_labels < 1:
        raise MLCheckUsageError(f"min_labels must be an integer >= 1, got {min_labels!r}.")
    base = _baseline_value(baseline, spec.name)
    truth, score, labelled = _labels_and_scores(y_true, y_score, spec)
    positive = _positive_label(spec, truth[labelled], pos_label)
    if spec.name == "roc_auc" and truth[labelled].nunique() > 2:
        raise MLCheckUsageError(
            "y_true has more than two labels: roc_auc here scores one positive label against "
            "the rest; pass binary labels or a label metric (accuracy, f1)."
        )
    data = (truth.to_numpy(), score.to_numpy(), labelled)
    rng = np.random.default_rng(current_seed(random_state))
    windows = [
        _measure_window(spec, w, data, positive, min_labels, rng)
        for w in _windows(len(truth), timestamps, window)
    ]
    z = _judge(windows, spec, base, limit)
    judged = [w for w in windows if w["drop"] is not None]
    if not judged:
        reasons = "; ".join(f"{_window_name(w)}: {w['reason']}" for w in windows[:5])
        raise MLCheckUsageError(
            f"performance_holds cannot decide: no window has enough labels to be judged "
            f"({reasons}). Wait for more labels, use longer windows (window=) or lower "
            "min_labels."
        )
    drops = sum(w["verdict"] == "drop" for w in windows)
    warned = sum(w["verdict"] == "warning" for w in windows)
    worst = max(w["drop"] for w in judged)  # type: ignore[type-var]
    details: PerformanceDetails = {
        "metric": spec.name,
        "greater_is_better": spec.greater_is_better,
        "baseline": base[0],
        "baseline_se": base[1],
        "max_drop": limit,
        "z": z,
        "rows": len(truth),
        "labelled": int(labelled.sum()),
        "windows_total": len(windows),
        "judged": len(judged),
        "undecided": len(windows) - len(judged),
        "drops": drops,
        "warnings": warned,
        "worst_drop": worst,
        "windows": _listed(windows),
    }
    severity = "warning" if warned and not drops else "error"
    passed = not drops and not warned
    return result(passed, severity, worst, limit, _explain_performance(details), dict(details))


# --------------------------------------------------------------- the HTML report's charts


@chart("performance_holds")
def _chart_performance(details: dict[str, Any]) -> list[Chart]:
    """The metric per judged window (in time order, up to 40) as a line, against the
    baseline and the drop line; windows that dropped as red points."""
    windows = [w for w in details.get("windows") or [] if w.get("metric") is not None]
    if not windows:
        return []
    windows = windows[-40:]
    base, limit = details["baseline"], details["max_drop"]
    line = base - limit if details.get("greater_is_better", True) else base + limit
    metric = str(details.get("metric", "metric"))
    xs = list(range(1, len(windows) + 1))
    dropped = [w["metric"] if w.get("verdict") == "drop" else None for w in windows]
    span = f"{windows[0]['start']} to {windows[-1]['end']}"
    return [
        LineChart(
            f"{metric} per window vs the baseline {fmt(base, 4)} (drop line {fmt(line, 4)})",
            [
                Line(metric, xs, [w["metric"] for w in windows], "cur"),
                Line("dropped", xs, dropped, "bad", points_only=True),
            ],
            x_label=f"window ({span})",
            y_label=metric,
            marks=[Mark("baseline", base, "ref"), Mark("drop line", line, "bad")],
        )
    ]


# ======================================================================= concept drift

CONCEPT_Z = 3.09  # one-sided 0.1%: the gain must also pass this many standard errors
MIN_SIDE_ROWS = 100  # fewest rows per period to decide
#: contiguous blocks per period for the batch-means SE (rows in time order are autocorrelated:
#: half-hourly demand, daily logs; a per-row SE is then far too small)
CONCEPT_BLOCKS = 25
PERIOD_COLUMN = "__period__"


def _frames(X_ref: Any, X_cur: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables as DataFrames with the reference's columns (the current one reordered)."""
    from pytest_mlchecks.inputs.tables import as_dataframe, require_unique_columns

    ref = require_unique_columns(as_dataframe(X_ref, "X_ref"), "X_ref")
    cur = require_unique_columns(as_dataframe(X_cur, "X_cur"), "X_cur")
    if ref.shape[1] == 0:
        raise MLCheckUsageError("X_ref has no columns: expected the features of each row.")
    missing = [c for c in ref.columns if c not in cur.columns]
    extra = [c for c in cur.columns if c not in ref.columns]
    if missing or extra:
        raise MLCheckUsageError(
            f"X_cur's columns differ from X_ref's (missing {missing[:10]}, extra "
            f"{extra[:10]}): expected the same features in both periods (assert_schema_matches"
            " lists every difference)."
        )
    return ref, cur[list(ref.columns)]


def _encoded(ref: pd.DataFrame, cur: pd.DataFrame) -> tuple[Any, Any, list[str]]:
    """Tables for the default learner: numbers as floats (NaN kept), other columns as pandas
    categories over both periods' levels (codes when more than 250 levels), datetime columns
    left out (named)."""
    import pandas as pd

    pooled = pd.concat([ref, cur], ignore_index=True)
    columns: dict[str, Any] = {}
    skipped: list[str] = []
    for i, name in enumerate(pooled.columns):
        col = pooled[name]
        key = f"f{i}"
        if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
            skipped.append(str(name))
        elif pd.api.types.is_bool_dtype(col) or (
            pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype)
        ):
            values = col.to_numpy(dtype=float, na_value=np.nan)
            if np.isinf(values).any():
                raise MLCheckUsageError(
                    f"column {name!r} holds infinite values: expected finite features (NaN "
                    "is fine)."
                )
            columns[key] = values
        else:
            category = pd.Categorical(col.astype("string"))
            if len(category.categories) > 250:
                codes = np.asarray(category.codes, dtype=float)
                columns[key] = np.where(codes < 0, np.nan, codes)
            else:
                columns[key] = category
    if not columns:
        raise MLCheckUsageError(
            "X_ref has no usable feature column (only datetimes): expected features to model "
            "the label with."
        )
    frame = pd.DataFrame(columns)
    return frame.iloc[: len(ref)].reset_index(drop=True), frame.iloc[len(ref) :], skipped


def _default_learner(task: str, seed: int) -> Any:
    """A seeded, regularised gradient-boosting model (categories read from the dtypes)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    kind = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return kind(
        max_iter=50,
        learning_rate=0.2,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        categorical_features="from_dtype",
        random_state=seed,
    )


def _losses(model: Any, X: Any, y: np.ndarray, task: str, classes: np.ndarray) -> np.ndarray:
    """Per-row squared error (regression) or Brier score over ``classes`` (classification)."""
    if task == "regression":
        return np.asarray((np.asarray(model.predict(X), dtype=float) - y) ** 2, dtype=float)
    if not hasattr(model, "predict_proba"):
        raise MLCheckUsageError(
            f"model {type(model).__name__} has no predict_proba: no_concept_drift scores "
            "class probabilities (Brier score); pass a probabilistic classifier."
        )
    proba = np.asarray(model.predict_proba(X), dtype=float)
    full = np.zeros((len(y), len(classes)))
    where = {c: i for i, c in enumerate(classes.tolist())}
    for j, c in enumerate(np.asarray(model.classes_).tolist()):
        full[:, where[c]] = proba[:, j]
    onehot = (y[:, None] == classes[None, :]).astype(float)
    return np.asarray(((full - onehot) ** 2).sum(axis=1), dtype=float)


def _null_loss(y: np.ndarray, task: str, classes: np.ndarray) -> float:
    """Loss of predicting the current period's mean (class shares): the skill's zero."""
    if task == "regression":
        return float(np.var(y))
    shares = np.array([np.mean(y == c) for c in classes])
    return float(1.0 - np.sum(shares**2))


class ConceptDriftDetails(TypedDict):
    """What ``no_concept_drift`` measured (the record's ``details``)."""

    task: str
    learner: str
    reference_rows: int
    current_rows: int
    cv: int
    loss: str  # "brier" or "squared error"
    skill_ignoring: float  # on current rows: the learner not told the period
    skill_ref_model: float  # on current rows: the period-aware learner told "reference"
    skill_cur_model: float  # on current rows: the period-aware learner told "current"
    gain: float  # mean per-row gain (both periods) of knowing the period, in skill units
    gain_se: float  # the larger of the two below
    row_se: float  # rows independent
    block_se: float  # batch means over contiguous blocks of each period (autocorrelation)
    z: float
    min_gain: float
    skipped: list[str]  # datetime columns not given to the default learner
    conditional_moves: list[ConditionalMove]  # where the label moved most, per feature


def _concept_inputs(
    X_ref: Any, y_ref: VectorLike, X_cur: Any, y_cur: VectorLike
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    from pytest_mlchecks.inputs.tables import label_vector

    ref, cur = _frames(X_ref, X_cur)
    a, b = label_vector(y_ref, "y_ref"), label_vector(y_cur, "y_cur")
    for frame, y, xa, ya in ((ref, a, "X_ref", "y_ref"), (cur, b, "X_cur", "y_cur")):
        if len(frame) != len(y):
            raise MLCheckUsageError(
                f"{xa} has {len(frame):,} rows but {ya} has {len(y):,}: expected one label per row."
            )
        if len(y) < MIN_SIDE_ROWS:
            raise MLCheckUsageError(
                f"no_concept_drift cannot decide with {len(y):,} rows in {xa}: cross-fitted "
                f"models need at least {MIN_SIDE_ROWS} labelled rows per period."
            )
    return ref, cur, a, b


def _with_period(X: Any, period: np.ndarray | float) -> Any:
    """``X`` with the period (0 reference, 1 current) appended as a last column."""
    if hasattr(X, "iloc"):
        out = X.copy()
        out[PERIOD_COLUMN] = period
        return out
    column = np.broadcast_to(np.asarray(period, dtype=float), (X.shape[0],))
    return np.column_stack([X, column])


def _take(X: Any, rows: np.ndarray) -> Any:
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _pooled(Xa: Any, Xb: Any) -> Any:
    if hasattr(Xa, "iloc"):
        import pandas as pd

        return pd.concat([Xa, Xb], ignore_index=True)
    return np.vstack([Xa, Xb])


class _ConceptFigures(TypedDict):
    skill_ignoring: float  # on current rows, the model that does not know the period
    skill_ref_model: float  # the period-aware model told "reference" on current rows
    skill_cur_model: float  # the same told "current"
    gains: np.ndarray  # per held-out row (both periods), in units of the null loss


def _measure_concept(
    setup: tuple[Any, str, np.ndarray],
    ref: tuple[Any, np.ndarray],
    cur: tuple[Any, np.ndarray],
    cv: int,
    seed: int,
) -> _ConceptFigures:
    """Cross-fitted over both periods: per-row loss of the learner ignoring the period minus
    that of the learner told the period, and the skills on current rows."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold, StratifiedKFold

    learner, task, classes = setup
    (Xa, ya), (Xb, yb) = ref, cur
    X, y = _pooled(Xa, Xb), np.concatenate([ya, yb])
    period = np.r_[np.zeros(len(ya)), np.ones(len(yb))]
    strata = period if task == "regression" else np.unique(y, return_inverse=True)[1] * 2 + period
    split = StratifiedKFold(cv, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # a class rarer than cv in one period: still stratified
        warnings.simplefilter("ignore", UserWarning)
        try:
            folds = list(split.split(np.zeros(len(y)), strata))
        except ValueError:  # every stratum too small to be in every fold
            folds = list(KFold(cv, shuffle=True, random_state=seed).split(np.zeros(len(y))))
    told = _with_period(X, period)
    ignoring, aware = np.empty(len(y)), np.empty(len(y))
    as_ref, as_cur = np.empty(len(y)), np.empty(len(y))
    for train, test in folds:
        plain = clone(learner).fit(_take(X, train), y[train])
        ignoring[test] = _losses(plain, _take(X, test), y[test], task, classes)
        both = clone(learner).fit(_take(told, train), y[train])
        aware[test] = _losses(both, _take(told, test), y[test], task, classes)
        held = _take(X, test)
        as_ref[test] = _losses(both, _with_period(held, 0.0), y[test], task, classes)
        as_cur[test] = _losses(both, _with_period(held, 1.0), y[test], task, classes)
    null = _null_loss(yb, task, classes)
    now = period == 1
    return {
        "skill_ignoring": 1.0 - float(ignoring[now].mean()) / null,
        "skill_ref_model": 1.0 - float(as_ref[now].mean()) / null,
        "skill_cur_model": 1.0 - float(as_cur[now].mean()) / null,
        "gains": (ignoring - aware) / null,
    }


class ConditionalMove(TypedDict):
    """Where the label moved most within one feature's bins (a pointer, not the verdict)."""

    feature: str
    bin: str  # "quintile k" of the reference, or "level k" of a category (no raw values)
    reference_mean: float  # label mean (share of the last class for classes) in the bin
    current_mean: float
    z: float  # the move in standard errors


def _feature_bins(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """Bin codes of one feature in both periods (-1: missing) and how bins are named."""
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a)
    if numeric and not isinstance(a.dtype, pd.CategoricalDtype):
        av = a.to_numpy(dtype=float, na_value=np.nan)
        bv = b.to_numpy(dtype=float, na_value=np.nan)
        finite = av[np.isfinite(av)]
        if len(np.unique(finite)) > 5:
            edges = np.unique(np.quantile(finite, [0.2, 0.4, 0.6, 0.8]))
            ka, kb = (
                np.where(np.isnan(v), -1, np.searchsorted(edges, v, side="right")) for v in (av, bv)
            )
            return ka, kb, "quintile"
    both = pd.Categorical(pd.concat([a, b], ignore_index=True).astype("string"))
    levels = np.asarray(both.codes)
    return levels[: len(a)], levels[len(a) :], "level"


def _conditional_moves(
    ref: pd.DataFrame, cur: pd.DataFrame, ya: np.ndarray, yb: np.ndarray, target: Any
) -> list[ConditionalMove]:
    """Per feature, the bin (reference quintile or category level, at least 20 rows in each
    period) where the label's mean moved most in standard errors; the 5 largest moves."""
    import pandas as pd

    ta = ya.astype(float) if target is None else (ya == target).astype(float)
    tb = yb.astype(float) if target is None else (yb == target).astype(float)
    moves: list[ConditionalMove] = []
    for name in ref.columns:
        a, b = ref[name], cur[name]
        if pd.api.types.is_datetime64_any_dtype(a) or pd.api.types.is_timedelta64_dtype(a):
            continue
        ka, kb, word = _feature_bins(a, b)
        best: ConditionalMove | None = None
        for code in np.intersect1d(ka[ka >= 0], kb[kb >= 0]):
            xa, xb = ta[ka == code], tb[kb == code]
            if len(xa) < 20 or len(xb) < 20:
                continue
            se = math.sqrt(xa.var() / len(xa) + xb.var() / len(xb))
            if se == 0:
                continue
            z = (float(xb.mean()) - float(xa.mean())) / se
            if best is None or abs(z) > abs(best["z"]):
                best = {
                    "feature": str(name),
                    "bin": f"{word} {int(code) + 1}",
                    "reference_mean": float(xa.mean()),
                    "current_mean": float(xb.mean()),
                    "z": z,
                }
        if best is not None:
            moves.append(best)
    return sorted(moves, key=lambda m: -abs(m["z"]))[:5]


CONCEPT_WHY = (
    "the model learned P(label | features) from the reference; when that relation changes, "
    "its predictions are wrong even on inputs it has seen many times, and no input-drift "
    "check can tell (the features may not have moved at all)."
)
CONCEPT_FIX = (
    "retrain on recent labelled data (a model of the current period already scores better, "
    "see the figures); check first that the label's definition or its source did not change "
    "(a new labelling rule, a delayed or re-coded outcome). Input drift alone is "
    "assert_no_drift on the features; label drift (a moved base rate) is assert_no_drift on "
    "y_ref vs y_cur."
)


def _explain_concept(d: ConceptDriftDetails, failed: bool) -> str:
    head = (
        f"a {d['learner']} told each row's period (reference or current) predicts the label "
        f"better than one that is not, by {fmt(d['gain'], 3)} in skill (SE "
        f"{fmt(d['gain_se'], 3)}; fails above min_gain {fmt(d['min_gain'], 3)} and "
        f"{fmt(d['z'], 3)} SE; cross-fitted, cv={d['cv']}, {d['reference_rows']:,} reference "
        f"and {d['current_rows']:,} current rows). On current rows: skill "
        f"{fmt(d['skill_cur_model'], 3)} with the current relation, "
        f"{fmt(d['skill_ref_model'], 3)} with the reference's, "
        f"{fmt(d['skill_ignoring'], 3)} ignoring the period (skill: 1 - {d['loss']} / that "
        "of predicting the current mean)."
    )
    if not failed:
        return (
            "no_concept_drift: the relation between features and label holds: "
            + head
            + " Input drift is assert_no_drift's; label drift is assert_no_drift on y_ref vs "
            "y_cur."
        )
    moves = d["conditional_moves"][:3]
    body = ""
    if moves:
        body = "Where the label moved most within one feature (a pointer: inputs move too): " + (
            "; ".join(
                f"{m['feature']!r} {m['bin']}: {fmt(m['reference_mean'], 3)} -> "
                f"{fmt(m['current_mean'], 3)} (z {fmt(m['z'], 1)})"
                for m in moves
            )
            + "."
        )
    return compose(
        "no_concept_drift: the relation between features and label changed: " + head,
        body=body,
        why=CONCEPT_WHY,
        fix=CONCEPT_FIX,
    )


@check("no_concept_drift")
def check_no_concept_drift(
    X_ref: Any,
    y_ref: VectorLike,
    X_cur: Any,
    y_cur: VectorLike,
    *,
    model: Any = None,
    min_gain: float | None = None,
    cv: int = 3,
    task: str | None = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect concept drift: the relation between the features and the label changed between a
    reference period and the current one (P(y | x) moved), as opposed to input drift.

    Method: the reference and current rows are pooled and, cross-fitted over ``cv`` folds
    (stratified by period and class), the same learner is fitted twice: once on the features
    alone, once with the period (0 reference, 1 current) as an extra last column
    (``__period__`` in a DataFrame). When P(y | x) is unchanged the period tells nothing
    the features do not, whatever the inputs did (covariate shift moves x, not y given x),
    so the aware model gains nothing; when the relation changed, it predicts better.
    Figure: the mean per-row gain in skill of the period-aware model over the other
    (skill = 1 - loss / loss of predicting the current mean; loss = Brier score for
    classes, squared error for numbers). Fails when the gain passes ``min_gain`` (ini
    ``ml_concept_drift_min_gain``) and 3.09 standard errors of the mean gain (one-sided
    0.1%): the larger of the per-row SE and a batch-means SE over 25 contiguous blocks of
    each period's rows in the order given, so rows logged in time order whose errors are
    autocorrelated (hourly demand, daily logs) do not make chance look certain. The
    learner: a clone of ``model`` (given the tables as they are plus the period column: it
    must use every column), else a seeded, regularised HistGradientBoosting model
    (datetime columns left out). The details give, on current rows, the aware model's skill
    told "reference" (the old relation) and "current".

    Input drift is ``assert_no_drift(X_ref, X_cur)``; label drift (a moved base rate) is
    ``assert_no_drift(y_ref, y_cur)`` on the label vectors. A base rate that moved because
    the inputs moved passes here (covariate shift); one that moved at the same inputs (prior
    shift: P(x | y) kept, P(y) changed) does change P(y | x), through its intercept, and is
    reported here once it passes ``min_gain``.
    """
    limit = resolve_threshold("concept_drift_min_gain", min_gain)
    if isinstance(cv, bool) or not isinstance(cv, int) or cv < 2:
        raise MLCheckUsageError(f"cv must be an integer >= 2, got {cv!r}.")
    from pytest_mlchecks.inputs.models import require_estimator, task_of_target

    ref, cur, ya, yb = _concept_inputs(X_ref, y_ref, X_cur, y_cur)
    kind = task_of_target(np.concatenate([ya, yb]), task)
    if kind == "regression":
        ya, yb = _numeric_labels(ya, "y_ref"), _numeric_labels(yb, "y_cur")
    classes = np.unique(np.concatenate([ya, yb])) if kind != "regression" else np.array([])
    if kind != "regression":
        counts = [int(np.count_nonzero(yb == c)) for c in np.unique(yb)]
        if len(counts) < 2 or min(counts) < cv:
            raise MLCheckUsageError(
                f"no_concept_drift cannot decide: y_cur needs at least two classes with {cv} "
                f"rows each (cv={cv}), got class counts {sorted(counts)[:10]}."
            )
    elif float(np.var(yb)) == 0.0:
        raise MLCheckUsageError("no_concept_drift cannot decide: y_cur is constant.")
    seed = current_seed(random_state)
    skipped: list[str] = []
    Xa: Any
    Xb: Any
    if model is None:
        Xa, Xb, skipped = _encoded(ref, cur)
        learner = _default_learner(kind, seed)
    else:
        learner = require_estimator(model, "model")
        Xa, Xb = ref, cur
    figures = _measure_concept((learner, kind, classes), (Xa, ya), (Xb, yb), cv, seed)
    gains = figures["gains"]
    gain = float(gains.mean())
    row_se = float(gains.std(ddof=1) / math.sqrt(len(gains)))
    block_se = _block_se(gains, len(ya))
    se = max(row_se, block_se)
    details: ConceptDriftDetails = {
        "task": kind,
        "learner": type(learner).__name__,
        "reference_rows": len(ya),
        "current_rows": len(yb),
        "cv": cv,
        "loss": "squared error" if kind == "regression" else "Brier score",
        "skill_ignoring": figures["skill_ignoring"],
        "skill_ref_model": figures["skill_ref_model"],
        "skill_cur_model": figures["skill_cur_model"],
        "gain": gain,
        "gain_se": se,
        "row_se": row_se,
        "block_se": block_se,
        "z": CONCEPT_Z,
        "min_gain": limit,
        "skipped": skipped,
        "conditional_moves": _conditional_moves(
            ref, cur, ya, yb, None if kind == "regression" else classes[-1]
        ),
    }
    failed = gain > limit and gain > CONCEPT_Z * se
    return result(
        not failed, "error", gain, limit, _explain_concept(details, failed), dict(details)
    )


def _block_se(gains: np.ndarray, n_ref: int) -> float:
    """The standard error of the mean gain by batch means: each period's rows, in the order
    given (time order, when rows are logged), cut into ``CONCEPT_BLOCKS`` contiguous blocks;
    the spread of the block means carries any autocorrelation shorter than a block."""
    variance = 0.0
    for part in (gains[:n_ref], gains[n_ref:]):
        blocks = min(CONCEPT_BLOCKS, len(part) // 2)
        if blocks < 2:
            continue
        means = np.array([b.mean() for b in np.array_split(part, blocks)])
        weight = len(part) / len(gains)
        variance += weight**2 * float(means.var(ddof=1)) / blocks
    return math.sqrt(variance)


def _numeric_labels(y: np.ndarray, arg: str) -> np.ndarray:
    try:
        values = y.astype(float)
    except (TypeError, ValueError):
        raise MLCheckUsageError(f"{arg} must be numeric for a regression target.") from None
    if not np.isfinite(values).all():
        raise MLCheckUsageError(f"{arg} has infinite values: expected finite targets.")
    return values


@chart("no_concept_drift")
def _chart_concept(details: dict[str, Any]) -> list[BarChart]:
    """Skill on current rows with the reference's relation, the current one, and neither."""
    if "skill_cur_model" not in details:
        return []
    values = [details["skill_ref_model"], details["skill_cur_model"], details["skill_ignoring"]]
    return [
        BarChart(
            "skill on current rows (1 - loss / loss of the current mean)",
            ["reference relation", "current relation", "period ignored"],
            [Series("skill", [max(v, 0.0) for v in values], "cur")],
        )
    ]
