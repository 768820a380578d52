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

from pytest_mlchecks._charts import BarChart, Chart, Color, Mark, Series, chart
from pytest_mlchecks._messages import compose, percent, plural
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks._stats import average_ranks, chi2_isf
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
    "check_groups_represented",
    "check_scores_equitable",
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


def _share_gap_noise(
    rate: np.ndarray, inv_a: np.ndarray, inv_b: np.ndarray | float, z: float, tail: Any = 0
) -> np.ndarray:
    """The gap between the shares of two samples (of 1 / ``inv_a`` and 1 / ``inv_b`` rows;
    ``inv_b`` 0 for a known share) that chance explains when both share ``rate``: ``z``
    standard errors of the difference plus Yates' continuity correction (keeps small groups
    and rare outcomes from false alarms). ``tail`` +1 / -1 (per pair) bends the bar for a gap
    of sample a above / below b by the Cornish-Fisher skew term: counts with few expected
    rows have a long upper tail and a short lower one (0: symmetric)."""
    inverse = inv_a + inv_b
    spread = np.maximum(rate * (1.0 - rate), 0.0)
    sd = np.sqrt(spread * inverse)
    third = spread * (1.0 - 2.0 * rate) * (inv_a**2 - inv_b**2)
    skew = np.divide(third, sd**3, out=np.zeros_like(sd), where=sd > 0)
    z_tail = np.maximum(z + np.asarray(tail) * skew * (z * z - 1.0) / 6.0, 0.0)
    out: np.ndarray = z_tail * sd + 0.5 * inverse
    return out


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
    noise = _share_gap_noise(pooled, 1.0 / n[low], 1.0 / n[high], z)
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


# ---------------------------------------------------------------------------- representation

GROUPS_ALPHA = 0.005  # family-wise over the groups: how often sampling alone crosses the bar
REPRESENTED_WHY = (
    "a group the data under-represents is one the model learns little about and is "
    "evaluated on few rows, so its errors hide in the averages (representation bias); an "
    "over-represented group skews what the model takes as normal."
)
REPRESENTED_FIX = (
    "find the selection, filtering or join step that changed the mix; collect more rows of "
    "the under-represented groups or re-sample / re-weight (sample_weight) towards the "
    "reference shares; then compare per-group performance (assert_fair, "
    "assert_slices_perform)."
)
FLOOR_FIX = (
    "collect more rows of the small groups or re-sample towards them; if the shares mirror "
    "the population, pass reference= the population's shares to judge against it, or lower "
    "min_fraction knowingly."
)


class GroupShare(TypedDict, total=False):
    """One group's rows and share (against the reference share, or the floor)."""

    group: str
    n: int
    share: float
    reference_share: float  # with a reference
    reference_n: int  # with a reference sample: its rows of this group
    ratio: float | None  # share / reference share (None when the reference share is 0)
    gap: float  # share - reference share (or - the floor)
    noise: float  # the gap chance explains at these sizes, in the gap's direction
    beyond_limit: bool  # the ratio (or the floor) is passed
    finding: bool  # beyond the limit and beyond noise


class RepresentedDetails(TypedDict, total=False):
    """What ``groups_represented`` measured (the record's ``details``)."""

    mode: str  # "reference" or "floor"
    rows: int
    reference_rows: int | None  # a reference sample's rows; None for a mapping of shares
    n_groups: int
    absent: list[str]  # reference groups with no row in the data (the first 20)
    findings: int
    beyond_limit: int
    noise_z: float
    family_alpha: float
    groups: list[GroupShare]  # findings first, then the worst; the first 50


#: reference: group -> population share (or count), or a vector of the reference's labels
Reference: TypeAlias = Mapping[Any, float] | VectorLike


