"""Leakage checks, both ways: they fire on the injected failure and stay quiet on clean data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import (
    CheckReport,
    MLCheckError,
    MLCheckUsageError,
    assert_no_leakage,
    check_no_duplicates,
    check_no_leakage,
    check_no_row_overlap,
    check_no_target_leakage,
    check_no_temporal_leakage,
)


def _split(n: int = 2000, seed: int = 0, task: str = "binary") -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["city"] = rng.choice(["north", "south", "east"], n)
    frame["flag"] = rng.random(n) < 0.3
    frame["id"] = np.arange(n)
    logit = 1.6 * X[:, 0] + 0.4 * X[:, 1]
    if task == "binary":
        frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    elif task == "multiclass":
        frame["y"] = np.digitize(logit + rng.normal(0, 1.0, n), [-1.0, 1.0])
    else:
        frame["y"] = 3.0 * X[:, 0] + rng.normal(0, 2.0, n)
    frame["when"] = pd.date_range("2024-01-01", periods=n, freq="h")
    cut = n * 4 // 5
    return frame.iloc[:cut].copy(), frame.iloc[cut:].copy()


# ------------------------------------------------------------------------ row overlap


def test_row_overlap_quiet_on_clean_split() -> None:
    train, test = _split()
    result = check_no_row_overlap(train, test)
    assert result.passed and result.value == 0


def test_row_overlap_counts_copied_rows_even_with_new_ids() -> None:
    train, test = _split()
    copies = train.sample(25, random_state=1).copy()
    copies["id"] = np.arange(10_000, 10_025)  # copies got fresh row ids
    test = pd.concat([test, copies], ignore_index=True)
    # with ids compared, every copy looks new
    assert check_no_row_overlap(train, test).passed
    result = check_no_row_overlap(train, test, id_columns="id")
    assert not result.passed
    assert result.details["overlapping_test_rows"] == 25
    assert result.value == pytest.approx(25 / len(test))
    assert "25 of 425 test rows" in result.message


def test_row_overlap_sees_through_dtype_differences() -> None:
    train = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    test = pd.DataFrame({"a": [2.0, 9.0], "b": pd.Categorical(["y", "q"])})
    result = check_no_row_overlap(train, test)
    assert result.details["overlapping_test_rows"] == 1


def test_row_overlap_matches_rows_with_missing_values() -> None:
    train = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [0.1, 0.2, 0.3]})
    test = pd.DataFrame({"a": [np.nan, 5.0], "b": [0.2, 0.2]})
    assert check_no_row_overlap(train, test).details["overlapping_test_rows"] == 1


def test_row_overlap_expects_chance_matches_in_all_categorical_tables() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    frame = pd.DataFrame(
        {"a": rng.integers(0, 3, n), "b": rng.choice(["u", "v"], n), "c": rng.random(n) < 0.5}
    )
    train, test = frame.iloc[:4000], frame.iloc[4000:]
    clean = check_no_row_overlap(train, test)
    assert clean.passed, clean.message  # every test row exists in train, by chance
    assert clean.details["expected_by_chance"] > 0.99


def test_row_overlap_usage_errors() -> None:
    train, test = _split()
    with pytest.raises(MLCheckUsageError, match="different columns"):
        check_no_row_overlap(train, test.drop(columns=["city"]))
    with pytest.raises(MLCheckUsageError, match="test is empty"):
        check_no_row_overlap(train, test.iloc[:0])
    with pytest.raises(MLCheckUsageError, match="missing from test"):
        check_no_row_overlap(train, test.drop(columns=["a"]), columns=["a", "b"])


def test_no_duplicates_inside_one_table() -> None:
    train, _ = _split()
    assert check_no_duplicates(train).passed
    doubled = pd.concat([train, train.iloc[:7]], ignore_index=True)
    result = check_no_duplicates(doubled)
    assert not result.passed and result.details["duplicate_rows"] == 7
    assert check_no_duplicates(doubled, max_fraction=0.01).passed
    assert check_no_duplicates(train, subset=["flag"]).details["duplicate_rows"] == len(train) - 2


# ------------------------------------------------------------------------ target leakage


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_target_leakage_quiet_on_a_legitimately_strong_feature(task: str) -> None:
    train, test = _split(4000, task=task)
    result = check_no_target_leakage(train, test, "y", exclude=["id", "when"])
    assert result.passed, result.message
    assert result.details["top_features"][0]["feature"] == "a"
    assert result.details["task"] == task


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_target_leakage_fires_on_a_target_derived_feature(task: str) -> None:
    train, test = _split(4000, task=task)
    rng = np.random.default_rng(5)
    for frame in (train, test):
        frame["derived"] = frame["y"] * 2.0 + rng.normal(0, 0.05, len(frame))
    result = check_no_target_leakage(train, test, "y", exclude=["id", "when"])
    assert not result.passed
    assert result.details["leaking_features"] == ["derived"]
    assert result.value > 0.97 and "'derived'" in result.message


def test_target_leakage_catches_a_categorical_and_a_missingness_leak() -> None:
    train, test = _split(4000)
    for frame in (train, test):
        frame["status"] = np.where(frame["y"] == 1, "closed", "open")
        frame["refund"] = np.where(frame["y"] == 1, np.nan, 1.0)
    result = check_no_target_leakage(train, test, "y", exclude=["id", "when"])
    assert set(result.details["leaking_features"]) == {"status", "refund"}


def test_target_leakage_ignores_an_id_column_with_unseen_values() -> None:
    train, test = _split(4000)
    for frame in (train, test):
        frame["user"] = [f"u{i}" for i in frame["id"]]
    assert check_no_target_leakage(train, test, "y", exclude=["id", "when"]).passed


def test_target_leakage_threshold_argument() -> None:
    train, test = _split(4000)
    result = check_no_target_leakage(train, test, "y", exclude=["id", "when"], max_auc=0.7)
    assert not result.passed and result.threshold == 0.7


def test_target_leakage_usage_errors() -> None:
    train, test = _split()
    with pytest.raises(MLCheckUsageError, match="target 'nope' is not a column of train"):
        check_no_target_leakage(train, test, "nope")
    constant = train.assign(y=1)
    with pytest.raises(MLCheckUsageError, match="constant"):
        check_no_target_leakage(constant, test, "y")
    unseen = test.assign(y=7)
    with pytest.raises(MLCheckUsageError, match="never seen in train"):
        check_no_target_leakage(train, unseen, "y", task="multiclass")
    with pytest.raises(MLCheckUsageError, match="task must be"):
        check_no_target_leakage(train, test, "y", task="ranking")


def test_checks_never_mutate_inputs() -> None:
    train, test = _split()
    before_train, before_test = train.copy(), test.copy()
    check_no_leakage(train, test, target="y", time_column="when", id_columns="id")
    pd.testing.assert_frame_equal(train, before_train)
    pd.testing.assert_frame_equal(test, before_test)


# ------------------------------------------------------------------------ temporal


def test_temporal_quiet_on_a_time_split() -> None:
    train, test = _split()
    assert check_no_temporal_leakage(train, test, "when").passed


def test_temporal_counts_rows_from_the_future() -> None:
    train, test = _split()
    shuffled = pd.concat([train, test]).sample(frac=1.0, random_state=0)
    train2, test2 = shuffled.iloc[:1600], shuffled.iloc[1600:]
    result = check_no_temporal_leakage(train2, test2, "when")
    assert not result.passed
    expected = int((train2["when"] > test2["when"].min()).sum())
    assert result.details["train_rows_after_test_start"] == expected
    assert "overlap window" in result.message


def test_temporal_accepts_numeric_and_string_times() -> None:
    train = pd.DataFrame({"t": [1, 2, 3, 9]})
    test = pd.DataFrame({"t": [4.0, 5.0]})
    assert check_no_temporal_leakage(train, test, "t").details["train_rows_after_test_start"] == 1
    train_s = pd.DataFrame({"t": ["2024-01-01", "2024-02-01"]})
    test_s = pd.DataFrame({"t": ["2024-01-15"]})
    assert not check_no_temporal_leakage(train_s, test_s, "t").passed
    with pytest.raises(MLCheckUsageError, match="neither datetime"):
        check_no_temporal_leakage(pd.DataFrame({"t": ["x"]}), test_s, "t")


# ------------------------------------------------------------------------ umbrella


def test_no_leakage_reports_every_finding_at_once() -> None:
    train, test = _split()
    rng = np.random.default_rng(9)
    for frame in (train, test):
        frame["derived"] = frame["y"] + rng.normal(0, 0.01, len(frame))
    leaky_test = pd.concat([test, train.iloc[:5]], ignore_index=True)
    leaky_train = train.copy()
    leaky_train.loc[leaky_train.index[:3], "when"] = pd.Timestamp("2030-01-01")
    report = check_no_leakage(
        leaky_train, leaky_test, target="y", time_column="when", id_columns="id"
    )
    assert isinstance(report, CheckReport) and not report.passed
    assert [r.name for r in report.failures] == [
        "no_row_overlap",
        "no_target_leakage",
        "no_temporal_leakage",
    ]
    with pytest.raises(MLCheckError) as info:
        assert_no_leakage(leaky_train, leaky_test, target="y", time_column="when", id_columns="id")
    text = str(info.value)
    assert "no_row_overlap" in text and "no_target_leakage" in text and "no_temporal" in text


def test_no_leakage_clean() -> None:
    train, test = _split()
    report = check_no_leakage(train, test, target="y", time_column="when", id_columns=["id"])
    assert report.passed, report.message
    assert [r.name for r in report] == [
        "no_row_overlap",
        "no_target_leakage",
        "no_temporal_leakage",
    ]


def test_sampled_scoring_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytest_mlchecks.checks.leakage as leakage

    monkeypatch.setattr(leakage, "MAX_SCORED_ROWS", 500)
    train, test = _split(4000)
    first = check_no_target_leakage(train, test, "y", exclude=["id", "when"])
    second = check_no_target_leakage(train, test, "y", exclude=["id", "when"])
    assert first.details["sampled_rows"] == {"train": 500, "test": 500}
    assert first.to_dict() == second.to_dict()
    other_seed = check_no_target_leakage(train, test, "y", exclude=["id", "when"], random_state=3)
    assert other_seed.passed == first.passed


def test_leakage_works_on_numpy_splits() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(size=(500, 3))
    test = np.vstack([rng.normal(size=(99, 3)), train[:1]])
    result = check_no_row_overlap(train, test)
    assert not result.passed and result.details["overlapping_test_rows"] == 1


def test_row_overlap_on_tiny_repetitive_tables_counts_every_copy() -> None:
    train = pd.DataFrame({"x": [1, 1, 1, 2, 2]})
    test = pd.DataFrame({"x": [1, 3]})
    result = check_no_row_overlap(train, test)
    assert not result.passed and result.details["overlapping_test_rows"] == 1


def test_time_column_may_be_the_index() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "t": pd.date_range("2024-01-01", periods=1000, freq="6h"),
            "x": rng.normal(size=1000),
            "y": rng.integers(0, 2, 1000),
        }
    ).set_index("t")
    ok = check_no_leakage(frame.iloc[:800], frame.iloc[800:], target="y", time_column="t")
    assert ok.passed and len(ok.results) == 3
    late = check_no_temporal_leakage(frame.iloc[::2], frame.iloc[1::2], "t")
    assert not late.passed and "2024-01-01 06:00:00" in late.message
    with pytest.raises(MLCheckUsageError, match="neither a column nor an index level"):
        check_no_temporal_leakage(frame, frame, "when")


def test_copies_are_found_across_float32_and_float64_splits() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=1000), "b": rng.integers(0, 5, 1000)})
    train = frame.iloc[:800].astype({"a": "float32"})  # e.g. saved for a GPU model
    test = pd.concat([frame.iloc[800:], frame.iloc[:20]])
    found = check_no_row_overlap(train, test)
    assert not found.passed and found.value == pytest.approx(20 / 220)
    assert check_no_row_overlap(train, frame.iloc[800:]).passed
