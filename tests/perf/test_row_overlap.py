"""check_no_row_overlap's linear hash-table matching (issue #18) against the sort it replaced:
the same matches, representatives and train repeat counts, hash collisions included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks.checks.data.leakage import _hashed, _overlap, _rows_equal


def _old_overlap(train_part: Any, test_part: Any) -> dict[str, Any]:
    train_part, h_train = _hashed(train_part)
    test_part, h_test = _hashed(test_part)
    order = np.argsort(h_train, kind="stable")
    sorted_h = h_train[order]
    pos = np.searchsorted(sorted_h, h_test)
    pos_clipped = np.minimum(pos, len(sorted_h) - 1)
    candidate = sorted_h[pos_clipped] == h_test
    test_idx = np.flatnonzero(candidate)
    matched_pos = pos_clipped[candidate]
    train_idx = order[matched_pos]
    if len(test_idx):
        verified = _rows_equal(
            train_part.iloc[train_idx].reset_index(drop=True),
            test_part.iloc[test_idx].reset_index(drop=True),
        )
        test_idx, train_idx, matched_pos = (
            test_idx[verified],
            train_idx[verified],
            matched_pos[verified],
        )
    new_group = np.ones(len(sorted_h), dtype=bool)
    new_group[1:] = sorted_h[1:] != sorted_h[:-1]
    group_id = np.cumsum(new_group) - 1
    group_size = np.bincount(group_id)
    return {
        "test_idx": test_idx,
        "train_idx": train_idx,
        "distinct_train_rows": int(np.count_nonzero(new_group)),
        "matched_train_counts": group_size[group_id[matched_pos]],
        "train_rows_matched": int(group_size[np.unique(group_id[matched_pos])].sum()),
        "singletons": int(np.count_nonzero(group_size == 1)),
        "doubletons": int(np.count_nonzero(group_size == 2)),
        "tripletons": int(np.count_nonzero(group_size == 3)),
        "equal_pairs": float((group_size * (group_size - 1) / 2.0).sum()),
    }


def _splits(n: int, m: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(rows: int) -> pd.DataFrame:
        a = rng.integers(0, 4, rows).astype(float)
        a[rng.random(rows) < 0.1] = np.nan
        return pd.DataFrame(
            {
                "a": a,
                "b": rng.integers(0, 3, rows),
                "c": pd.Categorical(rng.choice(["x", "y"], rows), categories=["x", "y", "z"]),
                "d": rng.choice(np.array(["p", None, "q"], dtype=object), rows),
            }
        )

    return frame(n), frame(m)


def _same(new: dict[str, Any], old: dict[str, Any]) -> None:
    assert new.keys() == old.keys()
    for key in new:
        assert np.array_equal(np.asarray(new[key]), np.asarray(old[key])), key


@pytest.mark.parametrize(("n", "m"), [(1, 1), (1, 5), (5, 1), (40, 30), (3000, 2000)])
def test_same_matches_as_the_sort(n: int, m: int) -> None:
    train, test = _splits(n, m, n + m)
    _same(dict(_overlap(train, test)), _old_overlap(train, test))


def test_nothing_shared_and_everything_shared() -> None:
    train = pd.DataFrame({"x": np.arange(50.0)})
    _same(dict(_overlap(train, train + 1000)), _old_overlap(train, train + 1000))
    _same(dict(_overlap(train, train.iloc[::-1])), _old_overlap(train, train.iloc[::-1]))


def test_hash_collisions_are_verified_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_mlchecks.inputs import rows

    real = rows.hash_rows
    monkeypatch.setattr(rows, "hash_rows", lambda frame: real(frame) % np.uint64(5))
    train, test = _splits(500, 300, 9)
    _same(dict(_overlap(train, test)), _old_overlap(train, test))


@pytest.fixture
def partitioned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Group arrays partition by partition from 64 values on (8 values per partition)."""
    from pytest_mlchecks.checks.data import leakage
    from pytest_mlchecks.inputs import rows

    monkeypatch.setattr(rows, "PARTITION_ABOVE", 64)
    monkeypatch.setattr(rows, "PARTITION_ROWS", 8)
    monkeypatch.setattr(leakage, "PARTITION_ABOVE", 64)


def _check_groups(values: np.ndarray, codes: np.ndarray, first: np.ndarray) -> None:
    expected, _ = pd.factorize(values, use_na_sentinel=False)
    # the same partition of positions into groups
    pairs = set(zip(expected.tolist(), codes.tolist(), strict=True))
    assert len(pairs) == len(set(expected.tolist())) == len(set(codes.tolist())) == len(first)
    for code, position in enumerate(first):
        assert codes[position] == code
        assert not np.any(codes[:position] == code)


@pytest.mark.usefixtures("partitioned")
def test_partitioned_groups_are_the_factorized_groups() -> None:
    from pytest_mlchecks.inputs.rows import group_codes

    rng = np.random.default_rng(4)
    hashes = rng.integers(0, 2**63, 3000, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    hashes[1500:] = hashes[rng.integers(0, 1500, 1500)]
    _check_groups(hashes, *group_codes(hashes))
    floats = rng.integers(0, 900, 3000) / 7.0
    floats[rng.random(3000) < 0.05] = np.nan
    floats[:2] = [0.0, -0.0]
    keys = pd.util.hash_array(floats)
    _check_groups(floats, *group_codes(floats, keys))


def test_few_distinct_values_keep_one_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_mlchecks.inputs import rows

    monkeypatch.setattr(rows, "PARTITION_ABOVE", 64)
    values = np.arange(3000, dtype=np.uint64) % np.uint64(3)
    codes, first = rows.group_codes(values)
    assert codes[:6].tolist() == [0, 1, 2, 0, 1, 2]  # one pd.factorize: order of appearance
    assert first.tolist() == [0, 1, 2]


@pytest.mark.usefixtures("partitioned")
@pytest.mark.parametrize(("n", "m"), [(40, 30), (3000, 2000)])
def test_partitioned_matches_are_the_sorts(n: int, m: int) -> None:
    train, test = _splits(n, m, n * m)
    _same(dict(_overlap(train, test)), _old_overlap(train, test))
    train = train.assign(x=np.random.default_rng(n).normal(size=n))  # a mostly unique column
    test = test.assign(x=np.random.default_rng(m).normal(size=m))
    test.iloc[:5] = train.iloc[:5].to_numpy()
    _same(dict(_overlap(train, test)), _old_overlap(train, test))


def test_partitioned_column_profile_is_the_factorized_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_mlchecks.checks.data import leakage
    from pytest_mlchecks.inputs import rows

    rng = np.random.default_rng(8)
    repeated = pd.DataFrame({"a": rng.integers(0, 500, 3000) / 3.0, "b": rng.integers(0, 9, 3000)})
    unique = repeated.assign(u=rng.normal(size=3000))
    before = [leakage._column_profile(f) for f in (repeated, unique)]
    monkeypatch.setattr(rows, "PARTITION_ABOVE", 64)
    monkeypatch.setattr(rows, "PARTITION_ROWS", 8)
    monkeypatch.setattr(leakage, "PARTITION_ABOVE", 64)
    after = [leakage._column_profile(f) for f in (repeated, unique)]
    assert after == before
    assert before[1][0] == ["u"] and before[0][0] == []
