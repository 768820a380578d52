"""Engines for the equivalence tests: each builds a native frame from a pandas one.

Polars, DuckDB and Dask (threads) run in the default suite when installed; PySpark ``local[2]``
costs ~30 s to start and runs only with ``-m spark`` (its own CI job).
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

Maker = Callable[[pd.DataFrame], Any]


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _polars() -> Maker:
    import polars as pl

    return lambda df: pl.from_pandas(df).lazy()


def _duckdb() -> Maker:
    import duckdb

    con = duckdb.connect()
    return lambda df: con.from_df(df)


def _dask() -> Maker:
    import dask
    import dask.dataframe as dd

    dask.config.set(scheduler="threads")
    return lambda df: dd.from_pandas(df, npartitions=3)


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


LOCAL = [("polars", _polars), ("duckdb", _duckdb), ("dask", _dask)]


def _engine_params() -> list[Any]:
    params = [
        pytest.param(
            (name, maker),
            id=name,
            marks=pytest.mark.skipif(not _installed(name), reason=f"{name} not installed"),
        )
        for name, maker in LOCAL
    ]
    params.append(pytest.param(("spark", None), id="spark", marks=pytest.mark.spark))
    return params


@pytest.fixture(params=_engine_params())
def to_native(request: pytest.FixtureRequest) -> Maker:
    """A function turning a pandas frame into a frame of the engine under test."""
    name, maker = request.param
    if name == "spark":
        session = request.getfixturevalue("spark_session")

        def convert(df: pd.DataFrame) -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return session.createDataFrame(df)

        return convert
    return maker()
