"""The production checks on native frames: ``infer_schema``, ``schema_matches``, ``no_drift``
and ``in_distribution`` computed inside the user's engine.

The public checks (``schema.infer_schema``, ``contract.check_schema_matches``,
``drift.check_no_drift``, ``drift.check_in_distribution``) hand a native frame to the functions
here and build their verdict and message from the figures these return, as for pandas.

What crosses from the engine to Python: counts (missing, NaN, +-Inf, per condition, per bin,
per category up to ``CATEGORY_LIMIT`` categories), exact minima and maxima, exact distinct
counts, and a seeded sample of at most ``SAMPLE_ROWS`` rows of the numeric columns a check
needs quantiles of. Exact as the pandas path: every count, the schema rules, PSI's bin counts.
Bounded: quantiles (exact up to ``SAMPLE_ROWS`` rows, from the seeded sample beyond: rank error
sqrt(p(1-p)/SAMPLE_ROWS), what pandas' own quantile sample has) and KS (an interval from a
``KS_BINS``-bin histogram that always holds the exact statistic). Each result records
``details["engine"]``, ``details["exact"]`` and, when not exact, ``details["approximations"]``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np

from pytest_mlchecks._result import MLCheckUsageError
from pytest_mlchecks.checks.production.noise import (
    RARE_MAX,
    Z_NOISE,
    chance_rate,
    count_allowance,
    good_turing_allowance,
)
from pytest_mlchecks.engines import native_pair
from pytest_mlchecks.engines._frame import NativeFrame, _nw
from pytest_mlchecks.engines.measures import ks_interval
from pytest_mlchecks.schema import (
    ID_SPAN_FACTOR,
    KEY_MIN_ROWS,
    QUANTILE_SAMPLE,
    QUANTILE_SEED,
    QUANTILES,
    TEXT_UNIQUE_SHARE,
    ColumnSchema,
    Schema,
    id_name,
)

if TYPE_CHECKING:
    import pandas as pd

    from pytest_mlchecks.checks.production.drift import (
        DriftColumn,
        DriftFigures,
        DriftSetup,
        OodFigures,
    )

#: categories brought back per column at most: a column with more distinct values is free
#: text or a key (as the pandas path decides for mostly-distinct strings), never collected
CATEGORY_LIMIT = 10_000
#: rows of the seeded sample quantiles come from (the pandas path's own quantile sample size)
SAMPLE_ROWS = QUANTILE_SAMPLE
#: bins of the common grid the KS interval comes from
KS_BINS = 1000


# ---------------------------------------------------------------------------- shared pieces


def native_rows(df: Any, arg: str, other: Any = None) -> int:
    """The rows of a native frame (a usage error when empty, or when ``other``, a native
    reference, lives on another engine or ``df`` is not native)."""
    from pytest_mlchecks.engines import is_native

    if is_native(other) or not is_native(df):  # both on one engine, else a usage error
        native_pair(df, other, arg, "expected")
    rows = NativeFrame(df, arg).n_rows()
    if rows == 0:
        raise MLCheckUsageError(f"{arg} is empty (0 rows): expected at least one row.")
    return rows


def _pair(a: Any, b: Any, arg_a: str, arg_b: str) -> tuple[NativeFrame, NativeFrame, int, int]:
    """Both frames on one engine, with their row counts (usage errors when empty)."""
    native_pair(a, b, arg_a, arg_b)
    fa, fb = NativeFrame(a, arg_a), NativeFrame(b, arg_b)
    sizes = []
    for frame in (fa, fb):
        rows = frame.n_rows()
        if rows == 0:
            raise MLCheckUsageError(f"{frame.arg} is empty (0 rows): expected at least one row.")
        sizes.append(rows)
    return fa, fb, sizes[0], sizes[1]


_PANDAS_NAMES = {
    "Float64": "float64",
    "Float32": "float32",
    "Int8": "int8",
    "Int16": "int16",
    "Int32": "int32",
    "Int64": "int64",
    "UInt8": "uint8",
    "UInt16": "uint16",
    "UInt32": "uint32",
    "UInt64": "uint64",
    "Boolean": "bool",
    "Categorical": "category",
    "Enum": "category",
}


def pandas_dtype(frame: NativeFrame, column: str) -> str:
    """The dtype the column would have once read into pandas (what a schema records)."""
    dtype = frame.schema[column]
    name = str(dtype).split("(", 1)[0]
    if name in _PANDAS_NAMES:
        return _PANDAS_NAMES[name]
    if name == "String":
        import pandas as pd

        return str(pd.Series(["a"]).dtype)  # "str" on pandas 3, "object" before
    unit = getattr(dtype, "time_unit", "ns")
    if name == "Datetime":
        zone = getattr(dtype, "time_zone", None)
        return f"datetime64[{unit}, {zone}]" if zone else f"datetime64[{unit}]"
    if name == "Duration":
        return f"timedelta64[{unit}]"
    if name == "Date":
        return "datetime64[ms]"
    return "object"


def schema_kind(frame: NativeFrame, column: str) -> str:
    """The column's kind as ``schema.kind_of`` names kinds for pandas."""
    kind = frame.kind(column)
    if kind == "categorical":
        return "category"
    if kind == "datetime":
        return "timedelta" if str(frame.schema[column]).startswith("Duration") else "datetime"
    return kind


