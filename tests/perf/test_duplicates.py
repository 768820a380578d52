"""check_no_duplicates' linear hash-table grouping (issue #18) against the sort it replaced:
the same duplicate rows and first positions, hash collisions included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import check_no_duplicates
from pytest_mlchecks.checks.data.leakage import _hashed, _measure_duplicates, _rows_equal


def _old_duplicates(frame: pd.DataFrame) -> dict[str, Any]:
    n = len(frame)
    part, hashes = _hashed(frame)
    order = np.argsort(hashes, kind="stable")
    sorted_h = hashes[order]
    repeat = np.zeros(n, dtype=bool)
    repeat[1:] = sorted_h[1:] == sorted_h[:-1]
    run_start = np.maximum.accumulate(np.where(~repeat, np.arange(n), 0))
    dup_rows = order[repeat]
    first_rows = order[run_start[repeat]]
    if len(dup_rows):
        ok = _rows_equal(
            part.iloc[first_rows].reset_index(drop=True),
            part.iloc[dup_rows].reset_index(drop=True),
        )
        dup_rows = dup_rows[ok]
    return {
        "rows": n,
        "duplicate_rows": len(dup_rows),
        "columns_compared": frame.shape[1],
        "first_duplicate_positions": sorted(int(i) for i in dup_rows)[:10],
    }


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, n).astype(float)
    a[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "a": a,
            "b": rng.integers(0, 3, n),
            "c": pd.Categorical(rng.choice(["x", "y"], n), categories=["x", "y", "z"]),
            "d": rng.choice(np.array(["p", None, "q"], dtype=object), n),
        }
    )


@pytest.mark.parametrize("n", [1, 2, 7, 40, 3000])
def test_same_duplicates_as_the_sort(n: int) -> None:
    frame = _frame(n, n)
    assert dict(_measure_duplicates(frame, None)) == _old_duplicates(frame)


def test_no_duplicates_and_all_duplicates() -> None:
    unique = pd.DataFrame({"x": np.arange(50.0)})
    assert _measure_duplicates(unique, None)["duplicate_rows"] == 0
    assert check_no_duplicates(unique).passed
    same = pd.DataFrame({"x": np.zeros(50)})
    assert dict(_measure_duplicates(same, None)) == _old_duplicates(same)
    assert _measure_duplicates(same, None)["duplicate_rows"] == 49
    assert not check_no_duplicates(same).passed


def test_hash_collisions_are_verified_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_mlchecks.inputs import rows

    real = rows.hash_rows
    monkeypatch.setattr(rows, "hash_rows", lambda frame: real(frame) % np.uint64(5))
    frame = _frame(500, 9)
    assert dict(_measure_duplicates(frame, None)) == _old_duplicates(frame)


@pytest.mark.parametrize("n", [40, 3000])
def test_duplicates_are_what_pandas_finds(n: int) -> None:
    frame = _frame(n, n + 1)
    found = _measure_duplicates(frame, None)
    duplicated = frame.duplicated().to_numpy()
    assert found["duplicate_rows"] == int(duplicated.sum())
    assert found["first_duplicate_positions"] == [int(i) for i in np.flatnonzero(duplicated)[:10]]


@pytest.mark.parametrize("n", [100, 3000])
def test_partitioned_duplicates_are_the_sorts(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_mlchecks.inputs import rows

    monkeypatch.setattr(rows, "PARTITION_ABOVE", 64)
    monkeypatch.setattr(rows, "PARTITION_ROWS", 8)
    frame = _frame(n, n + 2).assign(x=np.arange(n) % (n // 3))
    assert dict(_measure_duplicates(frame, None)) == _old_duplicates(frame)
