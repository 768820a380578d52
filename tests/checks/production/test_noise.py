"""production/noise.py: the chance allowances behind schema_matches and in_distribution,
checked against simulation so the bounds are bounds, not guesses."""

from __future__ import annotations

import math

import numpy as np

from pytest_mlchecks.checks.production.noise import (
    CHANCE_LEVEL,
    chance_rate,
    closed_domain_allowance,
    count_allowance,
    good_turing_allowance,
    poisson_allowance,
)


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def test_chance_rate_bounds_draws_beyond_a_samples_extremes() -> None:
    rng = np.random.default_rng(0)
    for n in (50, 500, 5000):
        bound = chance_rate(2, n)
        assert chance_rate(1, n) < bound < 1
        # the probability mass beyond a normal sample's min and max (what a fresh draw hits)
        # stays under the bound in all but a handful of 500 reference samples (level 1e-4)
        over = 0
        for _ in range(500):
            ref = rng.normal(size=n)
            mass = _phi(ref.min()) + 1 - _phi(ref.max())
            over += mass > bound
        assert over <= 2, (n, over)  # expected 500 x 1e-4 = 0.05 per size; seeded
    assert chance_rate(2, 5000) < chance_rate(2, 500) < chance_rate(2, 50)


def test_poisson_allowance_is_a_tail_bound() -> None:
    assert poisson_allowance(0.0) == 0
    for expected in (0.5, 3.0, 40.0):
        k = poisson_allowance(expected)
        tail = 1 - sum(math.exp(-expected) * expected**i / math.factorial(i) for i in range(k + 1))
        assert tail <= CHANCE_LEVEL * 1.0001
        assert k >= expected
    assert poisson_allowance(3.0) <= poisson_allowance(40.0)


def test_count_allowance_grows_with_the_expected_count() -> None:
    assert count_allowance(0, 0.1) == 2.0
    assert count_allowance(1000, 0.01) > 1000 * 0.01
    assert count_allowance(10_000, 0.01) > count_allowance(1000, 0.01)


def test_good_turing_allowance_is_zero_without_rare_categories_and_grows_with_them() -> None:
    assert good_turing_allowance(0, 0, 10_000, 1000) == 0
    few = good_turing_allowance(5, 10, 10_000, 1000)
    many = good_turing_allowance(500, 100, 10_000, 1000)
    assert 0 <= few <= many


def test_a_domain_without_rare_levels_is_as_closed_as_its_rarest_level_is_common() -> None:
    """1 / min_count extrapolated singletons: a batch as large as the reference may bring a
    new level when the rarest level was seen 7 times, not when it was seen 1,000+ times."""
    assert closed_domain_allowance(4, 1250, 5000, 5000) == 0  # one new value: a fault
    assert closed_domain_allowance(2, 5000, 20_000, 20_000) == 0
    assert closed_domain_allowance(7, 111, 7700, 7700) == 1
    assert closed_domain_allowance(5, 7, 250, 250) == 2
    # a smaller batch explains less; a reference of one level says nothing about the rest
    assert closed_domain_allowance(5, 7, 250, 25) <= closed_domain_allowance(5, 7, 250, 250)
    assert closed_domain_allowance(1, 10_000, 10_000, 10_000) == closed_domain_allowance(
        2, 6, 10_000, 10_000
    )
    # the same figures through good_turing_allowance; without them (old schemas): closed
    assert good_turing_allowance(0, 0, 250, 250, levels=5, min_count=7) == 2
    assert good_turing_allowance(0, 0, 250, 250) == 0
    # rare levels keep the Good-Turing rule whatever the rarest count says
    assert good_turing_allowance(3, 2, 250, 250, levels=9, min_count=1) == good_turing_allowance(
        3, 2, 250, 250
    )