def id_reason(
    name: str, kind: str, sizes: tuple[int, int], n_distinct: int, span: float
) -> str | None:
    """``schema.id_like`` from aggregates: ``sizes`` (rows, missing), distinct present values,
    and for integers the span (max - min + 1). Row order has no meaning in an engine, so a
    unique increasing integer column is caught by the "unique integers" rule (dense or named
    as an id), not as a "key"."""
    n, missing = sizes
    if n < KEY_MIN_ROWS:
        return None
    if kind == "int":
        if missing:
            return None
        if n_distinct < n:
            named = id_name(name) and n_distinct > TEXT_UNIQUE_SHARE * n
            return "integers named as ids, mostly distinct" if named else None
        return "unique integers" if span <= ID_SPAN_FACTOR * n or id_name(name) else None
    if kind in ("string", "category") and n - missing >= KEY_MIN_ROWS:
        return "identifiers or free text" if n_distinct > TEXT_UNIQUE_SHARE * n else None
    return None


def _column_id_reason(frame: NativeFrame, column: str, n: int, missing: int) -> str | None:
    """``id_reason`` of one column, its aggregates counted in the engine (ints and text only)."""
    kind = schema_kind(frame, column)
    if n < KEY_MIN_ROWS or kind not in ("int", "string", "category"):
        return None
    if kind == "int" and missing:
        return None
    span = 0.0
    if kind == "int":
        lo, hi = frame.min_max([column])[column]
        span = float(hi) - float(lo) + 1
    return id_reason(column, kind, (n, missing), frame.n_distinct(column), span)


def _finite_sample(frame: NativeFrame, columns: Sequence[str], seed: int) -> pd.DataFrame | None:
    """A seeded sample of at most ``SAMPLE_ROWS`` rows of ``columns`` (every row of a smaller
    frame), as pandas; None without columns."""
    if not columns:
        return None
    picked: pd.DataFrame = frame.sample(SAMPLE_ROWS, seed, list(columns))
    return picked


def _finite(sample: pd.DataFrame | None, column: str) -> np.ndarray:
    """The finite values of a sampled column as float64."""
    if sample is None:
        return np.empty(0)
    values = np.asarray(sample[column].to_numpy(dtype=np.float64, na_value=np.nan))
    return np.asarray(values[np.isfinite(values)])


def _sample_note(rows: int) -> dict[str, Any] | None:
    """The approximation a quantile sample makes, or None when it held every row."""
    if rows <= SAMPLE_ROWS:
        return None
    return {
        "what": "quantiles",
        "how": f"seeded sample of {SAMPLE_ROWS:,} of {rows:,} rows",
        "rank_error_sd": math.sqrt(0.25 / SAMPLE_ROWS),  # at the median, less in the tails
    }


