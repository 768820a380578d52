"""Production rung: schema contracts, drift, out-of-distribution rows.

Every tolerance here is tied to the reference's sample size, so that a fresh sample from the
reference's own distribution passes at any n, while real changes are reported with both the
effect and the sampling noise it was compared with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pytest_mlchecks._messages import compose, percent, plural
from pytest_mlchecks._protocol import (
    check,
    current_seed,
    current_settings,
    resolve_threshold,
    result,
)
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks._stats import chi2_isf, ks_critical
from pytest_mlchecks.inputs.tables import as_dataframe, fmt, require_rows, table
from pytest_mlchecks.schema import Schema, id_like, infer_schema, kind_of, tabular_input

__all__ = [
    "check_in_distribution",
    "check_no_drift",
    "check_schema_matches",
]

# ---------------------------------------------------------------------------- helpers

Z_NOISE = 4.0  # one-sided z for "larger than sampling noise" (about 3e-5 per comparison)
CHANCE_LEVEL = 1e-4  # how rarely the chance allowance for out-of-range values is exceeded


def _chance_rate(sides: int, n: int) -> float:
    """Rate at which fresh draws land beyond a sample's extremes, at the 1 - CHANCE_LEVEL bound.

    For a continuous feature, the probability mass beyond the maximum of n draws is
    Beta(1, n) ~ Exp(1) / n whatever the distribution; summed over ``sides`` extremes it is
    Gamma(sides) / n, whose upper quantile is chi2(2 * sides) / 2.
    """
    return chi2_isf(CHANCE_LEVEL, 2 * sides) / 2.0 / (n + 1)


def _count_allowance(m: int, rate: float) -> float:
    """Largest count of events that sampling alone explains in m draws at ``rate``."""
    expected = m * rate
    return expected + Z_NOISE * math.sqrt(expected) + 2.0


def _positive(value: float, key: str, arg: str, *, high: float = math.inf) -> float:
    """``value`` if 0 < value <= high, else a usage error naming the argument and its ini
    option (NaN never passes)."""
    if not (0 < value <= high):
        raise MLCheckUsageError(f"{arg} (ini ml_{key}) must be in (0, {high:g}], got {value!r}.")
    return value


def _poisson_allowance(expected: float, level: float = CHANCE_LEVEL) -> int:
    """Largest count that a Poisson(``expected``) count exceeds with probability <= ``level``
    (0 when nothing is expected: then a single event is beyond chance)."""
    if expected <= 0:
        return 0
    if expected > 100:  # normal approximation, with a continuity margin
        return math.ceil(expected + Z_NOISE * math.sqrt(expected) + 1)
    pmf = cdf = math.exp(-expected)
    k = 0
    while 1.0 - cdf > level:
        k += 1
        pmf *= expected / k
        cdf += pmf
    return k


FAR_SPANS = 5.0  # "far out": this many tail spans beyond a reference extreme (log scale)


def _far_bars(spec: Any) -> tuple[Callable[[np.ndarray], np.ndarray], float, float]:
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
    lo, hi = float(spec.min), float(spec.max)
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


def _as_float(col: Any) -> np.ndarray:
    """A numeric, datetime or timedelta column as float64 (times as nanoseconds; NaN for
    missing values)."""
    if kind_of(col.dtype) in ("datetime", "timedelta"):
        if getattr(col.dtype, "tz", None) is not None:
            col = col.dt.tz_convert("UTC").dt.tz_localize(None)
        missing = col.isna().to_numpy()
        values = col.to_numpy().view("int64").astype(np.float64)
        values[missing] = np.nan
        return np.asarray(values)
    return np.asarray(col.to_numpy(dtype=np.float64, na_value=np.nan))


def _excluded(exclude: Any, *frames: Any) -> set[Any]:
    from pytest_mlchecks.inputs.tables import as_name_list

    names = set(as_name_list(exclude, "exclude"))
    for name in names:
        if not any(name in f.columns for f in frames):
            raise MLCheckUsageError(f"exclude names {name!r}, which is in neither input.")
    return names


def value_hash(value: Any) -> str:
    """A short, stable stand-in for a raw value in reports: the first 8 hex digits of the
    SHA-256 of its text (the same value always gives the same hash, across runs)."""
    import hashlib

    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:8]


def _unseen_allowance(spec: Any, n0: int, m: int) -> int:
    """How many current values in categories the reference never saw chance explains.

    Good-Turing: the share of new draws that fall in unseen categories is about the share of
    reference rows in categories seen once (``singletons / n``); its uncertainty grows with the
    number of rare categories (seen 1 to 5 times). A reference with no rare category has a
    closed domain: then even one value in a new category is beyond chance.
    """
    return _good_turing_allowance(spec.singletons or 0, spec.rare_levels or 0, n0, m)


def _good_turing_allowance(singles: int, rare: int, n0: int, m: int) -> int:
    """Values in unseen categories that chance explains in ``m`` new rows, for a reference of
    ``n0`` rows with ``singles`` categories seen once and ``rare`` seen 2 to 5 times.

    Good-Turing puts the unseen share at singles / n0; its uncertainty is taken as
    ``Z_NOISE`` * sqrt(singles + rare) / n0: categories seen a few times show that the
    domain has rare members, some of which a sample of this size misses by chance (a
    heuristic widening; Good-Turing's own variance, ~(f1 + 2 f2) / n^2, is blind to levels
    seen 3-5 times). The count allowance is the Poisson quantile at ``CHANCE_LEVEL``.
    """
    rate = min(1.0, (singles + Z_NOISE * math.sqrt(singles + rare)) / max(n0, 1))
    return _poisson_allowance(m * rate)


def _caller_dir() -> Path | None:
    """The folder of the first caller outside pytest-mlchecks, pytest and pluggy (the test
    file, for a check called from a test)."""
    import sys

    package = Path(__file__).resolve().parents[2]  # the pytest_mlchecks package
    frame: Any = sys._getframe(1)
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


def _resolve_expected(df: Any, expected: Any, update: bool) -> tuple[Schema, str | None]:
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

    if is_dataframe(expected) or hasattr(expected, "to_pandas"):
        return infer_schema(expected), None
    raise MLCheckUsageError(
        f"expected is a {type(expected).__name__}: expected a Schema, a reference DataFrame "
        "or the path of a schema JSON file."
    )


# ---------------------------------------------------------------------------- schema


@check("schema_matches")
def check_schema_matches(
    df: Any,
    expected: Any,
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
    that a reference can miss). Figure: the number of violations (threshold 0).
    """
    if isinstance(extra_unseen, bool) or not isinstance(extra_unseen, int) or extra_unseen < 0:
        raise MLCheckUsageError(f"extra_unseen must be an integer >= 0, got {extra_unseen!r}.")
    frame = as_dataframe(tabular_input(df, "df"), "df")
    m = require_rows(frame, "df")
    schema, note = _resolve_expected(frame, tabular_input(expected, "expected"), update)
    if note is not None:
        return result(
            True,
            "error",
            0,
            0,
            f"schema_matches: schema written to {note!r} ({len(schema.columns)} columns, "
            f"{m:,} rows).",
            {"updated": True, "columns": len(schema.columns), "schema_written": note},
        )
    n0 = max(schema.n_rows, 1)
    show_values = current_settings().report_values
    violations: list[dict[str, Any]] = []
    present = [str(c) for c in frame.columns]
    expected_names = schema.names
    missing = [c for c in expected_names if c not in present]
    extra = [c for c in present if c not in expected_names]
    if missing:
        violations.append({"rule": "missing_columns", "columns": missing, "count": len(missing)})
    if extra and not allow_extra:
        violations.append({"rule": "extra_columns", "columns": extra, "count": len(extra)})
    common_actual = [c for c in present if c in expected_names]
    common_expected = [c for c in expected_names if c in present]
    if check_order and common_actual != common_expected:
        moved = [a for a, b in zip(common_actual, common_expected, strict=True) if a != b]
        violations.append(
            {
                "rule": "column_order",
                "columns": moved,
                "count": len(moved),
                "expected_order": common_expected[:50],
                "actual_order": common_actual[:50],
            }
        )
    by_name = {str(c): c for c in frame.columns}
    for name in common_expected:
        spec = schema[name]
        col = frame[by_name[name]]
        kind = kind_of(col.dtype)
        if check_dtypes:
            changed = str(col.dtype) != spec.dtype if strict_dtypes else kind != spec.kind
            if changed:
                violations.append(
                    {
                        "rule": "dtype",
                        "column": name,
                        "expected": spec.dtype,
                        "actual": str(col.dtype),
                        "count": 1,
                    }
                )
        nulls = int(col.isna().sum())
        if check_nulls:
            p1, p0 = nulls / m, spec.null_rate
            pooled = (p0 * n0 + nulls) / (n0 + m)
            noise = Z_NOISE * math.sqrt(max(pooled * (1 - pooled), 0.0) * (1 / n0 + 1 / m))
            if nulls > 0 and p1 > p0 + noise:
                violations.append(
                    {
                        "rule": "null_rate",
                        "column": name,
                        "expected": p0,
                        "actual": p1,
                        "noise": noise,
                        "count": nulls,
                    }
                )
        if (
            check_ranges
            and not spec.key
            and spec.min is not None
            and spec.max is not None
            and kind in ("int", "float")
            and spec.kind in ("int", "float")
        ):
            values = _as_float(col)
            if spec.has_inf:  # the reference held infinities too: not out of range
                values = np.where(np.isinf(values), np.nan, values)
            below_mask, above_mask = values < spec.min, values > spec.max
            below = int(np.count_nonzero(below_mask))
            above = int(np.count_nonzero(above_mask))
            out = below + above
            far = 0
            if out:
                t, low_bar, high_bar = _far_bars(spec)
                far = int(np.count_nonzero(t(values[below_mask]) < low_bar))
                far += int(np.count_nonzero(t(values[above_mask]) > high_bar))
            allowed = _count_allowance(m, _chance_rate(2, n0))
            if far > 0 or out > allowed:
                violations.append(
                    {
                        "rule": "range",
                        "column": name,
                        "below_min": below,
                        "above_max": above,
                        "far_out": far,
                        "count": out,
                        "allowed_by_chance": allowed,
                        "min": spec.min,
                        "max": spec.max,
                    }
                )
        if (
            check_categories
            and spec.categories is not None
            and kind in ("category", "string", "bool")
        ):
            observed = col.dropna().astype(str)
            unseen_mask = ~observed.isin(spec.categories).to_numpy()
            unseen = int(unseen_mask.sum())
            allowed_unseen = _unseen_allowance(spec, n0, m) + extra_unseen
            if unseen > allowed_unseen:
                levels = observed[unseen_mask].value_counts()
                entry: dict[str, Any] = {
                    "rule": "unseen_categories",
                    "column": name,
                    "count": unseen,
                    "levels": len(levels),
                    "allowed_by_chance": allowed_unseen,
                    "reference_singletons": spec.singletons or 0,
                }
                if show_values:
                    entry["examples"] = [str(v) for v in levels.index[:5]]
                else:
                    entry["example_hashes"] = [value_hash(v) for v in levels.index[:5]]
                violations.append(entry)
    details = {
        "rows": m,
        "reference_rows": schema.n_rows,
        "columns_checked": len(common_expected),
        "violations": violations,
    }
    if not violations:
        message = (
            f"schema_matches: {m:,} rows match the schema's {len(expected_names)} columns "
            "(order, dtypes, null rates, ranges, categories)."
        )
        return result(True, "error", 0, 0, message, details)
    lines = [_describe(v) for v in violations]
    headline = f"schema_matches: {plural(len(violations), 'violation')} of the schema in {m:,} rows"
    headline += f": {lines[0]}." if len(violations) == 1 else "."
    message = compose(
        headline,
        body="\n".join(f"  - {line}" for line in lines[:40]),
        why=(
            "a model trusts its input contract: renamed, reordered or retyped columns, new "
            "nulls, out-of-range values or unseen categories are silently mis-encoded or "
            "imputed at serving time, and predictions degrade without an error."
        ),
        fix=(
            "fix the upstream producer, or if the change is intended, retrain and refresh the "
            "schema on purpose (update=True / pytest --ml-update-schema); relax one rule with "
            "check_order / allow_extra / check_dtypes / check_nulls / check_ranges / "
            "check_categories."
        ),
    )
    return result(False, "error", len(violations), 0, message, details)


