"""What sampling alone explains: the chance allowances of the production checks.

Every tolerance of the production rung is tied to the reference's sample size, so that a fresh
sample from the reference's own distribution passes at any n. These functions give those
allowances; ``schema_matches``, ``in_distribution`` and the schema strategies share them.
"""

from __future__ import annotations

import math

from pytest_mlchecks._stats import chi2_isf

Z_NOISE = 4.0  # one-sided z for "larger than sampling noise" (about 3e-5 per comparison)
CHANCE_LEVEL = 1e-4  # how rarely the chance allowance for out-of-range values is exceeded


def chance_rate(sides: int, n: int) -> float:
    """Rate at which fresh draws land beyond a sample's extremes, at the 1 - CHANCE_LEVEL bound.

    For a continuous feature, the probability mass beyond the maximum of n draws is
    Beta(1, n) ~ Exp(1) / n whatever the distribution; summed over ``sides`` extremes it is
    Gamma(sides) / n, whose upper quantile is chi2(2 * sides) / 2.
    """
    return chi2_isf(CHANCE_LEVEL, 2 * sides) / 2.0 / (n + 1)


def count_allowance(m: int, rate: float) -> float:
    """Largest count of events that sampling alone explains in m draws at ``rate``."""
    expected = m * rate
    return expected + Z_NOISE * math.sqrt(expected) + 2.0


def poisson_allowance(expected: float, level: float = CHANCE_LEVEL) -> int:
    """Largest count that a Poisson(``expected``) count exceeds with probability <= ``level``
    (0 when nothing is expected: then a single event is beyond chance)."""
    if expected <= 0:
        return 0
    if expected > 100:  # normal approximation, with a continuity margin
        return math.ceil(expected + Z_NOISE * math.sqrt(expected) + 1)
    pmf = cdf = math.exp(-expected)
    k = 0
    while 1.0 - cdf > level:
        k += 1
        pmf *= expected / k
        cdf += pmf
    return k


def good_turing_allowance(singles: int, rare: int, n0: int, m: int) -> int:
    """Values in unseen categories that chance explains in ``m`` new rows, for a reference of
    ``n0`` rows with ``singles`` categories seen once and ``rare`` seen 2 to 5 times.

    Good-Turing puts the unseen share at singles / n0; its uncertainty is taken as
    ``Z_NOISE`` * sqrt(singles + rare) / n0: categories seen a few times show that the
    domain has rare members, some of which a sample of this size misses by chance (a
    heuristic widening; Good-Turing's own variance, ~(f1 + 2 f2) / n^2, is blind to levels
    seen 3-5 times). The count allowance is the Poisson quantile at ``CHANCE_LEVEL``.
    """
    rate = min(1.0, (singles + Z_NOISE * math.sqrt(singles + rare)) / max(n0, 1))
    return poisson_allowance(m * rate)