def _extra(engine: str, approximations: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"engine": engine, "exact": not approximations}
    if approximations:
        out["approximations"] = approximations
    return out


def _text_keys(frame: NativeFrame, column: str, *, limit: int) -> dict[str | None, int] | None:
    """Counts per value's text (``str(value)``, as pandas' ``astype(str)``; missing under
    None), or None when the column holds more than ``limit`` distinct values."""
    counts = frame.value_counts(column, limit=limit + 2)  # + missing, + one to see the limit
    present = [k for k in counts if k is not None]
    if len(present) > limit:
        return None
    out: dict[str | None, int] = {}
    for key, n in counts.items():
        text = None if key is None else str(key)
        out[text] = out.get(text, 0) + n
    return out


def _not_in(frame: NativeFrame, column: str, seen: Sequence[str]) -> Any:
    """One boolean expression: a present value whose text is none of ``seen``."""
    nw = _nw()
    kind = frame.kind(column)
    col = nw.col(column)
    present = frame.present(column)
    values: list[Any]
    if kind == "bool":
        values = [text == "True" for text in seen if text in ("True", "False")]
    elif kind == "string":
        values = list(seen)
    else:  # categories, numbers: compared as text
        col = col.cast(nw.String)
        values = list(seen)
    if not values:
        return present
    return present & ~col.is_in(values)


# ---------------------------------------------------------------------------- infer_schema


def infer_schema_in_engine(df: Any, max_categories: int) -> Schema:
    """``schema.infer_schema`` of a native frame: the same schema as pandas gives for the same
    data (quantiles exact up to ``SAMPLE_ROWS`` rows, from a seeded sample beyond, as pandas).
    Key columns are found by the "unique integers" rule of ``id_reason`` (row order has no
    meaning in an engine)."""
    frame = NativeFrame(df, "df")
    names = frame.columns
    counts = frame.missing_counts(names)
    n = counts[names[0]]["n"] if names else frame.n_rows()
    if n == 0:
        raise MLCheckUsageError("df is empty (0 rows): expected at least one row.")
    kinds = {c: schema_kind(frame, c) for c in names}
    numeric = [c for c in names if kinds[c] in ("int", "float")]
    ranged = [c for c in names if kinds[c] in ("int", "float", "datetime")]
    ranges = frame.min_max(ranged, finite=True)
    sample = _finite_sample(frame, numeric, QUANTILE_SEED)
    columns: list[ColumnSchema] = []
    for name in names:
        kind, c = kinds[name], counts[name]
        spec = ColumnSchema(name=name, dtype=pandas_dtype(frame, name), kind=kind)
        spec.null_rate = c["missing"] / n
        lo, hi = ranges.get(name, (None, None))
        if kind in ("int", "float"):
            if c["posinf"] + c["neginf"]:
                spec.has_inf = True
            if kind == "int":
                spec.n_unique = frame.n_distinct(name)
                reason = id_reason(name, kind, (n, c["missing"]), spec.n_unique, _span(lo, hi))
                spec.key = reason is not None or None
            if lo is not None and hi is not None:
                spec.min, spec.max = float(lo), float(hi)
                qs = np.quantile(np.sort(_finite(sample, name)), QUANTILES)
                spec.quantiles = {f"{q:g}": float(v) for q, v in zip(QUANTILES, qs, strict=True)}
        elif kind == "datetime":
            spec.n_unique = frame.n_distinct(name)
            if lo is not None and hi is not None:
                spec.min, spec.max = _nanoseconds(lo), _nanoseconds(hi)
        elif kind in ("category", "string", "bool"):
            _profile_categories(frame, spec, max_categories)
        else:
            spec.n_unique = frame.n_distinct(name)
        columns.append(spec)
    return Schema(columns=columns, n_rows=n)


def _span(lo: Any, hi: Any) -> float:
    return math.inf if lo is None or hi is None else float(hi) - float(lo) + 1


