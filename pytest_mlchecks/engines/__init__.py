"""Native frames: run data checks inside the user's engine (Spark, Dask, DuckDB, Polars, Ibis).

A native frame is recognised by the module of its type, so nothing here imports an engine or
narwhals until a check is handed such a frame. The work is expressed once over narwhals' lazy
API; what narwhals lacks (null-safe joins, seeded samples) is filled in by :mod:`._native`.

"Missing" is defined once for every engine: NULL or NaN. pandas stores both as NaN, DuckDB reads
pandas NaN as NULL, Polars and Spark keep them apart; counting them together gives the same
figure on every engine.
"""

from __future__ import annotations

from typing import Any

from pytest_mlchecks._result import MLCheckUsageError

__all__ = [
    "ENGINES",
    "NativeFrame",
    "engine_of",
    "is_native",
    "native_pair",
]

#: type-module prefix -> engine name. Polars' eager DataFrame is included: it computes in
#: Polars without a pandas copy.
ENGINES: dict[str, str] = {
    "pyspark": "spark",
    "dask": "dask",
    "duckdb": "duckdb",
    "_duckdb": "duckdb",
    "polars": "polars",
    "ibis": "ibis",
}


def engine_of(obj: Any) -> str | None:
    """The engine a native frame belongs to, or None for anything else (no imports)."""
    module = type(obj).__module__ or ""
    root = module.split(".", 1)[0]
    engine = ENGINES.get(root)
    if engine is None:
        return None
    name = type(obj).__name__
    if engine == "dask" and "DataFrame" not in name:
        return None  # dask arrays and series stay on the eager path
    if engine == "polars" and name not in ("LazyFrame", "DataFrame"):
        return None
    if engine == "duckdb" and "Relation" not in name:
        return None
    if engine == "spark" and name != "DataFrame":
        return None
    if engine == "ibis" and "Table" not in name:
        return None
    return engine


def is_native(obj: Any) -> bool:
    """True for a frame that the engine layer computes on in place."""
    return engine_of(obj) is not None


def native_pair(train: Any, test: Any, arg_a: str = "train", arg_b: str = "test") -> str | None:
    """The shared engine of two splits; None when neither is native; a usage error when they
    live on different engines (one side native, the other not, included)."""
    a, b = engine_of(train), engine_of(test)
    if a is None and b is None:
        return None
    if a != b:
        raise MLCheckUsageError(
            f"{arg_a} is on {a or 'the eager path (pandas/numpy)'} but {arg_b} is on "
            f"{b or 'the eager path (pandas/numpy)'}: expected both splits on one engine "
            "(convert one of them, e.g. read both with the same engine)."
        )
    return a


from pytest_mlchecks.engines._frame import NativeFrame  # noqa: E402  (the frame wrapper needs the names above)
