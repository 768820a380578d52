"""Tests of the checks in pytest_mlchecks/checks/data/leakage.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import (
    CheckReport,
    MLCheckError,
    MLCheckUsageError,
    assert_no_entity_overlap,
    assert_no_leakage,
    check_no_duplicates,
    check_no_entity_overlap,
    check_no_leakage,
    check_no_row_overlap,
    check_no_target_leakage,
    check_no_temporal_leakage,
)


def test_rows_with_list_and_array_cells_are_compared() -> None:
    """Embeddings or tag lists in a column made row hashing crash ("unhashable type")."""
    from pytest_mlchecks import check_no_duplicates, check_no_row_overlap

    emb = [np.arange(3.0), np.arange(3.0), np.ones(3)]
    frame = pd.DataFrame({"emb": emb, "tags": [["a", "b"], ["a", "b"], ["c"]], "x": [1, 1, 1]})
    dups = check_no_duplicates(frame)
    assert not dups.passed and dups.details["duplicate_rows"] == 1
    assert check_no_duplicates(frame.iloc[1:]).passed
    overlap = check_no_row_overlap(frame.iloc[:1], frame.iloc[1:])
    assert not overlap.passed and "1 distinct train row;" in overlap.message
    assert check_no_row_overlap(frame.iloc[2:], frame.iloc[:2]).passed


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
    # the copied rows keep their ids: the same entities are in both splits too
    assert [r.name for r in report.failures] == [
        "no_row_overlap",
        "no_entity_overlap",
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
        "no_entity_overlap",
        "no_target_leakage",
        "no_temporal_leakage",
    ]


def test_sampled_scoring_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytest_mlchecks.checks.data.leakage as leakage

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


# ------------------------------------------------------------------------ entity overlap


def _snapshots(n_customers: int = 600, seed: int = 0) -> pd.DataFrame:
    """Monthly snapshots of customers: the same customer_id, other balances and dates."""
    rng = np.random.default_rng(seed)
    rows = []
    for month in range(3):
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": np.arange(n_customers),
                    "region": rng.choice(["n", "s"], n_customers),
                    "snapshot": pd.Timestamp("2024-01-01") + pd.DateOffset(months=month),
                    "balance": rng.normal(100, 20, n_customers),
                    "churned": rng.integers(0, 2, n_customers),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_entity_overlap_quiet_on_an_entity_split() -> None:
    frame = _snapshots()
    in_train = frame["customer_id"] % 5 != 0
    result = check_no_entity_overlap(frame[in_train], frame[~in_train], "customer_id")
    assert result.passed and result.value == 0, result.message
    assert result.details["entities_test"] == 120
    assert result.details["entities_train"] == 480


def test_entity_overlap_catches_a_later_snapshot_of_the_same_customer() -> None:
    frame = _snapshots()
    in_train = frame["snapshot"] < pd.Timestamp("2024-03-01")
    train, test = frame[in_train], frame[~in_train]
    # no row is copied: the snapshots differ, so row overlap sees nothing
    assert check_no_row_overlap(train, test, id_columns="customer_id").passed
    result = check_no_entity_overlap(train, test, "customer_id")
    assert not result.passed
    assert result.value == 1.0
    assert result.details["shared_entities"] == 600
    assert result.details["test_rows_of_shared_entities"] == 600
    assert "600 entities of 600 in test" in result.message
    with pytest.raises(MLCheckError, match="no_entity_overlap"):
        assert_no_entity_overlap(train, test, "customer_id")
    report = check_no_leakage(
        train, test, target="churned", time_column="snapshot", id_columns="customer_id"
    )
    assert [r.name for r in report.failures] == ["no_entity_overlap"]


def test_entity_overlap_counts_only_and_never_shows_ids() -> None:
    frame = _snapshots(200).assign(customer_id=lambda f: [f"cust-{i:05d}" for i in f.index % 200])
    train, test = frame.iloc[:400], frame.iloc[400:]
    leaked = test.iloc[:3].copy()
    leaked["customer_id"] = train["customer_id"].iloc[[5, 6, 7]].to_numpy()
    test = pd.concat([test.iloc[3:].assign(customer_id="new-" + test["customer_id"]), leaked])
    result = check_no_entity_overlap(train, test, "customer_id")
    assert not result.passed
    assert result.details["shared_entities"] == 3
    assert result.value == pytest.approx(3 / len(test))
    text = result.message + repr(result.details)
    assert "cust-" not in text and "new-" not in text
    assert check_no_entity_overlap(train, test, "customer_id", max_fraction=0.02).passed


def test_entity_overlap_on_a_compound_key_and_missing_ids() -> None:
    train = pd.DataFrame({"shop": [1, 1, 2, None], "item": ["a", "b", "a", "z"], "x": [0, 1, 2, 3]})
    test = pd.DataFrame({"shop": [2.0, 2.0, None], "item": ["b", "a", "z"], "x": [9, 9, 9]})
    result = check_no_entity_overlap(train, test, ["shop", "item"])
    # only (2, 'a') is shared: shop 2 alone or item 'a' alone is not the entity; missing ids
    # never match
    assert result.details["shared_entities"] == 1
    assert result.details["test_rows_of_shared_entities"] == 1
    assert result.details["rows_with_missing_id"] == {"train": 1, "test": 1}
    assert not result.passed
    assert check_no_entity_overlap(train, test.iloc[[0, 2]], ["shop", "item"]).passed


def test_entity_overlap_reads_index_levels_and_never_mutates() -> None:
    frame = _snapshots(100).set_index("customer_id")
    train, test = frame.iloc[:150], frame.iloc[150:]
    before = train.copy()
    result = check_no_entity_overlap(train, test, "customer_id")
    assert not result.passed and result.details["shared_entities"] == 100
    assert result.details["test_rows_of_shared_entities"] == 150
    pd.testing.assert_frame_equal(train, before)


def test_entity_overlap_usage_errors() -> None:
    frame = _snapshots(50)
    with pytest.raises(MLCheckUsageError, match="id_columns names 'nope'"):
        check_no_entity_overlap(frame, frame, "nope")
    with pytest.raises(MLCheckUsageError, match="id_columns is empty"):
        check_no_entity_overlap(frame, frame, [])
    with pytest.raises(MLCheckUsageError, match="test is empty"):
        check_no_entity_overlap(frame, frame.iloc[:0], "customer_id")


# ------------------------------------------------------------------------ dominance


def _churn(n: int = 6000, seed: int = 0) -> pd.DataFrame:
    """Churn data whose honest features are weak (best single AUC about 0.65)."""
    rng = np.random.default_rng(seed)
    tenure = rng.exponential(24, n)
    calls = rng.poisson(2, n)
    plan = rng.choice(["basic", "plus", "pro"], n)
    logit = -1.0 - 0.02 * tenure + 0.25 * calls + np.where(plan == "basic", 0.4, 0.0)
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "tenure": tenure,
            "support_calls": calls,
            "plan": plan,
            "monthly_fee": rng.normal(50, 10, n),
            "churned": churned,
        }
    )


def test_target_leakage_catches_an_outcome_flag_below_the_near_perfect_limit() -> None:
    frame = _churn()
    rng = np.random.default_rng(1)
    churned = frame["churned"].to_numpy() == 1
    frame["retention_offer_sent"] = np.where(
        churned, rng.random(len(frame)) < 0.93, rng.random(len(frame)) < 0.04
    )
    train, test = frame.iloc[:4500], frame.iloc[4500:]
    result = check_no_target_leakage(train, test, "churned")
    assert not result.passed, result.message
    assert result.details["leaking_features"] == ["retention_offer_sent"]
    flag = result.details["judged_features"][0]
    assert 0.9 < flag["score"] < 0.99  # no longer caught by an AUC limit
    assert flag["dominant"] and not flag["near_perfect"]
    assert flag["others_skill"] < 0.5 < flag["skill"]
    assert "dominant" in result.message and "skill of all others" in result.message
    # the same data without the flag is clean
    clean = check_no_target_leakage(train, test, "churned", exclude="retention_offer_sent")
    assert clean.passed, clean.message


def _strong_peers(n: int, seed: int, task: str) -> pd.DataFrame:
    """Five noisy measurements of one latent cause: each strong alone, stronger together."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    frame = pd.DataFrame({f"m{i}": latent + rng.normal(0, 0.35, n) for i in range(5)})
    if task == "binary":
        frame["y"] = (latent + rng.normal(0, 0.1, n) > 0).astype(int)
    else:
        frame["y"] = latent + rng.normal(0, 0.1, n)
    return frame


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_target_leakage_passes_a_strong_feature_among_strong_peers(task: str) -> None:
    for seed in range(5):
        frame = _strong_peers(800, seed, task)
        train, test = frame.iloc[:600], frame.iloc[600:]
        result = check_no_target_leakage(train, test, "y")
        best = result.details["judged_features"][0]
        assert best["skill"] > 0.8, best  # strong alone, as a leak would be ...
        assert best["others_skill"] > best["skill"]  # ... but the others reach further
        assert result.passed, result.message