def _reference_counts(
    reference: Reference, data_groups: np.ndarray
) -> tuple[dict[str, float], int | None]:
    """The reference as group -> weight (shares or counts, as given) and its rows (None for a
    mapping); usage errors for bad shares and for data groups a mapping does not list."""
    if isinstance(reference, Mapping):
        weights: dict[str, float] = {}
        for key, value in reference.items():
            name = str(key)
            ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
                value, bool
            )
            if not ok or not (0.0 <= float(value) < math.inf):
                raise MLCheckUsageError(
                    f"reference share of {name!r} is {value!r}: expected a finite number >= 0."
                )
            if name in weights:
                raise MLCheckUsageError(f"reference names the group {name!r} twice.")
            weights[name] = float(value)
        if not weights or sum(weights.values()) <= 0:
            raise MLCheckUsageError(
                "reference shares sum to 0: expected group -> population share."
            )
        missing = sorted(set(data_groups.tolist()) - set(weights))
        if missing:
            raise MLCheckUsageError(
                f"sensitive holds {plural(len(missing), 'group')} that reference does not "
                f"list: {missing[:10]}; give each a share (0 if it should not occur), or "
                "check that the labels are spelt alike."
            )
        return weights, None
    labels = labels_of(reference, "reference").astype(str)
    names, counts = np.unique(labels, return_counts=True)
    return {str(g): float(c) for g, c in zip(names, counts, strict=True)}, len(labels)


def _represented_against(
    counts: dict[str, int], weights: dict[str, float], ref_rows: int | None, min_ratio: float
) -> tuple[list[GroupShare], float]:
    """Every group's share against its reference share: ratio, gap and noise bar (two-sided,
    family-wise ``GROUPS_ALPHA`` over the groups); return them and the z used."""
    names = sorted(set(counts) | set(weights))
    n = sum(counts.values())
    x = np.array([counts.get(g, 0) for g in names], dtype=float)
    w = np.array([weights.get(g, 0.0) for g in names], dtype=float)
    ref_share = w / w.sum()
    share = x / n
    z = _z_two_sided(GROUPS_ALPHA / len(names))
    gap = share - ref_share
    tail = np.where(gap >= 0, 1.0, -1.0)
    if ref_rows is None:  # known shares
        noise = _share_gap_noise(ref_share, np.full_like(x, 1.0 / n), 0.0, z, tail)
    else:  # two samples: both share the pooled rate under no difference
        pooled = (x + w) / (n + ref_rows)
        noise = _share_gap_noise(pooled, np.full_like(x, 1.0 / n), 1.0 / ref_rows, z, tail)
    rows: list[GroupShare] = []
    for k, g in enumerate(names):
        ratio = float(share[k] / ref_share[k]) if ref_share[k] > 0 else None
        # a group the reference does not expect (share 0): any row is past the limit
        outside = ratio is not None and not min_ratio <= ratio <= 1.0 / min_ratio
        beyond = bool(x[k] > 0) if ratio is None else outside
        row: GroupShare = {
            "group": g,
            "n": int(x[k]),
            "share": float(share[k]),
            "reference_share": float(ref_share[k]),
            "ratio": ratio,
            "gap": float(gap[k]),
            "noise": float(noise[k]),
            "beyond_limit": bool(beyond),
            "finding": bool(beyond and abs(gap[k]) > noise[k]),
        }
        if ref_rows is not None:
            row["reference_n"] = int(w[k])
        rows.append(row)
    rows.sort(key=lambda r: (not r["finding"], _symmetric_ratio(r), r["group"]))
    return rows, z


def _symmetric_ratio(row: GroupShare) -> float:
    """min(ratio, 1 / ratio): 1 when the shares match, 0.5 at half or double, 0 when absent
    from either side."""
    ratio = row.get("ratio")
    if ratio is None:  # reference share 0
        return 0.0 if row["share"] > 0 else 1.0
    return min(ratio, 1.0 / ratio) if ratio > 0 else 0.0


def _represented_floor(counts: dict[str, int], floor: float) -> tuple[list[GroupShare], float]:
    """Every group's share against the floor: a finding when it falls below the floor by more
    than noise (one-sided, family-wise ``GROUPS_ALPHA``), so a group at the floor passes."""
    names = sorted(counts)
    n = sum(counts.values())
    x = np.array([counts[g] for g in names], dtype=float)
    share = x / n
    z = _z_two_sided(2 * GROUPS_ALPHA / len(names))  # one-sided
    noise = _share_gap_noise(np.full_like(x, floor), np.full_like(x, 1.0 / n), 0.0, z, -1.0)
    rows: list[GroupShare] = [
        {
            "group": g,
            "n": int(x[k]),
            "share": float(share[k]),
            "gap": float(share[k] - floor),
            "noise": float(noise[k]),
            "beyond_limit": bool(share[k] < floor),
            "finding": bool(floor - share[k] > noise[k]),
        }
        for k, g in enumerate(names)
    ]
    rows.sort(key=lambda r: (not r["finding"], r["share"], r["group"]))
    return rows, z


