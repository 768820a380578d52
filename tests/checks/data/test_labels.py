"""no_conflicting_labels: identical feature rows with different labels, inside a split and
across splits; counted, never shown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckError, MLCheckUsageError
from pytest_mlchecks._protocol import Recorder, Settings, recording


def _clean(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    return X, (X["a"] > 0).to_numpy().astype(int)


def test_identical_rows_with_different_labels_fail_with_counts_only() -> None:
    X = pd.DataFrame({"a": [1.0, 1.0, 2.0, 2.0, 3.0, np.nan, np.nan], "b": ["x"] * 7})
    y = np.array(["lion", "wolf", "lion", "lion", "wolf", "wolf", "lion"])
    with pytest.raises(MLCheckError) as info:
        mlc.assert_no_conflicting_labels(X, y)
    d = info.value.results[0].details
    # (1, x) holds lion and wolf; (NaN, x) too: NaN equals NaN; (2, x) agrees
    assert (d["conflicting_groups"], d["conflicting_rows"], d["rows"]) == (2, 4, 7)
    assert d["conflicting_fraction"] == pytest.approx(4 / 7)
    assert d["largest_group"] == 2 and d["tolerance"] is None
    message = str(info.value)
    assert "in 2 groups: 4 of 7 rows" in message and "How to fix" in message
    assert "lion" not in message and "wolf" not in message  # counted, never shown


def test_negative_zero_equals_zero_and_agreeing_repeats_pass() -> None:
    X = pd.DataFrame({"a": [0.0, -0.0, 5.0]})
    failed = mlc.check_no_conflicting_labels(X, [0, 1, 1])
    assert not failed.passed and failed.details["conflicting_groups"] == 1
    assert mlc.assert_no_conflicting_labels(X, [1, 1, 0]).passed  # a repeat with one label


def test_clean_data_passes_in_numpy_and_pandas() -> None:
    X, y = _clean()
    outcome = mlc.assert_no_conflicting_labels(X, y)
    assert outcome.value == 0.0 and outcome.details["conflicting_groups"] == 0
    assert mlc.assert_no_conflicting_labels(X.to_numpy(), pd.Series(y)).passed


def test_across_splits_a_test_row_contradicting_train_is_counted() -> None:
    X, y = _clean(100)
    X_test, y_test = X.iloc[:5].reset_index(drop=True), 1 - y[:5]  # same features, flipped
    with pytest.raises(MLCheckError) as info:
        mlc.assert_no_conflicting_labels(X, y, X_test=X_test, y_test=y_test)
    d = info.value.results[0].details
    assert d["rows"] == 105 and d["rows_test"] == 5
    assert d["groups_across_splits"] == 5 and d["test_rows_contradicting_train"] == 5
    assert d["groups_within_x"] == d["groups_within_test"] == 0
    assert "across the splits: 5 groups, 5 test rows" in str(info.value)
    # the same rows with the same labels are no conflict (row overlap is another check)
    agree = mlc.check_no_conflicting_labels(X, y, X_test=X_test, y_test=y[:5])
    assert agree.passed and agree.details["test_rows_contradicting_train"] == 0
    # float32 in one split, float64 in the other still compare equal
    cast = mlc.check_no_conflicting_labels(X, y, X_test=X_test.astype("float32"), y_test=y_test)
    assert cast.details["rows_test"] == 5


def test_a_conflict_inside_the_test_split_is_counted_apart() -> None:
    X, y = _clean(50)
    X_test = pd.DataFrame({"a": [9.0, 9.0], "b": [0.0, 0.0], "c": [1.0, 1.0]})
    outcome = mlc.check_no_conflicting_labels(X, y, X_test=X_test, y_test=[0, 1])
    d = outcome.details
    assert not outcome.passed
    assert (d["groups_within_test"], d["groups_across_splits"]) == (1, 0)
    assert d["test_rows_contradicting_train"] == 0


def test_max_fraction_from_argument_and_ini() -> None:
    X = pd.DataFrame({"a": [1, 1, *range(2, 100)]})
    y = [0, 1] + [0] * 98
    assert not mlc.check_no_conflicting_labels(X, y).passed  # default 0: any conflict fails
    assert mlc.check_no_conflicting_labels(X, y, max_fraction=0.05).passed
    assert not mlc.check_no_conflicting_labels(X, y, max_fraction=0.01).passed
    with recording(Recorder("t", Settings(ini={"conflicting_labels_max_fraction": 0.05}))):
        assert mlc.check_no_conflicting_labels(X, y).passed
    with pytest.raises(MLCheckUsageError, match="max_fraction"):
        mlc.check_no_conflicting_labels(X, y, max_fraction=1.5)


def test_regression_target_needs_a_tolerance() -> None:
    X = pd.DataFrame({"a": [1.0, 1.0, 2.0, 2.0, *range(3, 40)]})
    y = np.r_[[10.0, 10.04, 20.0, 25.0], np.linspace(0.5, 7.5, 37)]
    with pytest.raises(MLCheckUsageError, match="tolerance=t") as info:
        mlc.check_no_conflicting_labels(X, y)
    assert "regression target" in str(info.value)
    spread = mlc.check_no_conflicting_labels(X, y, tolerance=0.1)
    assert spread.details["conflicting_groups"] == 1 and spread.details["tolerance"] == 0.1
    assert mlc.check_no_conflicting_labels(X, y, tolerance=0).details["conflicting_groups"] == 2
    assert mlc.check_no_conflicting_labels(X, y, tolerance=10).passed
    # across splits the tolerance applies to a test target against the train targets
    X_test, y_test = pd.DataFrame({"a": [1.0, 2.0]}), np.array([10.02, 22.0])
    across = mlc.check_no_conflicting_labels(X, y, X_test=X_test, y_test=y_test, tolerance=0.1)
    assert across.details["test_rows_contradicting_train"] == 1  # 22 vs 20 and 25


def test_bad_input_is_a_usage_error_naming_the_argument() -> None:
    X, y = _clean(20)
    with pytest.raises(MLCheckUsageError, match="X_test and y_test"):
        mlc.check_no_conflicting_labels(X, y, X_test=X)
    with pytest.raises(MLCheckUsageError, match="y"):
        mlc.check_no_conflicting_labels(X, y[:5])
    with pytest.raises(MLCheckUsageError, match="different columns"):
        mlc.check_no_conflicting_labels(X, y, X_test=X[["a", "b"]], y_test=y)
    with pytest.raises(MLCheckUsageError, match="tolerance"):
        mlc.check_no_conflicting_labels(X, y, tolerance=-1.0)
    with pytest.raises(MLCheckUsageError, match="tolerance applies to numeric"):
        mlc.check_no_conflicting_labels(X, np.where(y == 1, "a", "b"), tolerance=0.5)
    with pytest.raises(MLCheckUsageError, match=r"missing labels|NaN labels"):
        mlc.check_no_conflicting_labels(X, np.r_[np.nan, y[1:].astype(float)])


def test_inputs_are_not_mutated_and_the_verdict_repeats() -> None:
    X, y = _clean(100)
    X.iloc[3] = X.iloc[4]
    X_before, y_before = X.copy(), y.copy()
    first = mlc.check_no_conflicting_labels(X, y, X_test=X.iloc[:10], y_test=y[:10])
    second = mlc.check_no_conflicting_labels(X, y, X_test=X.iloc[:10], y_test=y[:10])
    assert first.to_dict() == second.to_dict()
    pd.testing.assert_frame_equal(X, X_before)
    assert np.array_equal(y, y_before)


def test_a_million_rows_take_seconds() -> None:
    import time

    rng = np.random.default_rng(0)
    n = 1_000_000
    X = pd.DataFrame(rng.integers(0, 50, size=(n, 3)), columns=["a", "b", "c"])
    y = rng.integers(0, 2, n)
    start = time.perf_counter()
    outcome = mlc.check_no_conflicting_labels(X, y, max_fraction=1.0)
    assert time.perf_counter() - start < 20  # about 1.5 s on one core; linear in rows
    assert outcome.details["conflicting_groups"] > 0