def test_target_leakage_near_perfect_fails_whatever_its_peers() -> None:
    frame = _strong_peers(4000, 0, "binary")
    rng = np.random.default_rng(2)
    frame["copy"] = frame["y"] + rng.normal(0, 0.05, len(frame))
    train, test = frame.iloc[:3000], frame.iloc[3000:]
    result = check_no_target_leakage(train, test, "y")
    assert not result.passed
    copy = next(j for j in result.details["judged_features"] if j["feature"] == "copy")
    assert copy["near_perfect"] and result.details["leaking_features"] == ["copy"]


def test_target_leakage_dominance_on_multiclass_categorical_and_missing_values() -> None:
    rng = np.random.default_rng(4)
    n = 6000
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.choice(list("xyz"), n)})
    frame["y"] = np.digitize(0.6 * frame["a"] + rng.normal(0, 1, n), [-0.5, 0.5])
    frame.loc[rng.random(n) < 0.2, "a"] = np.nan
    # a post-outcome status code: right for 85% of rows, missing for some
    status = np.where(rng.random(n) < 0.85, frame["y"], rng.integers(0, 3, n))
    frame["status"] = pd.Series(np.array(["open", "won", "lost"])[status]).where(
        rng.random(n) > 0.05
    )
    train, test = frame.iloc[:4500], frame.iloc[4500:]
    result = check_no_target_leakage(train, test, "y")
    assert result.details["task"] == "multiclass"
    assert result.details["leaking_features"] == ["status"], result.message
    assert check_no_target_leakage(train, test, "y", exclude="status").passed