def _nanoseconds(stamp: Any) -> float:
    """A date or time stamp as nanoseconds since the epoch (UTC for zoned stamps), as
    pandas' datetime64[ns] holds it."""
    import pandas as pd

    return float(pd.Timestamp(stamp).as_unit("ns").value)


def _profile_categories(frame: NativeFrame, spec: ColumnSchema, max_categories: int) -> None:
    """Distinct count, and up to ``max_categories`` categories with their rare-level counts
    (booleans always), from one bounded group-by."""
    limit = max(max_categories, 2)
    counts = _text_keys(frame, spec.name, limit=limit)
    present = None if counts is None else {k: v for k, v in counts.items() if k is not None}
    if present is None or (spec.kind != "bool" and len(present) > max_categories):
        spec.n_unique = frame.n_distinct(spec.name)
        return
    spec.n_unique = len(present)
    values = list(present.values())
    spec.categories = sorted(str(k) for k in present)
    spec.singletons = sum(1 for v in values if v == 1)
    spec.rare_levels = sum(1 for v in values if 2 <= v <= RARE_MAX)
    spec.min_count = min(values) if values else None


# ---------------------------------------------------------------------------- schema_matches


class SchemaRulesLike(Protocol):
    """The rules ``check_schema_matches`` passes (its ``_Rules``), read-only."""

    @property
    def check_order(self) -> bool: ...

    @property
    def allow_extra(self) -> bool: ...

    @property
    def check_dtypes(self) -> bool: ...

    @property
    def strict_dtypes(self) -> bool: ...

    @property
    def check_nulls(self) -> bool: ...

    @property
    def check_ranges(self) -> bool: ...

    @property
    def check_categories(self) -> bool: ...

    @property
    def extra_unseen(self) -> int: ...

    @property
    def show_values(self) -> bool: ...


def _cut(t: Callable[[np.ndarray], np.ndarray], bar: float, *, strict: bool) -> float:
    """The smallest float x with t(x) >= bar (t(x) > bar when ``strict``), for a
    non-decreasing t: values below it are exactly those on the other side of the bar (a
    bisection over the floats in order, 64 steps)."""

    def value(key: int) -> float:  # floats in order: key -> float
        bits = key if key >= 0 else (-key) | (1 << 63)
        return float(struct.unpack("<d", struct.pack("<Q", bits))[0])

    def past(key: int) -> bool:
        tv = float(t(np.array([value(key)]))[0])
        return tv > bar if strict else tv >= bar

    inf_key = 0x7FF0000000000000
    lo, hi = -inf_key, inf_key
    if past(lo):
        return -math.inf
    if not past(hi):
        return math.nan  # nothing is past the bar: compare with NaN, never true
    while hi - lo > 1:  # invariant: not past(lo), past(hi)
        mid = (lo + hi) // 2
        if past(mid):
            hi = mid
        else:
            lo = mid
    return value(hi)


