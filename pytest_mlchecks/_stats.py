"""Small statistics without scipy: normal and chi-square tails and quantile, ranks, rank AUC
and its standard error.

Standard library only at import; ``rank_auc`` imports numpy when called.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def normal_sf(z: float) -> float:
    """Upper tail of the standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def chi2_sf(x: float, dof: int) -> float:
    """Upper tail of the chi-square distribution (regularised upper incomplete gamma)."""
    if x <= 0:
        return 1.0
    a, half = dof / 2.0, x / 2.0
    log_front = -half + a * math.log(half) - math.lgamma(a)
    if half < a + 1:  # series for the lower tail
        term = total = 1.0 / a
        k = a
        for _ in range(10_000):
            k += 1
            term *= half / k
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    # continued fraction for the upper tail (modified Lentz)
    tiny = 1e-300
    b = half + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_front) * h)


def chi2_isf(p: float, dof: int) -> float:
    """The x with chi2_sf(x, dof) == p (bisection; p in (0, 1))."""
    lo, hi = 0.0, max(1.0, float(dof))
    while chi2_sf(hi, dof) > p:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if chi2_sf(mid, dof) > p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-10 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


def ks_critical(alpha: float, n: int, m: int) -> float:
    """Asymptotic critical value of the two-sample KS statistic at level ``alpha``."""
    c = math.sqrt(-0.5 * math.log(alpha / 2.0))
    return c * math.sqrt((n + m) / (n * m))


def average_ranks(values: np.ndarray) -> tuple[np.ndarray, float]:
    """1-based ranks of ``values`` (ties share their average rank) and the tie term
    sum(t^3 - t) over tied blocks of size t (the Mann-Whitney variance correction)."""
    import numpy as np

    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    avg_rank = upper - (counts - 1) / 2.0  # 1-based average rank of each distinct value
    c = counts.astype(float)
    return avg_rank[inverse], float(np.sum(c**3 - c))


def rank_auc(values: np.ndarray, positive: np.ndarray) -> float:
    """ROC-AUC of raw scores (Mann-Whitney U with average ranks for ties); NaN when one class
    is absent."""
    import numpy as np

    n_pos = int(np.count_nonzero(positive))
    n_neg = len(values) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks, _ = average_ranks(values)
    rank_sum = float(ranks[positive].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def auc_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of a ROC-AUC (Hanley & McNeil, 1982), at an AUC no closer to 1 than
    half a pair in the smaller class (a perfect score on a few rows is not certain)."""
    if n_pos == 0 or n_neg == 0:
        return 0.0
    auc = min(auc, 1.0 - 0.5 / min(n_pos, n_neg))
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    var = (auc * (1.0 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (
        n_pos * n_neg
    )
    return math.sqrt(max(var, 0.0))