def test_target_leakage_dominance_thresholds_are_overridable() -> None:
    frame = _churn()
    rng = np.random.default_rng(1)
    churned = frame["churned"].to_numpy() == 1
    frame["flag"] = np.where(churned, rng.random(len(frame)) < 0.93, rng.random(len(frame)) < 0.04)
    train, test = frame.iloc[:4500], frame.iloc[4500:]
    assert check_no_target_leakage(train, test, "churned", max_dominance=100.0).passed
    assert check_no_target_leakage(train, test, "churned", min_skill=0.95).passed
    result = check_no_target_leakage(train, test, "churned")
    assert result.details["max_dominance"] == 2.0


# ------------------------------------------------------------------------ row overlap by chance


def _titanic_like(n: int = 1309, seed: int = 0) -> pd.DataFrame:
    """Rows that repeat naturally: few columns, few values (a third of rows distinct)."""
    rng = np.random.default_rng(seed)
    age = rng.gamma(6.0, 5.0, n).round()
    age[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame(
        {
            "survived": rng.choice(["yes", "no"], n, p=[0.38, 0.62]),
            "sex": rng.choice(["male", "female"], n, p=[0.64, 0.36]),
            "age": age,
            "passengerClass": rng.choice(["1st", "2nd", "3rd"], n, p=[0.25, 0.21, 0.54]),
        }
    )


def _random_split(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = len(frame) * 3 // 4
    return frame.iloc[order[:cut]], frame.iloc[order[cut:]]


def test_row_overlap_chance_allowance_holds_over_many_random_splits() -> None:
    frame = _titanic_like()
    results = [check_no_row_overlap(*_random_split(frame, seed)) for seed in range(40)]
    assert all(r.passed for r in results), [r.message for r in results if not r.passed]
    detail = results[0].details
    assert detail["continuous_columns"] == []
    assert 0.3 < detail["expected_by_chance"] < detail["allowed_by_chance"] < 1.0
    assert detail["chance_detail"]["rate_se"] > 0
    assert "rows repeat naturally here" in results[0].message


def test_row_overlap_catches_copies_in_a_repetitive_table() -> None:
    rng = np.random.default_rng(5)
    n = 5000
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["a", "b"], n),
            "year": rng.integers(1997, 2003, n),
            "age": rng.integers(12, 60, n),
            "employed": rng.random(n) < 0.7,
            "checks": rng.poisson(1.5, n),
        }
    )
    train, test = _random_split(frame, 0)
    assert check_no_row_overlap(train, test).passed
    copies = train.sample(len(test) // 5, random_state=1)  # a fifth of test copied
    leaky = pd.concat([test.iloc[len(copies) :], copies])
    result = check_no_row_overlap(train, leaky)
    assert not result.passed, result.message
    assert "expected by chance" in result.message
    # the chance bound's tail probability is a threshold: a far smaller one excuses more
    assert check_no_row_overlap(train, leaky, chance_alpha=1e-60).passed
    with pytest.raises(MLCheckUsageError, match="chance_alpha"):
        check_no_row_overlap(train, leaky, chance_alpha=0)


def test_row_overlap_one_coincidental_twin_in_a_small_discrete_table_passes() -> None:
    # iris-like: measurements at 0.1 resolution; one pair of equal rows lands on both sides
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(5, 1, (150, 4)).round(1), columns=list("abcd"))
    train, test = frame.iloc[:112].copy(), frame.iloc[112:].copy()
    test.iloc[0] = train.iloc[3].to_numpy()
    result = check_no_row_overlap(train, test)
    assert result.details["overlapping_test_rows"] == 1
    assert result.passed, result.message
    # with a continuous column (mostly unique values) the same row is a copy
    train["x"], test["x"] = rng.normal(size=112), rng.normal(size=38)
    test.iloc[0, 4] = train.iloc[3, 4]
    copied = check_no_row_overlap(train, test)
    assert not copied.passed and copied.details["continuous_columns"] == ["x"]