def schema_matches_in_engine(
    df: Any, schema: Schema, rules: SchemaRulesLike
) -> tuple[Any, dict[str, Any]]:
    """``contract.check_schema_matches``' figures for a native frame, every rule counted in the
    engine (exact: the figures and verdict pandas gives), and the engine record."""
    from pytest_mlchecks.checks.production.contract import (
        SchemaViolation,
        far_bars,
        has_range,
        table_violations,
    )

    frame = NativeFrame(df, "df")
    n0 = max(schema.n_rows, 1)
    present = frame.columns
    violations: list[SchemaViolation] = table_violations(present, schema.names, cast(Any, rules))
    common = [c for c in schema.names if c in present]
    counts = frame.missing_counts(common) if common else {}
    m = frame.n_rows()
    # the range rule of every column in one query: below, above, far below, far above
    ranged = [
        c
        for c in common
        if rules.check_ranges and has_range(schema[c], schema_kind(frame, c))  # type: ignore[arg-type]
    ]
    conditions: list[Any] = []
    for c in ranged:
        spec = schema[c]
        t, low_bar, high_bar = far_bars(spec)
        nw = _nw()
        col = nw.col(c)
        keep = frame.present(c)
        if spec.has_inf:
            keep = keep & (col.abs() < float("inf"))
        low, high = float(spec.min or 0.0), float(spec.max or 0.0)
        cut_lo, cut_hi = _cut(t, low_bar, strict=False), _cut(t, high_bar, strict=True)
        below, above = keep & (col < low), keep & (col > high)
        conditions += [below, above, below & (col < cut_lo), above & (col >= cut_hi)]
    range_counts = iter(frame.count_each(conditions) if conditions else [])
    range_of = {c: [next(range_counts) for _ in range(4)] for c in ranged}
    for c in common:
        spec = schema[c]
        kind = schema_kind(frame, c)
        if rules.check_dtypes:
            actual = pandas_dtype(frame, c)
            if (actual != spec.dtype) if rules.strict_dtypes else (kind != spec.kind):
                violations.append(
                    {
                        "rule": "dtype",
                        "column": c,
                        "expected": spec.dtype,
                        "actual": actual,
                        "count": 1,
                    }
                )
        if rules.check_nulls:
            nulls = counts[c]["missing"]
            p1, p0 = nulls / m, spec.null_rate
            pooled = (p0 * n0 + nulls) / (n0 + m)
            noise = Z_NOISE * math.sqrt(max(pooled * (1 - pooled), 0.0) * (1 / n0 + 1 / m))
            if nulls > 0 and p1 > p0 + noise:
                violations.append(
                    {
                        "rule": "null_rate",
                        "column": c,
                        "expected": p0,
                        "actual": p1,
                        "noise": noise,
                        "count": nulls,
                    }
                )
        if c in range_of:
            below, above, far_lo, far_hi = range_of[c]
            allowed = count_allowance(m, chance_rate(2, n0))
            if far_lo + far_hi > 0 or below + above > allowed:
                violations.append(
                    {
                        "rule": "range",
                        "column": c,
                        "below_min": below,
                        "above_max": above,
                        "far_out": far_lo + far_hi,
                        "count": below + above,
                        "allowed_by_chance": allowed,
                        "min": float(spec.min or 0.0),
                        "max": float(spec.max or 0.0),
                    }
                )
        categorical = kind in ("category", "string", "bool")
        if rules.check_categories and spec.categories is not None and categorical:
            found = _unseen_in_engine(frame, spec, (n0, m), rules)
            if found is not None:
                violations.append(found)  # type: ignore[arg-type]
    details = {
        "rows": m,
        "reference_rows": schema.n_rows,
        "columns_checked": len(common),
        "violations": violations,
    }
    return details, _extra(frame.engine, [])


def _unseen_in_engine(
    frame: NativeFrame,
    spec: ColumnSchema,
    sizes: tuple[int, int],
    rules: SchemaRulesLike,
) -> dict[str, Any] | None:
    """The unseen-categories rule of ``contract`` on a native column: the values outside the
    schema's categories counted in the engine; their levels and five most frequent (as text
    or hashes) only when they break the rule."""
    from pytest_mlchecks.checks.production.contract import value_hash

    n0, m = sizes
    outside = _not_in(frame, spec.name, spec.categories or [])
    unseen = frame.count_where(outside)
    singles, rare = spec.singletons or 0, spec.rare_levels or 0
    levels_ref = len(spec.categories or [])
    allowed = (
        good_turing_allowance(singles, rare, n0, m, levels=levels_ref, min_count=spec.min_count)
        + rules.extra_unseen
    )
    if unseen <= allowed:
        return None
    new = frame.where(outside)
    top = [k for k in new.value_counts(spec.name, limit=5) if k is not None]
    found: dict[str, Any] = {
        "rule": "unseen_categories",
        "column": spec.name,
        "count": unseen,
        "levels": new.n_distinct(spec.name),
        "allowed_by_chance": allowed,
        "reference_singletons": singles,
    }
    if spec.min_count is not None:
        found["reference_min_count"] = spec.min_count
    if rules.show_values:
        found["examples"] = [str(v) for v in top]
    else:
        found["example_hashes"] = [value_hash(v) for v in top]
    return found


