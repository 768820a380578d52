"""infer_schema's one-pass profile (issue #18) against the per-row implementation it replaced:
the same JSON on every kind of column below the quantile sample size, exact min and max and
quantiles within their stated rank error above it."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks.checks.production.noise import RARE_MAX
from pytest_mlchecks.schema import (
    MAX_CATEGORIES,
    QUANTILE_SAMPLE,
    QUANTILES,
    ColumnSchema,
    Schema,
    id_like,
    infer_schema,
    is_key,
    kind_of,
)


def _old_infer_schema(frame: pd.DataFrame, max_categories: int = MAX_CATEGORIES) -> Schema:
    """infer_schema as it was before issue #18 (np.quantile on whole columns, astype(str))."""
    n = len(frame)
    columns: list[ColumnSchema] = []
    for name in frame.columns:
        col = frame[name]
        kind = kind_of(col.dtype)
        nulls = int(col.isna().sum())
        spec = ColumnSchema(name=str(name), dtype=str(col.dtype), kind=kind, null_rate=nulls / n)
        present = col.dropna()
        if kind in ("int", "float"):
            values = present.to_numpy(dtype=np.float64)
            spec.has_inf = bool(np.isinf(values).any()) or None
            values = values[np.isfinite(values)]
            if kind == "int":
                spec.n_unique = len(pd.unique(values))
                spec.key = is_key(col) or id_like(col) is not None or None
            if len(values):
                spec.min = float(values.min())
                spec.max = float(values.max())
                qs = np.quantile(values, QUANTILES)
                spec.quantiles = {f"{q:g}": float(v) for q, v in zip(QUANTILES, qs, strict=True)}
        elif kind == "datetime":
            spec.n_unique = int(present.nunique())
            if len(present):
                stamps = present.to_numpy(dtype="datetime64[ns]").astype(np.int64)
                spec.min = float(stamps.min())
                spec.max = float(stamps.max())
        elif kind in ("category", "string", "bool"):
            counts = present.astype(str).value_counts() if len(present) else pd.Series([])
            spec.n_unique = len(counts)
            if kind == "bool" or len(counts) <= max_categories:
                spec.categories = sorted(str(v) for v in counts.index)
                spec.singletons = int((counts == 1).sum())
                spec.rare_levels = int(((counts >= 2) & (counts <= RARE_MAX)).sum())
                spec.min_count = int(counts.min()) if len(counts) else None
        else:
            spec.n_unique = int(present.astype(str).nunique())
        columns.append(spec)
    return Schema(columns=columns, n_rows=n)


def _edge_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    normal = rng.normal(size=n)
    with_nan = normal.copy()
    with_nan[rng.random(n) < 0.1] = np.nan
    with_inf = normal.copy()
    with_inf[:3] = [np.inf, -np.inf, np.nan][:n]
    words = np.array(["a", "b", "c", "rare", "x y"], dtype=object)
    mixed = np.array([1, 1.0, True, "1", None, 2.5, "b"], dtype=object)
    return pd.DataFrame(
        {
            "normal": normal,
            "with_nan": with_nan,
            "with_inf": with_inf,
            "all_inf": np.full(n, np.inf),
            "all_nan": np.full(n, np.nan),
            "equal": np.full(n, 3.25),
            "int": rng.poisson(3, n).astype(np.int64),
            "int_wide": rng.integers(-(2**40), 2**40, n),
            "int_huge": rng.integers(2**60, 2**62, n),
            "id": np.arange(n, dtype=np.int64) + 1000,
            "shuffled_id": rng.permutation(n).astype(np.int64),
            "nullable_int": pd.array(
                np.where(rng.random(n) < 0.2, None, rng.integers(0, 5, n)), dtype="Int64"
            ),
            "uint8": rng.integers(0, 255, n).astype(np.uint8),
            "bool": rng.random(n) < 0.3,
            "boolean": pd.array(
                np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.5), dtype="boolean"
            ),
            "object_str": pd.Series(words[rng.integers(0, 5, n)], dtype=object),
            "string": pd.Series(words[rng.integers(0, 5, n)], dtype="string"),
            "object_mixed": pd.Series(mixed[rng.integers(0, len(mixed), n)], dtype=object),
            "category_unused": pd.Categorical(
                words[rng.integers(0, 3, n)], categories=["a", "b", "c", "never"]
            ),
            "category_int": pd.Categorical(rng.integers(0, 4, n)),
            "category_float": pd.Categorical(rng.choice([0.1, 1.0, 2.5], n)),
            "category_nan": pd.Categorical(np.where(rng.random(n) < 0.3, None, "k")),
            "many_levels": pd.Series([f"v{i}" for i in rng.integers(0, 80, n)]),
            "datetime": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 99, n), "D"),
        }
    )


def _json(schema: Schema) -> dict[str, Any]:
    return json.loads(schema.to_json())


@pytest.mark.parametrize("n", [1, 3, 25, 2_000])
def test_small_frames_give_the_json_they_gave(n: int) -> None:
    frame = _edge_frame(n, n)
    assert _json(infer_schema(frame)) == _json(_old_infer_schema(frame))


def test_one_value_and_unused_categories() -> None:
    frame = pd.DataFrame(
        {
            "x": [7.0],
            "c": pd.Categorical(["a"], categories=["a", "b"]),
            "s": ["only"],
            "e": pd.Series([], dtype=float).reindex([0]),
        }
    )
    assert _json(infer_schema(frame)) == _json(_old_infer_schema(frame))
    assert infer_schema(frame)["c"].categories == ["a"]


