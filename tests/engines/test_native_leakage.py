"""Row overlap, temporal and target leakage, class balance and the leakage umbrella given native
frames: computed in the engine, the same verdicts and figures as the pandas path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckUsageError
from pytest_mlchecks.checks.data import leakage

NATIVE_ONLY = ("engine", "exact", "first_test_positions", "engine_sample", "approximation")


def _same(native: Any, eager: Any) -> None:
    """Same verdict, figure and details (native-only keys aside), same headline."""
    assert native.passed is eager.passed
    assert native.value == eager.value
    ours = {k: v for k, v in native.details.items() if k not in NATIVE_ONLY}
    theirs = {k: v for k, v in eager.details.items() if k not in NATIVE_ONLY}
    assert ours == theirs
    assert native.message.splitlines()[0] == eager.message.splitlines()[0]
    assert native.details["engine"]


# ---------------------------------------------------------------------------- row overlap


def _measured(n: int = 500, seed: int = 0) -> pd.DataFrame:
    """A table with a continuous column (rows are unique): any shared row is a copy."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.choice(["a", "b", None], n),
            "f": rng.normal(size=n).astype("float32"),
            "i": rng.integers(0, 5, n),
        }
    )
    df["when"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**9, n), "us")
    df.loc[::9, "x"] = np.nan
    df.loc[5, "x"] = -0.0
    df.loc[::7, "when"] = pd.NaT
    return df