# ---------------------------------------------------------------------------- no_drift


def _compared_columns(
    ref: NativeFrame,
    cur: NativeFrame,
    columns: Any,
    exclude: Any,
    sizes: tuple[int, int],
    *,
    skip_datetime: bool,
) -> tuple[list[str], dict[str, str], dict[str, dict[str, int]]]:
    """The columns to compare (``columns``, else every common one but the datetime and
    id-like ones), those skipped with the reason, and the reference's missing counts."""
    from pytest_mlchecks.checks.production.drift import excluded_names
    from pytest_mlchecks.inputs.tables import split_columns

    excluded = excluded_names(exclude, ref, cur)  # type: ignore[arg-type]
    skipped: dict[str, str] = {}
    if columns is None:
        common = [c for c in ref.columns if c in cur.columns and c not in excluded]
        missing = ref.missing_counts(common)
        for c in common:
            if skip_datetime and schema_kind(ref, c) == "datetime":
                skipped[c] = "datetime"
            elif (why := _column_id_reason(ref, c, sizes[0], missing[c]["missing"])) is not None:
                skipped[c] = why
        cols = [c for c in common if c not in skipped]
    else:
        cols = [c for c in split_columns(ref, cur, columns) if c not in excluded]
        missing = ref.missing_counts(cols)
    return cols, skipped, missing


def drift_in_engine(
    reference: Any,
    current: Any,
    setup: DriftSetup,
    columns: Any,
    exclude: Any,
    seed: int,
) -> tuple[DriftFigures, dict[str, Any]]:
    """``drift.check_no_drift``'s figures for two native frames, and the engine record.

    PSI: the reference's quantile edges from its values (every row up to ``SAMPLE_ROWS``, else a
    seeded sample of that size), then both frames' bin counts on those edges in the engine
    (exact for those edges); categories counted in the engine (exact up to ``CATEGORY_LIMIT``
    categories per side). KS (``method="ks"``): an interval from both frames' counts on one
    ``KS_BINS``-bin grid that always holds the exact statistic; the verdict is the one both
    ends give, "undecided" (a warning, never a silent pass) when they differ."""
    from pytest_mlchecks._charts import range_labels
    from pytest_mlchecks.checks.production.drift import (
        MISSING,
        drift_figures,
        drift_level,
        drift_row,
        numeric_edges,
    )

    ref, cur, n, m = _pair(reference, current, "reference", "current")
    cols, skipped, missing = _compared_columns(
        ref, cur, columns, exclude, (n, m), skip_datetime=True
    )
    if not cols:
        raise MLCheckUsageError(
            "reference and current have no columns in common to compare "
            f"(skipped: {skipped}): expected the same features."
        )
    cur_nulls = cur.missing_counts(cols)
    if all(missing[c]["missing"] == n and cur_nulls[c]["missing"] == m for c in cols):
        raise MLCheckUsageError(
            f"every compared column ({len(cols)}) is missing in every row of reference and "
            "current: there is no value whose distribution could drift, so no_drift cannot "
            "decide (check how the data was loaded)."
        )
    setup = replace(setup, alpha=setup.alpha / len(cols))
    kinds = {c: {schema_kind(ref, c), schema_kind(cur, c)} for c in cols}
    numeric = [c for c in cols if kinds[c] <= {"int", "float"}]
    for c in cols:
        if c not in numeric and kinds[c] & {"datetime", "timedelta"}:
            raise MLCheckUsageError(
                f"column {c!r} holds time stamps: no_drift compares them in pandas only; on "
                "an engine, compare derived features (hour, weekday) or exclude it."
            )
    sample = _finite_sample(ref, numeric, seed)
    approximations: list[dict[str, Any]] = []
    if numeric and (note := _sample_note(n)) is not None:
        approximations.append(note | {"what": "PSI bin edges (reference quantiles)"})
    rows: list[DriftColumn] = []
    undecided: list[str] = []
    edges = {c: [float(e) for e in numeric_edges(_finite(sample, c), setup.bins)] for c in numeric}
    ref_bins, cur_bins = ref.histograms(edges), cur.histograms(edges)  # one query per side
    for c in cols:
        if c in numeric:
            rc = np.array([*ref_bins[c][0], ref_bins[c][1]], dtype=float)
            cc = np.array([*cur_bins[c][0], cur_bins[c][1]], dtype=float)
            labels = range_labels(edges[c], integral=kinds[c] == {"int"})
        else:
            rc, cc, labels = _category_counts(ref, cur, c, MISSING, approximations)
        interval = (
            ks_interval(ref, cur, c, bins=KS_BINS)
            if (c in numeric and setup.method == "ks")
            else None
        )
        ks = None if interval is None else interval.low
        row = drift_row(c, rc, cc, (n, m), setup, labels, ks=ks)
        if interval is not None:
            row["ks_interval"] = [interval.low, interval.high]
            high_level = drift_level(interval.high, row["noise"], (row["warning"], row["limit"]))
            if high_level != row["level"]:
                row["undecided"] = True
                row["level"] = "warning"
                undecided.append(c)
        rows.append(row)
    if setup.method == "ks" and numeric:
        approximations.append(
            {
                "what": "KS",
                "how": f"interval from a {KS_BINS}-bin histogram per column",
                "bound": max(
                    r["ks_interval"][1] - r["ks_interval"][0] for r in rows if "ks_interval" in r
                ),
            }
        )
    extra = _extra(ref.engine, approximations)
    if undecided:
        extra["note"] = (
            f" Undecided (KS computed in {ref.engine} as an interval that straddles a limit, "
            f"see details ks_interval): {undecided[:10]}; a warning, not a pass: compare a "
            "sample in pandas for the exact figure."
        )
    return drift_figures(setup.method, (n, m), rows, skipped), extra