def _describe(v: dict[str, Any]) -> str:
    rule = v["rule"]
    if rule == "missing_columns":
        return f"missing columns: {v['columns'][:10]}"
    if rule == "extra_columns":
        return f"unexpected columns: {v['columns'][:10]}"
    if rule == "column_order":
        return (
            f"column order differs ({len(v['columns'])} columns moved): expected "
            f"{v['expected_order'][:8]}, got {v['actual_order'][:8]}"
        )
    if rule == "dtype":
        return f"{v['column']!r}: dtype {v['actual']} (expected {v['expected']})"
    if rule == "null_rate":
        return (
            f"{v['column']!r}: null rate {percent(v['actual'])} ({v['count']:,} rows) vs "
            f"{percent(v['expected'])} in the reference (noise allows {percent(v['noise'])})"
        )
    if rule == "range":
        far = v.get("far_out", 0)
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
    if "examples" in v:
        shown = f"e.g. {v['examples']}"
    else:
        shown = f"hashed {v['example_hashes']} (ini ml_report_values = true shows the values)"
    closed = (
        "; no category of the reference is rare (seen 1-5 times): a closed domain"
        if v["allowed_by_chance"] == 0
        else ""
    )
    return (
        f"{v['column']!r}: {plural(v['count'], 'value')} in "
        f"{plural(v['levels'], 'unseen category', 'unseen categories')}, {shown} "
        f"(chance explains up to {fmt(v['allowed_by_chance'], 2)}{closed})"
    )


