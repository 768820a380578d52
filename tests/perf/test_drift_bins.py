"""no_drift's one-pass binning and code counting (issue #18) against what they replaced: the
same counts, PSI and verdicts; KS only under method="ks", PSI the same under both methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks.checks.production.drift import (
    LEVEL_MAX_BINS,
    LEVEL_MIN_COUNT,
    MISSING,
    _category_bins,
    bin_counts,
    check_no_drift,
)


def _old_bin_counts(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    k = len(edges) + 1
    codes = np.zeros(len(x), dtype=np.int16)
    for edge in edges:
        codes += x > edge
    codes[np.isnan(x)] = k
    return np.bincount(codes, minlength=k + 1)


def _old_category_bins(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    ra = a.astype(str).where(a.notna(), MISSING)
    cb = b.astype(str).where(b.notna(), MISSING)
    ref_counts, cur_counts = ra.value_counts(), cb.value_counts()
    pooled = ref_counts.add(cur_counts, fill_value=0).sort_values(ascending=False, kind="stable")
    kept = list(pooled[pooled >= 2 * LEVEL_MIN_COUNT].index[:LEVEL_MAX_BINS])
    index = {c: i for i, c in enumerate(kept)}
    rc, cc = np.zeros(len(kept) + 1), np.zeros(len(kept) + 1)
    for counts, target in ((ref_counts, rc), (cur_counts, cc)):
        for cat, count in counts.items():
            target[index.get(cat, len(kept))] += count
    return rc, cc


EDGES = {
    "none": np.empty(0),
    "one": np.array([0.0]),
    "deciles": np.quantile(np.random.default_rng(0).normal(size=999), np.linspace(0.1, 0.9, 9)),
    "points": np.sort(np.concatenate([np.arange(6) - 1e-9 * (1 + np.arange(6)), np.arange(6)])),
    "many": np.linspace(-3, 3, 101),
}


@pytest.mark.parametrize("edges", list(EDGES), ids=list(EDGES))
@pytest.mark.parametrize("n", [0, 1, 7, 70_001, 200_000])
def test_bin_counts_match_a_pass_per_edge(edges: str, n: int) -> None:
    rng = np.random.default_rng(n)
    x = np.concatenate([rng.normal(size=n), rng.poisson(2, n).astype(float)])[: max(n, 0)]
    if n >= 7:
        x[:5] = [np.nan, np.inf, -np.inf, 0.0, EDGES[edges][0] if len(EDGES[edges]) else 1.0]
    assert np.array_equal(bin_counts(x, EDGES[edges]), _old_bin_counts(x, EDGES[edges]))


def _levels(n: int, seed: int) -> dict[str, pd.Series]:
    rng = np.random.default_rng(seed)
    words = np.array(["a", "b", "c", "d"] + [f"r{i}" for i in range(40)], dtype=object)
    pick = words[np.minimum(rng.geometric(0.3, n) - 1, len(words) - 1)]
    missing = rng.random(n) < 0.05
    mixed = np.array([1, 1.0, True, "1", "x", None, 0.0, -0.0], dtype=object)
    return {
        "object": pd.Series(np.where(missing, None, pick), dtype=object),
        "string": pd.Series(np.where(missing, None, pick), dtype="string"),
        "category": pd.Series(
            pd.Categorical(np.where(missing, None, pick), categories=[*words, "unused"])
        ),
        "bool": pd.Series(rng.random(n) < 0.4),
        "int": pd.Series(rng.poisson(3, n)),
        "float": pd.Series(rng.choice([0.0, -0.0, 0.5, np.nan], n)),
        "mixed": pd.Series(mixed[rng.integers(0, len(mixed), n)], dtype=object),
    }


@pytest.mark.parametrize("kind", list(_levels(1, 0)))
@pytest.mark.parametrize("n", [1, 40, 5_000])
def test_category_bins_match_text_of_every_row(kind: str, n: int) -> None:
    a, b = _levels(n, 1)[kind], _levels(n + 3, 2)[kind]
    new, old = _category_bins(a, b), _old_category_bins(a, b)
    assert np.array_equal(new[0], old[0]) and np.array_equal(new[1], old[1])


def test_psi_method_skips_ks_and_keeps_every_figure() -> None:
    rng = np.random.default_rng(5)
    n = 120_000  # beyond the KS and edge samples: both draw from the seeded generator
    ref = pd.DataFrame({"a": rng.normal(size=n), "b": rng.poisson(3, n), "c": rng.normal(size=n)})
    cur = pd.DataFrame(
        {"a": rng.normal(0.05, size=n), "b": rng.poisson(3.1, n), "c": rng.normal(size=n)}
    )
    psi = check_no_drift(ref, cur, method="psi")
    ks = check_no_drift(ref, cur, method="ks")
    assert all("ks" not in c for c in psi.details["columns"])
    assert all("ks" in c for c in ks.details["columns"])
    by_name = {c["column"]: c for c in ks.details["columns"]}
    for column in psi.details["columns"]:
        assert column["psi"] == by_name[column["column"]]["psi"]
    assert "KS" not in psi.message
