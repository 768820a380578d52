"""Evaluation rung by group: fairness across a sensitive attribute, slices that do worse.

Both judge an effect against sampling noise: a gap between groups, or a slice's shortfall,
is a finding only when it passes its limit AND what chance gives at those group sizes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypedDict

import numpy as np

from pytest_mlchecks._charts import BarChart, Series, chart
from pytest_mlchecks._messages import compose, percent, plural
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks._stats import chi2_isf
from pytest_mlchecks.inputs.metrics import (
    NUMERIC_METRICS,
    POSITIVE_METRICS,
    MetricFn,
    metric_function,
)
from pytest_mlchecks.inputs.models import labels_of
from pytest_mlchecks.inputs.tables import (
    TableLike,
    VectorLike,
    fmt,
    is_dataframe,
    require_array_like,
    require_same_length,
    table,
)

__all__ = [
    "check_fair",
    "check_slices_perform",
]


# ---------------------------------------------------------------------------- shared


def _label_values(y: VectorLike, arg: str) -> np.ndarray:
    values = labels_of(y, arg)
    if values.dtype.kind == "f" and not np.all(np.isin(values, (0.0, 1.0))):
        raise MLCheckUsageError(
            f"{arg} holds scores, not labels: expected predicted labels (threshold the "
            "scores first, e.g. y_score >= 0.5)."
        )
    return values


def _positive_label(truth: np.ndarray, pred: np.ndarray, pos_label: Any) -> Any:
    """The favourable outcome: ``pos_label`` if given (it must occur), else 1 for 0/1 or
    boolean labels; other labels must name it (a wrong guess would compare nothing)."""
    seen = {
        v.item() if hasattr(v, "item") else v
        for v in np.unique(np.concatenate([truth.astype(object), pred.astype(object)]))
    }
    shown = sorted(map(str, seen))[:10]
    if pos_label is None:
        if seen <= {0, 1}:  # also True / False
            return 1
        raise MLCheckUsageError(
            f"y_true / y_pred hold the labels {shown}: pass pos_label= the positive "
            "(favourable) outcome that rates and metrics are about."
        )
    if pos_label not in seen:
        raise MLCheckUsageError(
            f"pos_label {pos_label!r} never occurs in y_true or y_pred (labels {shown}): "
            "expected one of them."
        )
    return pos_label


def _threshold_within(
    key: str, argument: float | None, arg: str, low: float, high: float, *, open_low: bool = False
) -> float:
    """The threshold ``key`` in force if it lies in [low, high] ((low, high] with
    ``open_low``), else a usage error naming the argument and its ini option (NaN never
    passes)."""
    value = resolve_threshold(key, argument)
    ok = (low < value if open_low else low <= value) and value <= high
    if not ok:  # also NaN
        bracket = "(" if open_low else "["
        raise MLCheckUsageError(
            f"{arg} (ini ml_{key}) must be in {bracket}{low:g}, {high:g}], got {value!r}."
        )
    return value


def _positive_int(value: int, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MLCheckUsageError(f"{arg} must be an integer >= 1, got {value!r}.")
    return value


def _z_two_sided(alpha: float) -> float:
    """The z with P(|N(0, 1)| > z) == alpha."""
    return math.sqrt(chi2_isf(alpha, 1))


# ---------------------------------------------------------------------------- fairness

FAIR_ALPHA = 0.005  # family-wise: how often random groups may cross the noise bar
#: what is compared between groups: (label, rate, the count the rate is over)
FAIR_MEASURES: tuple[tuple[str, str, str], ...] = (
    ("disparate impact", "selection_rate", "n"),
    ("TPR gap", "tpr", "positives"),
    ("FPR gap", "fpr", "negatives"),
)
SIZE_WORDS = {"n": "rows", "positives": "positives", "negatives": "negatives"}
FAIR_WHY = (
    "the model selects or misses people at different rates depending on the group, "
    "beyond what chance gives at these group sizes: a legal and ethical risk (the "
    "four-fifths rule of the US EEOC guidelines), and often a sign that the data "
    "under-represents a group."
)
FAIR_FIX = (
    "look at the per-group error rates above; rebalance or collect data for the "
    "disadvantaged group, use group-aware thresholds where lawful, and remove "
    "proxies of the sensitive attribute."
)
FAIR_FEW_GROUPS_FIX = "collect more data for the small groups or lower min_group_size knowingly."


class GroupRates(TypedDict, total=False):
    """One group's rates (``tpr`` / ``fpr``: None without positives / negatives)."""

    group: str
    n: int
    positives: int
    negatives: int
    selection_rate: float
    tpr: float | None
    fpr: float | None
    too_small: bool  # only when the group is under min_group_size rows