# ---------------------------------------------------------------------------- drift

KS_SAMPLE = 50_000  # KS on a seeded sample: its own noise (~0.01) is far below the limits
EDGE_SAMPLE = 100_000
DRIFT_ALPHA = 0.001  # family-wise: the chance that noise alone crosses the noise bar
UNDECIDABLE = 4.0  # noise bars this many times the limit: too few rows to decide


def _psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Population stability index with 0.5 added to every bin (empty bins stay finite)."""
    p = (ref_counts + 0.5) / (ref_counts.sum() + 0.5 * len(ref_counts))
    q = (cur_counts + 0.5) / (cur_counts.sum() + 0.5 * len(cur_counts))
    return float(np.sum((q - p) * np.log(q / p)))


LEVEL_MIN_COUNT = 5  # reference count a category needs for a bin of its own
LEVEL_MAX_BINS = 30


def _category_bins(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current counts over category bins: the levels seen at least
    ``LEVEL_MIN_COUNT`` times per side on average in both samples pooled (at most
    ``LEVEL_MAX_BINS``, most frequent first; missing values are a level), and one last bin
    for everything else (rare and new levels). Rare levels get no bins of their own:
    hundreds of near-empty bins (dates or names stored as text) make PSI measure sparsity,
    not drift. Bins are chosen on the pooled counts, not the reference's alone: picking the
    levels a sample happens to over-represent would itself look like drift. A new level
    that takes real mass gets its own bin and stands out."""
    ra = a.astype(str).where(a.notna(), "\x00nan")
    cb = b.astype(str).where(b.notna(), "\x00nan")
    ref_counts, cur_counts = ra.value_counts(), cb.value_counts()
    pooled = ref_counts.add(cur_counts, fill_value=0).sort_values(ascending=False, kind="stable")
    kept = list(pooled[pooled >= 2 * LEVEL_MIN_COUNT].index[:LEVEL_MAX_BINS])
    index = {c: i for i, c in enumerate(kept)}
    rc = np.zeros(len(kept) + 1)
    cc = np.zeros(len(kept) + 1)
    for counts, target in ((ref_counts, rc), (cur_counts, cc)):
        for cat, count in counts.items():
            target[index.get(cat, len(kept))] += count
    return rc, cc