def _shares_table(rows: list[GroupShare], mode: str) -> str:
    def verdict(r: GroupShare) -> str:
        if not r["beyond_limit"]:
            return ""
        if not r["finding"]:
            return "within noise"
        if mode == "floor":
            return "below the floor"
        return "absent" if r["n"] == 0 else ("over" if r["gap"] > 0 else "under")

    if mode == "floor":
        headers = ["group", "rows", "share", "noise", ""]
        body = [
            [r["group"], f"{r['n']:,}", percent(r["share"]), percent(r["noise"]), verdict(r)]
            for r in rows[:12]
        ]
    else:
        headers = ["group", "rows", "share", "reference", "ratio", "noise", ""]
        body = [
            [
                r["group"],
                f"{r['n']:,}",
                percent(r["share"]),
                percent(r["reference_share"]),
                fmt(r["ratio"], 3),
                percent(r["noise"]),
                verdict(r),
            ]
            for r in rows[:12]
        ]
    return table(headers, body)


def _describe_share(r: GroupShare, rows: int) -> str:
    """'b' 9.8% of rows vs 20% in the reference (ratio 0.49; chance explains a gap up to 3.1%
    at 1,000 rows)."""
    if r["n"] == 0:
        what = f"{r['group']!r} absent (expected {percent(r['reference_share'])} of rows"
    else:
        what = (
            f"{r['group']!r} {percent(r['share'])} of rows vs "
            f"{percent(r['reference_share'])} in the reference (ratio {fmt(r['ratio'], 3)}"
        )
    return f"{what}; chance explains a gap up to {percent(r['noise'])} at {rows:,} rows)"


def _explain_represented(details: RepresentedDetails, limit: float) -> str:
    rows, groups = details["rows"], details["groups"]
    if details["mode"] == "floor":
        smallest = min(groups, key=lambda r: r["share"])
        failing = [r for r in groups if r["finding"]]
        if failing:
            listed = "; ".join(
                f"{r['group']!r} {percent(r['share'])} ({r['n']:,} of {rows:,} rows; chance "
                f"explains a shortfall up to {percent(r['noise'])})"
                for r in failing[:5]
            )
            return compose(
                f"groups_represented: {plural(len(failing), 'group')} below the floor of "
                f"{percent(limit)} of rows beyond sampling noise: {listed}.",
                body=_shares_table(groups, "floor"),
                why=REPRESENTED_WHY,
                fix=FLOOR_FIX,
            )
        near = [r for r in groups if r["beyond_limit"]]
        note = (
            f" {plural(len(near), 'group')} under the floor within sampling noise (e.g. "
            f"{near[0]['group']!r} at {percent(near[0]['share'])}): not a finding."
            if near
            else ""
        )
        return (
            f"groups_represented: smallest of {plural(len(groups), 'group')} "
            f"{smallest['group']!r} holds {percent(smallest['share'])} of {rows:,} rows "
            f"(floor {percent(limit)}).{note}"
        )
    span = f"{fmt(limit, 3)}-{fmt(1.0 / limit, 3)}"
    failing = [r for r in groups if r["finding"]]
    if failing:
        listed = "; ".join(_describe_share(r, rows) for r in failing[:5])
        return compose(
            f"groups_represented: {plural(len(failing), 'group')} over- or "
            f"under-represented against the reference (share ratio outside {span}, beyond "
            f"sampling noise): {listed}.",
            body=_shares_table(groups, "reference"),
            why=REPRESENTED_WHY,
            fix=REPRESENTED_FIX,
        )
    worst = min(groups, key=_symmetric_ratio)
    near = [r for r in groups if r["beyond_limit"]]
    note = (
        f" {plural(len(near), 'group')} past the ratio within sampling noise (e.g. "
        f"{_describe_share(near[0], rows)}): not a finding; more rows would tell."
        if near
        else ""
    )
    return (
        f"groups_represented: {plural(details['n_groups'], 'group')} match the reference "
        f"shares (ratio within {span} or within noise); furthest {worst['group']!r} "
        f"{percent(worst['share'])} vs {percent(worst['reference_share'])}.{note}"
    )


