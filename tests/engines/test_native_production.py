"""The production checks given native frames compute in the engine and agree with pandas:
infer_schema, schema_matches, no_drift (PSI and KS), in_distribution."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckUsageError
from pytest_mlchecks.engines import production
from pytest_mlchecks.engines.measures import KSInterval
from pytest_mlchecks.schema import QUANTILES, infer_schema


def _table(n: int = 1500, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    """NaN and None in one column, +-Inf, -0.0, float32 and float64, a discrete integer
    column, categories with missing values, booleans, and duplicated rows."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) + shift
    x[::50] = np.nan
    x[7], x[8], x[9], x[10] = np.inf, -np.inf, -0.0, 0.0
    k = rng.choice(
        np.array(["a", "b", "c", None, np.nan], dtype=object), n, p=[0.4, 0.3, 0.2, 0.05, 0.05]
    )
    df = pd.DataFrame(
        {
            "x": x,
            "f32": rng.normal(size=n).astype("float32"),
            "n": rng.integers(0, 8, n),
            "k": k,
            "b": rng.random(n) < 0.3,
        }
    )
    return pd.concat([df, df.iloc[:20]], ignore_index=True)  # duplicated rows


def _schema_dict(schema: Any) -> list[dict[str, Any]]:
    return list(json.loads(schema.to_json())["columns"])


def test_infer_schema_in_engine_matches_pandas(to_native) -> None:
    df = _table()
    eager, native = _schema_dict(infer_schema(df)), _schema_dict(infer_schema(to_native(df)))
    assert [c["name"] for c in native] == [c["name"] for c in eager]
    for a, b in zip(eager, native, strict=True):
        qa, qb = a.pop("quantiles", None), b.pop("quantiles", None)
        assert a == b, a["name"]
        if qa is not None:  # every row is in the sample at this size: exact
            assert qb == pytest.approx(qa, rel=1e-12, abs=1e-12)
    assert infer_schema(to_native(df)).n_rows == len(df)