def _numeric_bins(ref: np.ndarray, cur: np.ndarray, bins: int, rng: Any) -> tuple[Any, Any, int]:
    finite = ref[np.isfinite(ref)]
    sample = (
        finite if len(finite) <= EDGE_SAMPLE else finite[rng.integers(0, len(finite), EDGE_SAMPLE)]
    )
    if len(sample) == 0:
        edges = np.empty(0)
    else:
        edges = np.unique(np.quantile(sample, np.linspace(0, 1, bins + 1)[1:-1]))
        if len(edges) == 0 or len(np.unique(sample)) <= bins:
            # few distinct values: one bin per value (points), values between in own bins
            values = np.unique(sample)
            edges = np.sort(np.concatenate([values - 1e-9 * (1 + abs(values)), values]))
    k = len(edges) + 1

    def counts(x: np.ndarray) -> np.ndarray:
        # one vectorised comparison per edge beats a binary search per value for ~10 edges
        if len(edges) <= 64:
            codes = np.zeros(len(x), dtype=np.int16)
            for edge in edges:
                codes += x > edge
        else:
            codes = np.searchsorted(edges, x, side="left").astype(np.int16)
        codes[np.isnan(x)] = k
        return np.bincount(codes, minlength=k + 1)

    return counts(ref), counts(cur), k + 1


def _ks(ref: np.ndarray, cur: np.ndarray, rng: Any) -> float:
    a = ref[~np.isnan(ref)]
    b = cur[~np.isnan(cur)]
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    if len(a) > KS_SAMPLE:
        a = a[rng.integers(0, len(a), KS_SAMPLE)]
    if len(b) > KS_SAMPLE:
        b = b[rng.integers(0, len(b), KS_SAMPLE)]
    a = np.sort(a)
    b = np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def _frame_pair(reference: Any, current: Any) -> tuple[Any, Any]:
    import pandas as pd

    from pytest_mlchecks.inputs.tables import is_series, is_torch, require_array_like, tensor_numpy

    def frame(obj: Any, arg: str) -> Any:
        obj = require_array_like(
            tabular_input(obj, arg), arg, what="a DataFrame, a Series or an array"
        )
        if is_series(obj):
            return obj.to_frame(name=str(obj.name) if obj.name is not None else "values")
        values = obj
        if not hasattr(obj, "columns"):
            values = tensor_numpy(obj, arg) if is_torch(obj) else np.asarray(obj)
            if values.ndim == 1:
                return pd.DataFrame({"values": values})
        return as_dataframe(values, arg)

    return frame(reference, "reference"), frame(current, "current")