def test_target_leakage_two_leaks_that_mask_each_other_are_judged_as_a_pair() -> None:
    frame = _churn()
    rng = np.random.default_rng(3)
    n = len(frame)
    churned = frame["churned"].to_numpy() == 1
    offer = np.where(churned, rng.random(n) < 0.93, rng.random(n) < 0.04)
    frame["offer_sent"] = offer
    frame["offer_value"] = np.where(offer, rng.gamma(2.0, 10.0, n), 0.0)  # the same event
    train, test = frame.iloc[:4500], frame.iloc[4500:]
    result = check_no_target_leakage(train, test, "churned")
    assert not result.passed, result.message
    assert sorted(result.details["leaking_features"]) == ["offer_sent", "offer_value"]
    pair = {j["feature"]: j for j in result.details["judged_features"][:2]}
    assert pair["offer_sent"]["paired_with"] == "offer_value"
    assert pair["offer_value"]["paired_with"] == "offer_sent"
    # each alone is no better than its twin: without the pair rule neither would tower
    single = check_no_target_leakage(train, test, "churned", exclude="offer_value")
    assert single.details["leaking_features"] == ["offer_sent"]


def test_row_overlap_duplicated_records_of_coarse_columns_are_not_natural_repeats() -> None:
    # no column is mostly unique (everything is rounded), but full rows are far too rare to
    # meet twice: the repeats in train are copies, so rows shared with test count in full
    rng = np.random.default_rng(2)
    n = 3000
    frame = pd.DataFrame(
        {
            "years": rng.integers(0, 30, n),
            "hours": rng.normal(40, 6, n).round(1),
            "salary": rng.normal(80_000, 15_000, n).round(-2),
            "education": rng.choice(["none", "bachelor", "master", "phd"], n),
        }
    )
    clean = check_no_row_overlap(*_random_split(frame, 0))
    assert clean.passed and clean.value == 0
    doubled = pd.concat([frame, frame.sample(150, random_state=0)], ignore_index=True)
    result = check_no_row_overlap(*_random_split(doubled, 0))
    assert not result.details["continuous_columns"]
    assert not result.details["rows_repeat_naturally"]
    pairs = result.details["train_equal_row_pairs"]
    assert pairs > 2 * result.details["equal_row_pairs_plausible_by_chance"]
    assert not result.passed and result.threshold == 0


