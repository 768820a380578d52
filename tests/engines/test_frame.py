"""The engine layer gives the figures pandas gives, computed inside each engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import MLCheckUsageError
from pytest_mlchecks.engines import NativeFrame, engine_of, native_pair


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 1500
    train = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.choice(["a", "b", None], size=n),
            "i": rng.integers(0, 5, n),
            "f": rng.normal(size=n).astype("float32"),
        }
    )
    train.loc[::17, "x"] = np.nan
    train.loc[3, "x"] = np.inf
    train.loc[4, "x"] = -np.inf
    train.loc[5, "x"] = -0.0
    copied = train.iloc[[1, 17, 34, 5, 100]]  # rows with missing cells and -0.0 among them
    fresh = pd.DataFrame(
        {"x": [9.0, np.nan], "k": ["z", None], "i": [9, 1], "f": np.float32([1.5, 2.5])}
    )
    test = pd.concat([copied, fresh], ignore_index=True)
    test.loc[3, "x"] = 0.0  # -0.0 in train, +0.0 in test: equal values
    return train, test


def test_engine_detection_imports_nothing() -> None:
    assert engine_of(pd.DataFrame()) is None
    assert engine_of(np.zeros(3)) is None
    assert engine_of([1, 2]) is None


def test_counts_match_pandas(to_native) -> None:
    train, _ = _tables()
    frame = NativeFrame(to_native(train), "train")
    assert frame.engine == engine_of(frame.native)
    assert [frame.kind(c) for c in frame.columns] == ["float", "string", "int", "float"]
    assert frame.n_rows() == len(train)
    counts = frame.missing_counts(["x", "k", "i"])
    assert counts["x"]["missing"] == int(train["x"].isna().sum())
    assert counts["x"]["posinf"] == 1 and counts["x"]["neginf"] == 1
    assert counts["k"]["missing"] == int(train["k"].isna().sum())
    assert counts["i"]["missing"] == 0
    lo, hi = frame.min_max(["x"], finite=True)["x"]
    finite = train["x"][np.isfinite(train["x"])]
    assert (lo, hi) == (finite.min(), finite.max())


def test_distinct_and_overlap_match_pandas(to_native) -> None:
    train, test = _tables()
    a, b = NativeFrame(to_native(train), "train"), NativeFrame(to_native(test), "test")
    assert a.n_distinct_rows(["i", "k"]) == len(train[["i", "k"]].drop_duplicates())
    assert a.n_distinct_rows(a.columns) == len(train.drop_duplicates())
    # the five copied rows (NaN, None, -0.0 among them) are found; the two fresh ones are not
    assert b.rows_found_in(a, a.columns) == 5
    ids = set(test["i"])
    assert b.distinct_found_in(a, ["i"]) == (len(ids & set(train["i"])), len(ids))
    assert 9 in ids - set(train["i"])
    assert a.rows_found_in(a, a.columns) == len(train)


def test_value_counts_and_histogram_match_pandas(to_native) -> None:
    train, _ = _tables()
    frame = NativeFrame(to_native(train), "train")
    counts = frame.value_counts("k")
    expected = train["k"].value_counts(dropna=False)
    assert counts == {(None if pd.isna(k) else k): int(v) for k, v in expected.items()}
    edges = [-1.0, 0.0, 1.0]
    bins, missing = frame.histogram("x", edges)
    values = train["x"].dropna().to_numpy()
    assert bins == np.bincount(np.searchsorted(edges, values), minlength=4).tolist()
    assert missing == int(train["x"].isna().sum())


def test_quantiles_within_their_bound(to_native) -> None:
    train, _ = _tables()
    frame = NativeFrame(to_native(train), "train")
    probs = [0.1, 0.5, 0.9]
    got, bound = frame.quantiles("x", probs)
    finite = train["x"][np.isfinite(train["x"])].to_numpy()
    exact = np.quantile(finite, probs)
    assert bound > 0
    assert np.all(np.abs(np.asarray(got) - exact) <= bound + 1e-12)


def test_sample_is_seeded_and_bounded(to_native) -> None:
    train, _ = _tables()
    frame = NativeFrame(to_native(train), "train")
    one = frame.sample(200, seed=3)
    two = frame.sample(200, seed=3)
    assert len(one) == 200 and list(one.columns) == list(train.columns)
    pd.testing.assert_frame_equal(one.reset_index(drop=True), two.reset_index(drop=True))
    assert len(frame.sample(10_000, seed=3)) == len(train)


def test_mixed_engines_are_a_usage_error(to_native) -> None:
    train, test = _tables()
    native = to_native(train)
    with pytest.raises(MLCheckUsageError, match="both splits on one engine"):
        native_pair(native, test)
    assert native_pair(native, to_native(test)) == engine_of(native)
    assert native_pair(train, test) is None


def test_unknown_columns_are_named(to_native) -> None:
    train, _ = _tables()
    frame = NativeFrame(to_native(train), "train")
    with pytest.raises(MLCheckUsageError, match="nope"):
        frame.require_columns(["x", "nope"], "columns")


def test_int_ids_meet_float_ids(to_native) -> None:
    train = pd.DataFrame({"id": [1, 2, 3, 4], "v": [0.5, 1.5, 2.5, 3.5]})
    test = pd.DataFrame({"id": [3.0, 7.0, np.nan], "v": [2.5, 1.0, 0.0]})
    a, b = NativeFrame(to_native(train), "train"), NativeFrame(to_native(test), "test")
    assert b.distinct_found_in(a, ["id"]) == (1, 3)
    assert b.rows_found_in(a, ["id", "v"]) == 1


def _exact_ks(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


@pytest.mark.parametrize("shift", [0.0, 0.3, 2.0])
def test_ks_interval_holds_the_exact_statistic(to_native, shift: float) -> None:
    from pytest_mlchecks.engines.measures import ks_interval

    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"x": rng.normal(size=3000)})
    cur = pd.DataFrame({"x": rng.normal(shift, 1.0, size=2000)})
    cur.loc[::50, "x"] = np.nan
    interval = ks_interval(
        NativeFrame(to_native(ref), "reference"), NativeFrame(to_native(cur), "current"), "x"
    )
    exact = _exact_ks(ref["x"].to_numpy(), cur["x"].dropna().to_numpy())
    assert interval.low <= exact + 1e-12
    assert exact <= interval.high + 1e-12
    assert interval.width < 0.02


def test_psi_counts_and_categories_match_pandas(to_native) -> None:
    from pytest_mlchecks.engines.measures import category_counts, psi_counts, quantile_edges

    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=4000), "c": rng.choice(["a", "b"], 4000)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1, 3000), "c": rng.choice(["a", "b", "new"], 3000)})
    cur.loc[::10, "x"] = np.nan
    a, b = NativeFrame(to_native(ref), "reference"), NativeFrame(to_native(cur), "current")
    edges, bound = quantile_edges(a, "x", 10)
    exact = np.quantile(ref["x"], np.linspace(0, 1, 11)[1:-1])
    assert len(edges) == 9
    assert np.all(np.abs(np.asarray(edges) - exact) <= bound + 1e-9)
    ref_counts, cur_counts = psi_counts(a, b, "x", edges)
    values = cur["x"].dropna().to_numpy()
    expected = np.bincount(np.searchsorted(edges, values), minlength=10).tolist()
    assert cur_counts == [*expected, int(cur["x"].isna().sum())]
    assert sum(ref_counts) == len(ref)
    ref_c, cur_c, new = category_counts(a, b, "c")
    assert new == 1 and sum(ref_c) == len(ref) and sum(cur_c) == len(cur)
