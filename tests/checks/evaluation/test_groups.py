"""Tests of the checks in pytest_mlchecks/checks/evaluation/groups.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import (
    MLCheckUsageError,
    check_fair,
    check_slices_perform,
)

from ...conftest import needs_sklearn


@needs_sklearn
def test_fair_predictor_passes_and_biased_one_fails() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    group = rng.choice(["a", "b"], n)
    y = (rng.random(n) < 0.4).astype(int)
    fair_pred = np.where(rng.random(n) < 0.85, y, 1 - y)
    fair = check_fair(y, fair_pred, group)
    assert fair.passed, fair.message
    biased_pred = np.where(group == "b", fair_pred * (rng.random(n) < 0.5), fair_pred)
    biased = check_fair(y, biased_pred, group)
    assert not biased.passed
    assert biased.value < 0.8 and "four-fifths" in biased.message
    assert {g["group"] for g in biased.details["groups"]} == {"a", "b"}


@needs_sklearn
def test_fair_small_groups_warn_instead_of_dividing_by_zero() -> None:
    y = np.array([1, 0] * 50 + [1, 0])
    pred = y.copy()
    group = np.array(["big"] * 100 + ["tiny"] * 2)
    result = check_fair(y, pred, group)
    assert not result.passed and result.severity == "warning"
    assert result.details["too_small"] == ["tiny"]
    with pytest.raises(MLCheckUsageError, match="holds scores"):
        check_fair(y, np.linspace(0, 1, len(y)), group)


@needs_sklearn
def test_fair_with_named_labels_needs_the_favourable_one() -> None:
    """String labels used to be compared with pos_label=1, matched nothing and passed."""
    rng = np.random.default_rng(1)
    n = 4000
    group = rng.choice(["F", "M"], n)
    y = np.where(rng.random(n) < 0.4, "approved", "denied")
    pred = np.where((group == "F") & (rng.random(n) < 0.6), "denied", y)
    with pytest.raises(MLCheckUsageError, match=r"pass pos_label= the positive"):
        check_fair(y, pred, group)
    with pytest.raises(MLCheckUsageError, match=r"pos_label 'yes' never occurs"):
        check_fair(y, pred, group, pos_label="yes")
    biased = check_fair(y, pred, group, pos_label="approved")
    assert not biased.passed and biased.value < 0.8
    assert check_fair(y, y, group, pos_label="approved").passed
    as_bool = check_fair(y == "approved", pred == "approved", group)
    assert as_bool.value == pytest.approx(biased.value)


@needs_sklearn
def test_slices_with_named_labels_score_the_named_positive_class() -> None:
    """f1 on string labels used to compare them with 1, score 0 everywhere and pass."""
    rng = np.random.default_rng(2)
    n = 3000
    region = rng.choice(["north", "south"], n)
    y = np.where(rng.random(n) < 0.4, "fraud", "ok")
    pred = np.where(rng.random(n) < 0.9, y, np.where(y == "fraud", "ok", "fraud"))
    pred = np.where((region == "south") & (y == "fraud") & (rng.random(n) < 0.5), "ok", pred)
    with pytest.raises(MLCheckUsageError, match="pos_label"):
        check_slices_perform(y, pred, region, metric="f1")
    result = check_slices_perform(y, pred, region, metric="recall", pos_label="fraud")
    assert not result.passed and result.details["slices"][0]["slice"] == "south"
    assert check_slices_perform(y, pred, region, metric="accuracy").details["overall"] > 0.7
    with pytest.raises(MLCheckUsageError, match="needs numeric"):
        check_slices_perform(y, pred, region, metric="mae")


@needs_sklearn
def test_slices_report_the_weakest_with_sizes() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    region = rng.choice(["north", "south", "east"], n)
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.9, y, 1 - y)
    ok = check_slices_perform(y, pred, region, metric="accuracy")
    assert ok.passed
    worse = np.where((region == "east") & (rng.random(n) < 0.4), 1 - y, pred)
    result = check_slices_perform(y, worse, pd.DataFrame({"region": region}), metric="accuracy")
    assert not result.passed
    assert result.details["slices"][0]["slice"] == "region=east"
    assert result.details["slices"][0]["size"] == int((region == "east").sum())
    err = check_slices_perform(
        y.astype(float), worse.astype(float), {"east": region == "east"}, metric="mae"
    )
    assert err.details["slices"][0]["shortfall"] > 0


def _clean(n: int, k: int, seed: int, base: float = 0.4) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < base).astype(int)
    pred = np.where(rng.random(n) < 0.85, y, 1 - y)
    groups = rng.integers(0, k, n).astype(str)
    return y, pred, groups, rng.random(n)


def test_fair_random_groups_pass_at_1000_rows() -> None:
    """Random groups used to fail 84 of 100 labelings: now noise explains the gaps."""
    alarms = sum(not check_fair(*_clean(1000, 4, s)[:3]).passed for s in range(60))
    assert alarms == 0


def test_fair_half_selection_rate_fails_beyond_noise() -> None:
    detected = 0
    for seed in range(20):
        y, pred, groups, u = _clean(1000, 4, seed)
        biased = np.where(groups == "0", pred * (u < 0.5), pred)
        result = check_fair(y, biased, groups)
        detected += not result.passed
        if not result.passed:
            assert "chance explains up to" in result.message
            findings = result.details["findings"].values()
            assert sum(f["beyond_noise"] for f in findings) >= 1
    assert detected >= 19


def test_fair_effect_within_noise_passes_with_a_note() -> None:
    """An effect past the limit on tiny groups is reported as not a finding."""
    y = np.array([1, 0] * 40)
    groups = np.array(["a"] * 40 + ["b"] * 40)
    pred = np.zeros(80, dtype=int)
    pred[:10] = 1  # a: 25% selected
    pred[40:47] = 1  # b: 17.5% selected -> DI 0.7
    result = check_fair(y, pred, groups)
    assert result.passed, result.message
    assert result.value < 0.8
    assert "within noise" in result.message and "more rows" in result.message


def test_fair_tpr_gap_counts_positives_not_rows() -> None:
    """The same TPR gap is noise over 40 positives per group and a finding over 4,000."""

    def build(n_pos: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = 50 * n_pos
        groups = np.repeat(["a", "b"], n // 2)
        y = np.zeros(n, dtype=int)
        y[: n_pos // 2] = 1
        y[n // 2 : n // 2 + n_pos // 2] = 1
        pred = y.copy()
        missed = np.flatnonzero((groups == "b") & (y == 1))[: int(0.15 * (n_pos // 2))]
        pred[missed] = 0
        return y, pred, groups

    small = check_fair(*build(80))
    large = check_fair(*build(8000))
    assert small.passed, small.message
    assert not large.passed and "TPR gap" in large.message
    assert "positives" in large.message  # the noise bar is over positives, not rows


@pytest.mark.parametrize("metric", ["accuracy", "recall"])
def test_slices_small_random_slices_pass_and_a_weak_one_fails(metric: str) -> None:
    """5 random slices of 40 rows used to fail 11 of 100 clean labelings (accuracy)."""
    alarms = 0
    for seed in range(40):
        y, pred, groups, _ = _clean(200, 5, seed, base=0.3)
        alarms += not check_slices_perform(y, pred, groups, metric=metric).passed
    assert alarms == 0
    y, pred, groups, u = _clean(4000, 4, 0, base=0.4)
    worse = np.where((groups == "0") & (u < 0.4), 1 - y, pred)
    result = check_slices_perform(y, worse, groups, metric=metric)
    assert not result.passed and result.details["slices"][0]["slice"] == "0"
    assert "sampling noise" in result.message


def test_slices_noise_is_seeded() -> None:
    y, pred, groups, _ = _clean(600, 6, 1)
    first = check_slices_perform(y, pred, groups, metric="f1")
    again = check_slices_perform(y, pred, groups, metric="f1")
    assert first.details == again.details


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_disparate_impact": float("nan")}, "min_disparate_impact"),
        ({"min_disparate_impact": -1}, "min_disparate_impact"),
        ({"min_disparate_impact": 5}, r"ml_fair_min_di\) must be in \(0, 1\]"),
        ({"max_tpr_gap": 2.0}, "max_tpr_gap"),
        ({"max_fpr_gap": float("nan")}, "max_fpr_gap"),
        ({"min_group_size": 0}, "min_group_size"),
    ],
)
def test_fair_thresholds_are_validated(kwargs: dict, match: str) -> None:
    from pytest_mlchecks import MLCheckUsageError

    y, pred, groups, _ = _clean(400, 2, 0)
    with pytest.raises(MLCheckUsageError, match=match):
        check_fair(y, pred, groups, **kwargs)


def test_slices_thresholds_are_validated() -> None:
    from pytest_mlchecks import MLCheckUsageError

    y, pred, groups, _ = _clean(400, 2, 0)
    with pytest.raises(MLCheckUsageError, match="max_gap"):
        check_slices_perform(y, pred, groups, metric="accuracy", max_gap=float("nan"))
    with pytest.raises(MLCheckUsageError, match="min_size"):
        check_slices_perform(y, pred, groups, metric="accuracy", min_size=-3)


def test_slices_that_noise_cannot_judge_are_not_a_pass() -> None:
    """Recall over slices that rarely hold a positive: no verdict, not a silent pass."""
    from pytest_mlchecks import MLCheckUsageError

    y = np.zeros(200, dtype=int)
    y[[3, 150]] = 1
    pred = y.copy()
    slices = np.repeat(["a", "b", "c", "d", "e"], 40)
    with pytest.raises(MLCheckUsageError, match="undefined on most random slices"):
        check_slices_perform(y, pred, slices, metric="recall")


def test_a_single_slice_of_every_row_is_not_a_pass() -> None:
    from pytest_mlchecks import MLCheckUsageError

    y, pred, _, _ = _clean(300, 2, 0)
    with pytest.raises(MLCheckUsageError, match="single slice holding every row"):
        check_slices_perform(y, pred, np.array(["all"] * 300), metric="accuracy")
