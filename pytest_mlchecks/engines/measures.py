"""Distribution figures of two native frames, computed in their engine from bin counts.

Only counts cross from the engine to Python. What is exact and what is bounded:

- bin counts for given edges, missing counts, category counts: exact;
- PSI on reference quantile edges: exact for the edges used; the edges themselves are quantiles
  to within half a bin of a ``bins``-bin range histogram (the bound is returned);
- KS: an interval that always holds the exact two-sample statistic, from both frames' counts
  on one common grid of ``bins`` equal bins (the finer the grid, the narrower the interval).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_mlchecks.engines._frame import NativeFrame


@dataclass(frozen=True)
class KSInterval:
    """Bounds on the two-sample Kolmogorov-Smirnov statistic: ``low <= KS <= high``."""

    low: float
    high: float
    bins: int

    @property
    def width(self) -> float:
        return self.high - self.low


def _cdf(counts: Sequence[int], below: int = 0, above: int = 0) -> list[float]:
    """The CDF at each bin's end, with ``below`` values before the first bin (-Inf) and
    ``above`` after the last (+Inf) counted in the total."""
    total = sum(counts) + below + above
    out: list[float] = []
    seen = below
    for n in counts:
        seen += n
        out.append(seen / total if total else 0.0)
    return out


def ks_interval(
    reference: NativeFrame, current: NativeFrame, column: str, *, bins: int = 1000
) -> KSInterval:
    """Bounds on KS between the values of ``column`` in both frames (missing ones left out,
    as the pandas path leaves out NaN; +-Inf counted at the ends).

    Both empirical CDFs are known exactly at the common bin edges, so the largest gap there is
    a lower bound. Inside a bin each CDF moves only between its values at the bin's two ends,
    so the gap anywhere in the bin is at most the larger of the two cross differences: an
    upper bound. In a bin whose values (both frames) are all one value, both CDFs step there
    together and the gap inside is the one at an end: the interval is exact on discrete
    columns.
    """
    ref_range = reference.min_max([column], finite=True)[column]
    cur_range = current.min_max([column], finite=True)[column]
    ends = [float(v) for v in (*ref_range, *cur_range) if v is not None]
    if len(ends) < 4:
        return KSInterval(math.nan, math.nan, bins)  # one side has no finite value
    lo, hi = min(ends), max(ends)
    if hi == lo:
        return KSInterval(0.0, 0.0, 1)
    width = (hi - lo) / bins
    counts_a, lows_a, highs_a = reference.binned_extent(column, lo, width, bins)
    counts_b, lows_b, highs_b = current.binned_extent(column, lo, width, bins)
    # -Inf and +Inf are values too (as for the pandas path, which leaves out NaN only)
    infs = [f.missing_counts([column])[column] for f in (reference, current)]
    a = _cdf(counts_a, infs[0]["neginf"], infs[0]["posinf"])
    b = _cdf(counts_b, infs[1]["neginf"], infs[1]["posinf"])
    total_a = sum(counts_a) + infs[0]["neginf"] + infs[0]["posinf"]
    total_b = sum(counts_b) + infs[1]["neginf"] + infs[1]["posinf"]
    prev_a, prev_b = infs[0]["neginf"] / total_a, infs[1]["neginf"] / total_b
    low = abs(prev_a - prev_b)  # the gap just above -Inf
    high = low
    for i, (fa, fb) in enumerate(zip(a, b, strict=True)):
        low = max(low, abs(fa - fb))
        # a bin whose values (both frames) are one value v: both CDFs step there together,
        # so inside it the gap is the one at its start or at its end (discrete columns)
        values = {v for v in (lows_a[i], highs_a[i], lows_b[i], highs_b[i]) if v == v}
        if len(values) > 1:
            # within the bin, F_a ranges over [prev_a, fa] and F_b over [prev_b, fb]
            high = max(high, fa - prev_b, fb - prev_a)
        prev_a, prev_b = fa, fb
    return KSInterval(low, max(high, low), bins)


def quantile_edges(
    reference: NativeFrame, column: str, bins: int, *, grid: int = 4096
) -> tuple[list[float], float]:
    """Inner edges of ``bins`` equal-frequency bins of the reference (its deciles for 10),
    deduplicated, and the bound on their error (half a bin of the ``grid``-bin range
    histogram they come from)."""
    probs = [k / bins for k in range(1, bins)]
    edges, bound = reference.quantiles(column, probs, bins=grid)
    unique = sorted({e for e in edges if not math.isnan(e)})
    return unique, bound


def psi_counts(
    reference: NativeFrame, current: NativeFrame, column: str, edges: Sequence[float]
) -> tuple[list[int], list[int]]:
    """Counts per bin for both frames on the same edges, with missing values in a last bin of
    their own (a column that starts to go missing is drift too)."""
    ref_bins, ref_missing = reference.histogram(column, edges)
    cur_bins, cur_missing = current.histogram(column, edges)
    return [*ref_bins, ref_missing], [*cur_bins, cur_missing]


def category_counts(
    reference: NativeFrame, current: NativeFrame, column: str
) -> tuple[list[int], list[int], int]:
    """Counts per category for both frames on the union of categories (missing as its own
    category), and how many categories only the current frame has."""
    ref = reference.value_counts(column)
    cur = current.value_counts(column)
    keys = list(ref) + [k for k in cur if k not in ref]
    new = sum(1 for k in cur if k not in ref)
    return [ref.get(k, 0) for k in keys], [cur.get(k, 0) for k in keys], new
