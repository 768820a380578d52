"""Tests of the checks in pytest_mlchecks/checks/evaluation/groups.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import (
    MLCheckError,
    MLCheckUsageError,
    check_fair,
    check_groups_represented,
    check_scores_equitable,
    check_slices_perform,
)
from pytest_mlchecks._protocol import Recorder, Settings, recording

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


# ---------------------------------------------------------------------- groups_represented

SHARES = {"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05}


def _groups(n: int, shares: dict[str, float], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.array(list(shares.values()))
    return np.array(list(shares))[rng.choice(len(p), n, p=p / p.sum())]


def test_represented_passes_on_reference_draws_and_fails_on_a_halved_group() -> None:
    clean = check_groups_represented(_groups(2000, SHARES), reference=SHARES)
    assert clean.passed, clean.message
    assert clean.details["mode"] == "reference" and clean.details["n_groups"] == 4
    assert 0.8 < clean.value <= 1 and clean.threshold == 0.8
    halved = dict(SHARES, c=0.075)
    with pytest.raises(MLCheckError) as info:
        mlc.assert_groups_represented(_groups(2000, halved, 1), reference=SHARES)
    out = info.value.results[0]
    (worst,) = [g for g in out.details["groups"] if g["finding"]]
    assert worst["group"] == "c" and worst["ratio"] < 0.8
    assert worst["reference_share"] == pytest.approx(0.15)
    assert worst["n"] == int((_groups(2000, halved, 1) == "c").sum())
    message = str(info.value)
    assert "'c'" in message and "chance explains" in message and "How to fix" in message


def test_represented_against_a_reference_sample_and_absent_groups() -> None:
    reference = _groups(3000, SHARES, 5)
    assert check_groups_represented(_groups(1500, SHARES, 6), reference=reference).passed
    no_d = _groups(1500, {"a": 0.5, "b": 0.3, "c": 0.2}, 7)
    out = check_groups_represented(no_d, reference=pd.Series(reference))
    assert not out.passed and out.details["absent"] == ["d"]
    assert out.details["reference_rows"] == 3000 and "'d' absent" in out.message
    # a reference group expected at one row or so: absence is chance, not a finding
    tiny = dict(SHARES, e=0.0005)
    assert check_groups_represented(_groups(1000, SHARES, 8), reference=tiny).passed


def test_represented_over_representation_and_zero_shares() -> None:
    doubled = check_groups_represented(_groups(3000, dict(SHARES, d=0.12), 2), reference=SHARES)
    assert not doubled.passed
    assert doubled.details["groups"][0]["group"] == "d"
    assert doubled.details["groups"][0]["gap"] > 0
    one_row = np.array(["a"] * 99 + ["x"])
    out = check_groups_represented(one_row, reference={"a": 1.0, "x": 0})
    assert not out.passed and out.value == 0
    unexpected_absent = check_groups_represented(
        np.array(["a", "b"] * 50), reference={"a": 0.5, "b": 0.5, "z": 0}
    )
    assert unexpected_absent.passed and "past the ratio" not in unexpected_absent.message


def test_represented_floor_judges_with_noise() -> None:
    at_floor = np.array(["big"] * 950 + ["small"] * 50)
    out = check_groups_represented(at_floor)
    assert out.passed and out.details["mode"] == "floor" and out.value == 0.05
    just_under = np.array(["big"] * 955 + ["small"] * 45)
    assert check_groups_represented(just_under).passed  # under the floor, within noise
    far_under = np.array(["big"] * 985 + ["small"] * 15)
    failed = check_groups_represented(far_under)
    assert not failed.passed and "below the floor" in failed.message
    assert check_groups_represented(far_under, min_fraction=0.01).passed
    with recording(Recorder("t", Settings(ini={"groups_min_fraction": 0.2}))):
        assert not check_groups_represented(np.array(["a"] * 900 + ["b"] * 100)).passed
        assert check_groups_represented(at_floor, min_fraction=0.01).passed


def test_represented_ratio_override() -> None:
    drawn = _groups(5000, dict(SHARES, c=0.12), 3)  # ratio ~0.8
    assert check_groups_represented(drawn, reference=SHARES, min_ratio=0.5).passed
    with recording(Recorder("t", Settings(ini={"groups_min_ratio": 0.95}))):
        assert not check_groups_represented(drawn, reference=SHARES).passed


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"reference": {"a": 0.5}}, r"does not list: \['b'\]"),
        ({"reference": {"a": -1, "b": 1}}, "reference share of 'a'"),
        ({"reference": {"a": float("nan"), "b": 1}}, "reference share of 'a'"),
        ({"reference": {"a": 0, "b": 0}}, "sum to 0"),
        ({"reference": {"a": "half", "b": 0.5}}, "reference share of 'a'"),
        ({"reference": {1: 0.5, "1": 0.5, "a": 0, "b": 0}}, "twice"),
        ({"reference": [None, "a"]}, "reference"),
        ({"min_ratio": 0}, "min_ratio"),
        ({"min_ratio": 1.5}, "min_ratio"),
        ({"min_fraction": float("nan")}, "min_fraction"),
    ],
)
def test_represented_usage_errors_name_the_argument(kwargs: dict, match: str) -> None:
    with pytest.raises(MLCheckUsageError, match=match):
        check_groups_represented(np.array(["a", "b"] * 20), **kwargs)


def test_represented_single_group_and_bad_sensitive() -> None:
    with pytest.raises(MLCheckUsageError, match="single group"):
        check_groups_represented(np.array(["a"] * 10))
    assert check_groups_represented(np.array(["a"] * 10), reference={"a": 1}).passed
    with pytest.raises(MLCheckUsageError, match="sensitive"):
        check_groups_represented(np.array([["a", "b"], ["a", "b"]]))


def test_represented_leaves_its_inputs_alone_and_is_deterministic() -> None:
    sensitive = pd.Series(_groups(500, SHARES, 4))
    reference = dict(SHARES)
    before = sensitive.copy()
    first = check_groups_represented(sensitive, reference=reference)
    assert first.to_dict() == check_groups_represented(sensitive, reference=reference).to_dict()
    assert sensitive.equals(before) and reference == SHARES


def test_represented_chart_shows_shares_against_the_reference() -> None:
    from pytest_mlchecks._charts import chart_for

    build = chart_for("groups_represented")
    assert build is not None
    out = check_groups_represented(_groups(800, SHARES, 9), reference=SHARES)
    (drawn,) = build(out.to_dict()["details"])
    assert [label.split(" (n=")[0] for label in sorted(drawn.labels)] == ["a", "b", "c", "d"]
    assert [s.name for s in drawn.series] == ["reference share", "share of rows"]
    assert "<svg" in drawn.svg() and build({}) == []
    floor = build(check_groups_represented(np.array(["a"] * 90 + ["b"] * 10)).to_dict()["details"])
    assert floor[0].series[1].values == [pytest.approx(0.05)] * 2


# ---------------------------------------------------------------------- scores_equitable


def _scores(
    n: int, seed: int, shift: float = 0.0, base: tuple[float, float] = (0.3, 0.3)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["f", "m"], n, p=[0.4, 0.6])
    y = (rng.random(n) < np.where(group == "f", base[0], base[1])).astype(int)
    score = 1 / (1 + np.exp(-(1.5 * y + rng.normal(0, 1, n) - shift * (group == "f"))))
    return score, group, y


def test_scores_pass_when_equal_and_fail_when_one_group_is_scored_lower() -> None:
    score, group, y = _scores(3000, 0)
    clean = check_scores_equitable(score, group, y)
    assert clean.passed, clean.message
    assert clean.value < 0.05 and clean.threshold == 0.05 and clean.details["labels"] == 2
    lowered, group, y = _scores(3000, 0, shift=0.5)
    with pytest.raises(MLCheckError) as info:
        mlc.assert_scores_equitable(lowered, group, y)
    out = info.value.results[0]
    findings = [g for g in out.details["groups"] if g["finding"]]
    assert [g["group"] for g in findings] == ["f"]  # two groups: only the lower one is named
    assert findings[0]["below"] > 0.55 and out.value > 0.05
    assert "'f'" in str(info.value) and "same-label pairs" in str(info.value)


def test_scores_lower_base_rate_is_judged_within_the_label() -> None:
    score, group, y = _scores(3000, 1, base=(0.15, 0.45))
    assert check_scores_equitable(score, group, y).passed
    blind = check_scores_equitable(score, group)
    assert not blind.passed and "pass y_true" in blind.message
    assert blind.details["within_label"] is False and blind.details["labels"] == 1


def test_scores_figure_is_scale_free_and_the_limit_can_move() -> None:
    score, group, y = _scores(2000, 2, shift=0.3)
    first = check_scores_equitable(score, group, y, max_gap=0.5)
    rescaled = check_scores_equitable(np.log(score / (1 - score)) * 7 + 3, group, y, max_gap=0.5)
    assert first.passed and first.value == pytest.approx(rescaled.value)
    with recording(Recorder("t", Settings(ini={"scores_max_gap": 0.01}))):
        assert not check_scores_equitable(score, group, y).passed
        assert check_scores_equitable(score, group, y, max_gap=0.4).passed


def test_scores_noise_keeps_small_groups_quiet() -> None:
    alarms = 0
    for seed in range(40):
        score, group, y = _scores(200, 10 + seed)
        alarms += not check_scores_equitable(score, group, y).passed
    assert alarms == 0


def test_scores_small_groups_are_listed_not_judged() -> None:
    score, group, y = _scores(400, 3)
    group = group.copy()
    group[:5] = "x"
    out = check_scores_equitable(score, group, y)
    assert out.details["too_small"] == ["x"]
    few = check_scores_equitable(score[:40], group[:40], y[:40])
    assert not few.passed and few.severity == "warning" and few.value is None


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.array(["a", "b"] * 20), np.array(["f", "m"] * 20)), {}, "y_score holds"),
        ((np.array([np.inf, 1.0] * 20), np.array(["f", "m"] * 20)), {}, "infinite"),
        ((np.ones((40, 2)), np.array(["f", "m"] * 20)), {}, "y_score"),
        ((np.ones(40), np.array(["f", "m"] * 10)), {}, "sensitive"),
        ((np.ones(40), np.array(["f", "m"] * 20), np.linspace(0, 1, 40)), {}, "non-integer"),
        ((np.ones(40), np.array(["f", "m"] * 20), np.ones(10)), {}, "y_true has 10 rows"),
        ((np.ones(40), np.array(["f", "m"] * 20)), {"max_gap": 0.7}, "max_gap"),
        ((np.ones(40), np.array(["f", "m"] * 20)), {"min_group_size": 0}, "min_group_size"),
    ],
)
def test_scores_usage_errors_name_the_argument(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(MLCheckUsageError, match=match):
        check_scores_equitable(*args, **kwargs)


def test_scores_leave_inputs_alone_and_chart_renders() -> None:
    from pytest_mlchecks._charts import chart_for

    score, group, y = _scores(1000, 4, shift=0.6)
    frame = pd.DataFrame({"score": score, "group": group, "y": y})
    before = frame.copy()
    out = check_scores_equitable(frame["score"], frame["group"], frame["y"])
    assert frame.equals(before)
    assert out.to_dict() == check_scores_equitable(score, group, y).to_dict()
    build = chart_for("scores_equitable")
    assert build is not None
    charts = build(out.to_dict()["details"])
    assert len(charts) == 2 and [g[:2] for g in sorted(charts[0].labels)] == ["f ", "m "]
    assert charts[0].zoom and charts[0].marks[0].value == 0.5
    assert "<svg" in charts[0].svg() and build({}) == []
