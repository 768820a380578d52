"""Checks given native frames compute in the engine and agree with the pandas path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckUsageError

SAME = ("rows", "duplicate_rows", "columns_compared")
ENTITY = (
    "rows_test",
    "entities_train",
    "entities_test",
    "shared_entities",
    "test_rows_of_shared_entities",
    "train_rows_of_shared_entities",
    "rows_with_missing_id",
)


def _table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 120, n).astype(float),
            "x": rng.normal(size=n),
            "k": rng.choice(["a", "b", None], n),
            "u": rng.normal(size=n),
        }
    )
    df.loc[::37, "customer_id"] = np.nan
    df.loc[::11, "x"] = np.nan
    return df


@pytest.mark.parametrize("copies", [0, 7])
def test_no_duplicates_in_engine_matches_pandas(to_native, copies: int) -> None:
    df = _table()
    df = pd.concat([df, df.iloc[[1, 11, 22, 37, 50, 60, 70][:copies]]], ignore_index=True)
    eager = mlc.check_no_duplicates(df)
    native = mlc.check_no_duplicates(to_native(df))
    assert native.passed is eager.passed is (copies == 0)
    assert native.value == eager.value
    assert {k: native.details[k] for k in SAME} == {k: eager.details[k] for k in SAME}
    assert native.details["engine"] and native.details["exact"]
    sub = mlc.check_no_duplicates(to_native(df), subset=["k"])
    assert sub.value == mlc.check_no_duplicates(df, subset=["k"]).value


@pytest.mark.parametrize("split", ["entity", "rows"])
def test_no_entity_overlap_in_engine_matches_pandas(to_native, split: str) -> None:
    df = _table()
    if split == "entity":
        known = df["customer_id"].fillna(-1)
        train, test = df[known % 4 != 0], df[known % 4 == 0]
    else:
        train, test = df.iloc[:300], df.iloc[300:]
    eager = mlc.check_no_entity_overlap(train, test, "customer_id")
    native = mlc.check_no_entity_overlap(to_native(train), to_native(test), "customer_id")
    assert native.passed is eager.passed is (split == "entity")
    assert native.value == eager.value
    assert {k: native.details[k] for k in ENTITY} == {k: eager.details[k] for k in ENTITY}
    assert str(int(df["customer_id"].max())) not in native.message  # counts, never ids


def test_native_bad_input_is_a_usage_error(to_native) -> None:
    df = _table()
    with pytest.raises(MLCheckUsageError, match="both splits on one engine"):
        mlc.check_no_entity_overlap(to_native(df), df, "customer_id")
    with pytest.raises(MLCheckUsageError, match="nope"):
        mlc.check_no_entity_overlap(to_native(df), to_native(df), "nope")
    with pytest.raises(MLCheckUsageError, match="missing id"):
        empty_ids = df.assign(customer_id=np.nan)
        mlc.check_no_entity_overlap(to_native(empty_ids), to_native(df), "customer_id")
    with pytest.raises(MLCheckUsageError, match="nope"):
        mlc.check_no_duplicates(to_native(df), subset=["nope"])


@pytest.mark.parametrize("allow_nan", [False, True])
def test_finite_in_engine_matches_pandas(to_native, allow_nan: bool) -> None:
    df = _table()
    clean = df[["u"]].assign(n=np.arange(len(df)))
    for frame, broken in (
        (clean, False),
        (df.assign(u=df["u"].replace(df["u"].iloc[3], np.inf)), True),
    ):
        eager = mlc.check_finite(frame, allow_nan=allow_nan)
        native = mlc.check_finite(to_native(frame), allow_nan=allow_nan)
        assert native.passed is eager.passed
        assert native.passed is not broken
        assert native.value == eager.value
        for key in ("rows", "numeric_columns", "non_finite_cells", "rows_affected", "columns"):
            assert native.details[key] == eager.details[key], key
        assert native.details["engine"]
    with pytest.raises(MLCheckUsageError, match="no numeric columns"):
        mlc.check_finite(to_native(df[["k"]]))
