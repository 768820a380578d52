"""Data contracts: ``infer_schema(df) -> Schema``, committed as readable, diffable JSON.

A schema records, per column: dtype and its kind, observed null rate, numeric range and robust
quantiles, categories (with the numbers seen once and seen 2-5 times, for a Good-Turing estimate of
how often new categories appear by chance), whether an integer column is a key (unique and
increasing: no range rule), the column order and the reference's row count.
``Schema.to_json()`` / ``Schema.from_json()`` round-trip exactly.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from pytest_mlchecks._result import MLCheckUsageError
from pytest_mlchecks.checks.production.noise import RARE_MAX

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from pytest_mlchecks.inputs.tables import TableLike

SCHEMA_VERSION = 1
QUANTILES = (0.001, 0.01, 0.25, 0.5, 0.75, 0.99, 0.999)
MAX_CATEGORIES = 50


# ---------------------------------------------------------------------------- reason codes

#: The reason code of a schema violation (the ``rule`` of each violation ``check_schema_matches``
#: reports, and of each ``Violation`` that ``strategies.violations`` injects).
SchemaRuleCode = Literal[
    "missing_columns",
    "extra_columns",
    "column_order",
    "dtype",
    "null_rate",
    "range",
    "unseen_categories",
]


class SchemaRule:
    """The stable reason codes of schema violations, as constants.

    ``check_schema_matches`` gives each violation one (its ``rule``), ``strategies`` injects
    violations named by them, and ``SCHEMA_RULES`` describes each. They are plain strings, so
    reports and their JSON carry them as they are.
    """

    MISSING_COLUMNS: Final = "missing_columns"
    EXTRA_COLUMNS: Final = "extra_columns"
    COLUMN_ORDER: Final = "column_order"
    DTYPE: Final = "dtype"
    NULL_RATE: Final = "null_rate"
    RANGE: Final = "range"
    UNSEEN_CATEGORIES: Final = "unseen_categories"


#: What each reason code means: the one table of schema rules, in the order they are checked.
SCHEMA_RULES: dict[SchemaRuleCode, str] = {
    SchemaRule.MISSING_COLUMNS: "columns of the schema are absent",
    SchemaRule.EXTRA_COLUMNS: "columns the schema does not list (allow_extra=True accepts them)",
    SchemaRule.COLUMN_ORDER: (
        "the columns present in both come in another order (check_order=False ignores it)"
    ),
    SchemaRule.DTYPE: (
        "a column's kind of values changed, e.g. int vs float or string vs category "
        "(strict_dtypes=True compares exact dtypes; check_dtypes=False ignores it)"
    ),
    SchemaRule.NULL_RATE: (
        "a column's null rate rose beyond sampling noise (check_nulls=False ignores it)"
    ),
    SchemaRule.RANGE: (
        "numeric values below the reference's minimum or above its maximum, more than chance "
        "explains for the reference's size, or any value far out (a sentinel such as "
        "-999999); key columns have no range (check_ranges=False ignores it)"
    ),
    SchemaRule.UNSEEN_CATEGORIES: (
        "values in categories the reference never saw, beyond its Good-Turing rate (none at "
        "all in a closed domain; extra_unseen tolerates more, check_categories=False ignores it)"
    ),
}


# ---------------------------------------------------------------------------- schema


@dataclass
class ColumnSchema:
    """What one column looked like in the reference data."""

    name: str
    dtype: str
    kind: str
    null_rate: float = 0.0
    n_unique: int | None = None
    min: float | None = None
    max: float | None = None
    quantiles: dict[str, float] | None = None
    categories: list[str] | None = None
    singletons: int | None = None
    rare_levels: int | None = None  # categories seen 2 to RARE_MAX times
    min_count: int | None = None  # how often the rarest category was seen
    has_inf: bool | None = None  # the reference held +-inf (kept out of min and max)
    key: bool | None = None

    @property
    def nullable(self) -> bool:
        return self.null_rate > 0


@dataclass
class Schema:
    """The contract of a table: columns in order, with their reference statistics."""

    columns: list[ColumnSchema] = field(default_factory=list)
    n_rows: int = 0
    schema_version: int = SCHEMA_VERSION

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnSchema:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def to_json(self, indent: int | None = 2) -> str:
        """Readable, diffable JSON (one key per line, column order kept)."""
        data = {
            "schema_version": self.schema_version,
            "n_rows": self.n_rows,
            "columns": [_column_dict(c) for c in self.columns],
        }
        return json.dumps(data, indent=indent, allow_nan=False) + ("\n" if indent else "")

    @classmethod
    def from_json(cls, text: str | bytes) -> Schema:
        """Parse JSON written by ``to_json``; anything else (corrupt, hand-edited
        inconsistently, or written by a newer version) is a usage error naming what is
        wrong."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        if not isinstance(text, str):
            raise MLCheckUsageError(
                f"Schema.from_json expects the JSON text, got a {type(text).__name__}."
            )
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MLCheckUsageError(f"schema JSON does not parse: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
            raise MLCheckUsageError("schema JSON must be an object with a 'columns' list.")
        version = data.get("schema_version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            raise MLCheckUsageError(
                f"schema JSON has an invalid schema_version {version!r}: expected an integer."
            )
        if version > SCHEMA_VERSION:
            raise MLCheckUsageError(
                f"schema JSON has schema_version {version}, newer than this pytest-mlchecks "
                f"understands ({SCHEMA_VERSION}): upgrade pytest-mlchecks."
            )
        if version < 1:
            raise MLCheckUsageError(f"schema JSON has an invalid schema_version {version!r}.")
        unknown_top = set(data) - {"schema_version", "n_rows", "columns"}
        if unknown_top:
            raise MLCheckUsageError(
                f"schema JSON has unknown top-level keys {sorted(unknown_top)}."
            )
        n_rows = data.get("n_rows", 0)
        if isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 0:
            raise MLCheckUsageError(
                f"schema JSON has n_rows {n_rows!r}: expected a non-negative integer."
            )
        columns = [_column_from_json(raw, i) for i, raw in enumerate(data["columns"])]
        names = [c.name for c in columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise MLCheckUsageError(f"schema JSON names the columns {duplicated} more than once.")
        return cls(columns=columns, n_rows=n_rows, schema_version=version)

    def save(self, path: str | Path) -> None:
        from pytest_mlchecks._report import write_atomic

        write_atomic(str(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        target = Path(path)
        if not target.exists():
            raise MLCheckUsageError(
                f"no schema at {str(target)!r}: create it with assert_schema_matches(..., "
                "update=True) or pytest --ml-update-schema."
            )
        return cls.from_json(target.read_text(encoding="utf-8"))


KEY_MIN_ROWS = 20


def is_key(col: pd.Series, *, unique: bool | None = None) -> bool:
    """An integer column that is unique and strictly increasing in row order (an
    auto-increment id or row number, at least ``KEY_MIN_ROWS`` values): its range grows with
    every new batch by construction, so range, drift and out-of-distribution rules skip it.
    ``unique``: whether the column's values are all distinct, when the caller knows it."""
    if kind_of(col.dtype) != "int" or len(col) < KEY_MIN_ROWS or _has_missing(col):
        return False
    return bool(col.is_monotonic_increasing and (col.is_unique if unique is None else unique))


def _has_missing(col: pd.Series) -> bool:
    """Whether ``col`` holds a missing value (never, for a numpy integer or bool column)."""
    import numpy as np

    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iub":
        return False
    return bool(col.isna().any())


ID_SPAN_FACTOR = 10  # unique integers spanning at most this many times their count: ids
ID_NAME_ENDINGS = ("_id", "-id", " id", ".id", "_key", "uuid", "guid")


def _id_name(name: Any) -> bool:
    """'id', 'customer_id', 'customerId', 'ID', 'order_key', 'uuid' - not 'paid' or 'valid'."""
    if name is None:
        return False
    text = str(name)
    lower = text.lower()
    return lower == "id" or lower.endswith(ID_NAME_ENDINGS) or text.endswith(("Id", "ID"))


id_name = _id_name  # public: the engine path's id rule (engines.production) shares it

TEXT_UNIQUE_SHARE = 0.5  # strings with more distinct values than this share of rows


def id_like(col: pd.Series, *, unique: bool | None = None) -> str | None:
    """Why a column holds identifiers rather than a feature distribution, or None.

    One rule for every check that compares distributions (drift, out-of-distribution):
    - "key": unique, strictly increasing integers (an auto-increment id);
    - "unique integers": unique integers, in any order, that are dense (spanning at most
      ``ID_SPAN_FACTOR`` times their count) or whose column name says id ('id',
      'customer_id', 'customerId', 'order_key', 'uuid'; not 'paid');
    - "integers named as ids, mostly distinct": integers whose name says id, distinct in more
      than half the rows (a patient or customer id with a few rows each);
    - "identifiers or free text": strings with distinct values in more than half the rows.
    New batches bring new ids by construction, so comparing them reports drift that is not
    there. Needs at least ``KEY_MIN_ROWS`` values; missing values rule integers out.
    ``unique``: whether the column's values are all distinct, when the caller knows it.
    """
    n = len(col)
    if n < KEY_MIN_ROWS:
        return None
    kind = kind_of(col.dtype)
    if kind == "int":
        if _has_missing(col):
            return None
        if not (
            col.is_unique if unique is None else unique
        ):  # repeated ids (several rows per customer) named as ids
            named = _id_name(col.name) and col.nunique() > TEXT_UNIQUE_SHARE * n
            return "integers named as ids, mostly distinct" if named else None
        if col.is_monotonic_increasing:
            return "key"
        span = float(col.max()) - float(col.min()) + 1
        if span <= ID_SPAN_FACTOR * n or _id_name(col.name):
            return "unique integers"
        return None
    if kind in ("string", "category"):
        present = col.dropna()
        if len(present) >= KEY_MIN_ROWS and present.nunique() > TEXT_UNIQUE_SHARE * n:
            return "identifiers or free text"
    return None


#: The coarse kind of a column's values (``kind_of``).
ColumnKind = Literal["bool", "int", "float", "datetime", "timedelta", "category", "string", "other"]
_KINDS: tuple[str, ...] = get_args(ColumnKind)


def _column_from_json(raw: Any, index: int) -> ColumnSchema:
    """One column of schema JSON, every field checked against its type and domain."""
    where = f"schema JSON column {index}"
    if not isinstance(raw, dict):
        raise MLCheckUsageError(f"{where} is a {type(raw).__name__}: expected an object.")
    if isinstance(raw.get("name"), str):
        where = f"schema JSON column {raw['name']!r}"
    known = set(ColumnSchema.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise MLCheckUsageError(f"{where} has unknown fields {sorted(unknown)}.")
    for required in ("name", "dtype", "kind"):
        if not isinstance(raw.get(required), str):
            raise MLCheckUsageError(f"{where}: '{required}' must be a string.")
    if raw["kind"] not in _KINDS:
        raise MLCheckUsageError(f"{where}: kind {raw['kind']!r} is not one of {_KINDS}.")
    null_rate = _json_number(raw, "null_rate", where)
    if null_rate is not None and not 0.0 <= null_rate <= 1.0:
        raise MLCheckUsageError(f"{where}: null_rate {null_rate!r} is not a rate in [0, 1].")
    low, high = _json_number(raw, "min", where), _json_number(raw, "max", where)
    if low is not None and high is not None and low > high:
        raise MLCheckUsageError(f"{where}: min {low!r} is greater than max {high!r}.")
    quantiles = _json_quantiles(raw.get("quantiles"), where)
    categories = _json_categories(raw.get("categories"), where)
    for flag in ("key", "has_inf"):
        if raw.get(flag) is not None and not isinstance(raw[flag], bool):
            raise MLCheckUsageError(f"{where}: '{flag}' must be true or false, got {raw[flag]!r}.")
    return ColumnSchema(
        name=raw["name"],
        dtype=raw["dtype"],
        kind=raw["kind"],
        null_rate=0.0 if null_rate is None else null_rate,
        n_unique=_json_count(raw, "n_unique", where),
        min=low,
        max=high,
        quantiles=quantiles,
        categories=categories,
        singletons=_json_count(raw, "singletons", where),
        rare_levels=_json_count(raw, "rare_levels", where),
        min_count=_json_count(raw, "min_count", where),
        has_inf=raw.get("has_inf"),
        key=raw.get("key"),
    )


def _json_number(raw: dict[str, Any], key: str, where: str) -> float | None:
    """A finite number field of a schema JSON column (None when absent)."""
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MLCheckUsageError(f"{where}: '{key}' must be a number, got {value!r}.")
    if not math.isfinite(value):
        raise MLCheckUsageError(f"{where}: '{key}' must be finite, got {value!r}.")
    return float(value)


def _json_count(raw: dict[str, Any], key: str, where: str) -> int | None:
    """A non-negative integer field of a schema JSON column (None when absent)."""
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MLCheckUsageError(f"{where}: '{key}' must be a non-negative integer, got {value!r}.")
    return value


def _json_quantiles(quantiles: object, where: str) -> dict[str, float] | None:
    """Quantile levels to numbers, non-decreasing with the level (None when absent)."""
    if quantiles is None:
        return None
    if not isinstance(quantiles, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in quantiles.values()
    ):
        raise MLCheckUsageError(f"{where}: 'quantiles' must map levels to numbers.")
    ordered = [float(quantiles[k]) for k in sorted(quantiles, key=_level)]
    if any(a - b > 1e-9 * max(abs(a), abs(b), 1.0) for a, b in itertools.pairwise(ordered)):
        raise MLCheckUsageError(f"{where}: quantiles decrease with their level.")
    return {str(k): float(v) for k, v in quantiles.items()}


def _json_categories(categories: object, where: str) -> list[str] | None:
    """Distinct category names (None when absent)."""
    if categories is None:
        return None
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise MLCheckUsageError(f"{where}: 'categories' must be a list of strings.")
    if len(set(categories)) != len(categories):
        raise MLCheckUsageError(f"{where}: 'categories' lists a category more than once.")
    return categories


def _level(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise MLCheckUsageError(f"schema JSON quantile level {text!r} is not a number.") from None


def _column_dict(column: ColumnSchema) -> dict[str, Any]:
    return {k: v for k, v in asdict(column).items() if v is not None}


def kind_of(dtype: np.dtype[Any] | pd.api.extensions.ExtensionDtype) -> ColumnKind:
    """Coarse kind of a pandas/numpy dtype: bool, int, float, datetime, timedelta, category,
    string, other."""
    import pandas as pd

    api = pd.api.types
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if api.is_bool_dtype(dtype):
        return "bool"
    if api.is_integer_dtype(dtype):
        return "int"
    if api.is_float_dtype(dtype):
        return "float"
    if api.is_datetime64_any_dtype(dtype):
        return "datetime"
    if api.is_timedelta64_dtype(dtype):
        return "timedelta"
    if api.is_string_dtype(dtype) or api.is_object_dtype(dtype):
        return "string"
    return "other"


def column_as_float(col: pd.Series) -> np.ndarray:
    """A numeric, datetime or timedelta column as float64 (times as nanoseconds; NaN for
    missing values)."""
    import numpy as np

    if kind_of(col.dtype) in ("datetime", "timedelta"):
        if getattr(col.dtype, "tz", None) is not None:
            col = col.dt.tz_convert("UTC").dt.tz_localize(None)
        missing = col.isna().to_numpy()
        values = col.to_numpy().view("int64").astype(np.float64)
        values[missing] = np.nan
        return np.asarray(values)
    return np.asarray(col.to_numpy(dtype=np.float64, na_value=np.nan))


SPARSE_MAX_CELLS = 20_000_000  # sparse inputs are densified up to this many cells


def tabular_input(obj: Any, arg: str) -> Any:
    """Bring table-like inputs that the shared converters do not handle into pandas:
    numpy structured (record) arrays become one column per field, polars frames convert
    without pyarrow when it is missing (column by column through numpy), scipy sparse
    matrices are densified when small enough. Anything else is returned unchanged."""
    import numpy as np

    module = type(obj).__module__
    if module.startswith("polars") and hasattr(obj, "to_pandas") and hasattr(obj, "columns"):
        try:
            return obj.to_pandas()
        except ImportError:
            import pandas as pd

            try:
                return pd.DataFrame({str(c): obj[c].to_numpy() for c in obj.columns})
            except Exception as exc:
                raise MLCheckUsageError(
                    f"{arg} is a polars {type(obj).__name__} that could not be converted to "
                    f"pandas without pyarrow ({type(exc).__name__}: {exc}): install pyarrow "
                    "(pip install pyarrow) or pass a pandas DataFrame."
                ) from exc
    if module.startswith("scipy.sparse") and hasattr(obj, "toarray"):
        rows, cols = obj.shape
        if rows * cols > SPARSE_MAX_CELLS:
            raise MLCheckUsageError(
                f"{arg} is a scipy sparse matrix of {rows:,} x {cols:,}: too large to compare "
                f"column by column here (limit {SPARSE_MAX_CELLS:,} cells); pass the columns "
                "to compare as a DataFrame (e.g. the raw features before vectorising)."
            )
        import pandas as pd

        return pd.DataFrame(obj.toarray(), columns=[str(i) for i in range(cols)])
    if isinstance(obj, np.ndarray) and obj.dtype.names:
        if obj.ndim != 1:
            raise MLCheckUsageError(
                f"{arg} is a structured array of shape {obj.shape}: expected one record per "
                "row (1-D)."
            )
        nested = [n for n in obj.dtype.names if obj.dtype[n].shape or obj.dtype[n].names]
        if nested:
            raise MLCheckUsageError(
                f"{arg} is a structured array whose fields {nested[:5]} hold arrays or "
                "records: expected one scalar per field (flatten them into columns)."
            )
        import pandas as pd

        return pd.DataFrame({str(n): obj[n] for n in obj.dtype.names})
    return obj


QUANTILE_SAMPLE = 100_000  # quantiles of longer columns come from a seeded sample this size
QUANTILE_SEED = 0


def _quantiles(values: np.ndarray) -> np.ndarray:
    """``QUANTILES`` of finite float ``values``: exact (``np.quantile``) up to
    ``QUANTILE_SAMPLE`` values, else of a seeded stratified sample of that size (same
    linear interpolation). A sample's p-quantile sits at a rank of the whole column
    off by sqrt(p(1-p)/n) in standard deviation: 0.16 percentage points at the median, 0.03
    at 1% / 99% and 0.01 at 0.1% / 99.9% for n = 100,000 (0.63, 0.13, 0.04 at 4 SD). Only
    ``check_schema_matches``'s far-out bars read them (``FAR_SPANS`` tail spans on a log
    scale beyond the exact extremes), where such rank errors move no verdict; min and max
    are always exact. Stratifying (one row from each stretch of len/n rows) never adds rank
    error over independent draws and lowers it for data stored in sorted or drifting order."""
    import numpy as np

    if len(values) > QUANTILE_SAMPLE:  # a fresh array: sorted in place
        sample = np.asarray(values[_sample_rows(len(values))], dtype=np.float64)
        sample.sort()
        return _sorted_quantiles(sample)
    return _sorted_quantiles(np.sort(np.asarray(values, dtype=np.float64)))


@functools.lru_cache(maxsize=4)
def _sample_rows(n: int) -> np.ndarray:
    """The rows of the seeded stratified sample of a column of ``n`` values: one row drawn
    uniformly from each of ``QUANTILE_SAMPLE`` equal stretches of rows (no more rank error
    than independent draws; read in order, cache-friendly). The same for every column of a
    frame, so drawn once (read-only)."""
    import numpy as np

    rng = np.random.default_rng(QUANTILE_SEED)
    strata = np.arange(QUANTILE_SAMPLE) + rng.random(QUANTILE_SAMPLE)
    rows = np.minimum((strata * (n / QUANTILE_SAMPLE)).astype(np.intp), n - 1)
    rows.flags.writeable = False
    return rows


def _sorted_quantiles(ordered: np.ndarray) -> np.ndarray:
    """``np.quantile(ordered, QUANTILES)`` (method "linear") of sorted, finite float64
    values, bit for bit, read off at the 14 ranks it interpolates between (``np.quantile``
    partitions again even when the values are sorted: 3 ms for 100,000 values)."""

    return _linear_quantiles(len(ordered), lambda ranks: ordered[ranks])


def _linear_quantiles(n: int, value_at: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``np.quantile``'s linear interpolation of ``QUANTILES`` over ``n`` sorted values,
    read through ``value_at`` (the float64 values at the given ranks, -1 for the last)."""
    import numpy as np

    virtual = (n - 1) * np.asarray(QUANTILES, dtype=np.float64)
    previous = np.floor(virtual)
    following = previous + 1
    past_end = virtual >= n - 1  # numpy takes the last value there
    previous[past_end] = -1
    following[past_end] = -1
    gamma = virtual - previous
    low = value_at(previous.astype(np.intp))
    high = value_at(following.astype(np.intp))
    diff = high - low
    out = low + diff * gamma
    np.subtract(high, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return np.asarray(out)


DENSE_SPAN = 4  # integers spanning at most this many times their count: counted by marking


def _distinct_integers(values: np.ndarray, low: int, high: int) -> int:
    """The number of distinct values of a numpy integer array (from ``low`` to ``high``):
    one marking pass when the span is short, else a hash table."""
    import numpy as np
    import pandas as pd

    bound = DENSE_SPAN * len(values) + 1024
    if low >= 0 and high < bound:  # marked at the values themselves: no shifted copy
        seen = np.zeros(high + 1, dtype=bool)
        seen[values] = True
        return int(np.count_nonzero(seen))
    if high - low < bound:
        seen = np.zeros(high - low + 1, dtype=bool)
        seen[values - values.dtype.type(low)] = True
        return int(np.count_nonzero(seen))
    return len(pd.unique(values))


def _profile_integers(col: pd.Series, values: np.ndarray, spec: ColumnSchema) -> None:
    """A numpy integer column without missing values: exact min, max and distinct count on
    the integers themselves (no float copy), key flag, quantiles."""
    low, high = int(values.min()), int(values.max())
    spec.min, spec.max = float(low), float(high)
    spec.n_unique = _distinct_integers(values, low, high)
    unique = spec.n_unique == len(values)
    spec.key = is_key(col, unique=unique) or id_like(col, unique=unique) is not None or None
    if high - low < DENSE_SPAN * QUANTILE_SAMPLE:
        qs = _counted_quantiles(values, low, high)
    else:
        qs = _quantiles(values)
    spec.quantiles = {f"{q:g}": float(v) for q, v in zip(QUANTILES, qs, strict=True)}


def _counted_quantiles(values: np.ndarray, low: int, high: int) -> np.ndarray:
    """``_quantiles`` of integers spanning few values (``low`` to ``high``), bit for bit:
    the sorted values' ranks read off the cumulated counts of each value, no sort."""
    import numpy as np

    if len(values) > QUANTILE_SAMPLE:
        values = values[_sample_rows(len(values))]
    cumulated = np.cumsum(np.bincount(values - values.dtype.type(low), minlength=high - low + 1))
    n = len(values)

    def value_at(ranks: np.ndarray) -> np.ndarray:
        ranks = np.where(ranks < 0, n + ranks, ranks)
        return np.asarray(low + np.searchsorted(cumulated, ranks, side="right"), np.float64)

    return _linear_quantiles(n, value_at)


def _profile_numeric(col: pd.Series, spec: ColumnSchema) -> None:
    """Null rate, +-inf, distinct count and key flag (integers), exact min and max, and
    quantiles (``_quantiles``) of an int or float column, in one conversion at most."""
    import numpy as np
    import pandas as pd

    plain = isinstance(col.dtype, np.dtype)  # numpy-backed: no missing values but NaN
    if plain and col.dtype.kind in "iu":
        raw = np.asarray(col.to_numpy())
        if max(abs(int(raw.min())), abs(int(raw.max()))) < 2**53:
            # exact as floats: the figures the float path gives, without the float copy
            _profile_integers(col, raw, spec)
            return
    values = np.asarray(col.to_numpy(dtype=np.float64, na_value=np.nan))
    low, high = (float(values.min()), float(values.max())) if len(values) else (math.nan,) * 2
    if not (math.isfinite(low) and math.isfinite(high)):  # NaN or +-inf somewhere
        nulls = int(np.count_nonzero(np.isnan(values))) if plain else int(col.isna().sum())
        spec.null_rate = nulls / len(col)
        finite = np.isfinite(values)
        n_finite = int(np.count_nonzero(finite))
        if n_finite + nulls < len(values):
            spec.has_inf = True
        values = values[finite]
        low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
    if spec.kind == "int":  # distinct counts of floats are costly and say little
        spec.n_unique = len(pd.unique(values))
        unique = True if spec.n_unique == len(col) else None
        spec.key = is_key(col, unique=unique) or id_like(col, unique=unique) is not None or None
    if len(values):
        spec.min, spec.max = low, high
        qs = _quantiles(values)
        spec.quantiles = {f"{q:g}": float(v) for q, v in zip(QUANTILES, qs, strict=True)}


def text_counts(col: pd.Series, *, missing: str | None = None) -> pd.Series:
    """How often each value of ``col`` occurs, keyed by its text: what
    ``col.astype(str).value_counts()`` gives (most frequent first, ties in order of first
    appearance), with missing values left out or, with ``missing``, counted under that key.
    Only the distinct values become text: rows are counted on codes (``pd.factorize``: the
    category codes of a categorical column, one hash pass otherwise). Values whose text is
    not one-to-one with their equality (floats, where 0.0 == -0.0; mixed objects, where
    1 == 1.0 == True) take the text of every row, as before."""
    import numpy as np
    import pandas as pd

    kind = kind_of(col.dtype)
    few = _few_category_counts(col, missing) if kind == "category" else None
    if few is not None:
        return _by_text(*few, missing)
    codes, uniques = pd.factorize(col, use_na_sentinel=missing is None)
    values = list(uniques)
    plain = kind in ("category", "bool", "int") or (
        kind == "string" and all(isinstance(v, str) or pd.isna(v) for v in values)
    )
    if not plain:
        text = col.astype(str)
        per_row: pd.Series = (
            text[col.notna()].value_counts()
            if missing is None
            else text.where(col.notna(), missing).value_counts()
        )
        return per_row
    counts = np.bincount(np.asarray(codes)[codes >= 0], minlength=len(values))
    return _by_text(values, counts, missing)


FEW_CATEGORIES = 32  # categoricals with at most this many categories: counted by comparison


def _few_category_counts(col: pd.Series, missing: str | None) -> tuple[list[Any], Any] | None:
    """The values of a categorical column with at most ``FEW_CATEGORIES`` categories in order
    of first appearance, and how often each occurs: what ``pd.factorize`` and a count on its
    codes give, in one comparison pass per category on the small integer codes (a hash
    pass and a widening copy cost more). None when there are more categories, or missing
    values to count under ``missing``."""
    import numpy as np

    categories = col.cat.categories
    codes = np.asarray(col.cat.codes)
    if len(categories) > FEW_CATEGORIES or (missing is not None and codes.min(initial=0) < 0):
        return None
    firsts: list[int] = []
    counts: list[int] = []
    values: list[Any] = []
    for code, value in enumerate(categories):
        hits = codes == code
        count = int(np.count_nonzero(hits))
        if count:
            firsts.append(int(hits.argmax()))
            counts.append(count)
            values.append(value)
    order = np.argsort(np.asarray(firsts, dtype=np.intp), kind="stable")
    return [values[i] for i in order], np.asarray(counts, dtype=np.int64)[order]


def _by_text(values: list[Any], counts: Any, missing: str | None) -> pd.Series:
    """``text_counts``'s result from distinct values in order of first appearance and their
    counts: keyed by text, zero counts dropped, values sharing a text summed, most frequent
    first (ties in order of first appearance)."""
    import numpy as np
    import pandas as pd

    keys = [missing if missing is not None and pd.isna(v) else str(v) for v in values]
    by_text: pd.Series = pd.Series(counts, index=keys, dtype=np.int64)
    by_text = by_text[by_text.to_numpy() > 0]
    if not by_text.index.is_unique:  # distinct values with the same text (1 and "1")
        by_text = by_text.groupby(level=0, sort=False).sum()
    return by_text.sort_values(ascending=False, kind="stable")


def infer_schema(df: TableLike, *, max_categories: int = MAX_CATEGORIES) -> Schema:
    """Infer the schema of a reference DataFrame (the training data, typically).

    One pass per column: min and max exact, quantiles exact up to ``QUANTILE_SAMPLE``
    values and from a seeded sample beyond (``_sample_quantiles`` states the rank error),
    categories counted on codes."""
    import numpy as np

    from pytest_mlchecks.engines import is_native
    from pytest_mlchecks.inputs.tables import as_dataframe, require_rows

    if is_native(df):  # computed in the user's engine (engines.production)
        from pytest_mlchecks.engines.production import infer_schema_in_engine

        return infer_schema_in_engine(df, max_categories)
    frame = as_dataframe(tabular_input(df, "df"), "df")
    n = require_rows(frame, "df")
    columns: list[ColumnSchema] = []
    for name in frame.columns:
        col = frame[name]
        kind = kind_of(col.dtype)
        spec = ColumnSchema(name=str(name), dtype=str(col.dtype), kind=kind)
        columns.append(spec)
        if kind in ("int", "float"):
            _profile_numeric(col, spec)  # sets the null rate too
            continue
        nulls = int(col.isna().sum())
        spec.null_rate = nulls / n
        present = col.dropna() if nulls else col
        if kind == "datetime":
            spec.n_unique = int(present.nunique())
            if len(present):
                stamps = present.to_numpy(dtype="datetime64[ns]").astype(np.int64)
                spec.min = float(stamps.min())
                spec.max = float(stamps.max())
        elif kind in ("category", "string", "bool"):
            counts = text_counts(present)
            spec.n_unique = len(counts)
            if kind == "bool" or len(counts) <= max_categories:
                spec.categories = sorted(str(v) for v in counts.index)
                spec.singletons = int((counts == 1).sum())
                spec.rare_levels = int(((counts >= 2) & (counts <= RARE_MAX)).sum())
                spec.min_count = int(counts.min()) if len(counts) else None
        else:
            spec.n_unique = int(present.astype(str).nunique())
    return Schema(columns=columns, n_rows=n)
