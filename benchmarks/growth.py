"""How cost grows with rows: CPU seconds and peak extra memory at 100k, 1M and 10M rows.

For ``check_no_leakage`` (800k/200k-style split of ``benchmarks/leakage.py``'s frames, row
overlap and target leakage), ``check_no_drift``, ``infer_schema`` and
``check_schema_matches`` (``benchmarks/production.py``'s 22 columns, reference and current
of the same size). CPU seconds: ``time.process_time`` (all threads of this process), one
call without tracemalloc. Peak extra memory: ``tracemalloc``'s peak over a second call
(allocations through Python's and numpy's allocators, which pandas and numpy use; not the
RSS). Goal: 10x rows costs at most ~10x (x12 at worst). Each size runs once (10M: minutes).

Run: python benchmarks/growth.py [--rows 100000 1000000 10000000]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import time
import tracemalloc
from collections.abc import Callable
from functools import partial

from leakage import make_data
from production import make


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    """CPU seconds of one call, and peak extra MiB of a second call under tracemalloc (which
    slows Python-level allocations, so the CPU call runs without it)."""
    gc.collect()
    start = time.process_time()
    fn()
    cpu = time.process_time() - start
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return cpu, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    opts = parser.parse_args()
    from pytest_mlchecks import check_no_drift, check_no_leakage, check_schema_matches, infer_schema

    kwargs = {"target": "y", "time_column": "ts", "id_columns": ["ts"]}
    train, test = make_data(2000)
    check_no_leakage(train, test, **kwargs)  # warm-up: imports, first calls
    small = make(2000, 0)
    check_no_drift(small, make(2000, 1))
    check_schema_matches(small, infer_schema(small))
    results: dict[str, list[tuple[int, float, float]]] = {}
    for rows in opts.rows:
        train, test = make_data(rows)
        results.setdefault("check_no_leakage", []).append(
            (rows, *measure(partial(check_no_leakage, train, test, **kwargs)))
        )
        del train, test
        reference, current = make(rows, 0), make(rows, 1)
        schema = infer_schema(reference)
        for name, fn in (
            ("check_no_drift", partial(check_no_drift, reference, current)),
            ("infer_schema", partial(infer_schema, reference)),
            ("check_schema_matches", partial(check_schema_matches, current, schema)),
        ):
            results.setdefault(name, []).append((rows, *measure(fn)))
        del reference, current
        print(f"done: {rows:,} rows", flush=True)
    sizes = opts.rows
    head = " | ".join(f"{r:,} rows" for r in sizes)
    print("CPU seconds (process_time) / peak extra MiB (tracemalloc); growth per 10x rows")
    print(f"| check | {head} | growth (CPU) |")
    print("|---|" + "---:|" * (len(sizes) + 1))
    for name, points in results.items():
        cells = " | ".join(f"{cpu:.2f} s / {mib:,.0f} MiB" for _, cpu, mib in points)
        growth = ", ".join(f"x{b[1] / a[1]:.1f}" for a, b in itertools.pairwise(points) if a[1] > 0)
        print(f"| `{name}` | {cells} | {growth} |")


if __name__ == "__main__":
    main()
