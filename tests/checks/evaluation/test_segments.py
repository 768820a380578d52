"""no_weak_segments: finds a weak feature range or pair cell by itself, quiet when the errors
are spread uniformly; thresholds, usage errors, determinism, chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckError, MLCheckUsageError
from pytest_mlchecks._protocol import Recorder, Settings, recording
from pytest_mlchecks.calibration.segments import (
    binary_case,
    make_table,
    regression_case,
    scored_case,
)


def test_a_weak_feature_range_fails_and_is_named_with_its_bin() -> None:
    y, pred, X = binary_case(5000, 3, "single", 0.4)
    with pytest.raises(MLCheckError) as info:
        mlc.assert_no_weak_segments(y, pred, X, metric="accuracy")
    d = info.value.results[0].details
    worst = d["segments"][0]
    assert worst["confirmed"] and worst["features"] == ["x0"]
    assert worst["segment"].startswith("x0 ") and worst["held_out_gap"] > 0.15
    assert worst["held_out_gap"] > worst["noise"] and d["candidates"] <= 10
    message = str(info.value)
    assert "confirmed on 2,500 held-out rows" in message and "How to fix" in message
    assert "held-out gap" in message  # the table of candidates


def test_a_weak_pair_cell_fails_and_names_both_features() -> None:
    y, pred, X = binary_case(20000, 1, "pair", 0.4)
    outcome = mlc.check_no_weak_segments(y, pred, X, metric="accuracy")
    assert not outcome.passed
    confirmed = [s for s in outcome.details["segments"] if s["confirmed"]]
    assert any(sorted(s["features"]) == ["plan", "x1"] for s in confirmed)
    assert any("plan == 'basic'" in s["segment"] for s in confirmed)


def test_uniform_errors_pass_for_labels_and_regression() -> None:
    for seed in range(3):
        y, pred, X = binary_case(5000, seed, None, 0.0)
        outcome = mlc.assert_no_weak_segments(y, pred, X, metric="accuracy")
        assert outcome.details["slices_searched"] > 100
        assert outcome.details["pairs_searched"] == 15
        y, pred, X = regression_case(5000, seed, None, 1.0)
        regression = mlc.assert_no_weak_segments(y, pred, X, metric="mae")
        assert regression.details["gap_kind"] == "relative"


def test_regression_error_metrics_judge_a_relative_gap() -> None:
    y, pred, X = regression_case(5000, 0, "single", 2.0)
    outcome = mlc.check_no_weak_segments(y, pred, X, metric="mae")
    assert not outcome.passed
    assert outcome.details["segments"][0]["held_out_gap"] > 0.25  # up to 100% more error
    assert "more error" in outcome.message


def test_multiclass_f1_with_pos_label_and_a_metric_function() -> None:
    rng = np.random.default_rng(0)
    X = make_table(4000, 0)
    y = rng.choice(["a", "b", "c"], 4000)
    pred = np.where(rng.random(4000) < 0.2, rng.choice(["a", "b", "c"], 4000), y)
    weak = (X["plan"] == "pro").to_numpy() & (rng.random(4000) < 0.5)
    pred = np.where(weak, "a", pred)
    assert not mlc.check_no_weak_segments(y, pred, X, metric="accuracy").passed
    assert not mlc.check_no_weak_segments(y, pred, X, metric="f1", pos_label="b").passed
    with pytest.raises(MLCheckUsageError, match="pos_label"):
        mlc.check_no_weak_segments(y, pred, X, metric="f1")

    def agreement(t: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(t == p))

    custom = mlc.check_no_weak_segments(y, pred, X, metric=agreement)
    assert not custom.passed and custom.details["metric"] == "agreement"


def test_max_gap_and_min_size_by_argument_and_ini() -> None:
    y, pred, X = binary_case(5000, 3, "single", 0.4)
    assert mlc.check_no_weak_segments(y, pred, X, metric="accuracy", max_gap=0.5).passed
    outcome = mlc.check_no_weak_segments(y, pred, X, metric="accuracy", min_size=200)
    assert outcome.details["min_size"] == 200
    assert all(s["size"] >= 200 for s in outcome.details["segments"])
    settings = Settings(ini={"weak_segments_max_gap": 0.5, "weak_segments_min_size": 100})
    with recording(Recorder("ini", settings)):
        quiet = mlc.check_no_weak_segments(y, pred, X, metric="accuracy")
    assert quiet.passed and quiet.threshold == 0.5 and quiet.details["min_size"] == 100


def test_usage_errors_name_the_argument() -> None:
    y, pred, X = binary_case(1000, 0, None, 0.0)
    with pytest.raises(MLCheckUsageError, match="max_gap"):
        mlc.check_no_weak_segments(y, pred, X, metric="accuracy", max_gap=-1.0)
    with pytest.raises(MLCheckUsageError, match="min_size"):
        mlc.check_no_weak_segments(y, pred, X, metric="accuracy", min_size=1)
    with pytest.raises(MLCheckUsageError, match="min_size"):
        mlc.check_no_weak_segments(y, pred, X, metric="accuracy", min_size=10.5)  # type: ignore[arg-type]
    with pytest.raises(MLCheckUsageError, match="too few to search"):
        mlc.check_no_weak_segments(y[:150], pred[:150], X.iloc[:150], metric="accuracy")
    with pytest.raises(MLCheckUsageError, match="X"):
        mlc.check_no_weak_segments(y, pred, X.iloc[:10], metric="accuracy")
    with pytest.raises(MLCheckUsageError, match="y_pred"):
        mlc.check_no_weak_segments(y, pred[:10], X, metric="accuracy")
    with pytest.raises(MLCheckUsageError, match="metric"):
        mlc.check_no_weak_segments(y, pred, X, metric="nope")
    with pytest.raises(MLCheckUsageError, match="numeric"):
        mlc.check_no_weak_segments(y.astype(str), pred.astype(str), X, metric="mae")
    with pytest.raises(MLCheckUsageError, match="no column of X"):
        mlc.check_no_weak_segments(y, pred, pd.DataFrame({"c": np.ones(1000)}), metric="accuracy")
    with pytest.raises((TypeError, MLCheckUsageError), match="metric"):
        mlc.check_no_weak_segments(y, pred, X)  # type: ignore[call-arg]


def test_same_seed_same_verdict_and_nothing_mutated() -> None:
    y, pred, X = binary_case(3000, 5, "single", 0.3)
    before_X, before_pred = X.copy(), pred.copy()
    first = mlc.check_no_weak_segments(y, pred, X, metric="accuracy", random_state=4)
    second = mlc.check_no_weak_segments(y, pred, X, metric="accuracy", random_state=4)
    assert first.to_dict() == second.to_dict()
    pd.testing.assert_frame_equal(X, before_X)
    assert np.array_equal(pred, before_pred)
    default = mlc.check_no_weak_segments(y, pred, X.to_numpy(), metric="accuracy")
    assert (
        default.to_dict()
        == mlc.check_no_weak_segments(y, pred, X.to_numpy(), metric="accuracy").to_dict()
    )


def test_many_level_categories_are_hashed_unless_values_may_be_shown() -> None:
    rng = np.random.default_rng(0)
    n = 6000
    X = pd.DataFrame({"city": rng.choice([f"city-{k}" for k in range(40)], n)})
    y = rng.integers(0, 2, n)
    weak = (X["city"] == "city-7").to_numpy()
    pred = np.where(weak & (rng.random(n) < 0.6), 1 - y, y)
    hidden = mlc.check_no_weak_segments(y, pred, X, metric="accuracy")
    assert not hidden.passed and "city-7" not in hidden.message
    assert hidden.details["segments"][0]["segment"].startswith("city == #")
    with recording(Recorder("opt-in", Settings(report_values=True))):
        shown = mlc.check_no_weak_segments(y, pred, X, metric="accuracy")
    assert shown.details["segments"][0]["segment"] == "city == 'city-7'"


def test_html_chart_shows_the_weakest_segments_next_to_overall() -> None:
    from pytest_mlchecks._charts import chart_for

    y, pred, X = binary_case(3000, 3, "single", 0.4)
    outcome = mlc.check_no_weak_segments(y, pred, X, metric="accuracy")
    build = chart_for("no_weak_segments")
    assert build is not None
    (drawn,) = build(outcome.to_dict()["details"])
    first = outcome.details["segments"][0]
    assert drawn.labels[0].endswith(f"{first['segment']} (n={first['size']:,})")
    assert drawn.series[0].values[0] == first["score"]
    assert drawn.marks[0].value == outcome.details["overall"]
    assert "<svg" in drawn.svg() and build({}) == []


def test_time_columns_read_as_timestamps_and_missing_values_are_a_segment() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    X = pd.DataFrame(
        {
            "when": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
        }
    )
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.1, 1 - y, y)
    late = np.arange(n) >= 1600
    pred = np.where(late & (rng.random(n) < 0.5), 1 - pred, pred)
    outcome = mlc.check_no_weak_segments(y, pred, X, metric="accuracy")
    assert not outcome.passed
    weakest = outcome.details["segments"][0]["segment"]
    assert weakest.startswith("when ") and "2024-03" in weakest and "+00:00" in weakest
    missing = X["score"].isna().to_numpy()
    pred = np.where(missing & (rng.random(n) < 0.6), 1 - y, y)
    found = mlc.check_no_weak_segments(y, pred, X, metric="accuracy")
    assert found.details["segments"][0]["segment"] == "score is missing"


def test_y_score_tells_a_hard_segment_from_a_broken_one() -> None:
    """Labels that are a coin flip in a range the model knows is uncertain: a weak segment by
    accuracy alone, not one the model falls short of its own expectation in."""
    y, pred, X, prob = scored_case(5000, 2, "uncertain", 0.0)
    assert not mlc.check_no_weak_segments(y, pred, X, metric="accuracy").passed
    judged = mlc.assert_no_weak_segments(y, pred, X, metric="accuracy", y_score=prob)
    assert judged.details["overall_expected"] == pytest.approx(0.815, abs=0.02)
    assert "expected accuracy" in judged.message
    # confidently wrong in a segment: still found, with the model's expectation shown
    y, pred, X, prob = scored_case(5000, 2, "single", 0.4)
    with pytest.raises(MLCheckError) as info:
        mlc.assert_no_weak_segments(y, pred, X, metric="accuracy", y_score=prob)
    worst = info.value.results[0].details["segments"][0]
    assert worst["confirmed"] and worst["features"] == ["x0"]
    assert worst["expected"] == pytest.approx(0.85, abs=0.01)
    assert "expected" in str(info.value) and "y_score=" not in str(info.value).split("Why")[0]


def test_y_score_accepts_class_matrices_and_named_classes() -> None:
    y, pred, X, prob = scored_case(4000, 4, "single", 0.4)
    matrix = np.column_stack([1 - prob, prob])
    as_vector = mlc.check_no_weak_segments(y, pred, X, metric="accuracy", y_score=prob)
    as_matrix = mlc.check_no_weak_segments(y, pred, X, metric="accuracy", y_score=matrix)
    assert as_vector.value == as_matrix.value and not as_matrix.passed
    names = np.where(y == 1, "yes", "no")
    named = mlc.check_no_weak_segments(
        names, np.where(pred == 1, "yes", "no"), X, metric="accuracy", y_score=matrix
    )
    assert named.value == as_vector.value
    flipped = mlc.check_no_weak_segments(
        names,
        np.where(pred == 1, "yes", "no"),
        X,
        metric="accuracy",
        y_score=matrix[:, ::-1],
        classes=["yes", "no"],
    )
    assert flipped.value == as_vector.value


def test_y_score_usage_errors_name_the_argument() -> None:
    y, pred, X, prob = scored_case(1000, 0, None, 0.0)
    with pytest.raises(MLCheckUsageError, match="metric='accuracy'"):
        mlc.check_no_weak_segments(y, pred, X, metric="f1", y_score=prob)
    with pytest.raises(MLCheckUsageError, match="y_score"):
        mlc.check_no_weak_segments(y, pred, X, metric="accuracy", y_score=prob[:-1])
    with pytest.raises(MLCheckUsageError, match=r"y_score has .* outside"):
        mlc.check_no_weak_segments(y, pred, X, metric="accuracy", y_score=prob * 3)
    with pytest.raises(MLCheckUsageError, match=r"y_pred has .* classes"):
        mlc.check_no_weak_segments(
            y, np.where(pred == 1, 2, 0), X, metric="accuracy", y_score=prob, classes=[0, 1]
        )
    before = prob.copy()
    mlc.check_no_weak_segments(y, pred, X, metric="accuracy", y_score=prob)
    assert np.array_equal(prob, before)
