"""Production rung: the schema contract of a table, every violation reported at once.

A schema (``pytest_mlchecks.schema``) records what the reference looked like. Each violation
carries its reason code (``schema.SchemaRule``, described in ``schema.SCHEMA_RULES``); null
rates, ranges and new categories are held to what chance explains for the reference's size
(``noise``), so a fresh sample of the reference's own distribution passes at any n.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

import numpy as np

from pytest_mlchecks._messages import compose, percent, plural
from pytest_mlchecks._protocol import check, current_settings, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.checks.production.noise import (
    RARE_MAX,
    Z_NOISE,
    chance_rate,
    count_allowance,
    good_turing_allowance,
)
from pytest_mlchecks.engines import is_native
from pytest_mlchecks.inputs.tables import NativeTable, TableLike, as_dataframe, fmt, require_rows
from pytest_mlchecks.schema import (
    ColumnKind,
    ColumnSchema,
    Schema,
    SchemaRule,
    column_as_float,
    infer_schema,
    kind_of,
    tabular_input,
    text_counts,
)

if TYPE_CHECKING:
    from types import FrameType

    import pandas as pd

__all__ = ["check_schema_matches"]

# ---------------------------------------------------------------------------- snapshots


def value_hash(value: object) -> str:
    """A short, stable stand-in for a raw value in reports: the first 8 hex digits of the
    SHA-256 of its text (the same value always gives the same hash, across runs)."""
    import hashlib

    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:8]


def _caller_dir() -> Path | None:
    """The folder of the first caller outside pytest-mlchecks, pytest and pluggy (the test
    file, for a check called from a test)."""
    import sys

    package = Path(__file__).resolve().parents[2]  # the pytest_mlchecks package
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<"):
            where = Path(filename).resolve()
            skip = package in where.parents or {"_pytest", "pluggy"} & set(where.parts)
            if not skip:
                return where.parent
        frame = frame.f_back
    return None


def snapshot_path(expected: str | Path) -> Path:
    """A schema snapshot path: absolute paths as given; relative ones against the folder of
    the calling test file (like syrupy's snapshots), so the test finds its schema whatever
    the working directory pytest runs from."""
    path = Path(expected).expanduser()
    if path.is_absolute():
        return path
    base = _caller_dir()
    return base / path if base is not None else path


def _resolve_expected(
    df: pd.DataFrame | NativeTable, expected: object, update: bool
) -> tuple[Schema, str | None]:
    """The schema to hold ``df`` to, and the path it was written to when ``update`` (or
    ``--ml-update-schema``) asked to write it from ``df`` (None otherwise)."""
    if isinstance(expected, (str, Path)):
        path = snapshot_path(expected)
        if update or current_settings().update_schema:
            schema = infer_schema(df)
            schema.save(path)
            return schema, str(path)
        return Schema.load(path), None
    if isinstance(expected, Schema):
        return expected, None
    from pytest_mlchecks.inputs.tables import is_dataframe

    if is_dataframe(expected) or hasattr(expected, "to_pandas") or is_native(expected):
        return infer_schema(expected), None  # type: ignore[arg-type]
    raise MLCheckUsageError(
        f"expected is a {type(expected).__name__}: expected a Schema, a reference DataFrame "
        "or the path of a schema JSON file."
    )


# ---------------------------------------------------------------------------- violations


class ColumnsViolation(TypedDict):
    """Columns missing from the table, or present but not in the schema."""

    rule: Literal["missing_columns", "extra_columns"]
    columns: list[str]
    count: int


class ColumnOrderViolation(TypedDict):
    """Columns present in both, in another order (the first 50 of each order shown)."""

    rule: Literal["column_order"]
    columns: list[str]  # those not at their expected place
    count: int
    expected_order: list[str]
    actual_order: list[str]


class DtypeViolation(TypedDict):
    """A column whose kind (or exact dtype, with ``strict_dtypes``) changed."""

    rule: Literal["dtype"]
    column: str
    expected: str
    actual: str
    count: int


class NullRateViolation(TypedDict):
    """A column's null rate above the reference's by more than sampling noise."""

    rule: Literal["null_rate"]
    column: str
    expected: float
    actual: float
    noise: float
    count: int  # null values in the table


class RangeViolation(TypedDict):
    """Values outside the reference range beyond chance, or far out of it."""

    rule: Literal["range"]
    column: str
    below_min: int
    above_max: int
    far_out: int
    count: int  # below_min + above_max
    allowed_by_chance: float
    min: float
    max: float


class _UnseenCounts(TypedDict):
    rule: Literal["unseen_categories"]
    column: str
    count: int  # values in unseen categories
    levels: int  # unseen categories
    allowed_by_chance: int
    reference_singletons: int


class UnseenCategoriesViolation(_UnseenCounts, total=False):
    """Values in categories the reference never saw, beyond chance (and ``extra_unseen``);
    up to five shown as values (ini ``ml_report_values = true``) or as hashes.
    ``reference_min_count``: how often the reference's rarest category was seen."""

    reference_min_count: int

    examples: list[str]
    example_hashes: list[str]


SchemaViolation = (
    ColumnsViolation
    | ColumnOrderViolation
    | DtypeViolation
    | NullRateViolation
    | RangeViolation
    | UnseenCategoriesViolation
)


class SchemaMatchesDetails(TypedDict):
    """What ``schema_matches`` measured (the record's ``details``)."""

    rows: int
    reference_rows: int
    columns_checked: int  # columns in both the table and the schema
    violations: list[SchemaViolation]  # table rules, then per column in ``SCHEMA_RULES`` order


class SchemaWrittenDetails(TypedDict):
    """The record's ``details`` when the schema was written instead of checked."""

    updated: bool
    columns: int
    schema_written: str


@dataclass(frozen=True)
class _Rules:
    """The rules in force, as the caller set them."""

    check_order: bool
    allow_extra: bool
    check_dtypes: bool
    strict_dtypes: bool
    check_nulls: bool
    check_ranges: bool
    check_categories: bool
    extra_unseen: int
    show_values: bool  # raw values in reports (ini ml_report_values), else hashes


RANGE_CHUNK = 1 << 16  # values compared with the range per step
FAR_SPANS = 5.0  # "far out": this many tail spans beyond a reference extreme (log scale)


def _far_bars(spec: ColumnSchema) -> tuple[Callable[[np.ndarray], np.ndarray], float, float]:
    """Where values stop being explainable as a new extreme of the reference.

    Distances are measured in orders of magnitude around the median: t(x) = sign(x - median)
    * log1p(|x - median| / scale), with the IQR as scale (the 1-99% range or the range when
    the IQR is zero, as in discrete or zero-inflated columns). On that scale a value is far
    out when it lies ``FAR_SPANS`` tail spans beyond the reference's extreme, a tail span
    being the larger of the distance from the extreme to the 1% / 99% quantile and a
    quarter of the range (both in t). A column whose reference already spans many orders of
    magnitude (incomes, GDPs, Cauchy-like tails) gets wide bars; a sentinel such as -999999
    in a N(0, 1) column is at t ~ -13.5 where the bar is ~ -4 (about 70 IQRs), so chance
    never explains it. Returns (t, low bar, high bar)."""
    q = spec.quantiles or {}
    lo, hi = float(spec.min or 0.0), float(spec.max or 0.0)
    med = float(q.get("0.5", (lo + hi) / 2))
    q25, q75 = float(q.get("0.25", lo)), float(q.get("0.75", hi))
    q01, q99 = float(q.get("0.01", lo)), float(q.get("0.99", hi))
    scale = (q75 - q25) or (q99 - q01) or (hi - lo) or max(abs(med), 1.0)

    def t(x: np.ndarray) -> np.ndarray:
        d = np.asarray(x, dtype=np.float64) - med
        return np.asarray(np.sign(d) * np.log1p(np.abs(d) / scale))

    t_lo, t_hi, t01, t99 = (float(v) for v in t(np.array([lo, hi, q01, q99])))
    quarter = (t_hi - t_lo) / 4
    span_lo = max(t01 - t_lo, quarter) or 1.0
    span_hi = max(t_hi - t99, quarter) or 1.0
    return t, t_lo - FAR_SPANS * span_lo, t_hi + FAR_SPANS * span_hi


def _table_violations(
    present: list[str], expected: list[str], rules: _Rules
) -> list[SchemaViolation]:
    """Missing, extra and reordered columns."""
    found: list[SchemaViolation] = []
    missing = [c for c in expected if c not in present]
    extra = [c for c in present if c not in expected]
    if missing:
        found.append(
            {"rule": SchemaRule.MISSING_COLUMNS, "columns": missing, "count": len(missing)}
        )
    if extra and not rules.allow_extra:
        found.append({"rule": SchemaRule.EXTRA_COLUMNS, "columns": extra, "count": len(extra)})
    common_actual = [c for c in present if c in expected]
    common_expected = [c for c in expected if c in present]
    if rules.check_order and common_actual != common_expected:
        moved = [a for a, b in zip(common_actual, common_expected, strict=True) if a != b]
        found.append(
            {
                "rule": SchemaRule.COLUMN_ORDER,
                "columns": moved,
                "count": len(moved),
                "expected_order": common_expected[:50],
                "actual_order": common_actual[:50],
            }
        )
    return found


def _dtype_violation(
    col: pd.Series, kind: ColumnKind, spec: ColumnSchema, strict: bool
) -> DtypeViolation | None:
    changed = str(col.dtype) != spec.dtype if strict else kind != spec.kind
    if not changed:
        return None
    return {
        "rule": SchemaRule.DTYPE,
        "column": spec.name,
        "expected": spec.dtype,
        "actual": str(col.dtype),
        "count": 1,
    }


def _null_count(col: pd.Series) -> int:
    """Missing values in ``col``: none in a numpy integer or bool column, NaN in a numpy
    float one (counted a chunk at a time), ``isna`` otherwise."""
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return 0
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = col.to_numpy()
        chunks = range(0, len(values), RANGE_CHUNK)
        return sum(int(np.count_nonzero(np.isnan(values[i : i + RANGE_CHUNK]))) for i in chunks)
    return int(np.count_nonzero(col.isna().to_numpy()))


def _null_violation(col: pd.Series, spec: ColumnSchema, n0: int) -> NullRateViolation | None:
    """Nulls above the reference's rate by more than ``Z_NOISE`` pooled standard errors."""
    m = len(col)
    nulls = _null_count(col)
    p1, p0 = nulls / m, spec.null_rate
    pooled = (p0 * n0 + nulls) / (n0 + m)
    noise = Z_NOISE * math.sqrt(max(pooled * (1 - pooled), 0.0) * (1 / n0 + 1 / m))
    if not (nulls > 0 and p1 > p0 + noise):
        return None
    return {
        "rule": SchemaRule.NULL_RATE,
        "column": spec.name,
        "expected": p0,
        "actual": p1,
        "noise": noise,
        "count": nulls,
    }


def _has_range(spec: ColumnSchema, kind: ColumnKind) -> bool:
    """Whether the range rule applies: numeric on both sides, bounded, not a key column."""
    numeric = ("int", "float")
    bounded = spec.min is not None and spec.max is not None
    return not spec.key and bounded and kind in numeric and spec.kind in numeric


def _range_violation(col: pd.Series, spec: ColumnSchema, n0: int) -> RangeViolation | None:
    """Values beyond the reference extremes: more than chance gives (at rate 1/(n0+1) per
    side), or any far out (``_far_bars``)."""
    low, high = spec.min, spec.max
    if low is None or high is None:
        return None
    values = column_as_float(col)
    if spec.has_inf:  # the reference held infinities too: not out of range
        values = np.where(np.isinf(values), np.nan, values)
    below = above = far = 0
    bars = None
    for start in range(0, len(values), RANGE_CHUNK):  # masks that stay in cache
        part = values[start : start + RANGE_CHUNK]
        below_mask, above_mask = part < low, part > high
        part_below = int(np.count_nonzero(below_mask))
        part_above = int(np.count_nonzero(above_mask))
        if part_below or part_above:
            t, low_bar, high_bar = bars = bars or _far_bars(spec)
            far += int(np.count_nonzero(t(part[below_mask]) < low_bar))
            far += int(np.count_nonzero(t(part[above_mask]) > high_bar))
        below += part_below
        above += part_above
    out = below + above
    allowed = count_allowance(len(col), chance_rate(2, n0))
    if not (far > 0 or out > allowed):
        return None
    return {
        "rule": SchemaRule.RANGE,
        "column": spec.name,
        "below_min": below,
        "above_max": above,
        "far_out": far,
        "count": out,
        "allowed_by_chance": allowed,
        "min": low,
        "max": high,
    }


def _unseen_violation(
    col: pd.Series, spec: ColumnSchema, n0: int, rules: _Rules
) -> UnseenCategoriesViolation | None:
    """Values in categories the reference never saw, beyond its Good-Turing rate: the share
    of reference rows in categories seen once, widened by the rare ones (seen 1 to 5 times);
    without rare categories, by how closed the domain looks (``closed_domain_allowance``:
    the rarer the rarest level, the likelier a level nobody saw yet; one new value in a
    batch as large as the reference is beyond chance once the rarest level was seen 1,000
    times). ``extra_unseen`` values more are tolerated. Counted per distinct value
    (``schema.text_counts``: rows on codes, only the distinct values as text)."""
    counts = text_counts(col)  # missing values left out; most frequent first
    known = set(spec.categories or [])
    levels = counts[[str(v) not in known for v in counts.index]]
    unseen = int(levels.sum())
    singles, rare = spec.singletons or 0, spec.rare_levels or 0
    allowed = (
        good_turing_allowance(
            singles, rare, n0, len(col), levels=len(spec.categories or []), min_count=spec.min_count
        )
        + rules.extra_unseen
    )
    if unseen <= allowed:
        return None
    found: UnseenCategoriesViolation = {
        "rule": SchemaRule.UNSEEN_CATEGORIES,
        "column": spec.name,
        "count": unseen,
        "levels": len(levels),
        "allowed_by_chance": allowed,
        "reference_singletons": singles,
    }
    if spec.min_count is not None:
        found["reference_min_count"] = spec.min_count
    if rules.show_values:
        found["examples"] = [str(v) for v in levels.index[:5]]
    else:
        found["example_hashes"] = [value_hash(v) for v in levels.index[:5]]
    return found


def _column_violations(
    col: pd.Series, spec: ColumnSchema, n0: int, rules: _Rules
) -> list[SchemaViolation]:
    """The rules on one column, in order: dtype, null rate, range, unseen categories."""
    kind = kind_of(col.dtype)
    found: list[SchemaViolation | None] = []
    if rules.check_dtypes:
        found.append(_dtype_violation(col, kind, spec, rules.strict_dtypes))
    if rules.check_nulls:
        found.append(_null_violation(col, spec, n0))
    if rules.check_ranges and _has_range(spec, kind):
        found.append(_range_violation(col, spec, n0))
    categorical = kind in ("category", "string", "bool")
    if rules.check_categories and spec.categories is not None and categorical:
        found.append(_unseen_violation(col, spec, n0, rules))
    return [v for v in found if v is not None]


def _measure_schema_matches(
    frame: pd.DataFrame, schema: Schema, rules: _Rules
) -> SchemaMatchesDetails:
    """Every violation of ``schema`` in ``frame``: table rules, then each column's rules."""
    n0 = max(schema.n_rows, 1)
    by_name = {str(c): c for c in frame.columns}
    violations = _table_violations([str(c) for c in frame.columns], schema.names, rules)
    common = [c for c in schema.names if c in by_name]
    for name in common:
        violations += _column_violations(frame[by_name[name]], schema[name], n0, rules)
    return {
        "rows": len(frame),
        "reference_rows": schema.n_rows,
        "columns_checked": len(common),
        "violations": violations,
    }


# ---------------------------------------------------------------------------- explain

SCHEMA_MATCHES_WHY = (
    "a model trusts its input contract: renamed, reordered or retyped columns, new nulls, "
    "out-of-range values or unseen categories are silently mis-encoded or imputed at serving "
    "time, and predictions degrade without an error."
)
SCHEMA_MATCHES_FIX = (
    "fix the upstream producer, or if the change is intended, retrain and refresh the schema "
    "on purpose (update=True / pytest --ml-update-schema); relax one rule with check_order / "
    "allow_extra / check_dtypes / check_nulls / check_ranges / check_categories."
)


def _describe_range(v: RangeViolation) -> str:
    far = v["far_out"]
    far_text = (
        f"; {far:,} of them far out ({FAR_SPANS:g}+ tail spans beyond the reference "
        "extremes on a log scale), which chance never explains"
        if far
        else ""
    )
    return (
        f"{v['column']!r}: {plural(v['count'], 'value')} outside [{fmt(v['min'])}, "
        f"{fmt(v['max'])}] ({v['below_min']:,} below, {v['above_max']:,} above; chance "
        f"explains up to {fmt(v['allowed_by_chance'], 2)} just past the extremes{far_text})"
    )


def _describe_unseen(v: UnseenCategoriesViolation) -> str:
    if "examples" in v:
        shown = f"e.g. {v['examples']}"
    else:
        shown = f"hashed {v['example_hashes']} (ini ml_report_values = true shows the values)"
    rarest = v.get("reference_min_count")
    closed = ""
    if v["reference_singletons"] == 0 and rarest is not None and rarest > RARE_MAX:
        closed = (
            f"; no category of the reference is rare: the rarest was seen {rarest:,} times, "
            "a closed domain"
        )
    elif v["allowed_by_chance"] == 0:
        closed = "; no category of the reference is rare (seen 1-5 times): a closed domain"

    return (
        f"{v['column']!r}: {plural(v['count'], 'value')} in "
        f"{plural(v['levels'], 'unseen category', 'unseen categories')}, {shown} "
        f"(chance explains up to {fmt(v['allowed_by_chance'], 2)}{closed})"
    )


def _describe(v: SchemaViolation) -> str:
    """One line of the failure message for one violation."""
    if v["rule"] == SchemaRule.MISSING_COLUMNS:
        return f"missing columns: {v['columns'][:10]}"
    if v["rule"] == SchemaRule.EXTRA_COLUMNS:
        return f"unexpected columns: {v['columns'][:10]}"
    if v["rule"] == SchemaRule.COLUMN_ORDER:
        return (
            f"column order differs ({len(v['columns'])} columns moved): expected "
            f"{v['expected_order'][:8]}, got {v['actual_order'][:8]}"
        )
    if v["rule"] == SchemaRule.DTYPE:
        return f"{v['column']!r}: dtype {v['actual']} (expected {v['expected']})"
    if v["rule"] == SchemaRule.NULL_RATE:
        return (
            f"{v['column']!r}: null rate {percent(v['actual'])} ({v['count']:,} rows) vs "
            f"{percent(v['expected'])} in the reference (noise allows {percent(v['noise'])})"
        )
    if v["rule"] == SchemaRule.RANGE:
        return _describe_range(v)
    return _describe_unseen(v)


def _explain_schema_matches(details: SchemaMatchesDetails) -> str:
    m, violations = details["rows"], details["violations"]
    if not violations:  # then no column is missing: every schema column was checked
        return (
            f"schema_matches: {m:,} rows match the schema's {details['columns_checked']} "
            "columns (order, dtypes, null rates, ranges, categories)."
        )
    lines = [_describe(v) for v in violations]
    headline = f"schema_matches: {plural(len(violations), 'violation')} of the schema in {m:,} rows"
    headline += f": {lines[0]}." if len(violations) == 1 else "."
    return compose(
        headline,
        body="\n".join(f"  - {line}" for line in lines[:40]),
        why=SCHEMA_MATCHES_WHY,
        fix=SCHEMA_MATCHES_FIX,
    )


# ---------------------------------------------------------------------------- the check


def _require_count(value: int, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MLCheckUsageError(f"{arg} must be an integer >= 0, got {value!r}.")
    return value


@check("schema_matches")
def check_schema_matches(
    df: TableLike,
    expected: Schema | TableLike | str | Path,
    *,
    check_order: bool = True,
    allow_extra: bool = False,
    check_dtypes: bool = True,
    strict_dtypes: bool = False,
    check_nulls: bool = True,
    check_ranges: bool = True,
    check_categories: bool = True,
    update: bool = False,
    extra_unseen: int = 0,
) -> CheckResult:
    """Detect every way ``df`` breaks a schema, reported at once.

    ``expected`` is a ``Schema``, a reference DataFrame, or a path to schema JSON (written
    from ``df`` with ``update=True`` or ``pytest --ml-update-schema``). Rules: missing, extra
    and reordered columns; dtype kind changes (int vs float, string vs category;
    ``strict_dtypes`` compares exact dtypes); null-rate spikes beyond sampling noise; values
    outside the reference range beyond what chance gives for the reference's size (new values
    exceed a sample's min/max at rate 1/(n+1) on each side), and any value far out (5 tail
    spans beyond an extreme on a log scale of IQRs: a sentinel such as -999999 is never
    chance); unseen categories beyond the Good-Turing rate of the reference (none at all in a
    closed domain: a reference with no category seen 1-5 times). A relative path resolves
    against the calling test file's folder. Unseen values are reported as short hashes
    unless ini ``ml_report_values = true``. ``extra_unseen`` tolerates that many values in
    unseen categories per column on top of chance (for domains known to have rare levels
    that a reference can miss). Each violation in ``details["violations"]`` names its rule
    by a stable reason code (``schema.SchemaRule``, described in ``schema.SCHEMA_RULES``).
    Figure: the number of violations (threshold 0).
    """
    rules = _Rules(
        check_order=check_order,
        allow_extra=allow_extra,
        check_dtypes=check_dtypes,
        strict_dtypes=strict_dtypes,
        check_nulls=check_nulls,
        check_ranges=check_ranges,
        check_categories=check_categories,
        extra_unseen=_require_count(extra_unseen, "extra_unseen"),
        show_values=current_settings().report_values,
    )
    native = is_native(df) or is_native(expected)
    if native:  # computed in the user's engine (engines.production)
        from pytest_mlchecks.engines.production import native_rows, schema_matches_in_engine

        m = native_rows(df, "df", expected)
        schema, written = _resolve_expected(df, expected, update)
    else:
        frame = as_dataframe(tabular_input(df, "df"), "df")
        m = require_rows(frame, "df")
        schema, written = _resolve_expected(frame, tabular_input(expected, "expected"), update)
    if written is not None:
        message = (
            f"schema_matches: schema written to {written!r} ({len(schema.columns)} columns, "
            f"{m:,} rows)."
        )
        wrote: SchemaWrittenDetails = {
            "updated": True,
            "columns": len(schema.columns),
            "schema_written": written,
        }
        return result(True, "error", 0, 0, message, dict(wrote))
    if native:
        details, extra = schema_matches_in_engine(df, schema, rules)
    else:
        details, extra = _measure_schema_matches(frame, schema, rules), {}
    count = len(details["violations"])
    message = _explain_schema_matches(details)
    return result(count == 0, "error", count, 0, message, dict(details) | extra)


# The rule pieces the engine path (``engines.production``) shares with the pandas path.
table_violations = _table_violations
far_bars = _far_bars
has_range = _has_range