class PairFinding(TypedDict):
    """A pair of groups whose rates differ: the lower and the higher."""

    low: str
    high: str
    low_rate: float
    high_rate: float
    gap: float
    ratio: float
    noise: float  # the gap chance explains at these sizes
    sizes: list[int]


class RateFindings(TypedDict):
    beyond_limit: int  # pairs whose effect passes the limit
    beyond_noise: int  # of those, pairs whose gap also passes sampling noise
    pairs: list[PairFinding]  # the six most significant


class FairDetails(TypedDict, total=False):
    """What ``fair`` measured (the record's ``details``)."""

    groups: list[GroupRates]
    too_small: list[str]
    disparate_impact: float
    tpr_gap: float
    fpr_gap: float
    noise_z: float
    family_alpha: float
    findings: dict[str, RateFindings]  # by measure label


@dataclass(frozen=True)
class FairLimits:
    """The limits in force: lowest selection-rate ratio, largest TPR and FPR gaps."""

    min_di: float
    max_tpr_gap: float
    max_fpr_gap: float

    def beyond(self, rate: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """A mask of the pairs (from their ratio and gap) whose effect passes the limit."""
        if rate == "selection_rate":
            return lambda ratio, gap: ratio < self.min_di
        limit = self.max_tpr_gap if rate == "tpr" else self.max_fpr_gap
        return lambda ratio, gap: gap > limit

    def text(self, rate: str) -> str:
        if rate == "selection_rate":
            return f"< {fmt(self.min_di, 3)} (four-fifths rule)"
        if rate == "tpr":
            return f"> {fmt(self.max_tpr_gap, 3)} (equal opportunity)"
        return f"> {fmt(self.max_fpr_gap, 3)}"


def _fair_limits(
    min_disparate_impact: float | None, max_tpr_gap: float | None, max_fpr_gap: float | None
) -> FairLimits:
    return FairLimits(
        _threshold_within(
            "fair_min_di", min_disparate_impact, "min_disparate_impact", 0.0, 1.0, open_low=True
        ),
        _threshold_within("fair_max_tpr_gap", max_tpr_gap, "max_tpr_gap", 0, 1),
        _threshold_within("fair_max_fpr_gap", max_fpr_gap, "max_fpr_gap", 0, 1),
    )


def _fair_inputs(
    y_true: VectorLike, y_pred: VectorLike, sensitive: VectorLike, pos_label: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether each row is truly positive, whether it is predicted positive, its group."""
    true_values = _label_values(y_true, "y_true")
    pred_values = _label_values(y_pred, "y_pred")
    positive = _positive_label(true_values, pred_values, pos_label)
    truth = np.asarray(true_values == positive)
    pred = np.asarray(pred_values == positive)
    groups = labels_of(sensitive, "sensitive").astype(str)
    require_same_length(truth, pred, "y_true", "y_pred")
    require_same_length(truth, groups, "y_true", "sensitive")
    return truth, pred, groups


def _group_rates(
    truth: np.ndarray, pred: np.ndarray, groups: np.ndarray, min_group_size: int
) -> list[GroupRates]:
    """Selection rate, TPR and FPR of every group; groups under ``min_group_size`` rows are
    marked too small."""
    names, index = np.unique(groups, return_inverse=True)
    k = len(names)
    sizes = np.bincount(index, minlength=k)
    positives = np.bincount(index, weights=truth, minlength=k).astype(int)
    selected = np.bincount(index, weights=pred, minlength=k)
    true_pos = np.bincount(index, weights=pred & truth, minlength=k)
    false_pos = selected - true_pos
    stats: list[GroupRates] = []
    for g, group in enumerate(names):
        n, pos_n = int(sizes[g]), int(positives[g])
        neg_n = n - pos_n
        row: GroupRates = {
            "group": str(group),
            "n": n,
            "positives": pos_n,
            "negatives": neg_n,
            "selection_rate": float(selected[g] / n),
            "tpr": float(true_pos[g] / pos_n) if pos_n else None,
            "fpr": float(false_pos[g] / neg_n) if neg_n else None,
        }
        if n < min_group_size:
            row["too_small"] = True
        stats.append(row)
    return stats


def _rate_pairs(
    groups: Sequence[Mapping[str, Any]],
    rate: str,
    size: str,
    z: float,
    beyond: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> RateFindings:
    """Pairs of groups (both rates defined) whose effect is ``beyond`` the limit (a mask from
    the ratio and the gap of each pair): how many, how many of them also pass sampling
    noise, and the six most significant (gap over noise), each with its low and high group,
    rates, gap, ratio, noise bar and sizes. Vectorised: a thousand groups are half a million
    pairs."""
    defined = [g for g in groups if g[rate] is not None and g[size] > 0]
    if len(defined) < 2:
        return {"beyond_limit": 0, "beyond_noise": 0, "pairs": []}
    r = np.array([g[rate] for g in defined], dtype=float)
    n = np.array([g[size] for g in defined], dtype=float)
    i, j = np.triu_indices(len(defined), 1)
    low = np.where(r[i] <= r[j], i, j)
    high = np.where(r[i] <= r[j], j, i)
    gap = r[high] - r[low]
    ratio = np.where(r[high] > 0, r[low] / np.where(r[high] > 0, r[high], 1.0), 1.0)
    pooled = (r[low] * n[low] + r[high] * n[high]) / (n[low] + n[high])
    inverse = 1.0 / n[low] + 1.0 / n[high]
    # z standard errors of the difference when both groups share the pooled rate, plus
    # Yates' continuity correction (keeps small groups and rare outcomes from false alarms)
    noise = z * np.sqrt(np.maximum(pooled * (1.0 - pooled), 0.0) * inverse) + 0.5 * inverse
    over = np.flatnonzero(beyond(ratio, gap))
    real = int(np.count_nonzero(gap[over] > noise[over]))
    order = over[np.argsort(-(gap[over] / noise[over]), kind="stable")][:6]
    top: list[PairFinding] = [
        {
            "low": defined[low[k]]["group"],
            "high": defined[high[k]]["group"],
            "low_rate": float(r[low[k]]),
            "high_rate": float(r[high[k]]),
            "gap": float(gap[k]),
            "ratio": float(ratio[k]),
            "noise": float(noise[k]),
            "sizes": [int(n[low[k]]), int(n[high[k]])],
        }
        for k in order
    ]
    return {"beyond_limit": len(over), "beyond_noise": real, "pairs": top}


def _spread(values: list[float | None]) -> float:
    defined = [v for v in values if v is not None]
    return max(defined) - min(defined) if len(defined) > 1 else 0.0


def _measure_fair(usable: list[GroupRates], limits: FairLimits) -> FairDetails:
    """Disparate impact, TPR and FPR gaps over the usable groups, and per measure the pairs
    of groups beyond its limit and beyond sampling noise (family-wise ``FAIR_ALPHA`` over
    all pairs and the three measures)."""
    rates = [r["selection_rate"] for r in usable]
    n_pairs = len(usable) * (len(usable) - 1) // 2
    z = _z_two_sided(FAIR_ALPHA / (3 * n_pairs))
    return {
        "disparate_impact": min(rates) / max(rates) if max(rates) > 0 else 1.0,
        "tpr_gap": _spread([r["tpr"] for r in usable]),
        "fpr_gap": _spread([r["fpr"] for r in usable]),
        "noise_z": z,
        "family_alpha": FAIR_ALPHA,
        "findings": {
            label: _rate_pairs(usable, rate, size, z, limits.beyond(rate))
            for label, rate, size in FAIR_MEASURES
        },
    }


def _rates_table(stats: list[GroupRates]) -> str:
    rows = [
        [
            r["group"],
            f"{r['n']:,}",
            percent(r["selection_rate"]),
            "-" if r["tpr"] is None else percent(r["tpr"]),
            "-" if r["fpr"] is None else percent(r["fpr"]),
            "too few rows" if r.get("too_small") else "",
        ]
        for r in stats
    ]
    return table(["group", "rows", "selected", "TPR", "FPR", ""], rows)


def _explain_few_groups(details: FairDetails, min_group_size: int) -> str:
    return compose(
        f"fair: fewer than two groups have {min_group_size} rows or more "
        f"({len(details['groups'])} groups): rates cannot be compared with confidence.",
        body=_rates_table(details["groups"]),
        fix=FAIR_FEW_GROUPS_FIX,
    )


def _explain_finding(
    label: str, rate: str, size: str, worst: PairFinding, limit: str
) -> tuple[str, str]:
    """One measure's most significant pair: its effect against the limit, and the noise
    bar."""
    effect = worst["ratio"] if rate == "selection_rate" else worst["gap"]
    figure = (
        f"{fmt(effect, 3)} ({worst['low']!r} {percent(worst['low_rate'])} vs "
        f"{worst['high']!r} {percent(worst['high_rate'])})"
    )
    noise_text = (
        f"gap {fmt(worst['gap'], 3)}, chance explains up to {fmt(worst['noise'], 3)} "
        f"at {worst['sizes'][0]:,} / {worst['sizes'][1]:,} {SIZE_WORDS[size]}"
    )
    return f"{label} {figure} {limit}", noise_text


def _explain_fair(details: FairDetails, limits: FairLimits) -> str:
    """Findings (beyond limit and noise) fail; effects past a limit that noise explains are
    noted on a pass."""
    problems: list[str] = []
    noise_notes: list[str] = []
    for label, rate, size in FAIR_MEASURES:
        finding = details["findings"][label]
        if not finding["beyond_limit"]:
            continue
        effect, noise = _explain_finding(label, rate, size, finding["pairs"][0], limits.text(rate))
        if finding["beyond_noise"]:
            problems.append(f"{effect}; {noise}")
        else:
            noise_notes.append(f"{effect} but within noise ({noise})")
    small = details["too_small"]
    groups = plural(len(details["groups"]) - len(small), "group")
    small_note = f" Too small to compare: {small[:10]}." if small else ""
    if problems:
        return compose(
            f"fair: {'; '.join(problems)} across {groups}.{small_note}",
            body=_rates_table(details["groups"]),
            why=FAIR_WHY,
            fix=FAIR_FIX,
        )
    note = (
        f" Not a finding: {'; '.join(noise_notes)}; more rows per group would tell."
        if noise_notes
        else ""
    )
    return (
        f"fair: disparate impact {fmt(details['disparate_impact'], 3)}, TPR gap "
        f"{fmt(details['tpr_gap'], 3)}, FPR gap {fmt(details['fpr_gap'], 3)} across "
        f"{groups}.{note}{small_note}"
    )


@check("fair")
def check_fair(
    y_true: VectorLike,
    y_pred: VectorLike,
    sensitive: VectorLike,
    *,
    min_disparate_impact: float | None = None,
    max_tpr_gap: float | None = None,
    max_fpr_gap: float | None = None,
    min_group_size: int = 30,
    pos_label: Any = None,
) -> CheckResult:
    """Detect unequal treatment of groups of a sensitive attribute (binary predictions).

    Per group: selection rate, true- and false-positive rates. Disparate impact = lowest /
    highest selection rate, held to ``min_disparate_impact`` (ini ``ml_fair_min_di``, default
    0.8, the four-fifths rule); the TPR gap (equal opportunity) to ``max_tpr_gap`` (ini
    ``ml_fair_max_tpr_gap``, default 0.1); the FPR gap to ``max_fpr_gap`` (ini
    ``ml_fair_max_fpr_gap``, default 0.1). A pair of groups is a finding only when its effect
    passes the limit AND its rate gap passes sampling noise: the gap two groups of these sizes
    show by chance when they share one rate (pooled two-proportion z with continuity
    correction, family-wise 0.5% over all pairs and the three rates; sizes are rows for the
    selection rate, positives for TPR, negatives for FPR). An effect past the limit that
    noise explains passes with a note saying more rows are needed. Groups under
    ``min_group_size`` rows are reported and left out (a warning if that leaves fewer than
    two groups). ``pos_label`` is the favourable outcome: 1 by default for 0/1 or boolean
    labels, required for other labels (other labels count as not selected).
    """
    limits = _fair_limits(min_disparate_impact, max_tpr_gap, max_fpr_gap)
    min_group_size = _positive_int(min_group_size, "min_group_size")
    stats = _group_rates(*_fair_inputs(y_true, y_pred, sensitive, pos_label), min_group_size)
    usable = [r for r in stats if not r.get("too_small")]
    details: FairDetails = {
        "groups": stats,
        "too_small": [r["group"] for r in stats if r.get("too_small")],
    }
    if len(usable) < 2:
        message = _explain_few_groups(details, min_group_size)
        return result(False, "warning", None, limits.min_di, message, dict(details))
    details.update(_measure_fair(usable, limits))
    passed = not any(f["beyond_noise"] for f in details["findings"].values())
    message = _explain_fair(details, limits)
    return result(
        passed, "error", details["disparate_impact"], limits.min_di, message, dict(details)
    )


# ---------------------------------------------------------------------------- slices

SLICE_ALPHA = 0.001  # family-wise: how often a healthy model's slices cross the noise bar
SLICE_DRAWS = 200
SLICE_SIZES = 24  # distinct slice sizes simulated; others scale from the nearest one
SLICE_MAX_SIMULATED = 20_000  # larger slices scale from this size (cost stays bounded)
SLICES_WHY = (
    "an average hides where the model fails: a weak slice is a group of users, a "
    "region or a product for which the model is much worse than reported."
)
SLICES_FIX = (
    "look at the weakest slices first: more or better data for them, features that "
    "describe them, or a separate model / rule; keep this test to watch them."
)


class SliceScore(TypedDict, total=False):
    """One slice's score and how far it falls short of the overall score."""

    slice: str
    size: int
    score: float
    shortfall: float  # positive: worse than overall
    judged: bool  # at least min_size rows and a defined score
    noise: float  # judged slices: the shortfall chance explains at that size


class SlicesDetails(TypedDict):
    """What ``slices_perform`` measured (the record's ``details``)."""

    metric: str
    overall: float
    noise_z: float
    family_alpha: float
    slices: list[SliceScore]  # worst first, the first 50


#: slices: a vector of slice labels, a table (each column's values define slices) or boolean
#: masks by slice name
Slices: TypeAlias = TableLike | Mapping[str, VectorLike]


def _slice_masks(slices: Slices, n: int) -> dict[str, np.ndarray]:
    if isinstance(slices, dict):
        masks = {}
        for name, mask in slices.items():
            values = np.asarray(mask, dtype=bool)
            if values.shape != (n,):
                raise MLCheckUsageError(
                    f"slice {name!r} has shape {values.shape}: expected a boolean mask of {n} rows."
                )
            masks[str(name)] = values
        return masks
    obj = require_array_like(slices, "slices")
    if is_dataframe(obj):
        columns = {str(c): obj[c].astype(str).to_numpy() for c in obj.columns}
    else:
        columns = {"slice": labels_of(obj, "slices").astype(str)}
    masks = {}
    for col, values in columns.items():
        if len(values) != n:
            raise MLCheckUsageError(f"slices has {len(values):,} rows: expected {n:,}.")
        for value in np.unique(values):
            masks[f"{col}={value}" if len(columns) > 1 or col != "slice" else str(value)] = (
                values == value
            )
    return masks


def _slice_inputs(
    y_true: VectorLike, y_pred: VectorLike, metric: str | MetricFn, pos_label: Any
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Truth and predictions as vectors, and the positive label the metric scores."""
    truth = labels_of(y_true, "y_true")
    pred = labels_of(y_pred, "y_pred")
    require_same_length(truth, pred, "y_true", "y_pred")
    positive: Any = 1
    if metric in POSITIVE_METRICS:
        labels = pred if metric != "roc_auc" else truth  # roc_auc's y_pred are scores
        positive = _positive_label(truth, labels, pos_label)
    elif metric in NUMERIC_METRICS and not (
        truth.dtype.kind in "biuf" and pred.dtype.kind in "biuf"
    ):
        raise MLCheckUsageError(
            f"metric {metric} needs numeric y_true and y_pred, got {truth.dtype} and "
            f"{pred.dtype}: use accuracy, recall, precision or f1 for labels."
        )
    return truth, pred, positive


def _slice_scores(
    fn: MetricFn,
    truth: np.ndarray,
    pred: np.ndarray,
    masks: dict[str, np.ndarray],
    overall: float,
    greater: bool,
    min_size: int,
) -> list[SliceScore]:
    """Every slice's score and shortfall, worst first (undefined scores last)."""
    results: list[SliceScore] = []
    for label, mask in masks.items():
        size = int(mask.sum())
        score = float(fn(truth[mask], pred[mask])) if size else float("nan")
        shortfall = (overall - score) if greater else (score - overall)
        results.append(
            {
                "slice": label,
                "size": size,
                "score": score,
                "shortfall": shortfall,
                "judged": size >= min_size and score == score,
            }
        )
    results.sort(key=lambda r: -(r["shortfall"] if r["shortfall"] == r["shortfall"] else -1e9))
    return results


def _slice_noise(
    fn: MetricFn,
    truth: np.ndarray,
    pred: np.ndarray,
    overall: float,
    greater: bool,
    seed: int,
    z: float,
) -> Callable[[int], float]:
    """The noise bar (in units of ``z``) of the shortfall of a random slice of a given size:
    its root mean square over seeded draws with a Cornish-Fisher skew term, or the worst draw
    over ``z`` if larger (rows drawn with replacement: a little wider than without, so
    conservative). A size within 10% of a simulated one, and any size once ``SLICE_SIZES``
    sizes are simulated, reuses the nearest simulated size, scaled by 1/sqrt(size)."""
    n = len(truth)
    cache: dict[int, float] = {}

    def simulate(size: int) -> float:
        rng = np.random.default_rng([seed, size])
        scores = np.empty(SLICE_DRAWS)
        for i in range(SLICE_DRAWS):
            rows = rng.integers(0, n, size)
            scores[i] = float(fn(truth[rows], pred[rows]))
        finite = scores[np.isfinite(scores)]
        if len(finite) < SLICE_DRAWS // 2:
            return math.inf  # the metric is mostly undefined at this size: no verdict
        shortfall = (overall - finite) if greater else (finite - overall)
        # spread around the overall score (a bias counts as noise), widened for skew by the
        # Cornish-Fisher term: precision or recall of a small slice has a longer lower tail
        # than a normal one; the worst draw guards heavier tails still (f1 drops to 0 when a
        # small slice happens to have no predicted positives)
        spread = float(np.sqrt(np.mean(shortfall**2)))
        centred = shortfall - shortfall.mean()
        sd = float(centred.std())
        skew = float(np.mean(centred**3)) / sd**3 if sd > 0 else 0.0
        widened = spread * (1.0 + max(skew, 0.0) * (z * z - 1.0) / (6.0 * z))
        return float(max(widened, shortfall.max() / z))

    def noise(size: int) -> float:
        if size > SLICE_MAX_SIMULATED:  # noise of large slices scales as 1/sqrt(size)
            return noise(SLICE_MAX_SIMULATED) * math.sqrt(SLICE_MAX_SIMULATED / size)
        if size in cache:
            return cache[size]
        nearest = min(cache, key=lambda s: abs(math.log(s / size)), default=None)
        close = nearest is not None and abs(math.log(nearest / size)) < 0.1
        if nearest is None or (not close and len(cache) < SLICE_SIZES):
            cache[size] = simulate(size)
            return cache[size]
        return cache[nearest] * math.sqrt(nearest / size)

    return noise


def _measure_slice_noise(
    judged: list[SliceScore],
    name: str,
    fn: MetricFn,
    truth: np.ndarray,
    pred: np.ndarray,
    overall: float,
    greater: bool,
    seed: int,
) -> float:
    """Give every judged slice its noise bar (z at family-wise ``SLICE_ALPHA`` over the
    judged slices, one-sided); return that z. A usage error when the metric is undefined on
    most random slices of every size."""
    z = _z_two_sided(2 * SLICE_ALPHA / len(judged))  # one-sided
    noise_of = _slice_noise(fn, truth, pred, overall, greater, seed, z)
    for r in judged:
        r["noise"] = z * noise_of(r["size"])
    if all(r["noise"] == math.inf for r in judged):
        raise MLCheckUsageError(
            f"metric {name} is undefined on most random slices of these sizes (e.g. no "
            "positive rows): cannot tell a weak slice from chance; use larger slices "
            "(min_size) or a metric defined on every slice, such as accuracy."
        )
    return z


def _require_comparable(judged: list[SliceScore], n: int, name: str, min_size: int) -> None:
    """Usage errors when no slice can be judged, or one slice holds every row."""
    if not judged:
        raise MLCheckUsageError(
            f"no slice has {min_size} rows or more with a defined {name}: cannot decide."
        )
    if len(judged) == 1 and judged[0]["size"] == n:
        raise MLCheckUsageError(
            "slices define a single slice holding every row: nothing to compare it with; "
            "expected at least two slice values (or masks of part of the rows)."
        )


def _slices_table(results: list[SliceScore], name: str) -> str:
    rows = [
        [
            r["slice"],
            f"{r['size']:,}",
            fmt(r["score"], 4),
            fmt(r["shortfall"], 4),
            fmt(r["noise"], 4) if "noise" in r else "-",
            "" if r["judged"] else "too small",
        ]
        for r in results[:12]
    ]
    return table(["slice", "rows", name, "shortfall", "noise", ""], rows)


def _judge_slices(
    judged: list[SliceScore], limit: float
) -> tuple[list[SliceScore], list[SliceScore]]:
    """The judged slices whose shortfall passes the limit, and of those the findings: the
    ones whose shortfall also passes sampling noise."""
    over = [r for r in judged if r["shortfall"] > limit]
    return over, [r for r in over if r["shortfall"] > r["noise"]]


def _explain_slices_perform(details: SlicesDetails, results: list[SliceScore], limit: float) -> str:
    """The weakest judged slice on a pass (with slices past the limit that noise explains);
    the slices beyond limit and noise on a failure."""
    name, overall = details["metric"], details["overall"]
    judged = [r for r in results if r["judged"]]
    over, failing = _judge_slices(judged, limit)
    if failing:
        weakest = failing[0]
        return compose(
            f"slices_perform: {plural(len(failing), 'slice')} fall more than {fmt(limit, 4)} "
            f"below the overall {name} {fmt(overall, 4)}; weakest {weakest['slice']!r} "
            f"({weakest['size']:,} rows) at {fmt(weakest['score'], 4)} (sampling noise "
            f"explains a shortfall up to {fmt(weakest['noise'], 4)} at that size).",
            body=_slices_table(results, name),
            why=SLICES_WHY,
            fix=SLICES_FIX,
        )
    note = (
        f" {plural(len(over), 'slice')} past the limit within sampling noise (e.g. "
        f"{over[0]['slice']!r}: shortfall {fmt(over[0]['shortfall'], 4)}, chance explains up "
        f"to {fmt(over[0]['noise'], 4)} at {over[0]['size']:,} rows): not a finding; more "
        "rows would tell."
        if over
        else ""
    )
    weakest = judged[0]
    return (
        f"slices_perform: weakest slice {weakest['slice']!r} ({weakest['size']:,} rows) "
        f"scores {fmt(weakest['score'], 4)} vs {fmt(overall, 4)} overall ({name}; "
        f"shortfall {fmt(weakest['shortfall'], 4)}, limit {fmt(limit, 4)}).{note}"
    )


@check("slices_perform")
def check_slices_perform(
    y_true: VectorLike,
    y_pred: VectorLike,
    slices: Slices,
    *,
    metric: str | MetricFn,
    max_gap: float | None = None,
    min_size: int = 30,
    pos_label: Any = None,
    random_state: int | None = None,
) -> CheckResult:
    """Detect slices of the data where the model does much worse than overall.

    ``slices``: a vector of slice labels, a DataFrame (every column's values define slices) or
    a dict of boolean masks. ``metric``: accuracy, recall, precision, f1, roc_auc, r2, mae,
    rmse, or a function (y_true, y_pred) where greater is better. Figure: the largest shortfall
    of a slice against the overall score, held to ``max_gap`` (ini ``ml_slices_max_gap``,
    default 0.1); slices under ``min_size`` rows are listed but not judged. A slice is a
    finding only when its shortfall passes ``max_gap`` AND sampling noise: the shortfall a
    random set of rows of the slice's size shows (200 seeded draws, z at family-wise 0.1%
    over the judged slices), so small slices of a healthy model pass. recall,
    precision, f1 and roc_auc score ``pos_label`` (1 by default for 0/1 or boolean labels,
    required for other labels).
    """
    limit = _threshold_within("slices_max_gap", max_gap, "max_gap", 0, math.inf)
    min_size = _positive_int(min_size, "min_size")
    truth, pred, positive = _slice_inputs(y_true, y_pred, metric, pos_label)
    fn, name, greater = metric_function(metric, positive)
    overall = float(fn(truth, pred))
    if overall != overall:
        raise MLCheckUsageError(f"metric {name} is undefined on the whole data: cannot decide.")
    masks = _slice_masks(slices, len(truth))
    results = _slice_scores(fn, truth, pred, masks, overall, greater, min_size)
    judged = [r for r in results if r["judged"]]
    _require_comparable(judged, len(truth), name, min_size)
    seed = current_seed(random_state)
    z = _measure_slice_noise(judged, name, fn, truth, pred, overall, greater, seed)
    details: SlicesDetails = {
        "metric": name,
        "overall": overall,
        "noise_z": z,
        "family_alpha": SLICE_ALPHA,
        "slices": results[:50],
    }
    worst = judged[0]["shortfall"]
    passed = not _judge_slices(judged, limit)[1]
    message = _explain_slices_perform(details, results, limit)
    return result(passed, "error", worst, limit, message, dict(details))


# --------------------------------------------------------------- the HTML report's charts


@chart("fair")
def _chart_fair(details: dict[str, Any]) -> list[BarChart]:
    """Selection rate and true positive rate per group (the first 20 groups)."""
    groups = (details.get("groups") or [])[:20]
    if not groups:
        return []
    return [
        BarChart(
            "Per-group rates",
            [g["group"] for g in groups],
            [
                Series("selection rate", [g["selection_rate"] for g in groups], "ref"),
                Series("TPR", [g["tpr"] for g in groups], "cur"),
            ],
        )
    ]
