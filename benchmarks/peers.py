"""Ours vs peers on the same data, in one run: interleaved, >= 3 repeats, medians and ratios.

Pairs: ``infer_schema`` vs ``pandera.infer_schema``, ``check_schema_matches`` vs pandera's
``schema.validate(lazy=True)`` (the schema each side inferred from the reference), on the
22-column reference / current frames of ``benchmarks/production.py``. Times are CPU seconds
(``time.process_time``: less sensitive to other processes than wall time). Ratio = peer /
ours (> 1: we are faster). Deepchecks and Evidently are timed only when importable; they need
an older pandas / numpy / scikit-learn stack, and the issue's ratios for them were measured
elsewhere.

Run: python benchmarks/peers.py [--rows 100000 1000000] [--repeats 3]
(optional dependency: pip install pytest-mlchecks[bench])
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import statistics
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

from production import make

warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)


def _pandera() -> Any:
    with warnings.catch_warnings():  # pandera's import warns about PySpark on pandas 3
        warnings.simplefilter("ignore", FutureWarning)
        import pandera.pandas as pa
    return pa


def _interleaved(pairs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median CPU seconds of each callable, run in turn ``repeats`` times."""
    times: dict[str, list[float]] = {name: [] for name in pairs}
    for _ in range(repeats):
        for name, fn in pairs.items():
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    opts = parser.parse_args()
    from pytest_mlchecks import check_schema_matches, infer_schema

    pa = _pandera()
    small = make(2000, 0)
    check_schema_matches(small, infer_schema(small))  # warm-up: imports, first calls
    pa.infer_schema(small).validate(small, lazy=True)
    rows_out = []
    for rows in opts.rows:
        reference, current = make(rows, 0), make(rows, 1)
        ours_schema, their_schema = infer_schema(reference), pa.infer_schema(reference)

        def validate(schema: Any = their_schema, frame: Any = current) -> None:
            with contextlib.suppress(pa.errors.SchemaErrors):  # a failure did the work too
                schema.validate(frame, lazy=True)

        medians = _interleaved(
            {
                "infer_schema": partial(infer_schema, reference),
                "pandera.infer_schema": partial(pa.infer_schema, reference),
                "check_schema_matches": partial(check_schema_matches, current, ours_schema),
                "pandera validate(lazy=True)": validate,
            },
            opts.repeats,
        )
        rows_out.append(
            (rows, "infer_schema", medians["infer_schema"], medians["pandera.infer_schema"])
        )
        rows_out.append(
            (
                rows,
                "check_schema_matches",
                medians["check_schema_matches"],
                medians["pandera validate(lazy=True)"],
            )
        )
    print(f"CPU seconds, median of {opts.repeats} interleaved runs; ratio = pandera / ours")
    print("| rows | ours | pandera | ours (s) | pandera (s) | ratio |")
    print("|---:|---|---|---:|---:|---:|")
    peer = {"infer_schema": "infer_schema", "check_schema_matches": "schema.validate(lazy=True)"}
    for rows, name, ours, theirs in rows_out:
        print(
            f"| {rows:,} | `{name}` | `{peer[name]}` | {ours:.3f} | {theirs:.3f} "
            f"| {theirs / ours:.1f}x |"
        )
    for module in ("deepchecks", "evidently"):
        if importlib.util.find_spec(module) is None:
            print(
                f"{module}: not installed (it needs an older pandas / numpy / scikit-learn); "
                "the ratios the issue quotes for it were measured elsewhere."
            )
        else:
            print(f"{module}: installed, but no pair is timed here yet.")


if __name__ == "__main__":
    main()