def _category_counts(
    ref: NativeFrame,
    cur: NativeFrame,
    column: str,
    missing_key: str,
    approximations: list[dict[str, Any]],
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``drift.category_bins`` from per-level counts brought back from the engine (at most
    ``CATEGORY_LIMIT`` levels per side; beyond, the most frequent ones, recorded)."""
    import pandas as pd

    from pytest_mlchecks.checks.production.drift import category_bins

    series = []
    for frame in (ref, cur):
        counts = frame.value_counts(column, limit=CATEGORY_LIMIT + 1)
        if len(counts) > CATEGORY_LIMIT:
            approximations.append(
                {
                    "what": f"levels of {column!r}",
                    "how": f"{CATEGORY_LIMIT:,} most frequent per side; the rest in the last bin",
                }
            )
        keyed: dict[str, int] = {}
        for key, count in counts.items():
            text = missing_key if key is None else str(key)
            keyed[text] = keyed.get(text, 0) + count
        ordered = sorted(keyed.items(), key=lambda kv: (-kv[1], kv[0]))
        series.append(pd.Series(dict(ordered), dtype=np.int64))
    return category_bins(series[0], series[1])


# ---------------------------------------------------------------------------- in_distribution


def in_distribution_in_engine(
    X_new: Any,
    X_train: Any,
    limit: float,
    widen: float,
    columns: Any,
    exclude: Any,
) -> tuple[OodFigures, dict[str, Any]]:
    """``drift.check_in_distribution``'s figures for two native frames, and the engine record.

    Training ranges exact (min and max in the engine), interquartile ranges from the
    training values (every row up to ``SAMPLE_ROWS``, else a seeded sample), training
    categories counted in the engine (a column with more than ``CATEGORY_LIMIT`` is free text:
    not compared); the new rows out, far out and out per feature counted in one query."""
    from pytest_mlchecks.checks.production.drift import FAR_SPAN, ood_figures

    new, train, m, n = _pair(X_new, X_train, "X_new", "X_train")
    cols, id_reasons, _ = _compared_columns(
        train, new, columns, exclude, (n, m), skip_datetime=False
    )
    if columns is not None:
        id_reasons = {}
    elif not cols and not id_reasons:
        raise MLCheckUsageError("X_new and X_train have no columns in common.")
    nw = _nw()
    kinds = {c: schema_kind(train, c) for c in cols}
    for c in cols:
        _require_same_kind(train, new, c)
    numeric = [c for c in cols if kinds[c] in ("int", "float")]
    sample = _finite_sample(train, numeric, 0)
    ranges = train.min_max(numeric, finite=True)
    approximations: list[dict[str, Any]] = []
    if numeric and (note := _sample_note(n)) is not None:
        approximations.append(note | {"what": "interquartile ranges (training quantiles)"})
    outs: dict[str, tuple[Any, Any] | None] = {}  # None: every unseen value within chance
    within_chance: dict[str, int] = {}
    for c in cols:
        if c in id_reasons:
            continue
        keep = new.present(c)
        x = nw.col(c)
        if c in numeric:
            lo_t, hi_t = ranges[c]
            if lo_t is None or hi_t is None:
                continue
            lo_f, hi_f = float(lo_t), float(hi_t)
            q25, q75 = np.quantile(_finite(sample, c), [0.25, 0.75])
            spread = float(q75 - q25) or (hi_f - lo_f) or 1e-12
            lo, hi = lo_f - widen * spread, hi_f + widen * spread
            out = keep & ((x < lo) | (x > hi))
            if lo_f > 0:  # _far on a log scale: x <= 0 or beyond half the log span
                span = FAR_SPAN * (math.log(hi_f) - math.log(lo_f))
                span = span if span > 0 else 1.0
                far = keep & ((x <= 0) | (x < lo_f * math.exp(-span)) | (x > hi_f * math.exp(span)))
            else:
                span = FAR_SPAN * (hi_f - lo_f) if hi_f > lo_f else max(abs(hi_f), 1.0)
                far = keep & ((x < lo_f - span) | (x > hi_f + span))
            outs[c] = (out, far)
        elif kinds[c] in ("category", "string", "bool"):
            counts = _text_keys(train, c, limit=CATEGORY_LIMIT)
            present = None if counts is None else {k: v for k, v in counts.items() if k is not None}
            if present is None or len(present) > 0.5 * n:  # free text, identifiers
                continue
            out = _not_in(new, c, list(present))
            unseen = new.count_where(out)
            values = list(present.values())
            singles = sum(1 for v in values if v == 1)
            rare = sum(1 for v in values if 2 <= v <= RARE_MAX)
            rarest = min(values) if values else None
            if unseen and unseen <= good_turing_allowance(
                singles, rare, n, m, levels=len(values), min_count=rarest
            ):
                within_chance[c] = unseen
                outs[c] = None
                continue
            outs[c] = (out, out)
    tested = {c: pair for c, pair in outs.items() if pair is not None}
    figures = [0, 0]
    if tested:
        pairs = list(tested.values())
        any_out, any_far = pairs[0]
        for out, far in pairs[1:]:
            any_out, any_far = any_out | out, any_far | far
        figures = new.count_each([out for out, _ in pairs] + [any_out, any_far])
    per_feature = {c: k for c, k in zip(tested, figures[: len(tested)], strict=True) if k}
    result = ood_figures(
        (m, n),
        len(outs),
        (figures[-2], figures[-1]),
        per_feature,
        limit,
        id_reasons,
        within_chance,
    )
    return result, _extra(new.engine, approximations)


def _require_same_kind(train: NativeFrame, new: NativeFrame, column: Hashable) -> None:
    """``drift._require_same_kind`` on native frames: numbers on one side only."""
    c = str(column)
    kind, new_kind = schema_kind(train, c), schema_kind(new, c)
    numeric = {"int", "float"}
    changed = (kind in numeric) != (new_kind in numeric)
    if changed and not {kind, new_kind} <= {"int", "float", "bool"}:
        if new.count_where(new.present(c)) == 0:
            return
        raise MLCheckUsageError(
            f"column {c!r} is {pandas_dtype(train, c)} in X_train but "
            f"{pandas_dtype(new, c)} in X_new: expected the same kind of values (run "
            "assert_schema_matches to see every type change)."
        )
