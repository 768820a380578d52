"""check_no_leakage on 1,000,000 rows x (20 numeric + 2 categorical) columns, 800k/200k split.

Prints our time and peak extra memory, then the straightforward approach in the same run
(pandas merge on all columns for the overlap; a cross-validated depth-1 decision tree per
feature for target leakage) and the ratio. The data carries 200 test rows copied from train
and one target-derived feature, so both verdicts can be compared too.

Run: python benchmarks/leakage.py [--rows 1000000] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd


def make_data(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"f{i}": rng.normal(size=rows) for i in range(20)})
    frame["c1"] = pd.Categorical(rng.choice([f"k{i}" for i in range(12)], rows))
    frame["c2"] = rng.choice(["north", "south", "east", "west"], rows)
    logit = 1.2 * frame["f0"].to_numpy() + 0.5 * frame["f1"].to_numpy()
    frame["y"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    frame["f19"] = frame["y"] + rng.normal(0, 0.2, rows)  # target-derived feature
    frame["ts"] = np.datetime64("2023-01-01") + np.arange(rows).astype("timedelta64[s]")
    cut = rows * 4 // 5
    train, test = frame.iloc[:cut].copy(), frame.iloc[cut:].copy()
    # 200 test rows are records copied from train, logged again later (their own time stamp)
    copies = train.sample(200, random_state=seed)
    stamps = test["ts"].iloc[:200].to_numpy().copy()
    test.iloc[:200] = copies.to_numpy()
    test = test.astype(train.dtypes.to_dict())
    test.iloc[:200, test.columns.get_loc("ts")] = stamps
    return train, test


def ours(train: pd.DataFrame, test: pd.DataFrame) -> tuple[float, int, object]:
    from pytest_mlchecks import check_no_leakage

    kwargs = {"target": "y", "time_column": "ts", "id_columns": ["ts"]}
    check_no_leakage(train.iloc[:1000], test.iloc[:1000], **kwargs)  # warm-up
    tracemalloc.start()
    start = time.perf_counter()
    report = check_no_leakage(train, test, **kwargs)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, report


def baseline(train: pd.DataFrame, test: pd.DataFrame, cv: int) -> tuple[float, int, float]:
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    start = time.perf_counter()
    cols = [c for c in train.columns if c != "ts"]
    # the obvious exact-overlap test: an inner merge on every (non-time) column
    merged = test[cols].merge(train[cols].drop_duplicates(), how="inner", on=cols)
    overlap = len(merged)
    best = 0.0
    y = train["y"].to_numpy()
    for name in [c for c in cols if c != "y"]:
        col = train[name]
        x = col.cat.codes if isinstance(col.dtype, pd.CategoricalDtype) else col
        if x.dtype == object or str(x.dtype) == "str":
            x = pd.factorize(x)[0]
        X = np.asarray(x, dtype=float).reshape(-1, 1)
        score = cross_val_score(
            DecisionTreeClassifier(max_depth=1), X, y, cv=cv, scoring="roc_auc"
        ).mean()
        best = max(best, float(score))
    return time.perf_counter() - start, overlap, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--skip-baseline", action="store_true")
    opts = parser.parse_args()
    train, test = make_data(opts.rows)
    input_bytes = int(train.memory_usage(deep=True).sum() + test.memory_usage(deep=True).sum())
    elapsed, peak, report = ours(train, test)
    print(
        f"rows: {opts.rows:,} (train {len(train):,} / test {len(test):,}), input "
        f"{input_bytes / 2**20:.0f} MiB"
    )
    print(
        f"check_no_leakage      : {elapsed:6.2f} s, peak extra memory {peak / 2**20:.0f} MiB "
        f"({peak / input_bytes:.2f}x input)   goals: < 3 s, < 2x"
    )
    for result in report:  # type: ignore[attr-defined]
        print(f"  {result.name:20s} passed={result.passed}  value={result.value:.4g}")
    if opts.skip_baseline:
        return
    base_time, overlap, best_auc = baseline(train, test, opts.cv)
    print(
        f"straightforward       : {base_time:6.2f} s (merge overlap rows={overlap}, "
        f"best depth-1 tree CV AUC={best_auc:.3f})"
    )
    print(f"ratio straightforward / ours: {base_time / elapsed:.1f}x")


if __name__ == "__main__":
    main()