def test_target_leakage_odd_inputs_single_feature_datetime_constant_all_missing() -> None:
    frame = _churn()
    rng = np.random.default_rng(6)
    churned = frame["churned"].to_numpy() == 1
    frame["flag"] = np.where(churned, rng.random(len(frame)) < 0.93, rng.random(len(frame)) < 0.04)
    train, test = frame.iloc[:4500], frame.iloc[4500:]
    # one feature alone has no peers to tower over: only the near-perfect rule applies
    pair = ["flag", "churned"]
    alone = check_no_target_leakage(train[pair], test[pair], "churned")
    assert alone.passed and not alone.details["judged_features"][0]["dominant"]
    odd = frame.assign(
        signup=pd.date_range("2020-01-01", periods=len(frame), freq="h"),
        constant=1.0,
        empty=np.nan,
    )
    result = check_no_target_leakage(odd.iloc[:4500], odd.iloc[4500:], "churned")
    assert result.details["leaking_features"] == ["flag"], result.message


def test_target_leakage_a_perfect_copy_fails_even_on_a_tiny_test_split() -> None:
    rng = np.random.default_rng(8)
    n = 150
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = rng.integers(0, 3, n)
    frame["a"] += frame["y"] * 2.0  # strong honest peers
    frame["b"] += frame["y"] * 2.0
    frame["label_code"] = frame["y"].map({0: "c0", 1: "c1", 2: "c2"})  # the target, renamed
    train, test = frame.iloc[:112], frame.iloc[112:]
    result = check_no_target_leakage(train, test, "y")
    assert not result.passed
    assert result.details["leaking_features"] == ["label_code"]
    # a strong but imperfect feature on 38 test rows is judged beyond sampling noise
    judged = {j["feature"]: j for j in result.details["judged_features"]}
    assert judged["label_code"]["near_perfect"]
    assert not judged["a"]["near_perfect"]


def test_row_overlap_list_cells_can_repeat_naturally_but_embeddings_are_unique() -> None:
    rng = np.random.default_rng(0)
    tags = [["a", "b"] if i % 2 else ["c"] for i in range(300)]
    train = pd.DataFrame({"tags": tags, "k": rng.integers(0, 3, 300)})
    test = pd.DataFrame({"tags": [["a", "b"], ["z"]], "k": [1, 2]})
    natural = check_no_row_overlap(train, test)
    assert natural.details["rows_repeat_naturally"] and natural.passed
    with_emb = train.assign(emb=[rng.normal(size=4) for _ in range(300)])
    copied = pd.concat([with_emb.iloc[:1], with_emb.iloc[1:2].assign(emb=[np.ones(4)])])
    result = check_no_row_overlap(with_emb, copied)
    assert result.details["continuous_columns"] == ["emb"]
    assert not result.passed and result.details["overlapping_test_rows"] == 1
