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