@check("groups_represented")
def check_groups_represented(
    sensitive: VectorLike,
    *,
    reference: Reference | None = None,
    min_fraction: float | None = None,
    min_ratio: float | None = None,
) -> CheckResult:
    """Detect representation bias: groups of a sensitive attribute over- or under-represented.

    ``sensitive``: one group label per row (as ``check_fair`` takes it). With ``reference``
    (a mapping group -> population share, counts also work as they are normalised, or a
    vector of the reference population's group labels): each group's share of the rows
    against its reference share. The effect is the share ratio, held to [``min_ratio``,
    1 / ``min_ratio``] (ini ``ml_groups_min_ratio``, default 0.8, the four-fifths rule, so
    0.8-1.25); a group is a finding only when its ratio passes that AND its share gap passes
    sampling noise (binomial / two-sample proportion z with a skew term and continuity
    correction, family-wise 0.5% over the groups), so data drawn from the reference shares
    pass. A reference group absent from the data has ratio 0, and fails once its expected
    rows make absence beyond chance; a data group a mapping does not list is a usage error.
    Without ``reference``: a group whose share falls below the floor ``min_fraction`` (ini
    ``ml_groups_min_fraction``, default 0.05) by more than noise (one-sided) fails, so a
    group right at the floor passes. Figure: the worst share ratio min(r, 1/r) (reference),
    or the smallest share (floor).
    """
    floor = resolve_threshold("groups_min_fraction", min_fraction)
    ratio_limit = resolve_threshold("groups_min_ratio", min_ratio)
    groups = labels_of(sensitive, "sensitive").astype(str)
    names, sizes = np.unique(groups, return_counts=True)
    counts = {str(g): int(c) for g, c in zip(names, sizes, strict=True)}
    if reference is None:
        if len(counts) < 2:
            raise MLCheckUsageError(
                f"sensitive holds a single group ({next(iter(counts))!r}): no share to judge "
                "without a reference; pass reference= the population's groups and shares."
            )
        rows, z = _represented_floor(counts, floor)
        details: RepresentedDetails = {"mode": "floor", "reference_rows": None}
        limit = floor
        value = min(r["share"] for r in rows)
    else:
        limit = ratio_limit
        weights, ref_rows = _reference_counts(reference, names)
        rows, z = _represented_against(counts, weights, ref_rows, limit)
        details = {"mode": "reference", "reference_rows": ref_rows}
        value = min(_symmetric_ratio(r) for r in rows)
    findings = sum(r["finding"] for r in rows)
    details.update(
        {
            "rows": len(groups),
            "n_groups": len(rows),
            "absent": [r["group"] for r in rows if r["n"] == 0][:20],
            "findings": findings,
            "beyond_limit": sum(r["beyond_limit"] for r in rows),
            "noise_z": z,
            "family_alpha": GROUPS_ALPHA,
            "groups": rows[:50],
        }
    )
    message = _explain_represented(details, limit)
    return result(not findings, "error", value, limit, message, dict(details))


# ---------------------------------------------------------------------------- scores

SCORES_ALPHA = (
    0.002  # family-wise over the judged groups (0.5% let 0.9% of clean 300-row runs fail)
)
SCORES_WHY = (
    "every threshold, ranking or top-k list built on these scores puts that group behind "
    "people of the other groups with the same true outcome (score-based denigration), even "
    "when accuracy looks alike."
)
SCORES_NO_LABEL_WHY = (
    " Without y_true a group with a lower base rate also scores lower for good reason: pass "
    "y_true to compare people with the same outcome."
)
SCORES_FIX = (
    "look for features that proxy the sensitive attribute, and for labels or training rows "
    "that carry past bias; re-weight or constrain training (e.g. fairlearn), or calibrate "
    "per group where lawful; then assert_fair on the thresholded decisions."
)


class GroupScores(TypedDict, total=False):
    """One group's scores against the rest's, within the same true label."""

    group: str
    n: int
    mean_score: float
    pairs: int  # same-label (group, rest) pairs compared
    below: float | None  # P(a member scores below a member of the rest), ties count half
    gap: float | None  # below - 0.5: > 0 scored lower, < 0 scored higher
    noise: float | None  # the |gap| random group labels show at these sizes
    too_small: bool  # only when the group is under min_group_size rows
    finding: bool


class ScoresDetails(TypedDict, total=False):
    """What ``scores_equitable`` measured (the record's ``details``)."""

    within_label: bool
    labels: int  # true labels the pairs are taken within (1 without y_true)
    groups: list[GroupScores]  # findings first, then by |gap|; the first 50
    too_small: list[str]
    findings: int
    largest_gap: float
    noise_z: float
    family_alpha: float


