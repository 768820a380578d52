"""One wrapper over a native frame: the aggregates the data checks need, computed in the engine.

Every method sends one query (or two) to the engine and brings back aggregates only: counts,
minima and maxima, bin counts, a seeded sample of bounded size. Nothing materialises the table.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pytest_mlchecks._deps import require
from pytest_mlchecks._result import MLCheckUsageError
from pytest_mlchecks.engines import engine_of

#: PySpark's notice on every conversion to pandas 3 (ours, not the user's: silenced)
PANDAS_3_NOTICE = "PySpark does not yet fully support pandas"

#: column kinds the checks branch on
KINDS = ("float", "int", "bool", "string", "categorical", "datetime", "other")


def _nw() -> Any:
    return require("narwhals", helper="checks on Spark, Dask, DuckDB, Polars or Ibis frames")


def _count(value: Any) -> int:
    """An engine's count (DuckDB returns Decimal sums, Spark may return None for no rows)."""
    return 0 if value is None else int(value)


def _how_many(condition: Any) -> Any:
    """The number of rows where a boolean expression holds (Spark cannot sum booleans)."""
    return condition.cast(_nw().Int64).sum()


_KEY_TYPES = {
    "float": lambda: _nw().Float64,
    "float32": lambda: _nw().Float32,
    "int": lambda: _nw().Int64,
}