def _natural(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """An all-categorical table whose rows repeat by chance."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 30, n),
            "b": rng.choice(["x", "y", "z", "w", None], n),
            "c": rng.integers(0, 9, n).astype(float),
        }
    )
    df.loc[::13, "c"] = np.nan
    return df


def _seen_once(train: pd.DataFrame) -> pd.DataFrame:
    key = train.astype(object).fillna("NA").astype(str).agg("|".join, axis=1)
    return train[key.map(key.value_counts()) == 1]


def _splits(case: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    if case in ("measured", "measured copies", "float32 in test", "float32 in train"):
        df = _measured()
        train, test = df.iloc[:400], df.iloc[400:]
        if case != "measured":
            test = pd.concat([test, train.iloc[[1, 9, 18, 5, 14]]], ignore_index=True)
        if case == "float32 in test":
            train = train.assign(f=train["f"].astype("float64"))
        if case == "float32 in train":
            test = test.assign(f=test["f"].astype("float64"))
        return train, test
    df = _natural()
    train, test = df.iloc[:1500], df.iloc[1500:]
    if case == "natural copies":
        test = pd.concat([test, _seen_once(train).iloc[:150]], ignore_index=True)
    return train, test


@pytest.mark.parametrize(
    ("case", "passes", "natural"),
    [
        ("measured", True, False),
        ("measured copies", False, False),
        ("float32 in test", False, False),
        ("float32 in train", False, False),
        ("natural", True, True),
        ("natural copies", False, True),
    ],
)
def test_row_overlap_in_engine_matches_pandas(to_native, case: str, passes: bool, natural: bool):
    train, test = _splits(case)
    eager = mlc.check_no_row_overlap(train, test)
    native = mlc.check_no_row_overlap(to_native(train), to_native(test))
    _same(native, eager)
    assert native.passed is passes
    assert native.details["rows_repeat_naturally"] is natural
    assert native.details["exact"] is True
    assert "first_test_positions" not in native.details  # engine rows have no order


def test_row_overlap_in_engine_columns_and_ids(to_native) -> None:
    train, test = _splits("measured copies")
    train = train.assign(row_id=np.arange(len(train)))
    test = test.assign(row_id=np.arange(len(test)) + 10_000)
    for kwargs in ({"id_columns": "row_id"}, {"columns": ["k", "i"]}, {}):
        eager = mlc.check_no_row_overlap(train, test, **kwargs)
        native = mlc.check_no_row_overlap(to_native(train), to_native(test), **kwargs)
        _same(native, eager)
    with pytest.raises(MLCheckUsageError, match="no columns left"):
        mlc.check_no_row_overlap(to_native(train), to_native(test), columns=["k"], id_columns="k")
    with pytest.raises(MLCheckUsageError, match="different columns"):
        mlc.check_no_row_overlap(to_native(train), to_native(test.drop(columns="k")))


# ---------------------------------------------------------------------------- temporal


def _stamped(kind: str) -> pd.DataFrame:
    n = 300
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.normal(size=n)})
    if kind in ("naive", "aware"):
        df["t"] = pd.date_range("2021-01-01", periods=n, freq="h")
        df.loc[::17, "t"] = pd.NaT
        if kind == "aware":
            df["t"] = df["t"].dt.tz_localize("Europe/Paris")
    elif kind == "int":
        df["t"] = np.arange(n)
    else:
        df["t"] = np.where(np.arange(n) % 7 == 0, np.nan, np.arange(n) + 0.5)
    return df


@pytest.mark.parametrize("kind", ["naive", "aware", "int", "float"])
@pytest.mark.parametrize("leak", [False, True])
def test_temporal_leakage_in_engine_matches_pandas(to_native, kind: str, leak: bool) -> None:
    df = _stamped(kind)
    train, test = (df.iloc[50:], df.iloc[:100]) if leak else (df.iloc[:200], df.iloc[200:])
    eager = mlc.check_no_temporal_leakage(train, test, "t")
    native = mlc.check_no_temporal_leakage(to_native(train), to_native(test), "t")
    _same(native, eager)
    assert native.message == eager.message
    assert native.passed is not leak
    assert native.details["exact"] is True


def test_temporal_leakage_in_engine_usage_errors(to_native) -> None:
    df = _stamped("naive")
    with pytest.raises(MLCheckUsageError, match="not a column of train"):
        mlc.check_no_temporal_leakage(to_native(df), to_native(df), "nope")
    text = df.assign(t=df["t"].astype(str))
    with pytest.raises(MLCheckUsageError, match="text is not parsed"):
        mlc.check_no_temporal_leakage(to_native(text), to_native(text), "t")
    numbers = df.assign(t=np.arange(len(df)))
    with pytest.raises(MLCheckUsageError, match="same kind of time stamps"):
        mlc.check_no_temporal_leakage(to_native(df), to_native(numbers), "t")
    blank = numbers.assign(t=np.nan)
    with pytest.raises(MLCheckUsageError, match="missing for every test row"):
        mlc.check_no_temporal_leakage(to_native(numbers), to_native(blank), "t")


# ---------------------------------------------------------------------------- class balance


LABELS = {
    "int": np.random.default_rng(2).choice([0, 1, 2], 1000, p=[0.6, 0.35, 0.05]),
    "str": np.random.default_rng(3).choice(["b", "a", "c", "d"], 1000),
    "float": np.random.default_rng(4).choice([1.0, 0.0, 2.0, 10.0], 1000),
    "bool": np.random.default_rng(5).random(1000) < 0.07,
    "ties": np.array([2, 1, 3, 1, 2, 3] * 5),
}


@pytest.mark.parametrize("labels", list(LABELS))
def test_class_balance_in_engine_matches_pandas(to_native, labels: str) -> None:
    y = LABELS[labels]
    eager = mlc.check_class_balance(y)
    native = mlc.check_class_balance(to_native(pd.DataFrame({"y": y})))
    _same(native, eager)
    assert native.message == eager.message
    assert list(native.details["counts"]) == list(eager.details["counts"])  # rarest first
    assert native.details["exact"] is True


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (pd.DataFrame({"y": [0.5, 1.0]}), "non-integer"),
        (pd.DataFrame({"y": [1.0, np.inf]}), "non-integer"),
        (pd.DataFrame({"y": [1.0, np.nan, 2.0]}), "1 missing labels"),
        (pd.DataFrame({"y": ["a", None, "b"]}), "1 missing labels"),
        (pd.DataFrame({"y": [1, 1]}), "single class"),
        (pd.DataFrame({"y": [1, 2], "z": [1, 2]}), "one label column"),
    ],
)
def test_class_balance_in_engine_usage_errors(to_native, frame: pd.DataFrame, error: str) -> None:
    with pytest.raises(MLCheckUsageError, match=error):
        mlc.check_class_balance(to_native(frame))


def test_class_balance_in_engine_rejects_ids(to_native, monkeypatch) -> None:
    from pytest_mlchecks.checks.data import quality

    monkeypatch.setattr(quality, "MAX_NATIVE_CLASSES", 50)
    with pytest.raises(MLCheckUsageError, match="more than 50 distinct values"):
        mlc.check_class_balance(to_native(pd.DataFrame({"y": np.arange(200) % 60})))


# ---------------------------------------------------------------------------- target leakage


def _labelled(task: str, leak: bool, n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {"x": rng.normal(size=n), "k": rng.choice(["a", "b", None], n), "z": rng.normal(size=n)}
    )
    signal = df["x"] + rng.normal(size=n)
    if task == "binary":
        df["y"] = (signal > 0).astype(int)
    elif task == "multiclass":
        df["y"] = np.digitize(signal, [-1.0, 0.0, 1.0])
    else:
        df["y"] = signal
    if leak:
        df["leak"] = df["y"] + rng.normal(scale=0.01, size=n)
    df.loc[::11, "x"] = np.nan
    return df


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("leak", [False, True])
def test_target_leakage_in_engine_matches_pandas(to_native, task: str, leak: bool) -> None:
    df = _labelled(task, leak)
    train, test = df.iloc[:800], df.iloc[800:]
    eager = mlc.check_no_target_leakage(train, test, "y")
    native = mlc.check_no_target_leakage(to_native(train), to_native(test), "y")
    _same(native, eager)  # splits under the sample size: pulled whole, the pandas verdict
    assert native.passed is not leak
    assert native.details["exact"] is True
    assert native.details["engine_sample"]["train"] == 800
    assert "approximation" not in native.details


def test_target_leakage_in_engine_samples_large_splits(to_native, monkeypatch) -> None:
    monkeypatch.setattr(leakage, "NATIVE_SAMPLE_ROWS", 300)
    df = _labelled("binary", leak=True)
    train, test = to_native(df.iloc[:800]), to_native(df.iloc[800:])
    first = mlc.check_no_target_leakage(train, test, "y", random_state=3)
    again = mlc.check_no_target_leakage(train, test, "y", random_state=3)
    assert not first.passed and first.details["leaking_features"] == ["leak"]
    assert (again.passed, again.value, again.details) == (first.passed, first.value, first.details)
    assert first.details["exact"] is False
    assert first.details["rows_train"] == 800 and first.details["rows_test"] == 400
    assert first.details["sampled_rows"] == {"train": 300, "test": 300}
    assert first.details["engine_sample"]["limit"] == 300
    assert "seeded sample of at most 300 rows" in first.details["approximation"]
    clean = _labelled("binary", leak=False)
    passed = mlc.check_no_target_leakage(
        to_native(clean.iloc[:800]), to_native(clean.iloc[800:]), "y", random_state=3
    )
    assert passed.passed


def test_target_leakage_in_engine_usage_errors(to_native) -> None:
    df = _labelled("binary", leak=False)
    train, test = df.iloc[:800], df.iloc[800:]
    with pytest.raises(MLCheckUsageError, match="not a column of train"):
        mlc.check_no_target_leakage(to_native(train.drop(columns="y")), to_native(test), "y")
    gaps = test.assign(y=test["y"].astype(float).where(np.arange(len(test)) % 100 != 0))
    with pytest.raises(MLCheckUsageError, match=r"\(0 in train, 4 in test\)"):
        mlc.check_no_target_leakage(to_native(train.astype({"y": float})), to_native(gaps), "y")
    unseen = test.assign(y=np.where(np.arange(len(test)) < 7, 5, test["y"]))
    with pytest.raises(MLCheckUsageError, match="7 test rows with classes never seen"):
        mlc.check_no_target_leakage(to_native(train), to_native(unseen), "y", task="multiclass")


# ---------------------------------------------------------------------------- umbrella


def _full_splits() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = _labelled("binary", leak=True).assign(
        customer=np.arange(1200) % 300,
        t=pd.date_range("2021-01-01", periods=1200, freq="h"),
    )
    return df.iloc[100:900], pd.concat([df.iloc[900:], df.iloc[:5]], ignore_index=True)


def test_no_leakage_umbrella_in_engine_matches_pandas(to_native) -> None:
    train, test = _full_splits()
    kwargs: dict[str, Any] = {"target": "y", "time_column": "t", "id_columns": "customer"}
    eager = mlc.check_no_leakage(train, test, **kwargs)
    native = mlc.check_no_leakage(to_native(train), to_native(test), **kwargs)
    assert native.passed is eager.passed is False
    assert [r.name for r in native.results] == [r.name for r in eager.results]
    assert len(native.results) == 4
    for ours, theirs in zip(native.results, eager.results, strict=True):
        assert ours.passed is theirs.passed, ours.name
        assert ours.value == theirs.value, ours.name
        assert ours.details["engine"], ours.name
    target = native.results[2].details
    assert "t" not in [f["feature"] for f in target["top_features"]]  # time column not scored


@pytest.mark.parametrize(
    "call",
    [
        lambda a, b: mlc.check_no_row_overlap(a, b),
        lambda a, b: mlc.check_no_temporal_leakage(a, b, "t"),
        lambda a, b: mlc.check_no_target_leakage(a, b, "y"),
        lambda a, b: mlc.check_no_leakage(a, b, target="y", time_column="t"),
    ],
)
def test_splits_on_two_engines_are_a_usage_error(to_native, call) -> None:
    train, test = _full_splits()
    with pytest.raises(MLCheckUsageError, match="both splits on one engine"):
        call(to_native(train), test)
    with pytest.raises(MLCheckUsageError, match="both splits on one engine"):
        call(train, to_native(test))


# ---------------------------------------------------------------------------- never collected


def test_native_frames_are_never_collected_whole(monkeypatch) -> None:
    """Every query a check sends to Polars brings back aggregates or a bounded sample: a
    collect or a pandas conversion of as many rows as a split holds fails the test."""
    pl = pytest.importorskip("polars")
    monkeypatch.setattr(leakage, "NATIVE_SAMPLE_ROWS", 300)
    train, test = _full_splits()
    smallest = min(len(train), len(test))
    collect, to_pandas = pl.LazyFrame.collect, pl.DataFrame.to_pandas
    pulled: list[int] = []

    def bounded_collect(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = collect(self, *args, **kwargs)
        pulled.append(out.height)
        assert out.height < smallest, f"a whole split collected ({out.height} rows)"
        return out

    def bounded_to_pandas(self: Any, *args: Any, **kwargs: Any) -> Any:
        assert self.height <= 300, f"{self.height} rows converted to pandas"
        return to_pandas(self, *args, **kwargs)

    monkeypatch.setattr(pl.LazyFrame, "collect", bounded_collect)
    monkeypatch.setattr(pl.DataFrame, "to_pandas", bounded_to_pandas)
    a, b = pl.from_pandas(train).lazy(), pl.from_pandas(test).lazy()
    kwargs: dict[str, Any] = {"target": "y", "time_column": "t", "id_columns": "customer"}
    report = mlc.check_no_leakage(a, b, **kwargs)
    assert len(report.results) == 4 and not report.passed
    assert mlc.check_class_balance(a.select("y")).details["n"] == len(train)
    assert mlc.check_no_duplicates(a).details["rows"] == len(train)
    assert pulled and max(pulled) <= 300


def test_seeded_sample_is_repeatable_and_spread_over_the_table(to_native) -> None:
    from pytest_mlchecks.engines import NativeFrame

    df = pd.DataFrame({"a": np.arange(3000), "b": np.arange(3000) % 7})
    frame = NativeFrame(to_native(df), "train")
    first, again = frame.sample(300, 5), frame.sample(300, 5)
    assert len(first) == 300
    assert sorted(first["a"]) == sorted(again["a"])
    assert first["a"].max() > 2700 and first["a"].min() < 300  # not the first partitions only
    assert frame.sample(5000, 5)["a"].tolist() == df["a"].tolist()  # all rows, in order


def test_frequencies_match_pandas(to_native) -> None:
    from pytest_mlchecks.engines import NativeFrame

    df = _natural(600)
    frame = NativeFrame(to_native(df), "train")
    found = frame.frequencies(list(df.columns))
    sizes = df.astype(object).fillna("NA").value_counts().to_numpy()
    assert found.distinct == len(sizes)
    assert (found.once, found.twice, found.thrice) == tuple(
        int(np.count_nonzero(sizes == k)) for k in (1, 2, 3)
    )
    assert found.equal_pairs == float((sizes * (sizes - 1) / 2).sum())
    seen_once = df.astype(object).fillna("NA").value_counts()
    once_missing = sum(
        1 for key, n in seen_once.items() if n == 1 and "NA" in [str(v) for v in key]
    )
    assert found.once_with_missing == once_missing