def _score_values(y_score: VectorLike) -> np.ndarray:
    values = labels_of(y_score, "y_score")
    if values.dtype.kind not in "biuf":
        raise MLCheckUsageError(
            f"y_score holds {values.dtype} values: expected one numeric score per row "
            "(e.g. predict_proba(X)[:, 1] or decision_function(X))."
        )
    scores = values.astype(float)
    if not np.all(np.isfinite(scores)):
        raise MLCheckUsageError("y_score holds infinite values: expected finite scores.")
    return scores


def _label_strata(y_true: VectorLike | None, n: int) -> np.ndarray:
    """The stratum of every row: its true label (0 for all without y_true)."""
    if y_true is None:
        return np.zeros(n, dtype=int)
    truth = labels_of(y_true, "y_true")
    if truth.dtype.kind == "f" and not np.all(truth == np.round(truth)):
        raise MLCheckUsageError(
            "y_true holds non-integer numbers: expected class labels to compare scores within "
            "(bin a numeric target first, e.g. pd.qcut(y, 5, labels=False))."
        )
    if len(truth) != n:
        raise MLCheckUsageError(f"y_true has {len(truth):,} rows: expected {n:,} (y_score).")
    strata: np.ndarray = np.unique(truth, return_inverse=True)[1].ravel()
    return strata


