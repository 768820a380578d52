"""Production checks on 1,000,000 rows x (20 numeric + 2 categorical) columns.

Times infer_schema, check_schema_matches and check_no_drift (all columns) on a reference and a
current batch of the given size each, then the obvious per-column implementation in the same
run (scipy.stats.ks_2samp per numeric column, np.histogram PSI on reference deciles, pandas
value_counts PSI for categories) and prints the ratio.

Run: python benchmarks/production.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def make(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {}
    for i in range(20):
        kind = i % 4
        if kind == 0:
            data[f"n{i}"] = rng.normal(size=rows)
        elif kind == 1:
            data[f"n{i}"] = rng.lognormal(0, 1, rows)
        elif kind == 2:
            data[f"n{i}"] = rng.exponential(2.0, rows)
        else:
            data[f"n{i}"] = rng.poisson(4, rows).astype(np.int64)
    frame = pd.DataFrame(data)
    frame["c1"] = pd.Categorical(rng.choice([f"k{i}" for i in range(12)], rows))
    frame["c2"] = rng.choice(["north", "south", "east", "west"], rows)
    return frame


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def obvious_drift(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    from scipy.stats import ks_2samp

    out = {}
    for name in reference.columns:
        a, b = reference[name], current[name]
        if pd.api.types.is_numeric_dtype(a.dtype):
            out[f"{name}:ks"] = float(ks_2samp(a.to_numpy(), b.to_numpy()).statistic)
            edges = np.quantile(a, np.linspace(0, 1, 11))
            edges[0], edges[-1] = -np.inf, np.inf
            p = np.histogram(a, edges)[0] / len(a) + 1e-6
            q = np.histogram(b, edges)[0] / len(b) + 1e-6
        else:
            vc_a = a.astype(str).value_counts(normalize=True)
            vc_b = b.astype(str).value_counts(normalize=True).reindex(vc_a.index, fill_value=0)
            p, q = vc_a.to_numpy() + 1e-6, vc_b.to_numpy() + 1e-6
        out[f"{name}:psi"] = float(np.sum((q - p) * np.log(q / p)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    opts = parser.parse_args()
    from pytest_mlchecks import check_no_drift, check_schema_matches, infer_schema

    reference, current = make(opts.rows, 0), make(opts.rows, 1)
    # warm-up on a small slice (imports, first-call costs)
    small = reference.iloc[:2000]
    check_schema_matches(small, infer_schema(small))
    check_no_drift(small, current.iloc[:2000])

    t_infer, schema = timed(infer_schema, reference)
    t_match, match = timed(check_schema_matches, current, schema)
    t_drift, drift = timed(check_no_drift, reference, current)
    t_obvious, _ = timed(obvious_drift, reference, current)
    print(f"rows: {opts.rows:,} reference + {opts.rows:,} current, 22 columns")
    print(f"infer_schema          : {t_infer:6.2f} s")
    print(f"check_schema_matches  : {t_match:6.2f} s  (goal < 0.5 s)  passed={match.passed}")
    print(f"check_no_drift        : {t_drift:6.2f} s  (goal < 1 s)    passed={drift.passed}")
    print(f"obvious per-column KS + histogram PSI: {t_obvious:6.2f} s")
    print(f"ratio obvious / check_no_drift: {t_obvious / t_drift:.1f}x")


if __name__ == "__main__":
    main()