def test_distinct_values_with_the_same_text_are_one_category() -> None:
    frame = pd.DataFrame({"c": pd.Categorical([1, "1", 2, 2], categories=[1, "1", 2])})
    assert infer_schema(frame)["c"] == _old_infer_schema(frame)["c"]
    assert infer_schema(frame)["c"].categories == ["1", "2"]


def test_large_frames_exact_except_sampled_quantiles() -> None:
    n = QUANTILE_SAMPLE * 3
    frame = _edge_frame(n, 7).drop(columns=["object_mixed", "many_levels"])
    new, old = _json(infer_schema(frame)), _json(_old_infer_schema(frame))
    for a, b in zip(new["columns"], old["columns"], strict=True):
        qa, qb = a.pop("quantiles", None), b.pop("quantiles", None)
        assert a == b
        assert (qa is None) == (qb is None)
        if qa is None or qb is None:
            continue
        values = frame[a["name"]].to_numpy(dtype=np.float64, na_value=np.nan)
        values = np.sort(values[np.isfinite(values)])
        for level, got in qa.items():
            p = float(level)
            # rank of the sampled quantile in the full column: within 5 SD of sqrt(p(1-p)/n)
            lo = np.searchsorted(values, got, side="left") / len(values)
            hi = np.searchsorted(values, got, side="right") / len(values)
            bar = 5 * np.sqrt(p * (1 - p) / QUANTILE_SAMPLE) + 1 / len(values)
            assert lo - bar <= p <= hi + bar, (a["name"], level, got, qb[level])


def test_sampled_quantiles_are_seeded() -> None:
    frame = pd.DataFrame({"x": np.random.default_rng(3).lognormal(size=QUANTILE_SAMPLE + 1)})
    assert infer_schema(frame).to_json() == infer_schema(frame).to_json()


def _categoricals(seed: int) -> list[pd.Series]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    words = np.array(["a", "b", "c", "d", "e"], dtype=object)
    with_na = words[rng.integers(0, 5, n)].copy()
    with_na[rng.random(n) < 0.2] = None
    return [
        pd.Series(pd.Categorical(words[rng.integers(0, 3, n)], categories=list(words))),
        pd.Series(pd.Categorical(with_na)),
        pd.Series(pd.Categorical(rng.integers(0, 4, n))),
        pd.Series(pd.Categorical([1, "1", 2, 2] * (n // 4 + 1), categories=[1, "1", 2])),
        pd.Series(pd.Categorical(["x"] * n + ["y"] * n)),  # a tie: first appearance first
    ]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("missing", [None, "<missing>"])
def test_few_category_counts_equal_the_factorized_counts(
    seed: int, missing: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_mlchecks import schema

    for col in _categoricals(seed):
        fast = schema.text_counts(col, missing=missing)
        text = col.astype(str).where(col.notna(), missing)
        per_row = (text[col.notna()] if missing is None else text).value_counts()
        assert list(fast.items()) == list(per_row.items())
        with monkeypatch.context() as patch:
            patch.setattr(schema, "FEW_CATEGORIES", 0)  # the factorize path
            assert list(schema.text_counts(col, missing=missing).items()) == list(fast.items())


def test_distinct_integers_with_and_without_an_offset() -> None:
    from pytest_mlchecks.schema import _distinct_integers

    rng = np.random.default_rng(5)
    for low in (0, 3, -7, 2**40):
        values = rng.integers(low, low + 50, 1000)
        expected = len(np.unique(values))
        assert _distinct_integers(values, int(values.min()), int(values.max())) == expected
    sparse = np.array([0, 10**12, 5], dtype=np.int64)  # a wide span: the hash table
    assert _distinct_integers(sparse, 0, 10**12) == 3


@pytest.mark.parametrize("n", [1, 2, 3, 10, 999, 1000, 100_000])
def test_quantiles_read_off_sorted_values_are_np_quantile_bit_for_bit(n: int) -> None:
    from pytest_mlchecks.schema import _sorted_quantiles

    rng = np.random.default_rng(n)
    for values in (rng.normal(size=n), rng.lognormal(0, 3, n) * 1e9, rng.poisson(3, n) * 1.0):
        ordered = np.sort(values)
        assert np.array_equal(_sorted_quantiles(ordered), np.quantile(ordered, QUANTILES))


@pytest.mark.parametrize("n", [1, 2, 5, 999, QUANTILE_SAMPLE + 7])
def test_counted_integer_quantiles_are_the_sorted_ones_bit_for_bit(n: int) -> None:
    from pytest_mlchecks.schema import _counted_quantiles, _quantiles

    rng = np.random.default_rng(n)
    for values in (rng.poisson(3, n), rng.integers(-20, 15, n), np.full(n, 7)):
        low, high = int(values.min()), int(values.max())
        assert np.array_equal(_counted_quantiles(values, low, high), _quantiles(values))


def test_range_and_nulls_counted_in_chunks_give_the_same_violations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_mlchecks import check_schema_matches
    from pytest_mlchecks.checks.production import contract

    rng = np.random.default_rng(11)
    reference = pd.DataFrame({"x": rng.normal(size=500), "k": rng.integers(0, 9, 500)})
    current = pd.DataFrame({"x": rng.normal(0.5, 1.5, 500), "k": rng.integers(0, 12, 500)})
    current.loc[::17, "x"] = np.nan
    current.loc[3, "x"] = -999999.0
    whole = check_schema_matches(current, reference).details
    monkeypatch.setattr(contract, "RANGE_CHUNK", 7)
    chunked = check_schema_matches(current, reference).details
    assert chunked == whole
    assert {v["rule"] for v in whole["violations"]} >= {"range", "null_rate"}