@check("no_drift")
def check_no_drift(
    reference: Any,
    current: Any,
    *,
    method: str = "psi",
    threshold: float | None = None,
    warn_threshold: float | None = None,
    columns: Any = None,
    exclude: Any = (),
    bins: int = 10,
    random_state: int | None = None,
) -> CheckResult:
    """Detect distribution drift between a reference sample and a current one, per column.

    ``method="psi"``: population stability index over reference-decile bins (NaN its own
    bin; categories, new ones and NaN as bins for categorical columns); error at
    ``threshold`` (ini ``ml_drift_psi_threshold``, 0.25), warning at ``warn_threshold``
    (ini ``ml_drift_psi_warning``, 0.1). ``method="ks"``: the two-sample KS statistic for
    numeric columns (error 0.1, warning 0.05; categorical columns keep PSI). A column drifts
    only when its effect passes the threshold and also the sampling-noise bar at these
    sample sizes (the 99.9% quantile of the statistic under no drift, Bonferroni over
    columns). Works on predictions too (1-D input). ``exclude`` drops columns (ids, keys);
    datetime columns and id-like columns (``schema.id_like``: unique increasing integers,
    dense or id-named unique integers in any order, mostly-unique strings; the same rule as
    ``in_distribution``) are skipped unless named in ``columns`` (they move forward by
    construction: compare derived features such as hour or weekday); the message names them
    and the ``exclude=`` that makes this explicit. Figure: the worst column's effect.
    """
    from pytest_mlchecks.inputs.tables import split_columns

    if method not in ("psi", "ks"):
        raise MLCheckUsageError(f"method must be 'psi' or 'ks', got {method!r}.")
    if not isinstance(bins, int) or bins < 2:
        raise MLCheckUsageError(f"bins must be an integer >= 2, got {bins!r}.")
    ref, cur = _frame_pair(reference, current)
    n = require_rows(ref, "reference")
    m = require_rows(cur, "current")
    excluded = _excluded(exclude, ref, cur)
    skipped: dict[str, str] = {}
    if columns is None:
        common = [c for c in ref.columns if c in cur.columns and c not in excluded]
        for c in common:
            if kind_of(ref[c].dtype) == "datetime":
                skipped[str(c)] = "datetime"
            elif (why := id_like(ref[c])) is not None:
                skipped[str(c)] = why
        cols = [c for c in common if str(c) not in skipped]
        if not cols:
            raise MLCheckUsageError(
                "reference and current have no columns in common to compare "
                f"(skipped: {skipped}): expected the same features."
            )
    else:
        cols = [c for c in split_columns(ref, cur, columns) if c not in excluded]
    if all(ref[c].isna().all() and cur[c].isna().all() for c in cols):
        raise MLCheckUsageError(
            f"every compared column ({len(cols)}) is missing in every row of reference and "
            "current: there is no value whose distribution could drift, so no_drift cannot "
            "decide (check how the data was loaded)."
        )
    key = "drift_ks" if method == "ks" else "drift_psi"
    top = 1.0 if method == "ks" else math.inf  # KS is a distance in [0, 1]
    err = _positive(
        resolve_threshold(f"{key}_threshold", threshold), f"{key}_threshold", "threshold", high=top
    )
    warn = _positive(
        resolve_threshold(f"{key}_warning", warn_threshold),
        f"{key}_warning",
        "warn_threshold",
        high=top,
    )
    warn = min(warn, err)
    psi_limits = (
        resolve_threshold("drift_psi_warning", None),
        resolve_threshold("drift_psi_threshold", None),
    )
    rng = np.random.default_rng(current_seed(random_state))
    alpha = DRIFT_ALPHA / len(cols)
    rows: list[dict[str, Any]] = []
    for name in cols:
        a, b = ref[name], cur[name]
        kinds = {kind_of(a.dtype), kind_of(b.dtype)}
        numeric = kinds <= {"int", "float"} or kinds in ({"datetime"}, {"timedelta"})
        if numeric:
            x, y = _as_float(a), _as_float(b)
            rc, cc, _ = _numeric_bins(x, y, bins, rng)
        else:
            rc, cc = _category_bins(a, b)
        used = int(np.count_nonzero((rc + cc) > 0))
        psi = _psi(rc.astype(float), cc.astype(float))
        psi_noise = chi2_isf(alpha, max(used - 1, 1)) * (1 / n + 1 / m)
        row: dict[str, Any] = {"column": str(name), "psi": psi, "psi_noise": psi_noise}
        shares_ref = rc / max(float(rc.sum()), 1.0)
        shares_cur = cc / max(float(cc.sum()), 1.0)
        row["histogram"] = {  # bin shares, for plots in reports (aggregates only)
            "reference": [round(float(v), 5) for v in shares_ref],
            "current": [round(float(v), 5) for v in shares_cur],
        }
        if numeric:
            row["ks"] = _ks(x, y, rng)
            row["ks_noise"] = ks_critical(alpha, min(n, KS_SAMPLE), min(m, KS_SAMPLE))
        if method == "ks" and numeric:
            effect, noise, limits, metric = row["ks"], row["ks_noise"], (warn, err), "KS"
        elif method == "ks":  # categorical columns have no KS: they keep PSI and its limits
            effect, noise, limits, metric = psi, psi_noise, psi_limits, "PSI"
        else:
            effect, noise, limits, metric = psi, psi_noise, (warn, err), "PSI"
        row["metric"] = metric
        row["limit"] = limits[1]
        row["warning"] = limits[0]
        row["effect"] = effect
        row["noise"] = noise
        real = effect == effect and effect > noise
        row["level"] = (
            "error"
            if real and effect >= limits[1]
            else "warning"
            if real and effect >= limits[0]
            else "ok"
        )
        rows.append(row)
    # most severe first: effect relative to its own limit (KS and PSI differ in scale)
    rows.sort(key=lambda r: -(r["effect"] / r["limit"] if r["effect"] == r["effect"] else -1))
    if rows and all(r["level"] == "ok" and r["noise"] > UNDECIDABLE * r["limit"] for r in rows):
        best = min(rows, key=lambda r: r["noise"] / r["limit"])
        raise MLCheckUsageError(
            f"no_drift cannot decide with {n:,} reference and {m:,} current rows: sampling "
            f"noise alone reaches {best['metric']} {fmt(best['noise'], 3)} in every column, "
            f"more than {UNDECIDABLE:g} times the limit {fmt(best['limit'], 3)}, so even a "
            "large drift would pass as chance; pass more rows (a few hundred per side)."
        )
    errors = [r for r in rows if r["level"] == "error"]
    warnings_ = [r for r in rows if r["level"] == "warning"]
    worst = rows[0]["effect"] if rows else 0.0
    for r in rows[3:]:
        r.pop("histogram", None)  # keep histograms of the three worst columns only
    details = {
        "method": method,
        "reference_rows": n,
        "current_rows": m,
        "columns": rows[:50],
        "drifted": [r["column"] for r in errors],
        "warned": [r["column"] for r in warnings_],
        "skipped": skipped,
    }
    table_rows = [
        [
            r["column"],
            fmt(r["psi"], 3),
            fmt(r["psi_noise"], 3),
            fmt(r["ks"], 3) if "ks" in r else "-",
            r["level"],
        ]
        for r in rows[:12]
    ]
    body = table(["column", "PSI", "noise", "KS", "verdict"], table_rows)
    if skipped:
        body += "\n  " + _skipped_note(skipped)
    if not errors and not warnings_:
        message = (
            f"no_drift: no column drifted ({len(rows)} compared; worst {rows[0]['metric']} "
            f"{fmt(worst, 3)} vs limit {fmt(rows[0]['limit'], 3)}, noise bar "
            f"{fmt(rows[0]['noise'], 3)} at n={n:,}/{m:,})."
            + (f" {_skipped_note(skipped)}" if skipped else "")
        )
        return result(True, "error", worst, rows[0]["limit"], message, details)
    flagged = errors or warnings_
    severity = "error" if errors else "warning"
    names = ", ".join(repr(r["column"]) for r in flagged)  # every one the count counts
    message = compose(
        f"no_drift: {plural(len(flagged), 'column')} drifted "
        f"({'above the error limit' if errors else 'past the warning level'}): {names}; worst "
        f"{flagged[0]['metric']} {fmt(flagged[0]['effect'], 3)} (limit "
        f"{fmt(flagged[0]['limit'], 3)}, warning {fmt(flagged[0]['warning'], 3)}), sampling "
        f"noise alone reaches {fmt(flagged[0]['noise'], 3)} at n={n:,} reference / {m:,} "
        "current rows.",
        body=body,
        why=(
            "a model scores well only on data like its training data; shifted inputs or "
            "predictions mean its accuracy on this data is unknown and likely lower."
        ),
        fix=(
            "check the upstream pipeline for a change (units, encoding, a broken join); if "
            "the world changed, retrain on recent data and refresh the reference."
        ),
    )
    return result(
        False,
        severity,
        flagged[0]["effect"],
        flagged[0]["limit"],
        message,
        details,
    )


