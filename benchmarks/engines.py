"""Checks where the data lives: pandas vs DuckDB, Polars and Dask on Parquet.

Writes a train and a test split (80/20 of --rows rows x 20 numeric + 2 categorical columns, a
binary target, a time column, 200 test rows copied from train and one target-derived feature)
to Parquet once, then runs each chosen check once per engine, each in a fresh Python process:
``leakage``: ``check_no_leakage(train, test, target="y", time_column="ts", id_columns=["ts"])``
(as benchmarks/leakage.py: the copies carry their own time stamp); ``drift``:
``check_no_drift(train, test)`` (PSI; ``drift-ks``: method="ks"); ``schema``:
``check_schema_matches(test, train)`` (the schema inferred from train, then test held to it).
Engines:

- pandas: ``pd.read_parquet`` of both files, then the check (today's eager path);
- DuckDB: ``duckdb.read_parquet`` relations; Polars: ``pl.scan_parquet`` lazy frames;
  Dask: ``dd.read_parquet`` with the threaded scheduler.

For each it prints CPU seconds (user + system of the process, all threads), wall seconds,
the peak resident memory of the process (VmHWM on Linux, which includes the interpreter and
the libraries: the baseline of an idle process is printed too; ru_maxrss elsewhere), the
checks that failed (the copied rows and the derived feature must fail ``no_row_overlap`` and
``no_target_leakage`` on every engine; drift and schema pass: both splits come from one
distribution), and the ratios against pandas. Engines that are not installed are skipped.

Run: python benchmarks/engines.py [--rows 2000000] [--engines pandas,duckdb,polars,dask]
     [--checks leakage,drift,drift-ks,schema]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENGINES = ("pandas", "duckdb", "polars", "dask")
CHECKS = ("leakage", "drift", "drift-ks", "schema")

RUNNER = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
engine, train_path, test_path, check = sys.argv[1:5]
usage0 = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
if engine == "idle":
    result = None
else:
    import pytest_mlchecks as mlc
    if engine == "pandas":
        import pandas as pd
        train, test = pd.read_parquet(train_path), pd.read_parquet(test_path)
    elif engine == "duckdb":
        import duckdb
        con = duckdb.connect()
        train, test = con.read_parquet(train_path), con.read_parquet(test_path)
    elif engine == "polars":
        import polars as pl
        train, test = pl.scan_parquet(train_path), pl.scan_parquet(test_path)
    elif engine == "dask":
        import dask
        import dask.dataframe as dd
        dask.config.set(scheduler="threads")
        train, test = dd.read_parquet(train_path), dd.read_parquet(test_path)
    if check == "leakage":
        result = mlc.check_no_leakage(train, test, target="y", time_column="ts", id_columns=["ts"])
    elif check in ("drift", "drift-ks"):
        result = mlc.check_no_drift(train, test, method="ks" if check == "drift-ks" else "psi")
    else:
        result = mlc.check_schema_matches(test, train)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = (usage.ru_utime - usage0.ru_utime) + (usage.ru_stime - usage0.ru_stime)
failures = getattr(result, "failures", None)
if result is None:
    failed = []
elif failures is not None:
    failed = sorted(r.name for r in failures)
else:
    failed = [] if result.passed else [result.name]
with open("/proc/self/status") as status:  # VmHWM: this process's peak, reset at exec
    hwm = [line for line in status if line.startswith("VmHWM")]
peak = int(hwm[0].split()[1]) / 1024 if hwm else usage.ru_maxrss / 1024
print(json.dumps({"cpu": cpu, "wall": wall, "peak_mb": peak,
                  "failed": failed}))
"""


def write_splits(rows: int, folder: Path) -> tuple[Path, Path]:
    sys.path.insert(0, str(Path(__file__).parent))
    from leakage import make_data  # the same data as benchmarks/leakage.py

    train, test = make_data(rows)
    paths = folder / "train.parquet", folder / "test.parquet"
    train.to_parquet(paths[0], index=False)
    test.to_parquet(paths[1], index=False)
    return paths


def installed(engine: str) -> bool:
    import importlib.util

    module = {"pandas": "pandas", "duckdb": "duckdb", "polars": "polars", "dask": "dask"}[engine]
    return importlib.util.find_spec(module) is not None


def run(engine: str, train: Path, test: Path, check: str = "leakage") -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, engine, str(train), str(test), check],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--checks", default="leakage")
    opts = parser.parse_args()
    engines = [e for e in opts.engines.split(",") if e]
    checks = [c for c in opts.checks.split(",") if c]
    unknown = set(checks) - set(CHECKS)
    if unknown:
        parser.error(f"unknown checks {sorted(unknown)}: choose from {CHECKS}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        train, test = write_splits(opts.rows, Path(tmp))
        print(f"{opts.rows:,} rows written to Parquet in {time.perf_counter() - t0:.1f} s")
        idle = run("idle", train, test)
        print(f"idle interpreter: peak {idle['peak_mb']:.0f} MB")
        for check in checks:
            report(check, engines, train, test)


def report(check: str, engines: list[str], train: Path, test: Path) -> None:
    """One check on every engine, then the ratios against pandas."""
    print(f"\n{check}")
    results = {}
    for engine in engines:
        if not installed(engine):
            print(f"{engine:8s} not installed: skipped")
            continue
        results[engine] = res = run(engine, train, test, check)
        if "error" in res:
            print(f"{engine:8s} failed: {res['error']}")
            continue
        print(
            f"{engine:8s} cpu {res['cpu']:7.1f} s  wall {res['wall']:7.1f} s  "
            f"peak {res['peak_mb']:7.0f} MB  failed: {', '.join(res['failed'])}"  # type: ignore[arg-type]
        )
    base = results.get("pandas")
    if base and "error" not in base:
        print("ratios against pandas (below 1: the engine uses less)")
        for engine, res in results.items():
            if engine == "pandas" or "error" in res:
                continue
            cpu = float(res["cpu"]) / float(base["cpu"])  # type: ignore[arg-type]
            peak = float(res["peak_mb"]) / float(base["peak_mb"])  # type: ignore[arg-type]
            print(f"{engine:8s} cpu x{cpu:.2f}  peak memory x{peak:.2f}")


if __name__ == "__main__":
    main()
