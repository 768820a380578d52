"""Evaluation rung: segments of the data where the model does much worse, found unasked.

``slices_perform`` judges the slices the user names; this check looks for them. Every feature
is binned (numeric: up to 20 quantile bins and windows of 2 to 4 adjacent bins; categorical:
levels, rare ones pooled; missing values their own slice) and the weakest features are
crossed in pairs.
Searching hundreds of slices makes the worst one look bad by chance, so the search and the
verdict use different rows: slices are found on a seeded half of the rows and confirmed on
the other half, where each candidate's gap must exceed ``max_gap`` AND the gap random rows of
its size show at a family-wise level over the candidates (Bonferroni).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._charts import BarChart, Chart, Color, Mark, Series, chart
from pytest_mlchecks._messages import compose, plural
from pytest_mlchecks._protocol import (
    check,
    current_seed,
    current_settings,
    resolve_threshold,
    result,
)
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks._stats import chi2_isf
from pytest_mlchecks.inputs.metrics import (
    METRICS,
    NUMERIC_METRICS,
    POSITIVE_METRICS,
    MetricFn,
    metric_function,
)
from pytest_mlchecks.inputs.models import labels_of
from pytest_mlchecks.inputs.probabilities import scored_labels
from pytest_mlchecks.inputs.tables import (
    TableLike,
    VectorLike,
    as_dataframe,
    fmt,
    require_same_length,
    table,
)

__all__ = ["check_no_weak_segments"]

SEGMENT_ALPHA = 0.005  # family-wise over the candidates confirmed on the held-out half
MAX_CANDIDATES = 10  # slices of the discovery half carried to the held-out half
PAIR_FEATURES = 6  # pairs among the 6 features with the weakest slices: at most 15 pairs
NUMERIC_BINS = 20  # ventiles (fewer when they would hold under min_size rows)
NUMERIC_LEVELS = 10  # numeric columns with at most 10 values are cut by value
WINDOW = 4  # windows of 2 to 4 adjacent bins are slices too (5% to 20% of the rows)
PAIR_BINS = 5  # numeric features enter pairs by quintiles
MAX_LEVELS = 30  # categorical levels judged on their own (the most frequent); others pooled
SHOWN_LEVELS = 20  # levels of a column with at most this many values are shown as values
NULL_DRAWS = 200  # random row sets per candidate for its noise bar

SEGMENTS_WHY = (
    "an average hides where the model fails: a segment of the data (a range of a feature, "
    "a category, or both together) where it is much worse is a group of users, a region or a "
    "product for which the reported score is not true."
)
SEGMENTS_FIX = (
    "look at the weakest segments first: more or better training data for them, a feature "
    "that describes them, sample weights, or a separate model / rule; once fixed, name them "
    "in assert_slices_perform so this test watches them. Where the label itself is "
    "uncertain (a segment near the decision boundary, where no model does much better), "
    "pass y_score= (predict_proba) to judge each segment against the model's own expected "
    "accuracy there."
)


class SegmentScore(TypedDict):
    """A candidate segment: its definition, size and scores on all rows and held out."""

    segment: str
    features: list[str]
    size: int  # rows of the whole data in the segment
    score: float  # the metric on those rows
    expected: float | None  # with y_score: the model's expected accuracy on those rows
    gap: float  # against the overall score, on all rows (the search's view: optimistic)
    held_out_size: int
    held_out_score: float
    held_out_gap: float  # against the held-out half's overall score: the judged figure
    noise: float  # the held-out gap random rows of that size reach (family-wise alpha)
    confirmed: bool


class SegmentsDetails(TypedDict):
    """What ``no_weak_segments`` measured (the record's ``details``)."""

    metric: str
    gap_kind: str  # "absolute", or "relative" for error metrics (slice / overall - 1)
    overall: float
    overall_expected: float | None  # with y_score: mean probability of the predicted class
    rows: int
    features: int  # features that split the rows into slices
    slices_searched: int  # single-feature slices and pair cells scored on the discovery half
    pairs_searched: int  # feature pairs crossed
    discovery_rows: int
    held_out_rows: int
    candidates: int  # slices past max_gap on the discovery half (at most MAX_CANDIDATES)
    family_alpha: float
    noise_z: float
    max_gap: float
    min_size: int
    worst_discovery_gap: float
    segments: list[SegmentScore]  # candidates, confirmed first, held-out gap / noise order


@dataclass(frozen=True)
class _Feature:
    """A feature cut into slices: one integer code per row, a label per code."""

    name: str
    codes: np.ndarray
    labels: list[str]
    ordered: int  # codes below this are ordered numeric bins (windows of two are slices too)
    bounds: list[tuple[float | None, float | None]]  # [lo, hi) of each ordered bin
    show: Callable[[float], str]  # how a bin edge reads
    coarse: np.ndarray  # the codes it enters pairs with
    coarse_labels: list[str]


#: a slice: one (feature index, coarse codes?, codes) term per feature it constrains
_Term = tuple[int, bool, tuple[int, ...]]
#: a slice of one feature (or of a pair's crossed codes): its codes and its discovery rows
_Slice = tuple[tuple[int, ...], np.ndarray]


@dataclass
class _Candidate:
    terms: tuple[_Term, ...]
    label: str
    gap: float  # on the discovery half
    size: int  # rows of the whole data


# ------------------------------------------------------------------------------ inputs


def _positive_of(truth: np.ndarray, pred: np.ndarray, metric: object, pos_label: Any) -> Any:
    """The label recall / precision / f1 / roc_auc score; 1 for 0/1 labels unless told."""
    if metric not in POSITIVE_METRICS:
        return 1
    labels = truth if metric == "roc_auc" else np.concatenate([truth, pred])
    seen = {v.item() if hasattr(v, "item") else v for v in np.unique(labels.astype(object))}
    if pos_label is None:
        if seen <= {0, 1}:
            return 1
        raise MLCheckUsageError(
            f"y_true / y_pred hold the labels {sorted(map(str, seen))[:10]}: pass pos_label= "
            f"the label {metric} scores."
        )
    if pos_label not in seen:
        raise MLCheckUsageError(f"pos_label {pos_label!r} never occurs in y_true or y_pred.")
    return pos_label


def _segment_inputs(
    y_true: VectorLike, y_pred: VectorLike, X: TableLike, metric: object
) -> tuple[np.ndarray, np.ndarray, Any]:
    truth = labels_of(y_true, "y_true")
    pred = labels_of(y_pred, "y_pred")
    require_same_length(truth, pred, "y_true", "y_pred")
    frame = as_dataframe(X, "X")
    require_same_length(truth, frame, "y_true", "X")
    if frame.shape[1] == 0:
        raise MLCheckUsageError("X has no columns: expected the features segments are cut by.")
    if metric in NUMERIC_METRICS and not (truth.dtype.kind in "biuf" and pred.dtype.kind in "biuf"):
        raise MLCheckUsageError(
            f"metric {metric} needs numeric y_true and y_pred, got {truth.dtype} and "
            f"{pred.dtype}: use accuracy, recall, precision or f1 for labels."
        )
    scores = isinstance(metric, str) and metric in METRICS and METRICS[metric].needs_scores
    if scores and pred.dtype.kind not in "biuf":
        raise MLCheckUsageError(f"metric {metric} needs scores in y_pred, got {pred.dtype}.")
    return truth, pred, frame


def _expected_accuracy(
    y_score: Any, classes: Any, truth: np.ndarray, pred: np.ndarray, metric: object
) -> np.ndarray | None:
    """The probability the model gave the class it predicts, row by row (None without
    ``y_score``): a calibrated model's expected accuracy on any set of rows is its mean."""
    if y_score is None:
        return None
    if metric != "accuracy":
        raise MLCheckUsageError(
            f"y_score judges each segment against the model's own expected accuracy: it needs "
            f"metric='accuracy', got {metric!r} (drop y_score for other metrics)."
        )
    prob, index, _ = scored_labels(truth, pred, y_score, classes, ("y_pred", "y_score"))
    out: np.ndarray = prob[np.arange(len(pred)), index]
    return out


def _min_size(argument: int | None, n: int) -> int:
    value = resolve_threshold("weak_segments_min_size", argument)
    if value != int(value):
        raise MLCheckUsageError(
            f"min_size (ini ml_weak_segments_min_size) must be a whole number, got {value!r}."
        )
    if n < 4 * value:
        raise MLCheckUsageError(
            f"{n:,} rows are too few to search for segments of min_size {int(value):,} rows: "
            f"expected at least {4 * int(value):,} (half the rows find segments, the other "
            "half confirm them); pass more rows or a smaller min_size."
        )
    return int(value)


# ------------------------------------------------------------------------------ binning


def _edge(value: float) -> str:
    return fmt(value, 4)


def _range_label(
    name: str, lo: float | None, hi: float | None, show: Callable[[float], str] = _edge
) -> str:
    if lo is None and hi is None:
        return f"{name} (all)"
    if lo is None:
        return f"{name} < {show(hi)}" if hi is not None else name
    if hi is None:
        return f"{name} >= {show(lo)}"
    return f"{name} in [{show(lo)}, {show(hi)})"


def _numeric_bins(
    name: str,
    values: np.ndarray,
    ordered: np.ndarray,
    missing: np.ndarray,
    bins: int,
    show: Callable[[float], str],
) -> tuple[np.ndarray, list[str], list[tuple[float | None, float | None]]]:
    """Quantile bins (``bins`` of them, fewer on ties) of ``values`` (``ordered``: its
    present values sorted); missing values a code of their own."""
    at = (np.arange(1, bins) * (len(ordered) - 1)) // bins  # the "lower" quantiles
    edges = np.unique(ordered[at])
    edges = edges[edges > ordered[0]]  # an edge at the minimum makes an empty first bin
    codes = np.searchsorted(edges, values, side="right")
    bounds: list[float | None] = [None, *map(float, edges), None]
    pairs = [(bounds[k], bounds[k + 1]) for k in range(len(edges) + 1)]
    labels = [_range_label(name, lo, hi, show) for lo, hi in pairs]
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels.append(f"{name} is missing")
    return codes.astype(np.int64), labels, pairs


def _show_level(name: str, value: str, shown: bool) -> str:
    if shown:
        return f"{name} == {value!r}"
    from pytest_mlchecks.checks.production.contract import value_hash

    return f"{name} == #{value_hash(value)}"


def _level_codes(
    name: str, column: Any, missing: np.ndarray, min_size: int, shown: bool
) -> tuple[np.ndarray, list[str]]:
    """A code per level with at least ``min_size`` rows (the ``MAX_LEVELS`` most frequent),
    the other levels pooled into one code, missing values into another."""
    import pandas as pd

    raw, uniques = pd.factorize(column, use_na_sentinel=True)
    names = [str(u) for u in uniques]
    counts = np.bincount(raw[raw >= 0], minlength=len(names))
    frequent = [k for k in np.argsort(-counts, kind="stable") if counts[k] >= min_size]
    frequent = sorted(frequent[:MAX_LEVELS], key=lambda k: names[k])
    code_of = np.full(len(names), len(frequent), dtype=np.int64)
    code_of[frequent] = np.arange(len(frequent))
    labels = [_show_level(name, names[k], shown) for k in frequent]
    codes = code_of[np.maximum(raw, 0)]
    labels.append(f"{name} in {plural(len(names) - len(frequent), 'other level')}")
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels.append(f"{name} is missing")
    return codes, labels


def _feature(name: str, column: Any, min_size: int, report_values: bool) -> _Feature | None:
    """``column`` cut into slices, or None when it cannot split the rows."""
    import pandas as pd

    missing = column.isna().to_numpy()
    if missing.all():
        return None
    kind, show, original = column.dtype.kind, _edge, column
    if kind == "M" or isinstance(column.dtype, pd.DatetimeTZDtype):
        tz = getattr(column.dtype, "tz", None)
        column = pd.Series(column.to_numpy(dtype="datetime64[ns]").astype("int64"), dtype=float)
        column = column.where(~missing)
        kind = "f"

        def show(value: float) -> str:
            return str(pd.Timestamp(int(value), tz=tz))

    if kind in "iuf":
        values = column.to_numpy(dtype=float, na_value=np.nan)
        ordered = np.sort(values[~missing])
        distinct = 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))
    else:
        distinct = int(column.nunique(dropna=True))
    if distinct < 2:
        return None
    if kind in "iuf" and distinct > NUMERIC_LEVELS:
        bins = max(PAIR_BINS, min(NUMERIC_BINS, len(values) // min_size))
        codes, labels, bounds = _numeric_bins(name, values, ordered, missing, bins, show)
        coarse, coarse_labels, _ = _numeric_bins(name, values, ordered, missing, PAIR_BINS, show)
        return _Feature(name, codes, labels, len(bounds), bounds, show, coarse, coarse_labels)
    shown = (
        report_values
        or distinct <= SHOWN_LEVELS
        or kind in "biuf"
        or isinstance(column.dtype, pd.CategoricalDtype)
    )
    codes, labels = _level_codes(name, original, missing, min_size, shown)
    return _Feature(name, codes, labels, 0, [], show, codes, labels)


def _features(frame: Any, min_size: int) -> list[_Feature]:
    report_values = current_settings().report_values
    found = []
    for col in frame.columns:
        feature = _feature(str(col), frame[col], min_size, report_values)
        if feature is not None:
            found.append(feature)
    if not found:
        raise MLCheckUsageError(
            "no column of X splits the rows into slices (every column is constant or "
            "missing): expected the features segments are cut by."
        )
    return found


# ------------------------------------------------------------------------------ measuring


#: metrics that are a mean over rows (then a square root for rmse): the fast path
_PER_ROW: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "accuracy": lambda t, p: (t == p).astype(float),
    "mae": lambda t, p: np.abs(t.astype(float) - p.astype(float)),
    "rmse": lambda t, p: (t.astype(float) - p.astype(float)) ** 2,
}


class _Scorer:
    """The metric on rows of one half, as a gap against that half's overall score. With
    ``expected`` (accuracy only: the probability the model gave its predicted class), each
    row scores ``correct - expected``: a segment's gap is then how much further its accuracy
    falls short of the model's own expectation than the overall accuracy does."""

    def __init__(
        self,
        fn: MetricFn,
        truth: np.ndarray,
        pred: np.ndarray,
        greater: bool,
        relative: bool,
        metric: object,
        expected: np.ndarray | None = None,
    ) -> None:
        self.fn, self.truth, self.pred = fn, truth, pred
        self.greater, self.relative = greater, relative
        per_row = _PER_ROW.get(metric) if isinstance(metric, str) else None
        self.values = None if per_row is None else per_row(truth, pred)
        self.root = metric == "rmse"
        self.expected = expected
        if expected is not None and self.values is not None:
            self.values = self.values - expected
            self.overall = float(self.values.mean())
        else:
            self.overall = float(fn(truth, pred))

    def shown(self, rows: np.ndarray) -> tuple[float, float | None]:
        """The metric on ``rows`` as reported, and the expected accuracy there (y_score)."""
        if self.expected is None:
            return self.score(rows), None
        if not len(rows):
            return math.nan, math.nan
        expected = float(self.expected[rows].mean())
        return float(self.fn(self.truth[rows], self.pred[rows])), expected

    def score(self, rows: np.ndarray) -> float:
        if self.values is None:
            return float(self.fn(self.truth[rows], self.pred[rows]))
        mean = float(self.values[rows].mean()) if len(rows) else math.nan
        return math.sqrt(mean) if self.root else mean

    def draws(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """The metric on ``NULL_DRAWS`` random row sets of ``size`` (drawn with replacement)."""
        n = len(self.truth)
        return np.array([self.score(rng.integers(0, n, size)) for _ in range(NULL_DRAWS)])

    def gap(self, score: float | np.ndarray) -> Any:
        """How much worse than overall (positive: worse); relative for error metrics."""
        if self.greater:
            return self.overall - score
        if self.relative:
            return (score - self.overall) / self.overall
        return score - self.overall


def _groups(codes: np.ndarray, n_codes: int) -> list[np.ndarray]:
    """Row positions per code."""
    small = codes.astype(np.int16) if n_codes < 32_000 else codes  # radix sort: O(n)
    order = np.argsort(small, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_codes + 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(n_codes)]


def _cells(
    scorer: _Scorer,
    full_sizes: np.ndarray,
    slices: list[_Slice],
    min_size: int,
) -> list[tuple[tuple[int, ...], float, int]]:
    """(codes, gap, full size) of every slice (codes -> discovery rows) large enough."""
    out = []
    for codes, rows in slices:
        size = int(full_sizes[list(codes)].sum())
        if size < min_size or len(rows) < 2:
            continue
        gap = float(scorer.gap(scorer.score(rows)))
        if gap == gap:
            out.append((codes, gap, size))
    return out


def _single_slices(feature: _Feature, groups: list[np.ndarray]) -> list[_Slice]:
    slices: list[_Slice] = [((k,), rows) for k, rows in enumerate(groups)]
    for width in range(2, WINDOW + 1):
        slices += [
            (tuple(range(k, k + width)), np.concatenate(groups[k : k + width]))
            for k in range(feature.ordered - width + 1)
        ]
    return slices


def _window_label(feature: _Feature, codes: tuple[int, ...]) -> str:
    """A single bin's label, or the range two adjacent numeric bins cover."""
    if len(codes) == 1:
        return feature.labels[codes[0]]
    lo, hi = feature.bounds[codes[0]][0], feature.bounds[codes[-1]][1]
    return _range_label(feature.name, lo, hi, feature.show)


def _discover(
    features: list[_Feature],
    scorer: _Scorer,
    half: np.ndarray,
    limit: float,
    min_size: int,
) -> tuple[list[_Candidate], int, int, float]:
    """Score every single-feature slice and pair cell on the discovery rows ``half``; return
    the candidates past ``limit`` (the most significant-looking first), the number of slices
    and pairs searched, and the worst gap seen."""
    found: list[tuple[float, _Candidate]] = []
    strength: list[float] = []  # per feature: its most significant-looking slice
    searched = 0
    worst = -math.inf
    for i, f in enumerate(features):
        n_codes = len(f.labels)
        groups = _groups(f.codes[half], n_codes)
        full = np.bincount(f.codes, minlength=n_codes)
        cells = _cells(scorer, full, _single_slices(f, groups), min_size)
        searched += len(cells)
        best = -math.inf
        for codes, gap, size in cells:
            z = gap * math.sqrt(size)
            best = max(best, z)
            worst = max(worst, gap)
            if gap > limit:
                found.append(
                    (z, _Candidate(((i, False, codes),), _window_label(f, codes), gap, size))
                )
        strength.append(best)
    top = [int(i) for i in np.argsort(-np.asarray(strength), kind="stable")[:PAIR_FEATURES]]
    top = [i for i in top if strength[i] > -math.inf]
    pair_cells, pairs = _pair_cells(features, top, scorer, half, limit, min_size)
    searched += pairs[0]
    for gap, size, candidate in pair_cells:
        worst = max(worst, gap)
        if gap > limit and candidate is not None:
            found.append((gap * math.sqrt(size), candidate))
    found.sort(key=lambda item: -item[0])
    return [c for _, c in found[:MAX_CANDIDATES]], searched, pairs[1], worst


def _coarse_gaps(feature: _Feature, scorer: _Scorer, half: np.ndarray) -> np.ndarray:
    """The discovery gap of each coarse slice of ``feature`` (-inf where undefined)."""
    groups = _groups(feature.coarse[half], len(feature.coarse_labels))
    gaps = [
        float(scorer.gap(scorer.score(rows))) if len(rows) > 1 else -math.inf for rows in groups
    ]
    out: np.ndarray = np.nan_to_num(np.asarray(gaps, dtype=float), nan=-math.inf)
    return out


def _pair_cells(
    features: list[_Feature],
    top: list[int],
    scorer: _Scorer,
    half: np.ndarray,
    limit: float,
    min_size: int,
) -> tuple[list[tuple[float, int, _Candidate | None]], tuple[int, int]]:
    """The cells of every pair among the features ``top`` on the discovery rows: (gap, full
    size, candidate), the candidate None unless the cell is worse than both of its
    single-feature slices by half the limit (a cell of a weak slice is that slice again);
    and (cells, pairs) searched."""
    parents = {i: _coarse_gaps(features[i], scorer, half) for i in top}
    out: list[tuple[float, int, _Candidate | None]] = []
    pairs = 0
    for a_pos, a in enumerate(top):
        for b in top[a_pos + 1 :]:
            fa, fb = features[a], features[b]
            na, nb = len(fa.coarse_labels), len(fb.coarse_labels)
            cross = fa.coarse * nb + fb.coarse
            groups = _groups(cross[half], na * nb)
            full = np.bincount(cross, minlength=na * nb)
            slices: list[_Slice] = [((k,), rows) for k, rows in enumerate(groups)]
            pairs += 1
            for (k,), gap, size in _cells(scorer, full, slices, min_size):
                ka, kb = k // nb, k % nb
                candidate = None
                if gap > max(parents[a][ka], parents[b][kb]) + limit / 2:
                    terms = ((a, True, (ka,)), (b, True, (kb,)))
                    label = f"{fa.coarse_labels[ka]} & {fb.coarse_labels[kb]}"
                    candidate = _Candidate(terms, label, gap, size)
                out.append((gap, size, candidate))
    return out, (len(out), pairs)


def _members(features: list[_Feature], terms: tuple[_Term, ...]) -> np.ndarray:
    mask = np.ones(len(features[0].codes), dtype=bool)
    for i, coarse, codes in terms:
        f = features[i]
        mask &= np.isin(f.coarse if coarse else f.codes, codes)
    return mask


def _widened(sd: float, skew: float, z: float) -> float:
    """``z`` standard deviations of a gap, widened for a longer upper tail (Cornish-Fisher):
    the error rate or mean error of a small slice is skewed towards worse."""
    return z * sd * (1.0 + max(skew, 0.0) * (z * z - 1.0) / (6.0 * z))


def _noise_bar(scorer: _Scorer, size: int, z: float, rng: np.random.Generator) -> float:
    """The gap random rows of ``size`` reach at ``z``. Metrics that are a mean over rows
    (accuracy, mae, rmse): exact moments of a mean of ``size`` rows drawn with replacement
    (a little wider than without, so conservative). Others: the root mean square of seeded
    draws widened for skew, or the worst draw if larger."""
    if scorer.values is not None:
        values = scorer.values
        centred = values - values.mean()
        sd = float(centred.std())
        if sd == 0:
            return 0.0
        skew = float(np.mean(centred**3)) / sd**3 / math.sqrt(size)
        sd_mean = sd / math.sqrt(size)
        if scorer.greater:  # accuracy: the gap is minus the mean
            return _widened(sd_mean, -skew, z)
        mean = float(values.mean())
        bar = _widened(sd_mean / mean, skew, z)  # relative, on the mean's scale
        return math.sqrt(1.0 + bar) - 1.0 if scorer.root else bar
    draws = scorer.draws(size, rng)
    finite = draws[np.isfinite(draws)]
    if len(finite) < NULL_DRAWS // 2:
        return math.inf  # the metric is mostly undefined at this size: never confirmed
    gaps = np.asarray(scorer.gap(finite), dtype=float)
    spread = float(np.sqrt(np.mean(gaps**2)))
    centred = gaps - gaps.mean()
    sd = float(centred.std())
    skew = float(np.mean(centred**3)) / sd**3 if sd > 0 else 0.0
    return max(_widened(spread, skew, z), float(gaps.max()))


def _confirm(
    candidates: list[_Candidate],
    features: list[_Feature],
    full: _Scorer,
    held: _Scorer,
    held_rows: np.ndarray,
    limit: float,
    seed: int,
) -> tuple[list[SegmentScore], float]:
    """Each candidate's gap on the held-out rows against its noise bar (Bonferroni over the
    candidates); confirmed first, the most certain first."""
    z = math.sqrt(chi2_isf(2 * SEGMENT_ALPHA / max(len(candidates), 1), 1))  # one-sided
    rng = np.random.default_rng([seed, 1])
    held_position = np.full(len(full.truth), -1)
    held_position[held_rows] = np.arange(len(held_rows))
    out: list[SegmentScore] = []
    for c in candidates:
        mask = _members(features, c.terms)
        rows = held_position[mask & (held_position >= 0)]
        member_rows = np.flatnonzero(mask)
        score, expected = full.shown(member_rows)
        held_gap = float(held.gap(held.score(rows) if len(rows) else math.nan))
        held_score = held.shown(rows)[0]
        noise = _noise_bar(held, len(rows), z, rng) if len(rows) > 1 else math.inf
        out.append(
            {
                "segment": c.label,
                "features": [features[i].name for i, _, _ in c.terms],
                "size": int(mask.sum()),
                "score": score,
                "expected": expected,
                "gap": float(full.gap(full.score(member_rows))),
                "held_out_size": len(rows),
                "held_out_score": held_score,
                "held_out_gap": held_gap,
                "noise": noise,
                "confirmed": bool(held_gap > limit and held_gap > noise),
            }
        )
    out.sort(key=_strength_of)
    return out, z


def _strength_of(s: SegmentScore) -> tuple[bool, float]:
    """Sort key: confirmed segments first, then by held-out gap over its noise bar (the most
    certain first: a weak range before the pair cells inside it)."""
    ratio = s["held_out_gap"] / s["noise"] if 0 < s["noise"] < math.inf else 0.0
    return (not s["confirmed"], -(ratio if ratio == ratio else -math.inf))


# ------------------------------------------------------------------------------ explaining


def _gap_text(gap: float, kind: str) -> str:
    return f"{gap * 100:.0f}% more error" if kind == "relative" else fmt(gap, 4)


def _segments_table(segments: list[SegmentScore], name: str) -> str:
    scored = any(s["expected"] is not None for s in segments)
    rows = [
        [
            s["segment"],
            f"{s['size']:,}",
            fmt(s["score"], 4),
            *([fmt(s["expected"], 4) if s["expected"] is not None else "-"] if scored else []),
            fmt(s["held_out_score"], 4),
            fmt(s["held_out_gap"], 4),
            fmt(s["noise"], 4),
            "confirmed" if s["confirmed"] else "",
        ]
        for s in segments[:8]
    ]
    headers = [
        "segment",
        "rows",
        name,
        *(["expected"] if scored else []),
        f"held-out {name}",
        "held-out gap",
        "noise",
        "",
    ]
    return table(headers, rows)


def _explain_segments(d: SegmentsDetails) -> str:
    name, kind = d["metric"], d["gap_kind"]
    searched = (
        f"searched {d['slices_searched']:,} slices of {plural(d['features'], 'feature')} "
        f"({plural(d['pairs_searched'], 'feature pair')}) on {d['discovery_rows']:,} rows"
    )
    rel = " (relative: slice error / overall error - 1)" if kind == "relative" else ""
    versus = f"worse than the overall {name} {fmt(d['overall'], 4)} by more than " + (
        f"{fmt(d['max_gap'], 4)}{rel}"
    )
    if d["overall_expected"] is not None:
        versus = (
            f"short of the model's expected accuracy (its mean probability of the class it "
            f"predicts) by more than {fmt(d['max_gap'], 4)} beyond the overall shortfall "
            f"(accuracy {fmt(d['overall'], 4)}, expected {fmt(d['overall_expected'], 4)})"
        )
    confirmed = [s for s in d["segments"] if s["confirmed"]]
    if confirmed:
        w = confirmed[0]
        expected = "" if w["expected"] is None else f", expected {fmt(w['expected'], 4)}"
        return compose(
            f"no_weak_segments: {plural(len(confirmed), 'segment')} confirmed on "
            f"{d['held_out_rows']:,} held-out rows, {versus}; weakest "
            f"{w['segment']!r} ({w['size']:,} rows) at {fmt(w['score'], 4)}{expected} (held out: "
            f"{fmt(w['held_out_score'], 4)}, gap {_gap_text(w['held_out_gap'], kind)}; chance "
            f"explains up to {fmt(w['noise'], 4)} at {w['held_out_size']:,} rows).",
            body=f"Segments ({searched}, confirmed on the other half):\n"
            + _segments_table(d["segments"], name),
            why=SEGMENTS_WHY,
            fix=SEGMENTS_FIX,
        )
    head = f"no_weak_segments: no segment confirmed {versus}; {searched}"
    if not d["segments"]:
        return head + f"; none past the limit (worst gap {fmt(d['worst_discovery_gap'], 4)})."
    s = d["segments"][0]
    return (
        f"{head}; {plural(d['candidates'], 'candidate')} past the limit there, none confirmed "
        f"on the {d['held_out_rows']:,} held-out rows (e.g. {s['segment']!r}: held-out gap "
        f"{fmt(s['held_out_gap'], 4)}, chance explains up to {fmt(s['noise'], 4)})."
    )


@check("no_weak_segments")
def check_no_weak_segments(
    y_true: VectorLike,
    y_pred: VectorLike,
    X: TableLike,
    *,
    metric: str | MetricFn,
    max_gap: float | None = None,
    min_size: int | None = None,
    pos_label: Any = None,
    y_score: Any = None,
    classes: Any = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect segments of the data, found by searching ``X``, where the model does much worse.

    Slices: every feature of ``X`` binned (numeric: up to 20 quantile bins, each with at least
    ``min_size`` rows on average, and windows of 2 to 4 adjacent bins; categorical: levels
    with ``min_size`` rows, the 30 most frequent, others pooled; missing values apart) and
    the cells of pairs among the 6 features whose slices look weakest (at most 15 pairs,
    numeric by quintiles), at least ``min_size`` rows (ini ``ml_weak_segments_min_size``,
    default 50). The rows are split in two by a seeded draw: the search runs on one half;
    its (at most 10) slices past ``max_gap`` are judged on the other. Figure: the largest
    held-out gap of a confirmed slice (of a candidate when none is confirmed; the discovery
    half's worst gap when none passes ``max_gap`` there) against the held-out overall score
    (absolute for accuracy, recall, precision, f1, roc_auc, r2 and functions, where greater is
    better; relative for mae and rmse: slice error / overall error - 1). A segment is a
    finding when its held-out gap exceeds ``max_gap`` (ini ``ml_weak_segments_max_gap``,
    default 0.1) AND the gap random rows of its size reach at family-wise 0.5% over the
    candidates (200 seeded draws). ``metric``: a name above or a function (y_true, y_pred)
    where greater is better; recall, precision, f1 and roc_auc score ``pos_label``.
    ``y_score`` (accuracy only; ``predict_proba``: a vector of positive-class probabilities or
    one column per class, ``classes`` naming them when they are not the sorted labels): each
    segment is judged against the model's own expected accuracy there (its mean probability
    of the class it predicts), so a segment where the label is genuinely uncertain and the
    model says so is not a finding; one where it is confidently wrong is.
    """
    limit = resolve_threshold("weak_segments_max_gap", max_gap)
    truth, pred, frame = _segment_inputs(y_true, y_pred, X, metric)
    size = _min_size(min_size, len(truth))
    positive = _positive_of(truth, pred, metric, pos_label)
    fn, name, greater = metric_function(metric, positive)
    relative = not greater and isinstance(metric, str)
    expected = _expected_accuracy(y_score, classes, truth, pred, metric)
    full = _Scorer(fn, truth, pred, greater, relative, metric, expected)
    if full.overall != full.overall:
        raise MLCheckUsageError(f"metric {name} is undefined on the whole data: cannot decide.")
    if relative and full.overall <= 0:
        raise MLCheckUsageError(
            f"the overall {name} is 0 (perfect predictions): no segment can be worse."
        )
    features = _features(frame, size)
    seed = current_seed(random_state)
    order = np.random.default_rng([seed, 0]).permutation(len(truth))
    discovery, held_rows = np.sort(order[: len(truth) // 2]), np.sort(order[len(truth) // 2 :])
    finder, held = (
        _Scorer(
            fn,
            truth[rows],
            pred[rows],
            greater,
            relative,
            metric,
            None if expected is None else expected[rows],
        )
        for rows in (discovery, held_rows)
    )
    if finder.overall != finder.overall or held.overall != held.overall:
        raise MLCheckUsageError(f"metric {name} is undefined on half of the rows: cannot decide.")
    candidates, searched, pairs, worst = _discover(features, finder, discovery, limit, size)
    overall, overall_expected = full.shown(np.arange(len(truth)))
    segments, z = _confirm(candidates, features, full, held, held_rows, limit, seed)
    details: SegmentsDetails = {
        "metric": name,
        "gap_kind": "relative" if relative else "absolute",
        "overall": overall,
        "overall_expected": overall_expected,
        "rows": len(truth),
        "features": len(features),
        "slices_searched": searched,
        "pairs_searched": pairs,
        "discovery_rows": len(discovery),
        "held_out_rows": len(held_rows),
        "candidates": len(candidates),
        "family_alpha": SEGMENT_ALPHA,
        "noise_z": z,
        "max_gap": limit,
        "min_size": size,
        "worst_discovery_gap": worst if worst > -math.inf else 0.0,
        "segments": segments,
    }
    passed = not any(s["confirmed"] for s in segments)
    judged = [
        s["held_out_gap"]
        for s in segments
        if s["confirmed"] == (not passed) and s["held_out_gap"] == s["held_out_gap"]
    ]
    value = max(judged) if judged else details["worst_discovery_gap"]
    return result(passed, "error", value, limit, _explain_segments(details), dict(details))


# --------------------------------------------------------------- the HTML report's charts


@chart("no_weak_segments")
def _chart_segments(details: dict[str, Any]) -> list[Chart]:
    """The metric on the weakest segments (all rows, with their sizes) against the overall
    score (a line)."""
    segments = (details.get("segments") or [])[:8]
    if not segments:
        return []
    metric = str(details.get("metric", "metric"))
    labels = [
        f"{'! ' if s.get('confirmed') else ''}{s['segment']} (n={s['size']:,})" for s in segments
    ]
    values = [float(s["score"]) if s["score"] == s["score"] else None for s in segments]
    color: Color = "bad" if any(s.get("confirmed") for s in segments) else "cur"
    return [
        BarChart(
            f"{metric} of the weakest segments (! confirmed on held-out rows)",
            labels,
            [Series(metric, values, color)],
            marks=[Mark(f"overall {fmt(details['overall'], 4)}", details["overall"], "ref")],
        )
    ]