def _skipped_note(skipped: dict[str, str]) -> str:
    """Which columns were left out and why, with the two ways to make that explicit."""
    names = list(skipped)
    shown = ", ".join(f"{k!r} ({v})" for k, v in list(skipped.items())[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    return (
        f"Not compared: {shown}{more}: new data brings new ids and later dates by "
        f"construction. Say so explicitly with exclude={names[:10]!r}, or compare them "
        "anyway by naming them in columns=."
    )


# ---------------------------------------------------------------------------- OOD


FAR_SPAN = 0.5  # "far out": half the training span beyond an extreme


def _far(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Values half a training span beyond the training extremes (log scale if positive)."""
    if lo > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(x)
        span = FAR_SPAN * (np.log(hi) - np.log(lo))
        span = span if span > 0 else 1.0
        return np.asarray((x <= 0) | (logs < np.log(lo) - span) | (logs > np.log(hi) + span))
    span = FAR_SPAN * (hi - lo) if hi > lo else max(abs(hi), 1.0)
    return np.asarray((x < lo - span) | (x > hi + span))


@check("in_distribution")
def check_in_distribution(
    X_new: Any,
    X_train: Any,
    *,
    max_fraction: float | None = None,
    margin: float | None = None,
    columns: Any = None,
    exclude: Any = (),
) -> CheckResult:
    """Detect rows of ``X_new`` with features far outside the training distribution.

    A numeric value is out when it lies beyond the training range widened by ``margin``
    (ini ``ml_ood_margin``, default 0.5) times the training interquartile range; a categorical
    value is out when training never saw it. Distribution-free: a fresh draw beats a sample's
    maximum with probability 1/(n+1), so skewed features do not raise false alarms. Figure:
    the fraction of rows with any feature out, held to ``max_fraction`` (ini
    ``ml_ood_max_fraction``, default 0.01) plus what chance explains for this training size;
    rows "far" out (half a training span beyond an extreme, log scale for positive features)
    are held to ``max_fraction`` alone. ``exclude`` drops columns (ids, keys); datetime
    columns and key columns (unique, increasing integers) are not compared unless named in
    ``columns``: new data is always later.
    """
    from pytest_mlchecks.inputs.tables import split_columns

    limit = resolve_threshold("ood_max_fraction", max_fraction)
    if not 0 <= limit < 1:
        raise MLCheckUsageError(
            f"max_fraction (ini ml_ood_max_fraction) must be in [0, 1), got {limit!r}."
        )
    widen = resolve_threshold("ood_margin", margin)
    if not 0 <= widen < math.inf:
        raise MLCheckUsageError(f"margin (ini ml_ood_margin) must be >= 0, got {widen!r}.")
    new = as_dataframe(tabular_input(X_new, "X_new"), "X_new")
    train = as_dataframe(tabular_input(X_train, "X_train"), "X_train")
    m = require_rows(new, "X_new")
    n = require_rows(train, "X_train")
    excluded = _excluded(exclude, train, new)
    if columns is None:
        cols = [c for c in train.columns if c in new.columns and c not in excluded]
        if not cols:
            raise MLCheckUsageError("X_new and X_train have no columns in common.")
    else:
        cols = [c for c in split_columns(train, new, columns) if c not in excluded]
    any_out = np.zeros(m, dtype=bool)
    any_far = np.zeros(m, dtype=bool)
    per_feature: dict[str, int] = {}
    open_domain: dict[str, int] = {}
    checked = 0
    id_columns = {str(c): id_like(train[c]) for c in cols} if columns is None else {}
    id_reasons = {k: v for k, v in id_columns.items() if v is not None}
    keys = list(id_reasons)
    for name in cols:
        kind = kind_of(train[name].dtype)
        new_kind = kind_of(new[name].dtype)
        numeric = {"int", "float"}
        changed = (kind in numeric) != (new_kind in numeric)
        if changed and not {kind, new_kind} <= {"int", "float", "bool"} and new[name].notna().any():
            raise MLCheckUsageError(
                f"column {name!r} is {train[name].dtype} in X_train but {new[name].dtype} in "
                "X_new: expected the same kind of values (run assert_schema_matches to see "
                "every type change)."
            )
        if str(name) in keys:
            continue
        if kind in ("int", "float"):
            t = _as_float(train[name])
            t = t[np.isfinite(t)]
            if len(t) == 0:
                continue
            q25, q75 = np.quantile(t, [0.25, 0.75])
            spread = float(q75 - q25) or float(t.max() - t.min()) or 1e-12
            lo, hi = float(t.min()) - widen * spread, float(t.max()) + widen * spread
            x = _as_float(new[name])
            out = (x < lo) | (x > hi)
            any_far |= _far(x, float(t.min()), float(t.max()))
        elif kind in ("category", "string", "bool"):
            counts = train[name].dropna().astype(str).value_counts()
            if len(counts) > 0.5 * n:  # identifiers, free text: not a distribution to compare
                continue
            values = new[name]
            out = (~values.astype(str).isin(counts.index) & values.notna()).to_numpy()
            singles = int((counts == 1).sum())
            rare = int(((counts >= 2) & (counts <= 5)).sum())
            unseen = int(np.count_nonzero(out))
            if unseen and unseen <= _good_turing_allowance(singles, rare, n, m):
                # an open domain (many categories seen once): new ones arrive at this rate
                open_domain[str(name)] = unseen
                out = np.zeros(m, dtype=bool)
            any_far |= out  # beyond that, a category never seen is as far out as it gets
        else:
            continue
        checked += 1
        count = int(np.count_nonzero(out))
        if count:
            per_feature[str(name)] = count
            any_out |= out
    if checked == 0:
        raise MLCheckUsageError("no numeric or categorical column to compare: cannot decide.")
    flagged = int(np.count_nonzero(any_out))
    fraction = flagged / m
    chance = _chance_rate(2 * checked, n)
    if limit + chance >= 0.5:
        raise MLCheckUsageError(
            f"in_distribution cannot decide with {n:,} training rows: the extremes of so few "
            f"rows are so uncertain that chance explains {percent(min(1.0, limit + chance))} "
            "of new rows beyond them; pass more training rows (X_train)."
        )
    allowed_count = _count_allowance(m, min(1.0, limit + chance))
    # far-out values (half a span beyond the extremes, on a log scale for positive
    # features) are not explained by the uncertainty of the extremes: only the limit applies
    far = int(np.count_nonzero(any_far))
    allowed_far = _count_allowance(m, limit)
    passed = flagged <= allowed_count and far <= allowed_far
    ranked = sorted(per_feature.items(), key=lambda kv: -kv[1])
    details = {
        "rows": m,
        "training_rows": n,
        "features_checked": checked,
        "rows_out": flagged,
        "rows_far_out": far,
        "features_out": dict(ranked[:20]),
        "allowed_rows": allowed_count,
        "skipped_keys": keys,
        "unseen_within_chance": open_domain,
    }
    skipped_note = _skipped_note(id_reasons) if id_reasons else ""
    if passed:
        message = (
            f"in_distribution: {flagged:,} of {m:,} rows ({percent(fraction)}) have a feature "
            f"outside the training distribution (limit {percent(limit)} + chance)."
            + (f" {skipped_note}" if skipped_note else "")
        )
        return result(True, "error", fraction, limit, message, details)
    rows = [[k, f"{v:,}", percent(v / m)] for k, v in ranked[:12]]
    message = compose(
        f"in_distribution: {flagged:,} of {m:,} rows ({percent(fraction)}) have features far "
        f"outside the training data (limit {percent(limit)}; chance explains up to "
        f"{fmt(allowed_count, 2)} rows for {n:,} training rows).",
        body=table(["feature", "rows out", "share"], rows)
        + (f"\n  {skipped_note}" if skipped_note else ""),
        why=(
            "the model extrapolates on such rows: trees flatten, linear models explode, and "
            "neither says it is guessing."
        ),
        fix=(
            "route these rows to a fallback or human review, check the named features for "
            "unit or encoding changes, and add such cases to the training data."
        ),
    )
    return result(False, "error", fraction, limit, message, details)


# --------------------------------------------------------------- the HTML report's charts
from pytest_mlchecks._charts import BarChart, Series, chart, fmt_value  # noqa: E402


@chart("no_drift")
def _chart_no_drift(details: dict[str, Any]) -> list[BarChart]:
    """Share of rows per reference bin, reference vs current, for the first three columns."""
    charts = []
    for column in (details.get("columns") or [])[:3]:
        histogram = column.get("histogram")
        if not histogram:
            continue
        psi = fmt_value(column["psi"])
        charts.append(
            BarChart(
                f"{column['column']}: share of rows per reference bin (PSI {psi})",
                [f"bin {i + 1}" for i in range(len(histogram["reference"]))],
                [
                    Series("reference", histogram["reference"], "ref"),
                    Series("current", histogram["current"], "cur"),
                ],
            )
        )
    return charts