def _missing_as_none(value: Any) -> Any:
    """None for every engine's missing marker (None, NaN, pandas.NA from Dask)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _first_row(frame: Any, exprs: Sequence[Any]) -> dict[str, Any]:
    """The one row of aggregates ``exprs`` over a lazy frame, by name."""
    if not exprs:
        return {}
    out = frame.select(*exprs).collect()
    row = out.row(0)
    return dict(zip(out.columns, row, strict=True))


@dataclass(frozen=True)
class RowFrequencies:
    """How often rows (over some columns) repeat in a frame, missing cells equal to each
    other: the frequencies of frequencies the overlap statistics need."""

    distinct: int  # distinct rows
    once: int  # distinct rows seen exactly once, twice, three times
    twice: int
    thrice: int
    once_with_missing: int  # rows seen once that hold a missing cell
    equal_pairs: float  # pairs of equal rows: the sum over distinct rows of c (c - 1) / 2


@dataclass(frozen=True)
class RowMatches:
    """Rows of one frame equal to a row of another (see :meth:`NativeFrame.matches_in`)."""

    rows: int  # rows equal to some row of the other frame
    values: int  # distinct values among them
    seen_once: int  # rows equal to a value the other frame holds exactly once


class NativeFrame:
    """A Spark / Dask / DuckDB / Polars / Ibis frame seen through narwhals' lazy API."""

    def __init__(self, native: Any, arg: str) -> None:
        engine = engine_of(native)
        if engine is None:
            raise MLCheckUsageError(f"{arg} is not a frame of a supported engine.")
        nw = _nw()
        with warnings.catch_warnings():
            # narwhals announces that Dask support moves to a separate package
            warnings.simplefilter("ignore", FutureWarning)
            frame = nw.from_native(native)
        if isinstance(frame, nw.DataFrame):  # eager polars: compute lazily in polars
            frame = frame.lazy()
        self.native = native
        self.arg = arg
        self.engine = engine
        self.frame: Any = frame
        self._schema: dict[str, Any] | None = None
        self._filtered = False  # sample() reads the native frame: only for unfiltered ones

    # ------------------------------------------------------------------ structure
    @property
    def schema(self) -> dict[str, Any]:
        if self._schema is None:
            self._schema = dict(self.frame.collect_schema())
        return self._schema

    @property
    def columns(self) -> list[str]:
        return list(self.schema)

    def kind(self, column: str) -> str:
        """The column's kind: float, int, bool, string, categorical, datetime or other."""
        nw = _nw()
        dtype = self.schema[column]
        if dtype.is_float():
            return "float"
        if dtype.is_integer() or dtype.is_decimal():
            return "int"
        if dtype == nw.Boolean:
            return "bool"
        if dtype == nw.String:
            return "string"
        if dtype in (nw.Categorical, nw.Enum):
            return "categorical"
        if dtype.is_temporal():
            return "datetime"
        return "other"

    def require_columns(self, columns: Iterable[str], arg: str) -> list[str]:
        names = list(columns)
        missing = [c for c in names if c not in self.schema]
        if missing:
            raise MLCheckUsageError(
                f"{arg} names {missing[:5]}, not columns of {self.arg} (columns: "
                f"{self.columns[:10]}{' ...' if len(self.columns) > 10 else ''})."
            )
        return names

    # ------------------------------------------------------------------ one-query aggregates
    def _one_row(self, exprs: Sequence[Any]) -> dict[str, Any]:
        return _first_row(self.frame, exprs)

    def n_rows(self) -> int:
        nw = _nw()
        return _count(self._one_row([nw.len().alias("n")])["n"])

    def _missing(self, column: str) -> Any:
        """NULL or NaN, as one boolean expression."""
        nw = _nw()
        col = nw.col(column)
        if self.kind(column) == "float":
            return col.is_null() | col.is_nan()
        return col.is_null()

    def missing_counts(self, columns: Iterable[str]) -> dict[str, dict[str, int]]:
        """Per column: ``missing`` (NULL or NaN), ``nan``, ``posinf``, ``neginf`` and the row
        count ``n``, in one query."""
        nw = _nw()
        names = list(columns)
        exprs: list[Any] = [nw.len().alias("__n")]
        for i, c in enumerate(names):
            col = nw.col(c)
            exprs.append(_how_many(self._missing(c)).alias(f"m{i}"))
            if self.kind(c) == "float":
                exprs.append(_how_many(col.is_nan()).alias(f"nan{i}"))
                exprs.append(_how_many(col == float("inf")).alias(f"pi{i}"))
                exprs.append(_how_many(col == float("-inf")).alias(f"ni{i}"))
        row = self._one_row(exprs)
        n = _count(row["__n"])
        return {
            c: {
                "n": n,
                "missing": _count(row[f"m{i}"]),
                "nan": _count(row.get(f"nan{i}")),
                "posinf": _count(row.get(f"pi{i}")),
                "neginf": _count(row.get(f"ni{i}")),
            }
            for i, c in enumerate(names)
        }

    def min_max(
        self, columns: Iterable[str], *, finite: bool = False
    ) -> dict[str, tuple[Any, Any]]:
        """Smallest and largest non-missing value per column (NaN excluded; +-Inf too when
        ``finite``), one query."""
        nw = _nw()
        names = list(columns)
        exprs: list[Any] = []
        for i, c in enumerate(names):
            col = nw.col(c)
            if self.kind(c) == "float":
                keep = ~col.is_nan()
                if finite:
                    keep = keep & (col.abs() < float("inf"))
                col = nw.when(keep).then(col)  # NaN (and Inf) -> NULL, ignored by min/max
            exprs.append(col.min().alias(f"lo{i}"))
            exprs.append(col.max().alias(f"hi{i}"))
        row = self._one_row(exprs)
        return {c: (row[f"lo{i}"], row[f"hi{i}"]) for i, c in enumerate(names)}

    # ------------------------------------------------------------------ time stamps
    def time_kind(self, column: str) -> str | None:
        """``"datetime"`` for dates and timestamps, ``"number"`` for numeric stamps, else
        None (text is not parsed inside the engine)."""
        nw = _nw()
        dtype = self.schema[column]
        if dtype == nw.Date or isinstance(dtype, nw.Datetime):
            return "datetime"
        if self.kind(column) in ("float", "int"):
            return "number"
        return None

    def _stamps(self, column: str) -> Any:
        """The column as comparable stamps: timestamps as UTC without a time zone (as the
        pandas path compares them), dates as timestamps, numbers as they are."""
        nw = _nw()
        col = nw.col(column)
        dtype = self.schema[column]
        if dtype == nw.Date:
            return col.cast(nw.Datetime("us"))
        zone = getattr(dtype, "time_zone", None)
        if zone is None:
            return col
        # Spark and DuckDB keep the zone in the session: their wall time there is compared
        if zone not in ("UTC", "Etc/UTC") and self.engine not in ("spark", "duckdb"):
            col = col.dt.convert_time_zone("UTC")
        return col.dt.replace_time_zone(None)

    def time_range(self, column: str) -> tuple[int, int, Any, Any]:
        """(rows, rows without a stamp (NULL or NaN), earliest stamp, latest stamp), one
        query; stamps as :meth:`_stamps` makes them (None when every stamp is missing)."""
        nw = _nw()
        stamps = nw.when(~self._missing(column)).then(self._stamps(column))
        row = self._one_row(
            [
                nw.len().alias("n"),
                _how_many(self._missing(column)).alias("missing"),
                stamps.min().alias("lo"),
                stamps.max().alias("hi"),
            ]
        )
        lo, hi = _missing_as_none(row["lo"]), _missing_as_none(row["hi"])  # Dask: NaN, NaT
        return _count(row["n"]), _count(row["missing"]), lo, hi

    def rows_after_start_of(self, other: NativeFrame, column: str) -> int:
        """Rows stamped later than the earliest stamp of ``other`` (rows without a stamp are
        not). The earliest stamp stays in the engine (a one-row frame joined to every row):
        no time literal travels through Python, whose time zones and units differ between
        engines."""
        nw = _nw()
        first = nw.when(~other._missing(column)).then(other._stamps(column)).min()
        start = other.frame.select(first.alias("__start"))
        mine = self.frame.filter(~self._missing(column)).select(self._stamps(column).alias("__t"))
        later = mine.join(start, how="cross").filter(nw.col("__t") > nw.col("__start"))
        return _count(later.select(nw.len().alias("n")).collect().item())

    # ------------------------------------------------------------------ rows as keys
    def key_kinds(self, other: NativeFrame, columns: Sequence[str]) -> dict[str, str]:
        """The kind each column is compared as across two frames: an int column meeting a
        float one compares as float, a float32 column meeting a float64 one as float32 (a
        copy is equal at the lower precision, as the pandas path compares), any other
        mismatch as text."""
        nw = _nw()
        kinds: dict[str, str] = {}
        for c in columns:
            a, b = self.kind(c), other.kind(c)
            if a == b == "float" and self.schema[c] != other.schema[c]:
                single = nw.Float32 in (self.schema[c], other.schema[c])
                kinds[c] = "float32" if single else "float"
            elif a == b == "datetime" and self.schema[c] != other.schema[c]:
                kinds[c] = "other"  # another unit or zone: compared as text
            elif a == b:
                kinds[c] = a
            elif {a, b} <= {"float", "int", "bool"}:
                kinds[c] = "float"
            else:
                kinds[c] = "other"
        return kinds

    def keys(self, columns: Sequence[str], kinds: dict[str, str] | None = None) -> Any:
        """A lazy frame of null-safe join keys: per column a missing flag and the value with
        missing cells filled by a constant of its type, so rows with a missing cell in the same
        place compare equal (narwhals' joins never match NULLs). Dates and timestamps of one
        type in both frames compare as they are, other mixes as text. ``kinds`` (from
        :meth:`key_kinds`) makes two frames' keys comparable."""
        nw = _nw()
        exprs: list[Any] = []
        for i, c in enumerate(columns):
            kind = kinds[c] if kinds is not None else self.kind(c)
            col = nw.col(c)
            missing = self._missing(c)
            if kind in ("float", "float32", "int"):
                value = nw.when(missing).then(nw.lit(0)).otherwise(col)
                # floats compare as float64 (as float32 when one split holds float32),
                # integers exactly as int64
                value = value.cast(_KEY_TYPES[kind]())
            elif kind == "datetime" and self._time_fill(c) is not None:
                value = self._time_fill(c)
            elif kind == "bool":
                value = col.fill_null(False)
            elif kind == "string":
                value = col.fill_null("")
            else:  # categorical, other: compare as text
                value = col.cast(nw.String).fill_null("")
            exprs.append(missing.alias(f"__m{i}"))
            exprs.append(value.alias(f"__v{i}"))
        return self.frame.select(*exprs)

    def group_keys(self, columns: Sequence[str], kinds: dict[str, str] | None = None) -> Any:
        """A lazy frame of group-by keys: per column the value, NULL for a missing cell (NULL
        or NaN). Every engine puts NULLs in one group, so no flag or fill is needed (half
        the width of :meth:`keys`); values are cast as :meth:`keys` casts them."""
        nw = _nw()
        exprs: list[Any] = []
        for i, c in enumerate(columns):
            kind = kinds[c] if kinds is not None else self.kind(c)
            col = nw.col(c)
            if kind in ("float", "float32", "int"):
                value = nw.when(~self._missing(c)).then(col).cast(_KEY_TYPES[kind]())
            elif kind in ("datetime", "bool", "string"):
                value = col
            else:  # categorical, other: as text
                value = col.cast(nw.String)
            exprs.append(value.alias(f"__v{i}"))
        return self.frame.select(*exprs)

    def _time_fill(self, column: str) -> Any:
        """The column with missing stamps filled by 1970-01-01 of its own type (zone and
        unit kept, so values are compared at full precision), or None for a type that has
        no such constant here (durations, fixed-offset zones: compared as text)."""
        nw = _nw()
        dtype = self.schema[column]
        if dtype == nw.Date:
            fill: Any = datetime.date(1970, 1, 1)
        elif isinstance(dtype, nw.Datetime):
            try:
                zone = None if dtype.time_zone is None else ZoneInfo(dtype.time_zone)
            except (ValueError, KeyError):  # pragma: no cover - offsets like "+01:00"
                return None
            fill = datetime.datetime(1970, 1, 1, tzinfo=zone)
        else:
            return None
        if self.engine == "dask":  # a typed literal loses the zone there; the bare one keeps it
            return nw.col(column).fill_null(fill)
        return nw.col(column).fill_null(nw.lit(fill, dtype=dtype))

    def n_distinct_rows(self, columns: Sequence[str]) -> int:
        """Number of distinct rows over ``columns`` (missing cells equal to each other)."""
        nw = _nw()
        keys = self.group_keys(columns)
        return _count(keys.unique().select(nw.len().alias("n")).collect().item())

    def any_missing(self, columns: Sequence[str]) -> Any:
        """One boolean expression: the row has a missing cell in ``columns``."""
        expr = self._missing(columns[0])
        for c in columns[1:]:
            expr = expr | self._missing(c)
        return expr

    def non_finite(self, columns: Sequence[str], *, allow_nan: bool = False) -> Any:
        """One boolean expression: the row holds +-Inf (or, unless ``allow_nan``, a missing
        value) in one of the numeric ``columns``."""
        nw = _nw()
        expr: Any = nw.lit(False)
        for c in columns:
            col = nw.col(c)
            if not allow_nan:
                expr = expr | self._missing(c)
            if self.kind(c) == "float":
                expr = expr | ((col.abs() == float("inf")) & ~self._missing(c))
        return expr

    def non_integer(self, column: str) -> Any:
        """One boolean expression over a float column: a present value with a fractional
        part, or +-Inf."""
        nw = _nw()
        col = nw.col(column)
        return ~self._missing(column) & ((col.abs() == float("inf")) | (col.floor() != col))

    def count_where(self, condition: Any) -> int:
        """Rows where a boolean expression holds."""
        return _count(self._one_row([_how_many(condition).alias("n")])["n"])

    def count_each(self, conditions: Sequence[Any]) -> list[int]:
        """Rows where each boolean expression holds, all in one query."""
        exprs = [_how_many(c).alias(f"c{i}") for i, c in enumerate(conditions)]
        row = self._one_row(exprs)
        return [_count(row[f"c{i}"]) for i in range(len(exprs))]

    def n_distinct(self, column: str) -> int:
        """Distinct non-missing values of one column, counted in the engine."""
        nw = _nw()
        keys = self.group_keys([column]).drop_nulls()
        return _count(keys.unique().select(nw.len().alias("n")).collect().item())

    def present(self, column: str) -> Any:
        """One boolean expression: the cell is not missing (neither NULL nor NaN)."""
        return ~self._missing(column)

    def where(self, condition: Any) -> NativeFrame:
        """The rows where ``condition`` holds, as a frame of the same engine."""
        out = object.__new__(NativeFrame)
        out.native, out.arg, out.engine = self.native, self.arg, self.engine
        out.frame = self.frame.filter(condition)
        out._schema = self._schema
        out._filtered = True
        return out

    def frequencies(
        self, columns: Sequence[str], kinds: dict[str, str] | None = None
    ) -> RowFrequencies:
        """How often the rows over ``columns`` repeat (missing cells equal to each other):
        one group-by in the engine, aggregates of its counts brought back."""
        nw = _nw()
        keys = self.group_keys(columns, kinds)
        grouped = keys.group_by(*keys.columns).agg(nw.len().alias("__n"))
        n = nw.col("__n")
        size = n.cast(nw.Float64)  # float sums: exact below 2**53, no int64 overflow
        with_missing: Any = nw.col(keys.columns[0]).is_null()
        for name in keys.columns[1:]:
            with_missing = with_missing | nw.col(name).is_null()
        row = _first_row(
            grouped,
            [
                nw.len().alias("distinct"),
                _how_many(n == 1).alias("once"),
                _how_many(n == 2).alias("twice"),
                _how_many(n == 3).alias("thrice"),
                _how_many((n == 1) & with_missing).alias("once_missing"),
                (size * (size - 1.0) / 2.0).sum().alias("pairs"),
            ],
        )
        pairs = row["pairs"]
        return RowFrequencies(
            distinct=_count(row["distinct"]),
            once=_count(row["once"]),
            twice=_count(row["twice"]),
            thrice=_count(row["thrice"]),
            once_with_missing=_count(row["once_missing"]),
            equal_pairs=0.0 if pairs is None else float(pairs),
        )

    def rows_found_in(self, other: NativeFrame, columns: Sequence[str]) -> int:
        """Rows of this frame whose values over ``columns`` appear as a row of ``other``:
        an exact, null-safe semi-join computed in the engine."""
        nw = _nw()
        kinds = self.key_kinds(other, columns)
        mine = self.keys(columns, kinds)
        theirs = other.keys(columns, kinds)  # a semi-join never repeats rows: no unique()
        joined = mine.join(theirs, on=mine.columns, how="semi")
        return _count(joined.select(nw.len().alias("n")).collect().item())

    def matches_in(
        self, other: NativeFrame, columns: Sequence[str], *, seen_once: bool = True
    ) -> RowMatches:
        """Rows of this frame whose values over ``columns`` appear as a row of ``other``,
        how many distinct values they hold, and (with ``seen_once``) how many of them match
        a value ``other`` holds exactly once: exact null-safe semi-joins in the engine (one
        query; for ``seen_once`` two more, on the matched values only, when any match)."""
        nw = _nw()
        kinds = self.key_kinds(other, columns)
        mine = self.keys(columns, kinds)
        theirs = other.keys(columns, kinds)
        on = mine.columns
        found = mine.join(theirs, on=on, how="semi")  # a semi-join never repeats rows
        per_value = found.group_by(*on).agg(nw.len().alias("__n"))
        row = _first_row(
            per_value,
            [nw.col("__n").cast(nw.Float64).sum().alias("rows"), nw.len().alias("values")],
        )
        rows = 0 if row["rows"] is None else round(float(row["rows"]))
        if rows == 0 or not seen_once:
            return RowMatches(rows, _count(row["values"]), 0)
        # the rows of other holding a matched value, counted per value: the values held once
        shared = theirs.join(found, on=on, how="semi")
        once = shared.group_by(*on).agg(nw.len().alias("__n")).filter(nw.col("__n") == 1)
        matched_once = found.join(once.select(*on), on=on, how="semi")
        n_once = _count(matched_once.select(nw.len().alias("n")).collect().item())
        return RowMatches(rows, _count(row["values"]), n_once)

    def distinct_found_in(self, other: NativeFrame, columns: Sequence[str]) -> tuple[int, int]:
        """(distinct keys of this frame that ``other`` also holds, distinct keys of this
        frame): entity overlap without bringing a single id back."""
        nw = _nw()
        kinds = self.key_kinds(other, columns)
        mine = self.keys(columns, kinds).unique()
        theirs = other.keys(columns, kinds)
        shared = mine.join(theirs, on=mine.columns, how="semi")
        both = _count(shared.select(nw.len().alias("n")).collect().item())
        total = _count(mine.select(nw.len().alias("n")).collect().item())
        return both, total

    # ------------------------------------------------------------------ distributions
    def value_counts(
        self, column: str, *, limit: int | None = None, floats: bool = False
    ) -> dict[Any, int]:
        """Counts per value (missing under the key None), largest first; the ``limit``
        largest only when given. Values other than strings, booleans and integers (and
        floats, with ``floats``) come back as text."""
        nw = _nw()
        missing = self._missing(column)
        col = nw.when(~missing).then(nw.col(column))
        kept = ("string", "bool", "int", "float") if floats else ("string", "bool", "int")
        if self.kind(column) not in kept:
            col = col.cast(nw.String)
        grouped = (
            self.frame.select(col.alias("v"))
            .group_by("v")
            .agg(nw.len().alias("n"))
            .sort("n", descending=True)
        )
        if limit is not None:
            grouped = grouped.head(limit)
        out = grouped.collect()
        counts: dict[Any, int] = {}
        for value, n in out.rows():  # -0.0 and 0.0 may come back as two groups: one key
            key = _missing_as_none(value)
            counts[key] = counts.get(key, 0) + _count(n)
        return counts

    def histogram(self, column: str, edges: Sequence[float]) -> tuple[list[int], int]:
        """Counts of non-missing values per bin and the missing count. Bin ``i`` holds the
        values with exactly ``i`` edges strictly below them (numpy's
        ``searchsorted(edges, v, side="left")``), so ``len(edges) + 1`` bins, all in one pass."""
        nw = _nw()
        col = nw.col(column)
        missing = self._missing(column)
        index: Any = nw.lit(0)
        for edge in edges:
            index = index + nw.when(col > float(edge)).then(nw.lit(1)).otherwise(nw.lit(0))
        binned = self.frame.select(
            nw.when(missing).then(nw.lit(-1)).otherwise(index).cast(nw.Int64).alias("b")
        )
        out = binned.group_by("b").agg(nw.len().alias("n")).collect()
        counts = [0] * (len(edges) + 1)
        n_missing = 0
        for b, n in out.rows():
            if b is None or int(b) < 0:
                n_missing += _count(n)
            else:
                counts[int(b)] += _count(n)
        return counts, n_missing

    def histograms(self, edges: Mapping[str, Sequence[float]]) -> dict[str, tuple[list[int], int]]:
        """:meth:`histogram` of several columns (each on its own edges) in one query: counts
        of values at most each edge, differenced into bins (bin ``i``: ``edges[i-1] < v <=
        edges[i]``, +-Inf in the outer bins), and the missing count."""
        conditions: list[Any] = []
        for column, cuts in edges.items():
            present = ~self._missing(column)
            col = _nw().col(column)
            conditions.append(present)
            conditions += [present & (col <= float(e)) for e in cuts]
        counts = iter(self.count_each(conditions) if conditions else [])
        n = self.n_rows() if edges else 0
        out: dict[str, tuple[list[int], int]] = {}
        for column, cuts in edges.items():
            present = next(counts)
            at_most = [next(counts) for _ in cuts]
            cumulative = [0, *at_most, present]
            bins = [b - a for a, b in itertools.pairwise(cumulative)]
            out[column] = bins, n - present
        return out

    def uniform_histogram(self, column: str, lo: float, width: float, bins: int) -> list[int]:
        """Counts of the finite non-missing values in ``bins`` equal bins of ``width`` from
        ``lo`` (values below go to the first bin, above to the last), one pass."""
        return self.binned_extent(column, lo, width, bins)[0]

    def binned_extent(
        self, column: str, lo: float, width: float, bins: int
    ) -> tuple[list[int], list[float], list[float]]:
        """:meth:`uniform_histogram`'s counts with the smallest and largest value in each bin
        (NaN for an empty bin), one pass."""
        nw = _nw()
        col = nw.col(column).cast(nw.Float64)
        keep = ~self._missing(column) & (col.abs() < float("inf"))
        index = ((col - lo) / width).floor().clip(0, bins - 1).cast(nw.Int64)
        binned = self.frame.filter(keep).select(index.alias("b"), col.alias("v"))
        out = (
            binned.group_by("b")
            .agg(nw.len().alias("n"), nw.col("v").min().alias("lo"), nw.col("v").max().alias("hi"))
            .collect()
        )
        counts = [0] * bins
        lows, highs = [math.nan] * bins, [math.nan] * bins
        for b, n, low, high in out.rows():
            counts[int(b)] += _count(n)
            lows[int(b)], highs[int(b)] = float(low), float(high)
        return counts, lows, highs

    def quantiles(
        self, column: str, probs: Sequence[float], *, bins: int = 1024
    ) -> tuple[list[float], float]:
        """Quantiles (numpy's linear definition) of the finite non-missing values from two
        passes: the range, then a ``bins``-bin histogram. Returns the quantiles and a bound on
        their error that always holds (half a bin, a full one where the two order statistics a
        quantile interpolates between fall in neighbouring bins)."""
        (lo, hi) = self.min_max([column], finite=True)[column]
        if lo is None or hi is None:
            return [math.nan] * len(probs), 0.0
        lo_f, hi_f = float(lo), float(hi)
        if hi_f == lo_f:
            return [lo_f] * len(probs), 0.0
        width = (hi_f - lo_f) / bins
        counts = self.uniform_histogram(column, lo_f, width, bins)
        cumulative = list(itertools.accumulate(counts))
        total = cumulative[-1]

        def bin_of(rank: int) -> int:  # the bin holding the rank-th smallest value (0-based)
            return bisect.bisect_right(cumulative, rank)

        out: list[float] = []
        bound = 0.0
        for p in probs:
            # numpy's linear quantile lies between the order statistics floor(t) and ceil(t)
            target = p * (total - 1)
            first, last = bin_of(math.floor(target)), bin_of(math.ceil(target))
            left, right = lo_f + width * first, lo_f + width * (last + 1)
            out.append((left + right) / 2)
            bound = max(bound, (right - left) / 2)
        return out, bound

    # ------------------------------------------------------------------ back to pandas
    def sample(self, n: int, seed: int, columns: Sequence[str] | None = None) -> Any:
        """A seeded sample of about ``n`` rows as a pandas DataFrame (all rows when fewer)."""
        from pytest_mlchecks.engines._native import sample

        if self._filtered:
            raise NotImplementedError("sample() of a filtered frame")  # pragma: no cover
        return sample(self, n, seed, columns)

    def to_pandas(self, columns: Sequence[str] | None = None) -> Any:
        """The frame (or some columns) as pandas: only for bounded inputs."""
        frame = self.frame if columns is None else self.frame.select(*columns)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # engines' own pandas calls
            warnings.filterwarnings("ignore", PANDAS_3_NOTICE, FutureWarning)
            out = frame.collect()
            try:
                return out.to_pandas()
            except ImportError:  # polars without pyarrow: column by column through numpy
                import pandas as pd

                return pd.DataFrame({c: out[c].to_numpy() for c in out.columns})