def test_infer_schema_quantiles_of_large_frames_within_rank_error(
    to_native, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(production, "SAMPLE_ROWS", 400)  # 3,000 rows > the sample
    df = pd.DataFrame({"u": np.random.default_rng(3).random(3000)})
    spec = infer_schema(to_native(df))["u"]
    assert spec.min == df["u"].min() and spec.max == df["u"].max()  # extremes stay exact
    assert spec.quantiles is not None
    for q in QUANTILES:
        rank = float((df["u"] <= spec.quantiles[f"{q:g}"]).mean())
        assert abs(rank - q) <= 4 * np.sqrt(q * (1 - q) / 400) + 1 / 400


def _broken(case: str, cur: pd.DataFrame) -> pd.DataFrame:
    cur = cur.copy()
    if case == "type":
        cur["n"] = cur["n"].astype(str)
    elif case == "range":
        cur.loc[cur.index[::100], "x"] = -999_999.0
    elif case == "nulls":
        cur.loc[cur.index[::3], "f32"] = np.nan
    elif case == "unseen":
        cur.loc[cur.index[::10], "k"] = "zzz"
    return cur


RULE = {"type": "dtype", "range": "range", "nulls": "null_rate", "unseen": "unseen_categories"}


@pytest.mark.parametrize("case", ["conforming", "type", "range", "nulls", "unseen"])
def test_schema_matches_in_engine_matches_pandas(to_native, case: str) -> None:
    ref = _table()
    cur = _broken(case, _table(seed=1))
    cur["f32"] = cur["f32"].astype("float64")  # float32 vs float64: the same kind
    eager = mlc.check_schema_matches(cur, ref)
    for expected in (to_native(ref), infer_schema(ref)):
        native = mlc.check_schema_matches(to_native(cur), expected)
        assert native.passed is eager.passed is (case == "conforming")
        assert native.details["violations"] == eager.details["violations"]
        assert native.value == eager.value
        assert native.details["engine"] and native.details["exact"] is True
        if case != "conforming":
            assert {v["rule"] for v in native.details["violations"]} == {RULE[case]}


def test_schema_written_from_an_engine_reads_back(to_native, tmp_path) -> None:
    df = _table()
    path = tmp_path / "schema.json"
    wrote = mlc.check_schema_matches(to_native(df), path, update=True)
    assert wrote.passed and wrote.details["updated"]
    assert mlc.check_schema_matches(to_native(df), path).passed
    assert mlc.check_schema_matches(df, path).passed  # the same contract for pandas


@pytest.mark.parametrize("method", ["psi", "ks"])
@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_no_drift_in_engine_matches_pandas(to_native, method: str, shift: float) -> None:
    ref, cur = _table(), _table(seed=1, shift=shift)
    cur["f32"] = cur["f32"].astype("float64")
    eager = mlc.check_no_drift(ref, cur, method=method)
    native = mlc.check_no_drift(to_native(ref), to_native(cur), method=method)
    assert native.passed is eager.passed is (shift == 0.0)
    assert native.details["drifted"] == eager.details["drifted"] == ([] if shift == 0 else ["x"])
    assert native.details["engine"]
    by_column = {r["column"]: r for r in eager.details["columns"]}
    for row in native.details["columns"]:
        exact = by_column[row["column"]]
        assert row["psi"] == pytest.approx(exact["psi"], abs=1e-3)
        assert row["level"] == exact["level"]
        if "ks" in exact:  # the interval holds pandas' exact KS (every value, n < 50,000)
            low, high = row["ks_interval"]
            assert low - 1e-12 <= exact["ks"] <= high + 1e-12
    assert native.details["exact"] is (method == "psi")
    if method == "ks":
        assert native.details["approximations"][0]["what"] == "KS"


def test_no_drift_undecided_ks_is_a_warning(to_native, monkeypatch: pytest.MonkeyPatch) -> None:
    ref, cur = _table(), _table(seed=1)
    monkeypatch.setattr(production, "ks_interval", lambda *a, **k: KSInterval(0.01, 0.9, 1000))
    native = mlc.check_no_drift(to_native(ref[["x"]]), to_native(cur[["x"]]), method="ks")
    assert not native.passed and native.severity == "warning"
    assert native.details["columns"][0]["undecided"] is True
    assert "Undecided" in native.message
    monkeypatch.setattr(production, "ks_interval", lambda *a, **k: KSInterval(0.01, 0.02, 1000))
    assert mlc.check_no_drift(to_native(ref[["x"]]), to_native(cur[["x"]]), method="ks").passed


def test_no_drift_large_reference_records_its_edge_sample(
    to_native, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(production, "SAMPLE_ROWS", 500)
    ref, cur = _table(), _table(seed=1)
    native = mlc.check_no_drift(to_native(ref), to_native(cur))
    assert native.passed and native.details["exact"] is False
    assert "500" in native.details["approximations"][0]["how"]


@pytest.mark.parametrize("broken", [False, True])
def test_in_distribution_in_engine_matches_pandas(to_native, broken: bool) -> None:
    train, new = _table(), _table(seed=1)
    if broken:
        new.loc[new.index[::20], "x"] = 80.0
        new.loc[new.index[::15], "k"] = "zzz"
    eager = mlc.check_in_distribution(new, train)
    native = mlc.check_in_distribution(to_native(new), to_native(train))
    assert native.passed is eager.passed is (not broken)
    assert native.value == eager.value
    figures = {k: v for k, v in native.details.items() if k not in ("engine", "exact")}
    assert figures == eager.details
    assert native.details["engine"] and native.details["exact"] is True


def test_ids_are_skipped_as_on_pandas(to_native) -> None:
    ref, cur = _table(), _table(seed=1)
    rng = np.random.default_rng(0)
    ref["customer_id"] = rng.permutation(len(ref))
    cur["customer_id"] = rng.permutation(len(cur)) + len(ref)
    eager = mlc.check_no_drift(ref, cur)
    native = mlc.check_no_drift(to_native(ref), to_native(cur))
    assert (
        native.details["skipped"] == eager.details["skipped"] == {"customer_id": "unique integers"}
    )
    assert native.passed and eager.passed
    ood = mlc.check_in_distribution(to_native(cur), to_native(ref))
    assert ood.details["skipped_keys"] == ["customer_id"] and ood.passed


def test_production_checks_want_one_engine(to_native) -> None:
    df = _table()
    with pytest.raises(MLCheckUsageError, match="both splits on one engine"):
        mlc.check_no_drift(to_native(df), df)
    with pytest.raises(MLCheckUsageError, match="both splits on one engine"):
        mlc.check_in_distribution(df, to_native(df))
    with pytest.raises(MLCheckUsageError, match="both splits on one engine"):
        mlc.check_schema_matches(df, to_native(df))
    native = to_native(df)  # Spark infers no schema from an empty pandas frame: limit(0)
    empty = native.limit(0) if hasattr(native, "limit") else to_native(df.iloc[:0])
    with pytest.raises(MLCheckUsageError, match="empty"):
        mlc.check_no_drift(to_native(df), empty)
    with pytest.raises(MLCheckUsageError, match="nope"):
        mlc.check_no_drift(to_native(df), to_native(df), columns=["nope"])
