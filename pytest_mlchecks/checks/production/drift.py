"""Production rung: drift between samples and rows outside the training distribution.

Every tolerance here is tied to the samples' sizes, so that a fresh sample from the
reference's own distribution passes at any n, while real changes are reported with both the
effect and the sampling noise it was compared with.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np

from pytest_mlchecks._charts import Chart, Histogram, chart, fmt_report, range_labels
from pytest_mlchecks._messages import compose, percent, plural
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks._stats import chi2_isf, ks_critical
from pytest_mlchecks.checks.production.noise import (
    RARE_MAX,
    chance_rate,
    count_allowance,
    good_turing_allowance,
)
from pytest_mlchecks.engines import native_pair
from pytest_mlchecks.inputs.tables import (
    Columns,
    TableLike,
    as_dataframe,
    fmt,
    require_rows,
    split_columns,
    table,
)
from pytest_mlchecks.schema import column_as_float, id_like, kind_of, tabular_input, text_counts

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "check_in_distribution",
    "check_no_drift",
]

# ---------------------------------------------------------------------------- inputs


def _positive(value: float, key: str, arg: str, *, high: float = math.inf) -> float:
    """``value`` if 0 < value <= high, else a usage error naming the argument and its ini
    option (NaN never passes)."""
    if not (0 < value <= high):
        raise MLCheckUsageError(f"{arg} (ini ml_{key}) must be in (0, {high:g}], got {value!r}.")
    return value


def excluded_names(exclude: Columns, *frames: pd.DataFrame) -> set[Hashable]:
    """The names in ``exclude``, each of which must be a column of one of ``frames``."""
    from pytest_mlchecks.inputs.tables import as_name_list

    names = set(as_name_list(exclude, "exclude"))
    for name in names:
        if not any(name in f.columns for f in frames):
            raise MLCheckUsageError(f"exclude names {name!r}, which is in neither input.")
    return names


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


def _frame_pair(reference: object, current: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both samples as DataFrames; a 1-D input (predictions) becomes one column."""
    import pandas as pd

    from pytest_mlchecks.inputs.tables import is_series, is_torch, require_array_like, tensor_numpy

    def frame(raw: object, arg: str) -> Any:
        obj = require_array_like(
            tabular_input(raw, arg), arg, what="a DataFrame, a Series or an array"
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


# ---------------------------------------------------------------------------- drift

KS_SAMPLE = 50_000  # KS on a seeded sample: its own noise (~0.01) is far below the limits
EDGE_SAMPLE = 100_000
DRIFT_ALPHA = 0.001  # family-wise: the chance that noise alone crosses the noise bar
UNDECIDABLE = 4.0  # noise bars this many times the limit: too few rows to decide


def psi_index(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Population stability index with 0.5 added to every bin (empty bins stay finite)."""
    p = (ref_counts + 0.5) / (ref_counts.sum() + 0.5 * len(ref_counts))
    q = (cur_counts + 0.5) / (cur_counts.sum() + 0.5 * len(cur_counts))
    return float(np.sum((q - p) * np.log(q / p)))


LEVEL_MIN_COUNT = 5  # reference count a category needs for a bin of its own
LEVEL_MAX_BINS = 30


def _category_bins(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Reference and current counts over category bins: the levels seen at least
    ``LEVEL_MIN_COUNT`` times per side on average in both samples pooled (at most
    ``LEVEL_MAX_BINS``, most frequent first; missing values are a level), and one last bin
    for everything else (rare and new levels). Rare levels get no bins of their own:
    hundreds of near-empty bins (dates or names stored as text) make PSI measure sparsity,
    not drift. Bins are chosen on the pooled counts, not the reference's alone: picking the
    levels a sample happens to over-represent would itself look like drift. A new level
    that takes real mass gets its own bin and stands out. Levels are values' text, counted
    on codes (``schema.text_counts``). Also returns the bins' labels for the report."""
    return category_bins(text_counts(a, missing=MISSING), text_counts(b, missing=MISSING))


def category_bins(
    ref_counts: pd.Series, cur_counts: pd.Series
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``_category_bins`` from counts per level's text (most frequent first; missing values
    under ``MISSING``): what a native engine's group-by brings back."""
    pooled = ref_counts.add(cur_counts, fill_value=0).sort_values(ascending=False, kind="stable")
    kept = list(pooled[pooled >= 2 * LEVEL_MIN_COUNT].index[:LEVEL_MAX_BINS])
    index = {c: i for i, c in enumerate(kept)}
    rc = np.zeros(len(kept) + 1)
    cc = np.zeros(len(kept) + 1)
    for counts, target in ((ref_counts, rc), (cur_counts, cc)):
        for cat, count in counts.items():
            target[index.get(cat, len(kept))] += count
    labels = ["missing" if c == MISSING else str(c)[:40] for c in kept]
    return rc, cc, [*labels, "other (rare or new)"]


MISSING = "\x00nan"  # the level of missing values
CHUNK = 1 << 16  # values compared against every edge while they sit in cache
FEW_EDGES = 64  # up to this many edges: comparisons per cached chunk beat a binary search


def bin_counts(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``x`` over the bins that sorted ``edges`` cut (bin i: edges[i-1] < x <=
    edges[i]; +-inf in the outer bins), then the NaN count: ``len(edges) + 2`` counts. One
    pass over ``x``: up to ``FEW_EDGES`` edges, each cached chunk of values is compared with
    every edge (faster than a binary search per value for few edges); beyond, one
    ``searchsorted``."""
    k = len(edges) + 1
    if len(edges) > FEW_EDGES:
        codes = np.searchsorted(edges, x, side="left")
        codes[np.isnan(x)] = k
        return np.asarray(np.bincount(codes, minlength=k + 1))
    at_most = np.zeros(len(edges), dtype=np.int64)  # values <= each edge
    nan = 0
    buffer = np.empty(min(CHUNK, len(x)), dtype=bool)
    for start in range(0, len(x), CHUNK):
        part = x[start : start + CHUNK]
        flags = buffer[: len(part)]
        for i, edge in enumerate(edges):
            np.less_equal(part, edge, out=flags)
            at_most[i] += np.count_nonzero(flags)
        np.isnan(part, out=flags)
        nan += np.count_nonzero(flags)
    cumulative = np.concatenate([[0], at_most, [len(x) - nan]])
    return np.concatenate([np.diff(cumulative), [nan]])


def _numeric_bins(
    ref: np.ndarray, cur: np.ndarray, bins: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference and current counts over the reference's quantile bins (one bin per value
    when it has few distinct values), missing values in a last bin of their own; the
    edges."""
    all_finite = len(ref) > 0 and bool(np.isfinite(ref.min()) and np.isfinite(ref.max()))
    finite = ref if all_finite else ref[np.isfinite(ref)]  # no copy when nothing to drop
    sample = (
        finite if len(finite) <= EDGE_SAMPLE else finite[rng.integers(0, len(finite), EDGE_SAMPLE)]
    )
    edges = numeric_edges(sample, bins)
    return bin_counts(ref, edges), bin_counts(cur, edges), edges


def integral(kinds: AbstractSet[str], x: np.ndarray, y: np.ndarray) -> bool:
    """Whether both columns hold whole numbers only (their bins are labelled as integers)."""
    if kinds == {"int"}:
        return True
    if not kinds <= {"int", "float"}:
        return False
    values = np.concatenate([x[np.isfinite(x)], y[np.isfinite(y)]])
    return len(values) > 0 and bool(np.all(values == np.round(values)))


def numeric_edges(sample: np.ndarray, bins: int) -> np.ndarray:
    """Inner edges of ``bins`` equal-frequency bins of finite reference values (at most
    ``EDGE_SAMPLE`` of them); one bin per value when they hold at most ``bins`` distinct
    values (points, values between them in bins of their own)."""
    if len(sample) == 0:
        return np.empty(0)
    edges = np.unique(np.quantile(sample, np.linspace(0, 1, bins + 1)[1:-1]))
    if len(edges) == 0 or len(np.unique(sample)) <= bins:
        values = np.unique(sample)
        edges = np.sort(np.concatenate([values - 1e-9 * (1 + abs(values)), values]))
    return np.asarray(edges)


def _ks(ref: np.ndarray, cur: np.ndarray, rng: np.random.Generator) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (on seeded samples of ``KS_SAMPLE`` values)."""
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


def _skip_ks_draws(present_ref: int, present_cur: int, rng: np.random.Generator) -> None:
    """Advance ``rng`` as ``_ks`` would on samples with these numbers of present values,
    without computing KS: the next columns' seeded samples, so their figures, stay the same
    whichever method ran."""
    if present_ref == 0 or present_cur == 0:
        return
    for present in (present_ref, present_cur):
        if present > KS_SAMPLE:
            rng.integers(0, present, KS_SAMPLE)


DriftLevel = Literal["error", "warning", "ok"]


class DriftHistogram(TypedDict):
    """Bin shares of both samples, for plots in reports (aggregates only), and each bin's
    label: its value range (``(0.5, 1.2]``, ``3``, ``4-7`` for integers) or category."""

    reference: list[float]
    current: list[float]
    labels: list[str]


class _DriftEffect(TypedDict):
    column: str
    psi: float
    psi_noise: float


class DriftColumn(_DriftEffect, total=False):
    """One compared column: its PSI (and KS for numeric columns under ``method="ks"``), the
    noise bars at these sample sizes, the statistic the verdict uses (``metric``, ``effect``,
    ``noise``) and its limits."""

    histogram: DriftHistogram  # the three most drifted columns only
    ks: float  # numeric columns, method="ks" only
    ks_noise: float
    ks_interval: list[float]  # native engines: [low, high] holds the exact KS
    undecided: bool  # native engines: the KS interval straddles a limit
    metric: Literal["PSI", "KS"]
    limit: float
    warning: float
    effect: float
    noise: float
    level: DriftLevel


class NoDriftDetails(TypedDict):
    """What ``no_drift`` measured (the record's ``details``)."""

    method: str
    reference_rows: int
    current_rows: int
    columns: list[DriftColumn]  # the 50 most drifted, most severe first
    drifted: list[str]  # every column above the error limit
    warned: list[str]  # every column past the warning level only
    skipped: dict[str, str]  # columns left out (datetime, id-like) and why


@dataclass(frozen=True)
class DriftSetup:
    """How columns are compared: the method, its limits (warning, error), PSI's limits for
    categorical columns under KS, and the per-column false-alarm rate of the noise bars."""

    method: str
    bins: int
    limits: tuple[float, float]
    psi_limits: tuple[float, float]
    alpha: float


@dataclass(frozen=True)
class DriftFigures:
    """Every compared column, most severe first (``details()`` keeps the first 50)."""

    method: str
    reference_rows: int
    current_rows: int
    rows: list[DriftColumn]
    skipped: dict[str, str]

    @property
    def errors(self) -> list[DriftColumn]:
        return [r for r in self.rows if r["level"] == "error"]

    @property
    def warnings(self) -> list[DriftColumn]:
        return [r for r in self.rows if r["level"] == "warning"]

    @property
    def flagged(self) -> list[DriftColumn]:
        """The columns the verdict counts: errors, else warnings (worst first)."""
        return self.errors or self.warnings

    def details(self) -> NoDriftDetails:
        return {
            "method": self.method,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "columns": self.rows[:50],
            "drifted": [r["column"] for r in self.errors],
            "warned": [r["column"] for r in self.warnings],
            "skipped": self.skipped,
        }


def _drift_columns(
    ref: pd.DataFrame, cur: pd.DataFrame, columns: Columns | None, exclude: Columns
) -> tuple[list[Hashable], dict[str, str]]:
    """The columns to compare, and those skipped (datetime and id-like, unless named in
    ``columns``) with the reason; a usage error when nothing is left to compare."""
    excluded = excluded_names(exclude, ref, cur)
    skipped: dict[str, str] = {}
    cols: list[Hashable]
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
    return cols, skipped


def _drift_limits(
    method: str, threshold: float | None, warn_threshold: float | None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(warning, error) limits of ``method``, and PSI's (for categorical columns)."""
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
    psi_limits = (
        resolve_threshold("drift_psi_warning", None),
        resolve_threshold("drift_psi_threshold", None),
    )
    return (min(warn, err), err), psi_limits


def _measure_drift_column(
    a: pd.Series, b: pd.Series, setup: DriftSetup, rng: np.random.Generator
) -> DriftColumn:
    """PSI (and KS for numeric columns) of one column against its noise bar at these sizes:
    the chi-square quantile over the used bins, KS's critical value (``setup.alpha``)."""
    n, m = len(a), len(b)
    kinds = {kind_of(a.dtype), kind_of(b.dtype)}
    numeric = kinds <= {"int", "float"} or kinds in ({"datetime"}, {"timedelta"})
    if numeric:
        x, y = column_as_float(a), column_as_float(b)
        rc, cc, edges = _numeric_bins(x, y, setup.bins, rng)
        labels = range_labels([float(e) for e in edges], integral=integral(kinds, x, y))
    else:
        rc, cc, labels = _category_bins(a, b)
    ks: float | None = None
    if numeric and setup.method == "ks":
        ks = _ks(x, y, rng)
    elif numeric:  # PSI only: draw what KS would, so PSI's seeded edges match method="ks"
        _skip_ks_draws(int(rc[:-1].sum()), int(cc[:-1].sum()), rng)
    return drift_row(str(a.name), rc, cc, (n, m), setup, labels, ks=ks)


def drift_row(
    name: str,
    rc: np.ndarray,
    cc: np.ndarray,
    sizes: tuple[int, int],
    setup: DriftSetup,
    labels: list[str],
    *,
    ks: float | None = None,
) -> DriftColumn:
    """One column's figures from its bin counts (and its KS statistic, for a numeric column
    under ``method="ks"``; None otherwise) at sample sizes ``sizes``: PSI and its noise bar,
    the statistic the verdict uses and its level; ``labels`` name the bins for the report."""
    n, m = sizes
    numeric = ks is not None
    used = int(np.count_nonzero((rc + cc) > 0))
    psi = psi_index(rc.astype(float), cc.astype(float))
    psi_noise = chi2_isf(setup.alpha, max(used - 1, 1)) * (1 / n + 1 / m)
    row: DriftColumn = {"column": name, "psi": psi, "psi_noise": psi_noise}
    shares_ref = rc / max(float(rc.sum()), 1.0)
    shares_cur = cc / max(float(cc.sum()), 1.0)
    row["histogram"] = {
        "reference": [round(float(v), 5) for v in shares_ref],
        "current": [round(float(v), 5) for v in shares_cur],
        "labels": labels,
    }
    if ks is not None:
        row["ks"] = ks
        row["ks_noise"] = ks_critical(setup.alpha, min(n, KS_SAMPLE), min(m, KS_SAMPLE))
    metric: Literal["PSI", "KS"] = "PSI"
    effect, noise, limits = psi, psi_noise, setup.limits
    if setup.method == "ks" and numeric:
        metric, effect, noise = "KS", row["ks"], row["ks_noise"]
    elif setup.method == "ks":  # categorical columns have no KS: they keep PSI and its limits
        limits = setup.psi_limits
    row["metric"] = metric
    row["limit"] = limits[1]
    row["warning"] = limits[0]
    row["effect"] = effect
    row["noise"] = noise
    row["level"] = drift_level(effect, noise, limits)
    return row


def drift_level(effect: float, noise: float, limits: tuple[float, float]) -> DriftLevel:
    """A column drifts when its effect passes both the noise bar and a limit."""
    real = effect == effect and effect > noise
    if real and effect >= limits[1]:
        return "error"
    return "warning" if real and effect >= limits[0] else "ok"


def _measure_no_drift(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    cols: list[Hashable],
    skipped: dict[str, str],
    setup: DriftSetup,
    rng: np.random.Generator,
) -> DriftFigures:
    """Every column measured, most severe first: effect relative to its own limit (KS and
    PSI differ in scale); histograms kept for the three worst columns only."""
    rows = [_measure_drift_column(ref[c], cur[c], setup, rng) for c in cols]
    return drift_figures(setup.method, (len(ref), len(cur)), rows, skipped)


def drift_figures(
    method: str, sizes: tuple[int, int], rows: list[DriftColumn], skipped: dict[str, str]
) -> DriftFigures:
    """The columns' figures, most severe first (effect relative to its own limit: KS and PSI
    differ in scale); histograms kept for the three worst columns only."""
    rows.sort(key=lambda r: -(r["effect"] / r["limit"] if r["effect"] == r["effect"] else -1))
    for r in rows[3:]:
        r.pop("histogram", None)
    return DriftFigures(method, sizes[0], sizes[1], rows, skipped)


def _require_decidable(figures: DriftFigures) -> None:
    """A usage error when noise alone passes every limit many times over (too few rows)."""
    rows, n, m = figures.rows, figures.reference_rows, figures.current_rows
    if rows and all(r["level"] == "ok" and r["noise"] > UNDECIDABLE * r["limit"] for r in rows):
        best = min(rows, key=lambda r: r["noise"] / r["limit"])
        raise MLCheckUsageError(
            f"no_drift cannot decide with {n:,} reference and {m:,} current rows: sampling "
            f"noise alone reaches {best['metric']} {fmt(best['noise'], 3)} in every column, "
            f"more than {UNDECIDABLE:g} times the limit {fmt(best['limit'], 3)}, so even a "
            "large drift would pass as chance; pass more rows (a few hundred per side)."
        )


NO_DRIFT_WHY = (
    "a model scores well only on data like its training data; shifted inputs or predictions "
    "mean its accuracy on this data is unknown and likely lower."
)
NO_DRIFT_FIX = (
    "check the upstream pipeline for a change (units, encoding, a broken join); if the world "
    "changed, retrain on recent data and refresh the reference."
)


def _explain_no_drift(figures: DriftFigures) -> str:
    rows, skipped = figures.rows, figures.skipped
    n, m = figures.reference_rows, figures.current_rows
    flagged = figures.flagged
    if not flagged:
        return (
            f"no_drift: no column drifted ({len(rows)} compared; worst {rows[0]['metric']} "
            f"{fmt(rows[0]['effect'], 3)} vs limit {fmt(rows[0]['limit'], 3)}, noise bar "
            f"{fmt(rows[0]['noise'], 3)} at n={n:,}/{m:,})."
            + (f" {_skipped_note(skipped)}" if skipped else "")
        )
    with_ks = any("ks" in r for r in rows[:12])  # method="ks" on a numeric column
    table_rows = [
        [r["column"], fmt(r["psi"], 3), fmt(r["psi_noise"], 3)]
        + ([fmt(r["ks"], 3) if "ks" in r else "-"] if with_ks else [])
        + [r["level"]]
        for r in rows[:12]
    ]
    headers = ["column", "PSI", "noise"] + (["KS"] if with_ks else []) + ["verdict"]
    body = table(headers, table_rows)
    if skipped:
        body += "\n  " + _skipped_note(skipped)
    worst = flagged[0]
    names = ", ".join(repr(r["column"]) for r in flagged)  # every one the count counts
    past = "above the error limit" if figures.errors else "past the warning level"
    return compose(
        f"no_drift: {plural(len(flagged), 'column')} drifted ({past}): {names}; worst "
        f"{worst['metric']} {fmt(worst['effect'], 3)} (limit {fmt(worst['limit'], 3)}, "
        f"warning {fmt(worst['warning'], 3)}), sampling noise alone reaches "
        f"{fmt(worst['noise'], 3)} at n={n:,} reference / {m:,} current rows.",
        body=body,
        why=NO_DRIFT_WHY,
        fix=NO_DRIFT_FIX,
    )


@check("no_drift")
def check_no_drift(
    reference: TableLike,
    current: TableLike,
    *,
    method: Literal["psi", "ks"] = "psi",
    threshold: float | None = None,
    warn_threshold: float | None = None,
    columns: Columns | None = None,
    exclude: Columns = (),
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
    if method not in ("psi", "ks"):
        raise MLCheckUsageError(f"method must be 'psi' or 'ks', got {method!r}.")
    if not isinstance(bins, int) or bins < 2:
        raise MLCheckUsageError(f"bins must be an integer >= 2, got {bins!r}.")
    extra: dict[str, Any] = {}
    if native_pair(reference, current, "reference", "current") is not None:
        from pytest_mlchecks.engines.production import drift_in_engine

        limits, psi_limits = _drift_limits(method, threshold, warn_threshold)
        setup = DriftSetup(method, bins, limits, psi_limits, DRIFT_ALPHA)  # alpha: per column
        figures, extra = drift_in_engine(
            reference, current, setup, columns, exclude, current_seed(random_state)
        )
    else:
        ref, cur = _frame_pair(reference, current)
        require_rows(ref, "reference")
        require_rows(cur, "current")
        cols, skipped = _drift_columns(ref, cur, columns, exclude)
        limits, psi_limits = _drift_limits(method, threshold, warn_threshold)
        rng = np.random.default_rng(current_seed(random_state))
        setup = DriftSetup(method, bins, limits, psi_limits, DRIFT_ALPHA / len(cols))
        figures = _measure_no_drift(ref, cur, cols, skipped, setup, rng)
    _require_decidable(figures)
    message = _explain_no_drift(figures) + extra.pop("note", "")
    details = dict(figures.details()) | extra
    if not figures.flagged:
        worst = figures.rows[0]["effect"] if figures.rows else 0.0
        return result(True, "error", worst, figures.rows[0]["limit"], message, details)
    worst_row = figures.flagged[0]
    severity = "error" if figures.errors else "warning"
    return result(False, severity, worst_row["effect"], worst_row["limit"], message, details)


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


class InDistributionDetails(TypedDict):
    """What ``in_distribution`` measured (the record's ``details``)."""

    rows: int
    training_rows: int
    features_checked: int
    rows_out: int  # rows with any feature out
    rows_far_out: int  # rows with any feature far out
    features_out: dict[str, int]  # rows out per feature, the 20 most first
    allowed_rows: float  # rows out that the limit plus chance explain
    skipped_keys: list[str]  # id-like columns left out
    unseen_within_chance: dict[str, int]  # new categories an open domain explains


@dataclass(frozen=True)
class _OutOfRange:
    """One feature's rows out (beyond the widened range, or in an unseen category) and far
    out; ``within_chance`` counts new categories that an open domain explains (not out)."""

    out: np.ndarray
    far: np.ndarray
    within_chance: int = 0


@dataclass(frozen=True)
class OodFigures:
    """The counts behind the verdict, with the limits they are held to."""

    rows: int
    training_rows: int
    features_checked: int
    rows_out: int
    rows_far_out: int
    ranked: list[tuple[str, int]]  # rows out per feature, most first
    limit: float
    allowed_rows: float  # the limit plus chance
    allowed_far: float  # the limit alone
    id_reasons: dict[str, str]
    within_chance: dict[str, int]

    @property
    def fraction(self) -> float:
        return self.rows_out / self.rows

    @property
    def passed(self) -> bool:
        return self.rows_out <= self.allowed_rows and self.rows_far_out <= self.allowed_far

    def details(self) -> InDistributionDetails:
        return {
            "rows": self.rows,
            "training_rows": self.training_rows,
            "features_checked": self.features_checked,
            "rows_out": self.rows_out,
            "rows_far_out": self.rows_far_out,
            "features_out": dict(self.ranked[:20]),
            "allowed_rows": self.allowed_rows,
            "skipped_keys": list(self.id_reasons),
            "unseen_within_chance": self.within_chance,
        }


def _ood_limits(max_fraction: float | None, margin: float | None) -> tuple[float, float]:
    """The fraction of rows allowed out, and the margin (in IQRs) widening the range."""
    limit = resolve_threshold("ood_max_fraction", max_fraction)
    if not 0 <= limit < 1:
        raise MLCheckUsageError(
            f"max_fraction (ini ml_ood_max_fraction) must be in [0, 1), got {limit!r}."
        )
    widen = resolve_threshold("ood_margin", margin)
    if not 0 <= widen < math.inf:
        raise MLCheckUsageError(f"margin (ini ml_ood_margin) must be >= 0, got {widen!r}.")
    return limit, widen


def _ood_columns(
    train: pd.DataFrame, new: pd.DataFrame, columns: Columns | None, exclude: Columns
) -> tuple[list[Hashable], dict[str, str]]:
    """The columns to compare, and the id-like ones among them (skipped unless ``columns``
    names them) with the reason."""
    excluded = excluded_names(exclude, train, new)
    cols: list[Hashable]
    if columns is None:
        cols = [c for c in train.columns if c in new.columns and c not in excluded]
        if not cols:
            raise MLCheckUsageError("X_new and X_train have no columns in common.")
    else:
        cols = [c for c in split_columns(train, new, columns) if c not in excluded]
    id_columns = {str(c): id_like(train[c]) for c in cols} if columns is None else {}
    return cols, {k: v for k, v in id_columns.items() if v is not None}


def _require_same_kind(train: pd.Series, new: pd.Series) -> None:
    """A usage error when a column holds numbers on one side and not on the other."""
    kind, new_kind = kind_of(train.dtype), kind_of(new.dtype)
    numeric = {"int", "float"}
    changed = (kind in numeric) != (new_kind in numeric)
    if changed and not {kind, new_kind} <= {"int", "float", "bool"} and new.notna().any():
        raise MLCheckUsageError(
            f"column {train.name!r} is {train.dtype} in X_train but {new.dtype} in "
            "X_new: expected the same kind of values (run assert_schema_matches to see "
            "every type change)."
        )


def _numeric_out(train: pd.Series, new: pd.Series, widen: float) -> _OutOfRange | None:
    """Values beyond the training range widened by ``widen`` IQRs, and those far out (None
    when training has no finite value)."""
    t = column_as_float(train)
    t = t[np.isfinite(t)]
    if len(t) == 0:
        return None
    q25, q75 = np.quantile(t, [0.25, 0.75])
    spread = float(q75 - q25) or float(t.max() - t.min()) or 1e-12
    lo, hi = float(t.min()) - widen * spread, float(t.max()) + widen * spread
    x = column_as_float(new)
    return _OutOfRange((x < lo) | (x > hi), _far(x, float(t.min()), float(t.max())))


def _category_out(train: pd.Series, new: pd.Series) -> _OutOfRange | None:
    """Values in categories training never saw, unless an open domain (many categories seen
    once) explains them by chance; None for identifiers and free text (most values
    distinct). Beyond chance, a category never seen is as far out as it gets."""
    n, m = len(train), len(new)
    counts = train.dropna().astype(str).value_counts()
    if len(counts) > 0.5 * n:  # identifiers, free text: not a distribution to compare
        return None
    out = (~new.astype(str).isin(counts.index) & new.notna()).to_numpy()
    singles = int((counts == 1).sum())
    rare = int(((counts >= 2) & (counts <= RARE_MAX)).sum())
    unseen = int(np.count_nonzero(out))
    rarest = int(counts.min()) if len(counts) else None
    if unseen and unseen <= good_turing_allowance(
        singles, rare, n, m, levels=len(counts), min_count=rarest
    ):
        # an open domain (many categories seen once): new ones arrive at this rate
        none = np.zeros(m, dtype=bool)
        return _OutOfRange(none, none, within_chance=unseen)
    return _OutOfRange(out, out)


def _feature_out(train: pd.Series, new: pd.Series, widen: float) -> _OutOfRange | None:
    """One feature's rows out, by its kind in training (None: not compared)."""
    kind = kind_of(train.dtype)
    if kind in ("int", "float"):
        return _numeric_out(train, new, widen)
    if kind in ("category", "string", "bool"):
        return _category_out(train, new)
    return None


def _measure_in_distribution(
    new: pd.DataFrame,
    train: pd.DataFrame,
    cols: list[Hashable],
    id_reasons: dict[str, str],
    limit: float,
    widen: float,
) -> OodFigures:
    """Rows with any feature out and far out, over the compared features, and what the limit
    and chance allow: out rows are held to the limit plus the rate at which fresh draws
    beat the training extremes; far-out rows, which those extremes' uncertainty does not
    explain, to the limit alone."""
    m, n = len(new), len(train)
    any_out = np.zeros(m, dtype=bool)
    any_far = np.zeros(m, dtype=bool)
    per_feature: dict[str, int] = {}
    within_chance: dict[str, int] = {}
    checked = 0
    for name in cols:
        _require_same_kind(train[name], new[name])
        if str(name) in id_reasons:
            continue
        found = _feature_out(train[name], new[name], widen)
        if found is None:
            continue
        if found.within_chance:
            within_chance[str(name)] = found.within_chance
        any_far |= found.far
        checked += 1
        count = int(np.count_nonzero(found.out))
        if count:
            per_feature[str(name)] = count
            any_out |= found.out
    return ood_figures(
        (m, n),
        checked,
        (int(np.count_nonzero(any_out)), int(np.count_nonzero(any_far))),
        per_feature,
        limit,
        id_reasons,
        within_chance,
    )


def ood_figures(
    sizes: tuple[int, int],
    checked: int,
    rows_hit: tuple[int, int],
    per_feature: dict[str, int],
    limit: float,
    id_reasons: dict[str, str],
    within_chance: dict[str, int],
) -> OodFigures:
    """The verdict's figures from the counts: ``sizes`` (new rows, training rows),
    ``rows_hit`` (rows with any feature out, far out), rows out per feature; a usage error
    when no feature was compared or the training rows are too few to decide."""
    m, n = sizes
    if checked == 0:
        raise MLCheckUsageError("no numeric or categorical column to compare: cannot decide.")
    chance = chance_rate(2 * checked, n)
    if limit + chance >= 0.5:
        raise MLCheckUsageError(
            f"in_distribution cannot decide with {n:,} training rows: the extremes of so few "
            f"rows are so uncertain that chance explains {percent(min(1.0, limit + chance))} "
            "of new rows beyond them; pass more training rows (X_train)."
        )
    return OodFigures(
        rows=m,
        training_rows=n,
        features_checked=checked,
        rows_out=rows_hit[0],
        rows_far_out=rows_hit[1],
        ranked=sorted(per_feature.items(), key=lambda kv: -kv[1]),
        limit=limit,
        allowed_rows=count_allowance(m, min(1.0, limit + chance)),
        allowed_far=count_allowance(m, limit),
        id_reasons=id_reasons,
        within_chance=within_chance,
    )


IN_DISTRIBUTION_WHY = (
    "the model extrapolates on such rows: trees flatten, linear models explode, and neither "
    "says it is guessing."
)
IN_DISTRIBUTION_FIX = (
    "route these rows to a fallback or human review, check the named features for unit or "
    "encoding changes, and add such cases to the training data."
)


def _explain_in_distribution(figures: OodFigures) -> str:
    m, flagged, limit = figures.rows, figures.rows_out, figures.limit
    share = percent(figures.fraction)
    note = _skipped_note(figures.id_reasons) if figures.id_reasons else ""
    if figures.passed:
        return (
            f"in_distribution: {flagged:,} of {m:,} rows ({share}) have a feature outside the "
            f"training distribution (limit {percent(limit)} + chance)."
            + (f" {note}" if note else "")
        )
    rows = [[k, f"{v:,}", percent(v / m)] for k, v in figures.ranked[:12]]
    return compose(
        f"in_distribution: {flagged:,} of {m:,} rows ({share}) have features far outside the "
        f"training data (limit {percent(limit)}; chance explains up to "
        f"{fmt(figures.allowed_rows, 2)} rows for {figures.training_rows:,} training rows).",
        body=table(["feature", "rows out", "share"], rows) + (f"\n  {note}" if note else ""),
        why=IN_DISTRIBUTION_WHY,
        fix=IN_DISTRIBUTION_FIX,
    )


@check("in_distribution")
def check_in_distribution(
    X_new: TableLike,
    X_train: TableLike,
    *,
    max_fraction: float | None = None,
    margin: float | None = None,
    columns: Columns | None = None,
    exclude: Columns = (),
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
    limit, widen = _ood_limits(max_fraction, margin)
    extra: dict[str, Any] = {}
    if native_pair(X_new, X_train, "X_new", "X_train") is not None:
        from pytest_mlchecks.engines.production import in_distribution_in_engine

        figures, extra = in_distribution_in_engine(X_new, X_train, limit, widen, columns, exclude)
    else:
        new = as_dataframe(tabular_input(X_new, "X_new"), "X_new")
        train = as_dataframe(tabular_input(X_train, "X_train"), "X_train")
        require_rows(new, "X_new")
        require_rows(train, "X_train")
        cols, id_reasons = _ood_columns(train, new, columns, exclude)
        figures = _measure_in_distribution(new, train, cols, id_reasons, limit, widen)
    message = _explain_in_distribution(figures)
    details = dict(figures.details()) | extra
    return result(figures.passed, "error", figures.fraction, limit, message, details)


# --------------------------------------------------------------- the HTML report's charts


@chart("no_drift")
def _chart_no_drift(details: dict[str, Any]) -> list[Chart]:
    """Share of rows per bin, reference vs current, for the three most drifted columns; bins
    labelled with their value ranges or category names (empty bins left out)."""
    charts: list[Chart] = []
    for column in (details.get("columns") or [])[:3]:
        histogram = column.get("histogram")
        if not histogram:
            continue
        count = len(histogram["reference"])
        labels = histogram.get("labels") or [f"bin {i + 1}" for i in range(count)]
        effect = fmt_report(column.get("effect", column["psi"]))
        title = (
            f"{column['column']}: share of rows per bin ({column.get('metric', 'PSI')} {effect})"
        )
        charts.append(Histogram(title, labels, histogram["reference"], histogram["current"]))
    return charts