def _group_score_gaps(
    scores: np.ndarray, groups: np.ndarray, strata: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per group (index of ``groups``): U counts of (rest above member) pairs, pairs, and the
    variance of U under random group labels, summed over the label strata (Mann-Whitney with
    average ranks and the tie correction); and the group's mean score."""
    k = int(groups.max()) + 1
    above = np.zeros(k)  # pairs where the rest member scores above the group member
    pairs = np.zeros(k)
    variance = np.zeros(k)
    for label in np.unique(strata):
        rows = strata == label
        size = int(rows.sum())
        if size < 2:
            continue
        ranks, ties = average_ranks(scores[rows])
        g = groups[rows]
        n1 = np.bincount(g, minlength=k).astype(float)
        n0 = size - n1
        rank_sum = np.bincount(g, weights=ranks, minlength=k)
        u_member_above = rank_sum - n1 * (n1 + 1) / 2.0
        above += n1 * n0 - u_member_above
        pairs += n1 * n0
        variance += n1 * n0 / 12.0 * ((size + 1) - ties / (size * (size - 1)))
    mean = np.bincount(groups, weights=scores, minlength=k) / np.bincount(groups, minlength=k)
    return above, pairs, variance, mean


def _measure_scores(
    scores: np.ndarray, groups: np.ndarray, strata: np.ndarray, limit: float, min_size: int
) -> tuple[list[GroupScores], float]:
    names, index = np.unique(groups, return_inverse=True)
    index = index.ravel()
    sizes = np.bincount(index, minlength=len(names))
    above, pairs, variance, mean = _group_score_gaps(scores, index, strata)
    judged = [k for k in range(len(names)) if sizes[k] >= min_size and pairs[k] > 0]
    z = _z_two_sided(SCORES_ALPHA / max(len(judged), 1))
    rows: list[GroupScores] = []
    for k, name in enumerate(names):
        row: GroupScores = {
            "group": str(name),
            "n": int(sizes[k]),
            "mean_score": float(mean[k]),
            "pairs": int(pairs[k]),
            "below": None,
            "gap": None,
            "noise": None,
            "finding": False,
        }
        if k in judged:
            below = float(above[k] / pairs[k])
            # z standard errors plus a continuity correction of half a pair
            noise = float((z * math.sqrt(variance[k]) + 0.5) / pairs[k])
            gap = below - 0.5
            row.update({"below": below, "gap": gap, "noise": noise})
            row["finding"] = abs(gap) > max(limit, noise)
        elif sizes[k] < min_size:
            row["too_small"] = True
        rows.append(row)
    if len(names) == 2 and len(judged) == 2:  # mirrors: name the one scored lower
        for row in rows:
            row["finding"] = row["finding"] and (row["gap"] or 0.0) > 0
    rows.sort(key=lambda r: (not r["finding"], -abs(r["gap"] or 0.0), r["group"]))
    return rows, z


def _scores_table(rows: list[GroupScores]) -> str:
    body = [
        [
            r["group"],
            f"{r['n']:,}",
            fmt(r["mean_score"], 4),
            "-" if r["below"] is None else percent(r["below"]),
            fmt(r["gap"], 3),
            fmt(r["noise"], 3),
            "too few rows" if r.get("too_small") else ("finding" if r["finding"] else ""),
        ]
        for r in rows[:12]
    ]
    return table(["group", "rows", "mean score", "below rest", "gap", "noise", ""], body)


def _direction(r: GroupScores, pairs_word: str) -> str:
    """'f' (128 rows) scores below a member of the rest in 75% of same-label pairs."""
    below = r["below"] or 0.0
    side, share = ("below", below) if below >= 0.5 else ("above", 1.0 - below)
    return (
        f"{r['group']!r} ({r['n']:,} rows) scores {side} a member of the rest in "
        f"{percent(share)} of {pairs_word}"
    )


def _explain_scores(details: ScoresDetails, limit: float) -> str:
    rows = details["groups"]
    same = "within the same true label" if details["within_label"] else "(no y_true given)"
    pairs_word = "same-label pairs" if details["within_label"] else "pairs"
    failing = [r for r in rows if r["finding"]]
    if failing:
        listed = "; ".join(
            f"{_direction(r, pairs_word)} (gap {fmt(abs(r['gap'] or 0), 3)} > {fmt(limit, 3)}; "
            f"chance explains up to {fmt(r['noise'], 3)})"
            for r in failing[:5]
        )
        why = SCORES_WHY + ("" if details["within_label"] else SCORES_NO_LABEL_WHY)
        return compose(
            f"scores_equitable: {plural(len(failing), 'group')} scored systematically "
            f"differently from the rest {same}: {listed}.",
            body=_scores_table(rows),
            why=why,
            fix=SCORES_FIX,
        )
    judged = [r for r in rows if r["gap"] is not None]
    mirrored = len(rows) == 2 and len(judged) == 2
    if mirrored:  # each is the other's mirror: speak of the one scored lower
        judged = sorted(judged, key=lambda r: -(r["gap"] or 0.0))[:1]
    worst = judged[0]
    near = [r for r in judged if abs(r["gap"] or 0) > limit]
    note = (
        f" {plural(len(near), 'group')} past the limit within sampling noise (e.g. "
        f"{near[0]['group']!r}: gap {fmt(abs(near[0]['gap'] or 0), 3)}, chance explains up to "
        f"{fmt(near[0]['noise'], 3)}): not a finding; more rows would tell."
        if near
        else ""
    )
    small = details["too_small"]
    small_note = f" Too small to judge: {small[:10]}." if small else ""
    return (
        f"scores_equitable: largest score gap {fmt(details['largest_gap'], 3)} "
        f"({_direction(worst, pairs_word)}; limit {fmt(limit, 3)}) across "
        f"{plural(2 if mirrored else len(judged), 'group')} {same}.{note}{small_note}"
    )


@check("scores_equitable")
def check_scores_equitable(
    y_score: VectorLike,
    sensitive: VectorLike,
    y_true: VectorLike | None = None,
    *,
    max_gap: float | None = None,
    min_group_size: int = 30,
) -> CheckResult:
    """Detect score-based denigration: one group's scores systematically lower (or higher).

    ``y_score``: one numeric score per row (probability, decision function, risk score);
    ``sensitive``: one group label per row. Per group against the rest, within each true
    label when ``y_true`` is given (so a group with a lower base rate is not flagged for
    correctly lower scores): the probability that a member of the group scores below a
    member of the rest with the same label (ties count half; 0.5 = no difference; a
    stratified rank AUC, so any monotone rescaling of the scores gives the same figure). The
    gap is that probability minus 0.5, held to ``max_gap`` in either direction (ini
    ``ml_scores_max_gap``, default 0.05, about a fifth of a standard deviation between normal
    scores); a group is a finding only when its gap also passes sampling noise (Mann-Whitney
    variance with ties, family-wise 0.2% over the judged groups). With two groups only the
    one scored lower is named. Groups under ``min_group_size`` rows are listed, not judged
    (a warning if fewer than two are left). Figure: the largest |gap|. With ``y_true`` this is
    "balance for the positive and negative class" (Kleinberg, Mullainathan & Raghavan 2016):
    scores calibrated within each group cannot meet it exactly when base rates differ and
    prediction is imperfect, so a failure says equally-labelled members of a group are scored
    lower; whether that is acceptable is a policy decision.
    """
    limit = resolve_threshold("scores_max_gap", max_gap)
    min_group_size = _positive_int(min_group_size, "min_group_size")
    scores = _score_values(y_score)
    groups = labels_of(sensitive, "sensitive").astype(str)
    require_same_length(scores, groups, "y_score", "sensitive")
    strata = _label_strata(y_true, len(scores))
    rows, z = _measure_scores(scores, groups, strata, limit, min_group_size)
    judged = [r for r in rows if r["gap"] is not None]
    details: ScoresDetails = {
        "within_label": y_true is not None,
        "labels": int(strata.max()) + 1,
        "groups": rows[:50],
        "too_small": [r["group"] for r in rows if r.get("too_small")][:20],
        "noise_z": z,
        "family_alpha": SCORES_ALPHA,
    }
    if len(judged) < 2:
        message = compose(
            f"scores_equitable: fewer than two groups have {min_group_size} rows or more "
            f"and a same-label member of another group ({len(rows)} groups): scores cannot "
            "be compared with confidence.",
            body=_scores_table(rows),
            fix=FAIR_FEW_GROUPS_FIX,
        )
        return result(False, "warning", None, limit, message, dict(details))
    findings = sum(r["finding"] for r in rows)
    largest = max(abs(r["gap"] or 0.0) for r in judged)
    details.update({"findings": findings, "largest_gap": largest})
    message = _explain_scores(details, limit)
    return result(not findings, "error", largest, limit, message, dict(details))


# --------------------------------------------------------------- the HTML report's charts


def _group_label(group: dict[str, Any]) -> str:
    """A group's name with its rows, e.g. ``women (n=1,204)``."""
    n = group.get("n")
    return f"{group['group']} (n={n:,})" if isinstance(n, int) else str(group["group"])


@chart("fair")
def _chart_fair(details: dict[str, Any]) -> list[Chart]:
    """Selection rate, true and false positive rate per group (the first 20 groups)."""
    groups = (details.get("groups") or [])[:20]
    if not groups:
        return []
    di = details.get("disparate_impact")
    title = "Per-group rates" + (
        f" (disparate impact {fmt(di, 3)})" if isinstance(di, (int, float)) else ""
    )
    series = [
        Series("selection rate", [g.get("selection_rate") for g in groups], "ref"),
        Series("TPR", [g.get("tpr") for g in groups], "cur"),
    ]
    if any(g.get("fpr") is not None for g in groups):
        series.append(Series("FPR", [g.get("fpr") for g in groups], "muted"))
    return [BarChart(title, [_group_label(g) for g in groups], series)]


@chart("groups_represented")
def _chart_groups_represented(details: dict[str, Any]) -> list[Chart]:
    """Each group's share of the rows beside its reference share, or the floor (the first 20
    groups)."""
    groups = (details.get("groups") or [])[:20]
    if not groups:
        return []
    labels = [_group_label(g) for g in groups]
    shares = Series("share of rows", [g["share"] for g in groups], "cur")
    if details.get("mode") == "floor":
        floor = Series("floor", [g["share"] - g["gap"] for g in groups], "ref")
        return [BarChart("Group shares vs the floor", labels, [shares, floor])]
    reference = Series("reference share", [g["reference_share"] for g in groups], "ref")
    return [BarChart("Group shares vs the reference", labels, [reference, shares])]


@chart("scores_equitable")
def _chart_scores_equitable(details: dict[str, Any]) -> list[Chart]:
    """Per judged group: how often a member scores below a member of the rest (0.5: no
    difference, drawn as a line; dots on a zoomed axis), and its mean score (the first 20
    groups)."""
    groups = [g for g in (details.get("groups") or []) if g.get("below") is not None][:20]
    if not groups:
        return []
    labels = [_group_label(g) for g in groups]
    color: Color = "bad" if details.get("findings") else "cur"
    return [
        BarChart(
            "P(member scores below the rest, same label)",
            labels,
            [Series("below the rest", [g["below"] for g in groups], color)],
            zoom=True,
            marks=[Mark("no difference (0.5)", 0.5, "muted")],
        ),
        BarChart(
            "Mean score per group",
            labels,
            [Series("mean score", [g["mean_score"] for g in groups], "ref")],
        ),
    ]
