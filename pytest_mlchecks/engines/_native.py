"""What narwhals cannot express portably, per engine: seeded samples of lazy frames.

Each function takes a :class:`NativeFrame` and works on its native object with that engine's
own API; the engine module is already imported (the user's frame came from it).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pytest_mlchecks.engines._frame import PANDAS_3_NOTICE

if TYPE_CHECKING:
    from pytest_mlchecks.engines._frame import NativeFrame


def _fraction(n: int, total: int) -> float:
    # a little over n / total so a Bernoulli sample rarely falls short; trimmed to n after
    return min(1.0, 1.2 * n / total + 1e-9) if total else 1.0


def _trim(picked: Any, n: int, seed: int) -> Any:
    """``n`` rows of a pandas Bernoulli sample, chosen with ``seed`` and kept in order (the
    first ``n`` would favour the first partitions: the oldest rows of a time-sorted table)."""
    if len(picked) <= n:
        return picked
    import numpy as np

    rows = np.sort(np.random.default_rng(seed).choice(len(picked), n, replace=False))
    return picked.iloc[rows]


def sample(frame: NativeFrame, n: int, seed: int, columns: Sequence[str] | None) -> Any:
    """About ``n`` rows chosen with ``seed`` (every row when the frame has fewer), as pandas.
    The same frame and seed give the same rows on the same engine."""
    total = frame.n_rows()
    cols = list(columns) if columns is not None else frame.columns
    if total <= n:
        return frame.to_pandas(cols)
    native = frame.native
    engine = frame.engine
    if engine == "duckdb":
        rel = native.project(", ".join(_quote(c) for c in cols))
        # reservoir sampling of exactly n rows, repeatable for a seed (one thread keeps the
        # pick independent of the thread count)
        out = rel.query(
            "t", f"SELECT * FROM t USING SAMPLE reservoir({int(n)} ROWS) REPEATABLE ({int(seed)})"
        )
        return out.df()
    if engine == "spark":
        picked = native.select(*cols).sample(
            withReplacement=False, fraction=_fraction(n, total), seed=int(seed)
        )
        with warnings.catch_warnings():
            # PySpark's toPandas passes pandas' deprecated copy= keyword on pandas 3
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", PANDAS_3_NOTICE, FutureWarning)
            return _trim(picked.toPandas(), n, seed)
    if engine == "dask":
        picked = native[cols].sample(frac=_fraction(n, total), random_state=int(seed))
        return _trim(picked.compute(), n, seed)
    if engine == "polars":
        import polars as pl

        lazy = native.lazy() if isinstance(native, pl.DataFrame) else native
        lazy = lazy.select(cols)
        # a seeded hash of the whole row decides membership: deterministic, lazy, streaming
        keyed = lazy.with_row_index("__row").with_columns(
            pl.struct(pl.all()).hash(seed=int(seed)).alias("__h")
        )
        picked = keyed.sort("__h").head(n).sort("__row").drop("__row", "__h").collect()
        try:
            return picked.to_pandas()
        except ImportError:  # no pyarrow: column by column through numpy
            import pandas as pd

            return pd.DataFrame({c: picked[c].to_numpy() for c in picked.columns})
    if engine == "ibis":
        picked = native.select(*cols).sample(_fraction(n, total), seed=int(seed))
        return _trim(picked.to_pandas(), n, seed)
    raise AssertionError(f"no sampler for engine {engine!r}")  # pragma: no cover


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
