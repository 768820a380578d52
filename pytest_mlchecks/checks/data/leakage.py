"""Data rung, leakage between splits: shared rows, target-derived features, time travel.

Everything here is vectorised over rows: rows are compared through 64-bit row hashes (then
verified cell by cell), features are scored through per-bin statistics (bincount), so a
million rows take about a second.
"""

from __future__ import annotations

import datetime
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._charts import BarChart, Chart, Mark, Series, chart
from pytest_mlchecks._messages import compose, percent, plural
from pytest_mlchecks._protocol import (
    check,
    current_seed,
    report,
    resolve_threshold,
    result,
)
from pytest_mlchecks._result import CheckReport, CheckResult, MLCheckUsageError
from pytest_mlchecks._stats import auc_se as _auc_se
from pytest_mlchecks._stats import rank_auc
from pytest_mlchecks.engines import NativeFrame, is_native, native_pair
from pytest_mlchecks.inputs.models import task_of_target
from pytest_mlchecks.inputs.rows import PARTITION_ABOVE, group_codes
from pytest_mlchecks.inputs.rows import comparable as _comparable
from pytest_mlchecks.inputs.rows import freeze as _freeze
from pytest_mlchecks.inputs.rows import hashed_rows as _hashed
from pytest_mlchecks.inputs.rows import rows_equal as _rows_equal
from pytest_mlchecks.inputs.tables import (
    Columns,
    NativeTable,
    TableLike,
    TaskName,
    as_dataframe,
    as_name_list,
    fmt,
    require_rows,
    split_columns,
    table,
)

__all__ = [
    "check_no_duplicates",
    "check_no_entity_overlap",
    "check_no_leakage",
    "check_no_row_overlap",
    "check_no_target_leakage",
    "check_no_temporal_leakage",
]


class _Matches(TypedDict):
    """Test rows equal to a train row (verified), and how train repeats itself."""

    test_idx: np.ndarray  # test positions with an equal train row
    train_idx: np.ndarray  # one equal train row for each
    distinct_train_rows: int
    matched_train_counts: np.ndarray  # how often each matched test row's value occurs in train
    train_rows_matched: int  # train rows equal to at least one test row
    singletons: int  # Good-Turing counts: values seen exactly once, twice, three times in train
    doubletons: int
    tripletons: int
    equal_pairs: float  # pairs of equal train rows


class ChanceAllowance(TypedDict, total=False):
    """The matches chance allows when rows repeat naturally (all keys, or none)."""

    rate: float  # chance that a fresh row equals some train row
    rate_se: float
    max_count: float  # test rows allowed to match by chance
    rate_seen_once: float  # chance that it equals a train row seen once
    rate_seen_once_se: float
    max_count_seen_once: float


@dataclass(frozen=True)
class TrainRepeats:
    """How train repeats itself over the compared columns (Good-Turing counts)."""

    distinct: int  # distinct train rows
    singletons: int  # values seen exactly once, twice, three times in train
    doubletons: int
    tripletons: int
    equal_pairs: float  # pairs of equal train rows


@dataclass(frozen=True)
class _OverlapCounts:
    """What the row-overlap verdict rests on, counted in pandas or in the user's engine."""

    rows_train: int
    rows_test: int
    overlapping: int  # test rows equal to a train row
    seen_once: int  # of them, equal to a train row seen once
    train_rows_shared: int  # distinct train rows that test also holds
    repeats: TrainRepeats
    continuous: list[str]  # the first mostly unique column (see _column_profile), or none
    log_chance: float  # log chance that two rows are equal if columns were independent
    positions: list[int] | None = None  # first test positions (in-memory tables only)
    engine: str | None = None  # the native engine that counted, if any


def _overlap(train_part: Any, test_part: Any) -> _Matches:
    """Test rows that also occur in train (verified), plus train's own duplication.

    Linear in rows: one hash table over both splits' 64-bit row hashes (train first;
    ``inputs.rows.group_codes``, partitioned by hash above 2M rows) gives each train hash its
    count and first row, and each test row its candidate; candidates are then verified cell
    by cell against that first equal train row."""
    train_part, h_train = _hashed(train_part)
    test_part, h_test = _hashed(test_part)
    codes, first_row = group_codes(np.concatenate([h_train, h_test]))
    train_codes, test_codes = codes[: len(h_train)], codes[len(h_train) :]
    in_train = first_row < len(h_train)  # train first: a code train holds appears there first
    distinct = int(np.count_nonzero(in_train))
    group_size = np.bincount(train_codes, minlength=len(first_row))
    candidate = in_train[test_codes]
    test_idx = np.flatnonzero(candidate)
    matched_code = test_codes[candidate]
    train_idx = first_row[matched_code]
    if len(test_idx):
        verified = _rows_equal(
            train_part.iloc[train_idx].reset_index(drop=True),
            test_part.iloc[test_idx].reset_index(drop=True),
        )
        test_idx = test_idx[verified]
        train_idx = train_idx[verified]
        matched_code = matched_code[verified]
    return {
        "test_idx": test_idx,
        "train_idx": train_idx,
        "distinct_train_rows": distinct,
        "matched_train_counts": group_size[matched_code],
        # each matched value's train rows once
        "train_rows_matched": int(group_size[np.unique(matched_code)].sum()),
        "singletons": int(np.count_nonzero(group_size == 1)),
        "doubletons": int(np.count_nonzero(group_size == 2)),
        "tripletons": int(np.count_nonzero(group_size == 3)),
        "equal_pairs": float((group_size * (group_size - 1) / 2.0).sum()),
    }


def _column_profile(frame: Any) -> tuple[list[str], float]:
    """The first column whose values are mostly unique (more than half of the non-missing
    cells hold a value seen once: measurements, ids, free text; with one of them, equal rows
    are copies), or none; and the log chance that two rows are equal if columns were
    independent (the product of each column's chance that two of its cells are equal,
    missing counted as a value; -inf once a mostly unique column is found)."""
    import pandas as pd

    n = len(frame)
    log_chance = 0.0
    # likely-continuous columns first: the profile stops at the first mostly unique one
    names = sorted(frame.columns, key=lambda c: not pd.api.types.is_float_dtype(frame[c]))
    for name in names:
        col = frame[name]
        try:
            codes = _value_codes(col)
        except TypeError:  # unhashable cells (lists, arrays): compared frozen, as rows are
            codes, _ = pd.factorize(col.map(_freeze), use_na_sentinel=False)
        counts = np.bincount(codes).astype(np.float64)
        missing = int(col.isna().sum())
        present = n - missing
        singles = np.count_nonzero(counts == 1) - (1 if missing == 1 else 0)
        if present and singles > 0.5 * present:
            return [str(name)], float("-inf")
        equal = float((counts * (counts - 1)).sum()) / max(n * (n - 1), 1)
        log_chance += float(np.log(max(equal, 1e-300)))
    return [], log_chance


def _value_codes(col: Any) -> np.ndarray:
    """``pd.factorize(col, use_na_sentinel=False)``'s grouping of a column's values; long
    numeric columns partitioned by the values' hashes (``inputs.rows.group_codes``)."""
    import pandas as pd

    dtype = col.dtype
    if len(col) > PARTITION_ABOVE and isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        values = col.to_numpy()
        return group_codes(values, pd.util.hash_array(values))[0]
    return np.asarray(pd.factorize(col, use_na_sentinel=False)[0])


def _poisson_upper(lam: float, alpha: float) -> int:
    """The largest count k with the Chernoff bound on P(Poisson(lam) >= k) above alpha."""
    if lam <= 0:
        return 0
    k = np.arange(int(np.floor(lam)) + 1, int(lam + 20 * np.sqrt(lam) + 200), dtype=np.float64)
    log_bound = -lam + k * (1.0 + np.log(lam) - np.log(k))
    beyond = np.flatnonzero(log_bound <= np.log(alpha))
    return int(k[beyond[0]]) - 1 if len(beyond) else int(k[-1])


def _chance_allowance(
    repeats: TrainRepeats, n_train: int, n_test: int, alpha: float
) -> ChanceAllowance:
    """How many test rows may match train rows by chance in a naturally repetitive table.

    Two counts are bounded. All matches: a fresh row equals some training row with the
    training rows' coverage, 1 - N1 / n (Good-Turing; N1 = values seen once in train, n =
    train rows), uncertain by var = (N1 (1 - N1 / n) + 2 N2) / n^2 (Esty 1983). Matches of
    values seen once in train (where copies stand out): chance 2 N2 / n, var = (4 N2 + 6 N3)
    / n^2 (the same argument one count up); one pseudo-doubleton is added to both variances.
    Each rate is lifted by ``CHANCE_Z`` standard errors, and the test count held to a
    binomial tail bound at that rate (Chernoff: P(X >= k) <= exp(-m KL(k/m || p)) at
    ``alpha``)."""
    n1, n2, n3 = repeats.singletons, repeats.doubletons, repeats.tripletons
    rate = 1.0 - n1 / n_train
    # one pseudo-doubleton keeps a table without repeats from claiming a zero chance
    se = float(np.sqrt(max(n1 * (1.0 - n1 / n_train), 0.0) + 2.0 * (n2 + 1))) / n_train
    upper = min(1.0, rate + CHANCE_Z * se)
    rate_once = 2.0 * n2 / n_train
    se_once = float(np.sqrt(4.0 * (n2 + 1) + 6.0 * n3)) / n_train
    upper_once = min(1.0, rate_once + CHANCE_Z * se_once)
    return {
        "rate": rate,
        "rate_se": se,
        "max_count": float(_binomial_upper(n_test, upper, alpha)),
        "rate_seen_once": rate_once,
        "rate_seen_once_se": se_once,
        "max_count_seen_once": float(_binomial_upper(n_test, upper_once, alpha)),
    }


def _binomial_upper(m: int, p: float, alpha: float) -> int:
    """The smallest k with the Chernoff bound on P(Binomial(m, p) >= k + 1) at most alpha."""
    if p >= 1.0:
        return m
    if p <= 0.0:
        return 0
    k = np.arange(int(np.floor(m * p)) + 1, m + 1, dtype=np.float64)
    q = k / m
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = q * np.log(q / p) + np.where(q < 1, (1 - q) * np.log((1 - q) / (1 - p)), 0.0)
    bound = np.exp(-m * kl)
    beyond = np.flatnonzero(bound <= alpha)
    return m if len(beyond) == 0 else int(k[beyond[0]]) - 1


MIN_ROWS_FOR_CHANCE = 50  # smaller tables: every shared row counts
CHANCE_Z = 1.5  # standard errors added to the estimated chance rates
# How far column dependence may raise the number of equal row pairs over independent columns
# (naturally repetitive real tables: 1.1-7.3x; a table with 3.5% of rows duplicated: 2e5x)
DEPENDENCE = 100.0
NATURAL_ALPHA = 1e-3  # Poisson tail at which train's own repeats are more than plausible
MIN_PLAUSIBLE_PAIRS = 0.1  # fewer equal row pairs plausible in train: rows cannot repeat

ROW_OVERLAP_WHY = (
    "the model is scored on rows it was trained on, so the test score measures memory, not "
    "generalisation, and overstates production performance."
)
ROW_OVERLAP_FIX = (
    "deduplicate before splitting (df.drop_duplicates()), or split by entity "
    "(GroupShuffleSplit / GroupKFold on the id) so copies land on one side; pass "
    "id_columns=[...] so that differing row ids do not hide copies."
)


class _RowOverlapFigures(TypedDict):
    """The keys every ``no_row_overlap`` record holds."""

    rows_train: int
    rows_test: int
    columns_compared: int
    id_columns: list[str]
    overlapping_test_rows: int
    overlapping_fraction: float
    distinct_train_rows_shared: int
    train_distinct_ratio: float
    expected_by_chance: float  # the chance rate (0 unless rows repeat naturally)
    allowed_by_chance: float  # the test count chance allows, as a fraction of test rows
    test_rows_matching_a_train_row_seen_once: int
    chance_detail: ChanceAllowance  # empty unless rows repeat naturally
    continuous_columns: list[str]
    rows_repeat_naturally: bool
    train_equal_row_pairs: float
    equal_row_pairs_plausible_by_chance: float


class RowOverlapDetails(_RowOverlapFigures, total=False):
    """What ``no_row_overlap`` measured (the record's ``details``)."""

    first_test_positions: list[int]  # in-memory tables only (engine rows have no order)
    engine: str  # native engines only, with exact=True
    exact: bool


def _repeats_naturally(counts: _OverlapCounts) -> tuple[float, bool]:
    """Whether train's rows may repeat by chance: no column of mostly unique values, train
    repeats itself no more than columns this common make plausible (copies of rows with rare
    value combinations repeat far more), and enough rows for the chance allowance. Also the
    equal row pairs plausible by chance."""
    n_train = counts.rows_train
    plausible_pairs = DEPENDENCE * n_train * (n_train - 1) / 2.0 * float(np.exp(counts.log_chance))
    # (exp(-inf) = 0: with a mostly unique column no repeat is plausible)
    pairs = counts.repeats.equal_pairs
    repeats_plausibly = pairs <= _poisson_upper(plausible_pairs, NATURAL_ALPHA)
    natural = (
        not counts.continuous
        and repeats_plausibly
        and plausible_pairs >= MIN_PLAUSIBLE_PAIRS
        and n_train >= MIN_ROWS_FOR_CHANCE
    )
    return plausible_pairs, natural


def _pandas_overlap_counts(
    train: TableLike, test: TableLike, columns: Columns | None, id_columns: Columns | None
) -> tuple[_OverlapCounts, int]:
    """Test rows equal to a train row (row hashes, verified) and train's own repeats, for
    two in-memory splits; and the number of compared columns."""
    train_df = as_dataframe(train, "train")
    test_df = as_dataframe(test, "test")
    require_rows(train_df, "train")
    require_rows(test_df, "test")
    cols = split_columns(train_df, test_df, columns, exclude=id_columns)
    if not cols:
        raise MLCheckUsageError("no columns left to compare rows on after removing id_columns.")
    left, right = _comparable(train_df, test_df, cols)
    return _overlap_counts(left, right), len(cols)


def _overlap_counts(left: Any, right: Any) -> _OverlapCounts:
    """The overlap counts of two in-memory splits on their (comparable) compared columns."""
    found = _overlap(left, right)
    test_idx = found["test_idx"]
    continuous, log_chance = _column_profile(left)
    return _OverlapCounts(
        rows_train=len(left),
        rows_test=len(right),
        overlapping=len(test_idx),
        seen_once=int(np.count_nonzero(found["matched_train_counts"] == 1)),
        train_rows_shared=len(np.unique(found["train_idx"])) if len(test_idx) else 0,
        repeats=TrainRepeats(
            distinct=found["distinct_train_rows"],
            singletons=found["singletons"],
            doubletons=found["doubletons"],
            tripletons=found["tripletons"],
            equal_pairs=found["equal_pairs"],
        ),
        continuous=continuous,
        log_chance=log_chance,
        positions=[int(i) for i in test_idx[:10]],
    )


def _row_overlap_details(
    counts: _OverlapCounts, n_columns: int, id_columns: list[str], alpha: float
) -> RowOverlapDetails:
    """The overlap counts as ``details``, with the matches chance allows when rows repeat
    naturally."""
    n_train, n_test, n_overlap = counts.rows_train, counts.rows_test, counts.overlapping
    plausible_pairs, natural = _repeats_naturally(counts)
    allowance: ChanceAllowance = {}
    chance = allowed_count = 0.0
    if natural:
        allowance = _chance_allowance(counts.repeats, n_train, n_test, alpha)
        chance, allowed_count = allowance["rate"], allowance["max_count"]
    details: RowOverlapDetails = {
        "rows_train": n_train,
        "rows_test": n_test,
        "columns_compared": n_columns,
        "id_columns": id_columns,
        "overlapping_test_rows": n_overlap,
        "overlapping_fraction": n_overlap / n_test,
        "distinct_train_rows_shared": counts.train_rows_shared,
        "train_distinct_ratio": counts.repeats.distinct / n_train,
        "expected_by_chance": chance,
        "allowed_by_chance": allowed_count / n_test,
        "test_rows_matching_a_train_row_seen_once": counts.seen_once,
        "chance_detail": allowance,
        "continuous_columns": counts.continuous[:10],
        "rows_repeat_naturally": natural,
        "train_equal_row_pairs": counts.repeats.equal_pairs,
        "equal_row_pairs_plausible_by_chance": plausible_pairs,
    }
    if counts.positions is not None:
        details["first_test_positions"] = counts.positions
    if counts.engine is not None:
        details["engine"] = counts.engine
        details["exact"] = True
    return details


def _native_overlap_counts(
    train: NativeTable, test: NativeTable, columns: Columns | None, id_columns: Columns | None
) -> tuple[_OverlapCounts, int]:
    """The overlap counts of two splits of one engine, counted inside it (exact null-safe
    semi-joins and group-bys; only counts come back), and the number of compared columns."""
    left, right = NativeFrame(train, "train"), NativeFrame(test, "test")
    n_train, n_test = _native_rows(left), _native_rows(right)
    cols = [str(c) for c in split_columns(left, right, columns, exclude=id_columns)]
    if not cols:
        raise MLCheckUsageError("no columns left to compare rows on after removing id_columns.")
    kinds = left.key_kinds(right, cols)
    repeats = left.frequencies(cols, kinds)
    found = right.matches_in(left, cols)
    continuous, log_chance = _native_column_profile(left, cols, kinds, n_train)
    counts = _OverlapCounts(
        rows_train=n_train,
        rows_test=n_test,
        overlapping=found.rows,
        seen_once=found.seen_once,
        train_rows_shared=found.values,  # equal rows of train are one value
        repeats=TrainRepeats(
            distinct=repeats.distinct,
            singletons=repeats.once,
            doubletons=repeats.twice,
            tripletons=repeats.thrice,
            equal_pairs=repeats.equal_pairs,
        ),
        continuous=continuous,
        log_chance=log_chance,
        engine=left.engine,
    )
    return counts, len(cols)


def _native_rows(frame: NativeFrame) -> int:
    """The rows of a native frame, or a usage error when it has none."""
    n = frame.n_rows()
    if n == 0:
        raise MLCheckUsageError(f"{frame.arg} is empty (0 rows): expected at least one row.")
    return n


def _native_column_profile(
    frame: NativeFrame, cols: list[str], kinds: dict[str, str], n: int
) -> tuple[list[str], float]:
    """:func:`_column_profile` counted inside the engine: one group-by per column, floats
    first, until a mostly unique column is found."""
    missing = frame.missing_counts(cols)
    log_chance = 0.0
    for name in sorted(cols, key=lambda c: kinds[c] not in ("float", "float32")):
        values = frame.frequencies([name], {name: kinds[name]})
        present = n - missing[name]["missing"]
        singles = values.once - values.once_with_missing
        if present and singles > 0.5 * present:
            return [name], float("-inf")
        equal = 2.0 * values.equal_pairs / max(n * (n - 1), 1)
        log_chance += float(np.log(max(equal, 1e-300)))
    return [], log_chance


def _explain_row_overlap(details: RowOverlapDetails, passed: bool, limit: float) -> str:
    n_overlap, n_test = details["overlapping_test_rows"], details["rows_test"]
    fraction, natural = details["overlapping_fraction"], details["rows_repeat_naturally"]
    chance = details["expected_by_chance"]
    allowed = chance + max(0.0, details["allowed_by_chance"] - chance)
    if passed:
        extra = (
            f"; rows repeat naturally here: {percent(chance)} expected by chance, up to "
            f"{percent(allowed)} allowed"
            if natural
            else ""
        )
        return (
            f"no_row_overlap: {n_overlap:,} of {n_test:,} test rows also in train "
            f"({percent(fraction)}; limit {percent(limit)}{extra})."
        )
    context = (
        f" Rows repeat naturally in this table ({percent(details['train_distinct_ratio'])} of "
        f"train rows are distinct), so {percent(chance)} overlap is expected by chance (up to "
        f"{percent(allowed)} with the uncertainty of that rate and sampling noise); the excess "
        "is what fails."
        if natural
        else ""
    )
    shared = details["distinct_train_rows_shared"]
    positions = details.get("first_test_positions")
    return compose(
        f"no_row_overlap: {n_overlap:,} of {n_test:,} test rows ({percent(fraction)}) are "
        f"exact copies of train rows ({plural(shared, 'distinct train row')}; limit "
        f"{percent(limit)}).{context}",
        body="" if positions is None else f"  first test row positions: {positions}",
        why=ROW_OVERLAP_WHY,
        fix=ROW_OVERLAP_FIX,
    )


def _row_overlap_passed(details: RowOverlapDetails, limit: float) -> bool:
    """Within ``limit`` (a fraction of test rows) over what chance allows: in all matches,
    and in matches of train rows seen once, when rows repeat naturally; else within
    ``limit`` alone (none at all for a limit of 0)."""
    n_overlap, n_test = details["overlapping_test_rows"], details["rows_test"]
    if details["rows_repeat_naturally"]:
        chance = details["chance_detail"]
        once = details["test_rows_matching_a_train_row_seen_once"]
        return n_overlap <= chance["max_count"] + limit * n_test and (
            once <= chance["max_count_seen_once"] + limit * n_test
        )
    return n_overlap <= limit * n_test if limit > 0 else n_overlap == 0


@check("no_row_overlap")
def check_no_row_overlap(
    train: TableLike | NativeTable,
    test: TableLike | NativeTable,
    *,
    columns: Columns | None = None,
    id_columns: Columns | None = None,
    max_fraction: float | None = None,
    chance_alpha: float | None = None,
) -> CheckResult:
    """Detect exact duplicate rows shared by train and test (by row hash, verified per cell).

    Figure: the fraction of test rows that also occur in train, held to ``max_fraction``
    (ini ``ml_row_overlap_max_fraction``, default 0). ``id_columns`` are left out of the
    comparison (row ids differ between copies). When rows can repeat naturally (no column of
    mostly unique values, train repeats itself no more than its columns' value frequencies
    make plausible, 50+ training rows: an all-categorical or small-integer table),
    the count is compared with the overlap expected by chance: the training rows' coverage
    (1 - share of rows seen once in train, Good-Turing), lifted by 1.5 standard errors (Esty's
    variance), then a binomial tail bound on the test count at ``chance_alpha`` (ini
    ``ml_row_overlap_chance_alpha``, default 0.005).
    Two Spark, Dask, DuckDB or Polars frames are compared inside their engine: an exact
    null-safe semi-join, and the same counts (train repeats, column profile) by group-bys.
    """
    limit = resolve_threshold("row_overlap_max_fraction", max_fraction)
    alpha = resolve_threshold("row_overlap_chance_alpha", chance_alpha)
    ids = [str(c) for c in as_name_list(id_columns, "id_columns")]
    if native_pair(train, test) is not None:
        counts, n_columns = _native_overlap_counts(train, test, columns, id_columns)
    else:
        counts, n_columns = _pandas_overlap_counts(train, test, columns, id_columns)
    details = _row_overlap_details(counts, n_columns, ids, alpha)
    passed = _row_overlap_passed(details, limit)
    message = _explain_row_overlap(details, passed, limit)
    return result(passed, "error", details["overlapping_fraction"], limit, message, dict(details))


# ---------------------------------------------------------------------------- entity overlap


ENTITY_OVERLAP_WHY = (
    "rows of the same entity (a customer's later snapshot, a patient's other visit) share what "
    "the model memorises about that entity, so the test score rewards recognising known "
    "entities and overstates performance on new ones."
)
ENTITY_OVERLAP_FIX = (
    "split by entity: GroupShuffleSplit / GroupKFold with groups=<id>, so every entity lands on "
    "one side; if the model is meant to score known entities, split by time instead and raise "
    "max_fraction for this test."
)


class MissingIds(TypedDict):
    """Rows left out of the comparison because an id column is missing, per split."""

    train: int
    test: int


class EntityOverlapDetails(TypedDict, total=False):
    """What ``no_entity_overlap`` measured (the record's ``details``): counts, never ids."""

    id_columns: list[str]
    rows_test: int
    entities_train: int
    entities_test: int
    shared_entities: int
    shared_entity_fraction_of_test: float
    test_rows_of_shared_entities: int
    train_rows_of_shared_entities: int
    rows_with_missing_id: MissingIds
    engine: str  # native engines only, with exact=True
    exact: bool


@dataclass(frozen=True)
class _EntityCounts:
    """Entities of each split and those in both, counted on the rows with every id known."""

    id_columns: list[str]
    rows_test: int
    entities_train: int
    entities_test: int
    shared_entities: int
    test_rows_shared: int
    train_rows_shared: int
    missing_ids: MissingIds
    engine: str | None = None  # the native engine that counted, if any

    def details(self) -> EntityOverlapDetails:
        details: EntityOverlapDetails = {
            "id_columns": self.id_columns,
            "rows_test": self.rows_test,
            "entities_train": self.entities_train,
            "entities_test": self.entities_test,
            "shared_entities": self.shared_entities,
            "shared_entity_fraction_of_test": (
                self.shared_entities / self.entities_test if self.entities_test else 0.0
            ),
            "test_rows_of_shared_entities": self.test_rows_shared,
            "train_rows_of_shared_entities": self.train_rows_shared,
            "rows_with_missing_id": self.missing_ids,
        }
        if self.engine is not None:
            details["engine"] = self.engine
            details["exact"] = True
        return details


def _no_known_id(split: str, names: list[str]) -> MLCheckUsageError:
    return MLCheckUsageError(
        f"every row of {split} has a missing id in id_columns {names}: no entity to compare, "
        "so the check cannot decide (fill or drop the rows without an id, or name the columns "
        "that identify an entity)."
    )


def _id_frame(frame: Any, ids: list[Any], split: str) -> Any:
    """The id columns of one split (index levels count too), with a fresh position index."""
    import pandas as pd

    parts = {}
    for name in ids:
        if name in frame.columns:
            parts[name] = frame[name].reset_index(drop=True)
        elif name in (frame.index.names or []):
            parts[name] = pd.Series(frame.index.get_level_values(name), name=name)
        else:
            raise MLCheckUsageError(
                f"id_columns names {name!r}, which is neither a column nor an index level of "
                f"{split}: expected the column(s) that identify an entity (customer, patient)."
            )
    return pd.DataFrame(parts)


def _entity_counts(train: TableLike, test: TableLike, ids: list[Any]) -> _EntityCounts:
    """Entities shared by two in-memory splits: rows hashed on their ids (then verified)."""
    train_df = as_dataframe(train, "train")
    test_df = as_dataframe(test, "test")
    require_rows(train_df, "train")
    n_test = require_rows(test_df, "test")
    left_all = _id_frame(train_df, ids, "train")
    right_all = _id_frame(test_df, ids, "test")
    known_a = ~np.asarray(left_all.isna().any(axis=1), dtype=bool)
    known_b = ~np.asarray(right_all.isna().any(axis=1), dtype=bool)
    for split, known in (("train", known_a), ("test", known_b)):
        if not known.any():
            raise _no_known_id(split, [str(c) for c in ids])
    left, right = _comparable(left_all[known_a], right_all[known_b], ids)
    if len(left) and len(right):
        found = _overlap(left.reset_index(drop=True), right.reset_index(drop=True))
        test_rows = np.flatnonzero(known_b)[found["test_idx"]]
        train_rows_shared = found["train_rows_matched"]
        _, h_test = _hashed(right.iloc[found["test_idx"]])
        shared_entities = len(np.unique(h_test))
    else:
        test_rows = np.empty(0, dtype=np.int64)
        train_rows_shared = shared_entities = 0
    return _EntityCounts(
        id_columns=[str(c) for c in ids],
        rows_test=n_test,
        entities_train=len(left.drop_duplicates()) if len(left) else 0,
        entities_test=len(right.drop_duplicates()) if len(right) else 0,
        shared_entities=shared_entities,
        test_rows_shared=len(test_rows),
        train_rows_shared=train_rows_shared,
        missing_ids={
            "train": int(np.count_nonzero(~known_a)),
            "test": int(np.count_nonzero(~known_b)),
        },
    )


def _native_entity_counts(train: NativeTable, test: NativeTable, ids: list[Any]) -> _EntityCounts:
    """Entities shared by two splits of one engine, counted inside it: exact null-safe
    semi-joins on the ids, rows with a missing id left out, only counts brought back."""
    from pytest_mlchecks.engines import NativeFrame

    left, right = NativeFrame(train, "train"), NativeFrame(test, "test")
    names = [str(c) for c in ids]
    left.require_columns(names, "id_columns")
    right.require_columns(names, "id_columns")
    n_train, n_test = left.n_rows(), right.n_rows()
    for split, n in (("train", n_train), ("test", n_test)):
        if n == 0:
            raise MLCheckUsageError(f"{split} is empty (0 rows): expected at least one row.")
    missing_a = left.count_where(left.any_missing(names))
    missing_b = right.count_where(right.any_missing(names))
    for split, n, missing in (("train", n_train, missing_a), ("test", n_test, missing_b)):
        if missing == n:
            raise _no_known_id(split, names)
    known_a = left.where(~left.any_missing(names))
    known_b = right.where(~right.any_missing(names))
    shared = known_b.matches_in(known_a, names, seen_once=False)
    return _EntityCounts(
        id_columns=names,
        rows_test=n_test,
        entities_train=known_a.n_distinct_rows(names),
        entities_test=known_b.n_distinct_rows(names),
        shared_entities=shared.values,
        test_rows_shared=shared.rows,
        train_rows_shared=known_a.rows_found_in(known_b, names) if shared.rows else 0,
        missing_ids={"train": missing_a, "test": missing_b},
        engine=left.engine,
    )


def _explain_entity_overlap(details: EntityOverlapDetails, passed: bool, limit: float) -> str:
    n_test, shared_rows = details["rows_test"], details["test_rows_of_shared_entities"]
    entities = plural(details["shared_entities"], "entity", "entities")
    fraction = shared_rows / n_test
    if passed:
        return (
            f"no_entity_overlap: {entities} of {details['entities_test']:,} in test also in "
            f"train ({shared_rows:,} of {n_test:,} test rows, {percent(fraction)}; limit "
            f"{percent(limit)})."
        )
    ids = details["id_columns"]
    key = "id" if len(ids) == 1 else "id combination"
    return compose(
        f"no_entity_overlap: {entities} of {details['entities_test']:,} in test "
        f"({percent(details['shared_entity_fraction_of_test'])}) also occur in train by {key} "
        f"{ids}: {shared_rows:,} of {n_test:,} test rows ({percent(fraction)}; limit "
        f"{percent(limit)}).",
        why=ENTITY_OVERLAP_WHY,
        fix=ENTITY_OVERLAP_FIX,
    )


@check("no_entity_overlap")
def check_no_entity_overlap(
    train: TableLike | NativeTable,
    test: TableLike | NativeTable,
    id_columns: Columns,
    *,
    max_fraction: float | None = None,
) -> CheckResult:
    """Detect entities (customers, patients, devices) present in both train and test.

    ``id_columns`` is one column or several that together identify an entity (index levels
    count too); the rest of the row may differ (a later snapshot, another visit). Rows with
    a missing id are not matched. Figure: the fraction of test rows whose entity also occurs
    in train, held to ``max_fraction`` (ini ``ml_entity_overlap_max_fraction``, default 0).
    Only counts and fractions are reported, never id values.
    """
    limit = resolve_threshold("entity_overlap_max_fraction", max_fraction)
    ids = as_name_list(id_columns, "id_columns")
    if not ids:
        raise MLCheckUsageError(
            "id_columns is empty: expected the column(s) that identify an entity."
        )
    native = native_pair(train, test) is not None
    counts = _native_entity_counts(train, test, ids) if native else _entity_counts(train, test, ids)
    details = counts.details()
    shared_rows = details["test_rows_of_shared_entities"]
    fraction = shared_rows / details["rows_test"]
    passed = fraction <= limit if limit > 0 else shared_rows == 0
    message = _explain_entity_overlap(details, passed, limit)
    return result(passed, "error", fraction, limit, message, dict(details))


# ---------------------------------------------------------------------------- duplicates


DUPLICATES_WHY = (
    "duplicates weigh some examples twice and, once the data is split, put the same row on "
    "both sides of the split: test scores then measure memory."
)
DUPLICATES_FIX = (
    "drop them (df.drop_duplicates()) before splitting, or find where the pipeline appends or "
    "joins twice; pass subset=[...] to compare some columns."
)


class DuplicatesDetails(TypedDict, total=False):
    """What ``no_duplicates`` measured (the record's ``details``)."""

    rows: int
    duplicate_rows: int  # rows equal to an earlier row
    columns_compared: int
    first_duplicate_positions: list[int]  # in-memory tables only
    engine: str  # native engines only, with exact=True
    exact: bool


def _measure_duplicates(df: TableLike, subset: Columns | None) -> DuplicatesDetails:
    """Rows equal to an earlier row: equal hashes, verified cell by cell against the first
    row of their hash. Linear in rows: one hash table over the 64-bit row hashes
    (``inputs.rows.group_codes``), no sort."""
    frame = as_dataframe(df, "df")
    n = require_rows(frame, "df")
    cols = list(frame.columns) if subset is None else split_columns(frame, frame, subset)
    if not cols:
        raise MLCheckUsageError("df has no columns to compare rows on.")
    part, hashes = _hashed(frame[cols])
    codes, first_row = group_codes(hashes)  # first row of code c at [c]
    dup_rows = np.flatnonzero(first_row[codes] != np.arange(n))
    first_rows = first_row[codes[dup_rows]]
    if len(dup_rows):
        ok = _rows_equal(
            part.iloc[first_rows].reset_index(drop=True),
            part.iloc[dup_rows].reset_index(drop=True),
        )
        dup_rows = dup_rows[ok]
    return {
        "rows": n,
        "duplicate_rows": len(dup_rows),
        "columns_compared": len(cols),
        "first_duplicate_positions": sorted(int(i) for i in dup_rows)[:10],
    }


def _native_duplicates(df: NativeTable, subset: Columns | None) -> DuplicatesDetails:
    """Duplicates counted inside the user's engine: rows minus distinct rows, null-safe, exact."""
    from pytest_mlchecks.engines import NativeFrame

    frame = NativeFrame(df, "df")
    if subset is None:
        cols = frame.columns
    else:
        cols = frame.require_columns([str(c) for c in as_name_list(subset, "subset")], "subset")
    if not cols:
        raise MLCheckUsageError("df has no columns to compare rows on.")
    n = frame.n_rows()
    if n == 0:
        raise MLCheckUsageError("df is empty (0 rows): expected at least one row.")
    return {
        "rows": n,
        "duplicate_rows": n - frame.n_distinct_rows(cols),
        "columns_compared": len(cols),
        "engine": frame.engine,
        "exact": True,
    }


def _explain_duplicates(details: DuplicatesDetails, passed: bool, limit: float) -> str:
    n, count = details["rows"], details["duplicate_rows"]
    if passed:
        return f"no_duplicates: {count:,} of {n:,} rows repeat an earlier row."
    return compose(
        f"no_duplicates: {count:,} of {n:,} rows ({percent(count / n)}) are exact copies of "
        f"an earlier row (limit {percent(limit)}).",
        why=DUPLICATES_WHY,
        fix=DUPLICATES_FIX,
    )


@check("no_duplicates")
def check_no_duplicates(
    df: TableLike | NativeTable, *, subset: Columns | None = None, max_fraction: float | None = None
) -> CheckResult:
    """Detect exact duplicate rows inside one table (by row hash, verified per cell).

    Figure: the fraction of rows that repeat an earlier row, held to ``max_fraction``
    (ini ``ml_duplicates_max_fraction``, default 0).
    """
    limit = resolve_threshold("duplicates_max_fraction", max_fraction)
    details = _native_duplicates(df, subset) if is_native(df) else _measure_duplicates(df, subset)
    count = details["duplicate_rows"]
    fraction = count / details["rows"]
    passed = fraction <= limit if limit > 0 else count == 0
    message = _explain_duplicates(details, passed, limit)
    return result(passed, "error", fraction, limit, message, dict(details))


# ---------------------------------------------------------------------------- target leakage

SMOOTHING = 2.0  # pseudo-rows pulling each bin's target statistic towards the global one
MAX_SCORED_ROWS = 250_000  # larger splits are scored on a seeded sample of this many rows
ROWS_PER_BIN = 20  # numeric features get at most n_train / ROWS_PER_BIN quantile bins
SAMPLE_FOR_EDGES = 50_000


class FeatureScore(TypedDict):
    feature: str
    score: float  # held-out ROC-AUC (macro one-vs-rest for multiclass), or R^2


class JudgedFeature(TypedDict, total=False):
    """The verdict on one of the strongest features."""

    feature: str
    score: float
    skill: float  # on the skill scale: 2 * AUC - 1, or R^2
    others_skill: float  # all the other features together
    skill_se: float
    others_skill_se: float
    dominance: float  # the others' error over its own, both skills moved against the verdict
    near_perfect: bool
    dominant: bool
    paired_with: str  # only for two features dominant together (each among the other's peers)


class TargetLeakageDetails(TypedDict, total=False):
    """What ``no_target_leakage`` measured (the record's ``details``)."""

    task: str
    metric: str
    skill_scale: str
    rows_train: int
    rows_test: int
    features_scored: int
    sampled_rows: dict[str, int]  # what was scored on a seeded sample, and its size
    top_features: list[FeatureScore]  # best first
    judged_features: list[JudgedFeature]
    max_dominance: float
    min_skill: float
    limit: float  # the near-perfect limit on the score (max_auc, or max_r2 for regression)
    leaking_features: list[str]
    classes: list[str]  # classification only
    engine: str  # native engines only: the engine the rows were pulled from
    exact: bool  # False when a split was scored on a seeded sample of its rows
    engine_sample: EngineSample
    approximation: str  # what sampling approximates, and its bound


class EngineSample(TypedDict):
    """The rows pulled from an engine into pandas to score the features."""

    limit: int  # rows pulled per split at most (a seeded sample beyond it)
    seed: int  # the same seed pulls the same rows on the same engine
    train: int  # rows pulled from each split
    test: int
    test_rows_of_classes_not_sampled_in_train: int  # left out of the test sample


#: rows pulled from a native split into pandas to score features: a seeded sample beyond it
NATIVE_SAMPLE_ROWS = MAX_SCORED_ROWS
SAMPLED_SCORES = (
    "features scored on a seeded sample of at most {limit:,} rows per split (the same seed "
    "gives the same rows and verdict on the same engine); every skill carries its standard "
    "error from the sampled test rows (skill_se), and both skills are moved by it against a "
    "verdict."
)


@dataclass(frozen=True)
class _PulledSplits:
    """Two native splits pulled into pandas for scoring: whole when they fit in
    ``NATIVE_SAMPLE_ROWS``, else a seeded sample of that many rows."""

    left: NativeFrame
    right: NativeFrame
    target: str
    train: Any  # pandas: the feature and target columns of the pulled rows
    test: Any
    features: list[str]
    rows_train: int
    rows_test: int
    seed: int

    def sampled_rows(self) -> dict[str, int]:
        """The splits pulled as a sample, and the sample size (as ``sampled_rows`` reports)."""
        pulled = {"train": (self.rows_train, self.train), "test": (self.rows_test, self.test)}
        return {split: len(rows) for split, (n, rows) in pulled.items() if n > len(rows)}

    def keep_known_classes(
        self, test: Any, y_b: np.ndarray, kind: str
    ) -> tuple[Any, np.ndarray, int]:
        """Test rows of classes the train sample lacks are left out (and counted) when the
        full train split holds those classes (a sampling artefact); when it does not, the
        test classes unseen in train are counted exactly in the engine, for the usage error."""
        unseen = y_b < 0
        if kind == "regression" or not unseen.any():
            return test, y_b, 0
        found = self.right.rows_found_in(self.left, [self.target])
        if found < self.rows_test:
            return test, np.full(self.rows_test - found, -1), 0
        return test[~unseen].reset_index(drop=True), y_b[~unseen], int(np.count_nonzero(unseen))

    def details(self, dropped: int) -> TargetLeakageDetails:
        """The engine, whether the scores are exact, the rows pulled (``dropped``: test rows
        left out by :meth:`keep_known_classes`)."""
        sample: EngineSample = {
            "limit": NATIVE_SAMPLE_ROWS,
            "seed": self.seed,
            "train": len(self.train),
            "test": len(self.test),
            "test_rows_of_classes_not_sampled_in_train": dropped,
        }
        exact = not self.sampled_rows()
        details: TargetLeakageDetails = {
            "engine": self.left.engine,
            "exact": exact,
            "engine_sample": sample,
        }
        if not exact:
            details["approximation"] = SAMPLED_SCORES.format(limit=NATIVE_SAMPLE_ROWS)
        return details


def _native_target_sample(
    train: NativeTable,
    test: NativeTable,
    target: Hashable,
    features: Columns | None,
    exclude: Columns | None,
    seed: int,
) -> _PulledSplits:
    """The feature and target columns of two native splits pulled into pandas (a seeded
    sample of ``NATIVE_SAMPLE_ROWS`` rows of a larger split), after the usage checks that
    need every row (target present and labelled everywhere) ran inside the engine."""
    left, right = NativeFrame(train, "train"), NativeFrame(test, "test")
    n_train, n_test = _native_rows(left), _native_rows(right)
    name = str(target)
    for frame in (left, right):
        if name not in frame.schema:
            raise MLCheckUsageError(
                f"target {target!r} is not a column of {frame.arg}: expected the name of the "
                f"label column present in both splits."
            )
    missing = [frame.missing_counts([name])[name]["missing"] for frame in (left, right)]
    if any(missing):
        raise MLCheckUsageError(
            f"target {target!r} has missing values ({missing[0]:,} in train, {missing[1]:,} "
            "in test): expected every row labelled."
        )
    cols = [str(c) for c in _feature_columns(left, right, name, features, exclude)]
    wanted = [*cols, name]
    train_rows = left.sample(NATIVE_SAMPLE_ROWS, seed, wanted).reset_index(drop=True)
    test_rows = right.sample(NATIVE_SAMPLE_ROWS, seed, wanted).reset_index(drop=True)
    return _PulledSplits(left, right, name, train_rows, test_rows, cols, n_train, n_test, seed)


TARGET_LEAKAGE_WHY = (
    "one column that nearly determines the label, or that knows far more about it than every "
    "other column together, is usually computed from the label or recorded after the outcome "
    "(a retention offer sent to churners, a refund flag, a bonus for salary); the model leans "
    "on it, scores brilliantly offline and fails when the column is not yet known at "
    "prediction time."
)
TARGET_LEAKAGE_FIX = (
    "check when and how each listed column is produced; drop it if it is derived from the "
    "target or only known after the prediction time. If it is a genuinely decisive feature, "
    "exclude=[...] it or raise max_auc / max_r2 / max_dominance for this test."
)


def _bin_codes(
    train_col: Any, test_col: Any, n_bins: int, seed: int
) -> tuple[np.ndarray, np.ndarray, int, str]:
    """Bin a feature on train; the same bins for test. NaN and unseen values get own bins."""
    import pandas as pd

    dtype = train_col.dtype
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if numeric:
        a = train_col.to_numpy(dtype=np.float64, na_value=np.nan)
        b = test_col.to_numpy(dtype=np.float64, na_value=np.nan)
        finite_a = a[np.isfinite(a)]
        if len(finite_a) > SAMPLE_FOR_EDGES:
            rng = np.random.default_rng(seed)
            finite_a = rng.choice(finite_a, SAMPLE_FOR_EDGES, replace=False)
        if len(finite_a) == 0:
            edges = np.empty(0)
        else:
            distinct = np.unique(finite_a)
            if len(distinct) <= n_bins:
                # few values: one bin per value (midpoints as edges)
                edges = (distinct[1:] + distinct[:-1]) / 2.0
            else:
                qs = np.quantile(finite_a, np.linspace(0, 1, n_bins + 1)[1:-1])
                edges = np.unique(qs)
        k = len(edges) + 1
        codes_a = np.searchsorted(edges, a, side="right")
        codes_b = np.searchsorted(edges, b, side="right")
        # NaN, +Inf and -Inf: own bins after the value bins
        for codes, values in ((codes_a, a), (codes_b, b)):
            codes[np.isnan(values)] = k
            codes[values == np.inf] = k + 1
            codes[values == -np.inf] = k + 2
        return codes_a, codes_b, k + 3, "numeric"
    # categorical, boolean, string: one bin per training category
    codes_a, uniques = pd.factorize(train_col, use_na_sentinel=True)
    k = len(uniques)
    codes_b = pd.Index(uniques).get_indexer(test_col)
    codes_a = np.where(codes_a < 0, k, codes_a)  # missing
    missing_b = np.asarray(pd.isna(test_col), dtype=bool)
    codes_b = np.where(missing_b, k, np.where(codes_b < 0, k + 1, codes_b))  # missing, unseen
    return codes_a.astype(np.int64), codes_b.astype(np.int64), k + 2, "categorical"


def _auc_from_bins(score_by_bin: np.ndarray, codes: np.ndarray, positive: np.ndarray) -> float:
    """ROC-AUC of per-bin scores on labelled rows, from per-score counts (ties count half)."""
    k = len(score_by_bin)
    pos = np.bincount(codes, weights=positive.astype(np.float64), minlength=k)
    tot = np.bincount(codes, minlength=k).astype(np.float64)
    neg = tot - pos
    values, inverse = np.unique(score_by_bin, return_inverse=True)
    pos_v = np.bincount(inverse, weights=pos, minlength=len(values))
    neg_v = np.bincount(inverse, weights=neg, minlength=len(values))
    n_pos, n_neg = pos_v.sum(), neg_v.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    neg_below = np.cumsum(neg_v) - neg_v
    auc = (pos_v * (neg_below + 0.5 * neg_v)).sum() / (n_pos * n_neg)
    return float(auc)


def _r2_with_se(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Test R^2 of predictions, and its standard error from the squared residuals."""
    variance = float(y.var())
    if variance == 0:
        return float("nan"), 0.0
    squared = (y - pred) ** 2
    se = float(squared.std()) / float(np.sqrt(len(y))) / variance
    return 1.0 - float(squared.mean()) / variance, se


def _raw_score(
    train_col: Any, test_col: Any, y_a: np.ndarray, y_b: np.ndarray, task: str
) -> tuple[float, float]:
    """Full-resolution score of a numeric feature: a direction (binary) or a line
    (regression) learned on train, scored on test. Only for features without missing values."""
    a = train_col.to_numpy(dtype=np.float64, na_value=np.nan)
    b = test_col.to_numpy(dtype=np.float64, na_value=np.nan)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan"), 0.0
    if task == "binary":
        pos = y_a == 1
        if not pos.any() or pos.all():
            return float("nan"), 0.0
        direction = 1.0 if a[pos].mean() >= a[~pos].mean() else -1.0
        return rank_auc(direction * b, y_b == 1), 0.0
    var = float(a.var())
    if var == 0:
        return float("nan"), 0.0
    slope = float(((a - a.mean()) * (y_a - y_a.mean())).mean()) / var
    return _r2_with_se(y_b, y_a.mean() + slope * (b - a.mean()))


def _feature_score(
    codes_a: np.ndarray,
    codes_b: np.ndarray,
    k: int,
    y_a: np.ndarray,
    y_b: np.ndarray,
    task: str,
    n_classes: int,
) -> tuple[float, float]:
    """How well one binned feature predicts the target on test, learned on train."""
    counts = np.bincount(codes_a, minlength=k).astype(np.float64)
    if task == "regression":
        prior = float(y_a.mean())
        sums = np.bincount(codes_a, weights=y_a, minlength=k)
        means = (sums + SMOOTHING * prior) / (counts + SMOOTHING)
        return _r2_with_se(y_b, means[codes_b])
    aucs = []
    classes = [1] if task == "binary" else range(n_classes)
    for c in classes:
        hit_a = (y_a == c).astype(np.float64)
        prior = float(hit_a.mean())
        rate = (np.bincount(codes_a, weights=hit_a, minlength=k) + SMOOTHING * prior) / (
            counts + SMOOTHING
        )
        auc = _auc_from_bins(rate, codes_b, y_b == c)
        if auc == auc:
            aucs.append(auc)
    return (float(np.mean(aucs)) if aucs else float("nan")), 0.0


def _target_arrays(
    train: Any, test: Any, target: Any, task: str | None
) -> tuple[np.ndarray, np.ndarray, str, int, list[str]]:
    import pandas as pd

    for split, frame in (("train", train), ("test", test)):
        if target not in frame.columns:
            raise MLCheckUsageError(
                f"target {target!r} is not a column of {split}: expected the name of the "
                f"label column present in both splits."
            )
    y_train, y_test = train[target], test[target]
    if y_train.isna().any() or y_test.isna().any():
        raise MLCheckUsageError(
            f"target {target!r} has missing values ({int(y_train.isna().sum()):,} in train, "
            f"{int(y_test.isna().sum()):,} in test): expected every row labelled."
        )
    if y_train.nunique() < 2:
        raise MLCheckUsageError(
            f"target {target!r} is constant in train: nothing can predict or leak it."
        )
    kind = task_of_target(y_train, task)
    if kind == "regression":
        if not pd.api.types.is_numeric_dtype(y_train.dtype):
            raise MLCheckUsageError(f"task='regression' needs a numeric target {target!r}.")
        return (
            y_train.to_numpy(dtype=np.float64),
            y_test.to_numpy(dtype=np.float64),
            kind,
            0,
            [],
        )
    codes_train, labels = pd.factorize(y_train, sort=True)
    codes_test = pd.Index(labels).get_indexer(y_test)
    return codes_train, codes_test, kind, len(labels), [str(v) for v in labels]


PEER_ROWS = 20_000  # the all-other-features model is fitted on a seeded sample of this many
PEER_FOLDS = 5  # out-of-fold target encoding of the training rows for that model
PEER_RIDGE = 1.0  # ridge penalty of that model (on standardised encoded features)
NOISE_Z = 1.0  # both skills are moved this many standard errors against a dominance verdict
DOMINANCE_CAP = 1000.0  # a perfect feature's dominance ratio is reported as this
CANDIDATES = 5  # the strongest single features are each compared with all the others


def _skill(score: float, kind: str) -> float:
    """A score on one skill scale: 0 = no better than the base rate, 1 = perfect
    (2 * AUC - 1 for classification, R^2 for regression)."""
    return score if kind == "regression" else 2.0 * score - 1.0


def _target_matrix(y: np.ndarray, kind: str, n_classes: int) -> np.ndarray:
    if kind == "regression":
        return np.asarray(y, dtype=np.float64).reshape(-1, 1)
    if kind == "binary":
        return np.asarray(y == 1, dtype=np.float64).reshape(-1, 1)
    hits = y.reshape(-1, 1) == np.arange(n_classes).reshape(1, -1)
    return np.asarray(hits, dtype=np.float64)


def _encode(
    codes_a: np.ndarray, codes_b: np.ndarray, k: int, t_a: np.ndarray, folds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed per-bin target statistics of one feature: out-of-fold for the training rows
    (so a bin learned from a row never scores that row), from all training rows for test."""
    n_folds = int(folds.max()) + 1
    prior = t_a.mean(axis=0)
    flat = folds * k + codes_a
    counts = np.bincount(flat, minlength=n_folds * k).reshape(n_folds, k).astype(np.float64)
    total_counts = counts.sum(axis=0)
    enc_a = np.empty_like(t_a)
    enc_b = np.empty((len(codes_b), t_a.shape[1]))
    for j in range(t_a.shape[1]):
        sums = np.bincount(flat, weights=t_a[:, j], minlength=n_folds * k).reshape(n_folds, k)
        total = sums.sum(axis=0)
        smooth = SMOOTHING * prior[j]
        out_sum = total[codes_a] - sums[folds, codes_a]
        out_count = total_counts[codes_a] - counts[folds, codes_a]
        enc_a[:, j] = (out_sum + smooth) / (out_count + SMOOTHING)
        enc_b[:, j] = (total[codes_b] + smooth) / (total_counts[codes_b] + SMOOTHING)
    return enc_a, enc_b


def _raw_column(
    train_col: Any, test_col: Any, rows_a: np.ndarray, rows_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """A numeric feature at full resolution for the peer model, on its rows (missing and
    infinite values at the training median: the bins already mark them), or None for other
    features."""
    import pandas as pd

    dtype = train_col.dtype
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return None
    a = train_col.to_numpy(dtype=np.float64, na_value=np.nan)[rows_a]
    b = test_col.to_numpy(dtype=np.float64, na_value=np.nan)[rows_b]
    finite = np.isfinite(a)
    if not finite.any():
        return None
    fill = float(np.median(a[finite]))
    return np.where(finite, a, fill), np.where(np.isfinite(b), b, fill)


def _skill_se(score: float, kind: str, y_b: np.ndarray, n_classes: int) -> float:
    """Standard error of a test skill (2 * AUC - 1, or R^2) from the test split's size."""
    if score != score:
        return 0.0
    if kind == "regression":
        n = len(y_b)
        r2 = min(max(score, 0.0), 1.0 - 1.0 / n)
        # large-sample variance of R^2 (Olkin & Finn), floored for R^2 near 0 or 1
        return float(np.sqrt((4.0 * r2 * (1.0 - r2) ** 2 + (1.0 - r2) ** 2 / 4.0) / n))
    classes = [1] if kind == "binary" else range(n_classes)
    ses = []
    for c in classes:
        n_pos = int(np.count_nonzero(y_b == c))
        ses.append(_auc_se(score, n_pos, len(y_b) - n_pos))
    return 2.0 * float(np.mean(ses))


class _PeerModel:
    """An additive model of the target on every feature (ridge on the standardised
    out-of-fold target encodings, plus numeric features at full resolution): fitted on
    train, scored on test, with any features left out. One ridge per output (the target,
    or each class one-vs-rest on the features' encodings of that class); the normal
    equations are formed once, leaving features out solves a sub-system."""

    def __init__(
        self,
        encodings: list[tuple[np.ndarray, np.ndarray]],
        raws: list[tuple[np.ndarray, np.ndarray] | None],
        t_a: np.ndarray,
        y_b: np.ndarray,
        kind: str,
        n_classes: int,
    ) -> None:
        self.kind = kind
        self.n_classes = n_classes
        self.y_b = y_b
        self.t_mean = t_a.mean(axis=0)
        raw_owner = [i for i, r in enumerate(raws) if r is not None]
        raw_a = [r[0] for r in raws if r is not None]
        raw_b = [r[1] for r in raws if r is not None]
        self.outputs = []
        for j in range(t_a.shape[1]):
            x_a = np.column_stack([e[0][:, j] for e in encodings] + raw_a)
            x_b = np.column_stack([e[1][:, j] for e in encodings] + raw_b)
            mean = x_a.mean(axis=0)
            sd = x_a.std(axis=0)
            sd[sd == 0] = 1.0
            x_a -= mean
            x_a /= sd
            x_b -= mean
            x_b /= sd
            # einsum, not BLAS: small products, and no thread pool to stall on a busy machine
            gram = np.einsum("ij,ik->jk", x_a, x_a)
            cross = np.einsum("ij,i->j", x_a, t_a[:, j] - self.t_mean[j])
            self.outputs.append((gram, cross, x_b))
        # column -> feature it belongs to
        self.owner = np.array(list(range(len(encodings))) + raw_owner)

    def skill(self, leave_out: set[int]) -> tuple[float, float]:
        """Test skill of the model on every feature not in ``leave_out``, and for regression
        its standard error from the squared residuals (heavy-tailed errors, a few extreme
        test rows, make R^2 far noisier than normal theory says; 0 for classification)."""
        keep = np.flatnonzero(~np.isin(self.owner, sorted(leave_out)))
        if len(keep) == 0:
            return 0.0, 0.0
        preds = []
        for j, (gram, cross, x_b) in enumerate(self.outputs):
            sub = gram[np.ix_(keep, keep)] + PEER_RIDGE * np.eye(len(keep))
            weights = np.linalg.solve(sub, cross[keep])
            preds.append(np.einsum("ij,j->i", x_b[:, keep], weights) + self.t_mean[j])
        y = self.y_b
        if self.kind == "regression":
            variance = float(y.var())
            if variance == 0:
                return 0.0, 0.0
            squared = (y - preds[0]) ** 2
            r2 = 1.0 - float(squared.mean()) / variance
            return max(0.0, r2), float(squared.std()) / float(np.sqrt(len(y))) / variance
        if self.kind == "binary":
            auc = rank_auc(preds[0], y == 1)
        else:
            aucs = [rank_auc(preds[c], y == c) for c in range(self.n_classes)]
            valid = [a for a in aucs if a == a]
            auc = float(np.mean(valid)) if valid else float("nan")
        return (max(0.0, 2.0 * auc - 1.0) if auc == auc else 0.0), 0.0


class _Rules:
    """The verdict on one feature: near-perfect alone, or dominant over its peers."""

    def __init__(
        self,
        kind: str,
        limit: float,
        dominance_limit: float,
        min_skill: float,
        y_b: np.ndarray,
        y_peer: np.ndarray,
        n_classes: int,
    ) -> None:
        self.kind = kind
        self.limit = limit
        self.dominance_limit = dominance_limit
        self.min_skill = min_skill
        self.y_b = y_b
        self.y_peer = y_peer
        self.n_classes = n_classes

    def judge(
        self,
        name: str,
        score: float,
        others: float,
        others_error_se: float = 0.0,
        *,
        own_error_se: float = 0.0,
    ) -> JudgedFeature:
        regression = self.kind == "regression"
        own = max(0.0, _skill(score, self.kind))
        own_se = max(_skill_se(score, self.kind, self.y_b, self.n_classes), own_error_se)
        others_score = others if regression else (others + 1.0) / 2.0
        others_se = max(
            _skill_se(others_score, self.kind, self.y_peer, self.n_classes), others_error_se
        )
        # near-perfect beyond sampling noise (a tiny test split can reach 0.995 by luck); a
        # perfect score always counts (a copy of the target on a small test split)
        score_se = own_se if regression else own_se / 2.0
        perfect = score >= 1.0 - 1e-9
        near_perfect = score > self.limit and (perfect or score - NOISE_Z * score_se > self.limit)
        # how many times more error all other features together leave than this one alone,
        # with both skills moved against the verdict by NOISE_Z standard errors
        own_low = max(0.0, own - NOISE_Z * own_se)
        others_high = min(1.0, others + NOISE_Z * others_se)
        ratio = float(
            min(DOMINANCE_CAP, (1.0 - others_high) / max(1.0 - own_low, 1.0 / DOMINANCE_CAP))
        )
        dominant = own >= self.min_skill and ratio > self.dominance_limit
        return {
            "feature": name,
            "score": score,
            "skill": own,
            "others_skill": others,
            "skill_se": own_se,
            "others_skill_se": others_se,
            "dominance": ratio,
            "near_perfect": bool(near_perfect),
            "dominant": bool(dominant),
        }


def _feature_columns(
    train: Any, test: Any, target: Hashable, features: Columns | None, exclude: Columns | None
) -> list[Any]:
    """The columns scored as features: ``features`` (or all), minus the target and ``exclude``."""
    excluded = [target, *as_name_list(exclude, "exclude")]
    cols = split_columns(train, test, features, exclude=excluded)
    if not cols:
        raise MLCheckUsageError("no feature columns to score besides the target.")
    return cols


def _require_known_classes(target: Hashable, y_b: np.ndarray, kind: str) -> None:
    """A usage error when test holds classes never seen in train (coded -1)."""
    if kind == "regression":
        return
    unseen = int(np.count_nonzero(y_b < 0))
    if unseen:
        raise MLCheckUsageError(
            f"target {target!r} has {unseen:,} test rows with classes never seen in train: "
            "expected test classes to be a subset of train classes."
        )


@check("no_target_leakage")
def check_no_target_leakage(
    train: TableLike | NativeTable,
    test: TableLike | NativeTable,
    target: Hashable,
    *,
    features: Columns | None = None,
    exclude: Columns | None = None,
    task: TaskName | None = None,
    n_bins: int = 32,
    random_state: int | None = None,
    max_auc: float | None = None,
    max_r2: float | None = None,
    max_dominance: float | None = None,
    min_skill: float | None = None,
) -> CheckResult:
    """Detect a single feature that predicts the target too well on held-out data: one that
    is near-perfect alone, or that towers over what all the other features reach together.

    Each feature is binned on train (quantile bins; NaN, unseen categories their own bins),
    each bin's target rate (or mean) is learned on train with smoothing, and the resulting
    one-feature model is scored on test: ROC-AUC (macro one-vs-rest for multiclass), R^2 for
    regression. The strongest features are then compared with a model of all the *other*
    features together (ridge on their out-of-fold target encodings, fitted on train, scored
    on test), on one skill scale (2 * AUC - 1, or R^2). A feature fails when it is
    near-perfect alone (ROC-AUC above ``max_auc``, ini ``ml_target_leakage_max_auc``,
    default 0.99; R^2 above ``max_r2``, ini ``ml_target_leakage_max_r2``, default 0.98), or
    when its skill exceeds the others' together by more than ``max_dominance`` (ini
    ``ml_target_leakage_max_dominance``, default 2: all others together leave more than
    twice its error, error = 1 - skill) while its own skill is at least ``min_skill`` (ini
    ``ml_target_leakage_min_skill``, default 0.8, i.e. AUC 0.9). Both skills are first moved
    one standard error against the verdict (Hanley-McNeil for AUC), so small test splits do
    not fail by luck. A strong feature among strong peers passes.
    Splits over 250,000 rows are scored on a seeded sample (the peer model on 20,000 rows).
    Native frames (Spark, Dask, DuckDB, Polars) are checked for a labelled target inside
    their engine, then pulled into pandas whole when they fit in 250,000 rows (the pandas
    verdict), else as a seeded sample of that many rows (recorded in ``details``).
    Figure: the top single-feature score.
    """
    seed = current_seed(random_state)
    scored = _scoring_inputs(train, test, target, features, exclude, task, n_bins, seed)
    kind, y_b, n_classes = scored.kind, scored.y_b, scored.n_classes
    regression = kind == "regression"
    limit = resolve_threshold(
        "target_leakage_max_r2" if regression else "target_leakage_max_auc",
        max_r2 if regression else max_auc,
    )
    dominance_limit = resolve_threshold("target_leakage_max_dominance", max_dominance)
    skill_floor = resolve_threshold("target_leakage_min_skill", min_skill)
    sampled = {} if scored.pulled is None else scored.pulled.sampled_rows()
    ranked, peers, position, error_ses = _measure_features(
        scored.train,
        scored.test,
        scored.cols,
        scored.y_a,
        y_b,
        kind,
        n_classes,
        n_bins,
        seed,
        sampled,
    )
    rules = _Rules(kind, limit, dominance_limit, skill_floor, y_b, peers.y_b, n_classes)
    judged = _judge_features(ranked, peers, position, error_ses, rules)
    details = _target_details(
        kind, ranked, judged, rules, scored.rows_train, scored.rows_test, sampled, scored.labels
    )
    if scored.pulled is not None:
        details.update(scored.pulled.details(scored.dropped))
    passed = not details["leaking_features"]
    message = _explain_target_leakage(details, target, limit)
    return result(passed, "error", ranked[0][1], limit, message, dict(details))


@dataclass(frozen=True)
class _ScoringInputs:
    """The rows the features are scored on (pandas) and their coded target."""

    train: Any
    test: Any
    cols: list[Any]  # the feature columns
    y_a: np.ndarray
    y_b: np.ndarray
    kind: str
    n_classes: int
    labels: list[str]
    rows_train: int  # rows of the splits given (a native split may be scored on a sample)
    rows_test: int
    pulled: _PulledSplits | None = None  # native splits: what was pulled from the engine
    dropped: int = 0  # test rows of classes left out of a native train sample


def _scoring_inputs(
    train: TableLike | NativeTable,
    test: TableLike | NativeTable,
    target: Hashable,
    features: Columns | None,
    exclude: Columns | None,
    task: TaskName | None,
    n_bins: int,
    seed: int,
) -> _ScoringInputs:
    """Both splits as pandas (native ones pulled from their engine: whole, or a seeded
    sample), the feature columns and the coded target; usage errors for bad inputs."""
    if native_pair(train, test) is not None:
        pulled = _native_target_sample(train, test, target, features, exclude, seed)
        train_df, test_df, cols = pulled.train, pulled.test, pulled.features
        n_train, n_test = pulled.rows_train, pulled.rows_test
    else:
        pulled = None
        train_df = as_dataframe(train, "train")
        test_df = as_dataframe(test, "test")
        n_train = require_rows(train_df, "train")
        n_test = require_rows(test_df, "test")
    if not isinstance(n_bins, int) or n_bins < 2:
        raise MLCheckUsageError(f"n_bins must be an integer >= 2, got {n_bins!r}.")
    y_a, y_b, kind, n_classes, labels = _target_arrays(train_df, test_df, target, task)
    dropped = 0
    if pulled is None:
        cols = _feature_columns(train_df, test_df, target, features, exclude)
    else:
        test_df, y_b, dropped = pulled.keep_known_classes(test_df, y_b, kind)
    _require_known_classes(target, y_b, kind)
    return _ScoringInputs(
        train_df, test_df, cols, y_a, y_b, kind, n_classes, labels, n_train, n_test, pulled, dropped
    )


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray | None:
    """A seeded, sorted sample of ``size`` positions out of ``n``; None when ``n`` fits."""
    return np.sort(rng.choice(n, size, replace=False)) if n > size else None


def _measure_features(
    train: Any,
    test: Any,
    cols: list[Any],
    y_a: np.ndarray,
    y_b: np.ndarray,
    kind: str,
    n_classes: int,
    n_bins: int,
    seed: int,
    sampled: dict[str, int],
) -> tuple[list[tuple[str, float]], _PeerModel, dict[str, int], dict[str, float]]:
    """Each feature's held-out score alone (ranked, best first), the model of all features
    on their encodings (to score any subset), and each feature's position in it. Large
    splits are sampled (seeded); what was sampled is recorded in ``sampled``."""
    rng = np.random.default_rng(seed)
    keep = _sample(len(train), MAX_SCORED_ROWS, rng)
    if keep is not None:
        train, y_a = train.iloc[keep], y_a[keep]
        sampled["train"] = MAX_SCORED_ROWS
    keep = _sample(len(test), MAX_SCORED_ROWS, rng)
    if keep is not None:
        test, y_b = test.iloc[keep], y_b[keep]
        sampled["test"] = MAX_SCORED_ROWS
    # rows of the peer model (a seeded sample when large) and their folds
    peer_a = _sample(len(train), PEER_ROWS, rng)
    peer_b = _sample(len(test), PEER_ROWS, rng)
    if peer_a is None:
        peer_a = np.arange(len(train))
    else:
        sampled["peer_model_train"] = PEER_ROWS
    if peer_b is None:
        peer_b = np.arange(len(test))
    else:
        sampled["peer_model_test"] = PEER_ROWS
    folds = rng.permutation(len(peer_a)) % PEER_FOLDS
    t_peer = _target_matrix(y_a[peer_a], kind, n_classes)
    bins = max(4, min(n_bins, len(train) // ROWS_PER_BIN))
    scores: dict[str, float] = {}
    error_ses: dict[str, float] = {}
    encodings: list[tuple[np.ndarray, np.ndarray]] = []
    raws: list[tuple[np.ndarray, np.ndarray] | None] = []
    for name in cols:
        a, b = train[name], test[name]
        codes_a, codes_b, k, family = _bin_codes(a, b, bins, seed)
        score, error_se = _feature_score(codes_a, codes_b, k, y_a, y_b, kind, n_classes)
        if family == "numeric" and kind != "multiclass":
            raw, raw_se = _raw_score(a, b, y_a, y_b, kind)
            if raw == raw and not score >= raw:
                score, error_se = raw, raw_se
        scores[str(name)], error_ses[str(name)] = score, error_se
        encodings.append(_encode(codes_a[peer_a], codes_b[peer_b], k, t_peer, folds))
        raws.append(None if kind == "multiclass" else _raw_column(a, b, peer_a, peer_b))
    ranked = sorted(((n, s) for n, s in scores.items() if s == s), key=lambda item: -item[1])
    if not ranked:
        raise MLCheckUsageError(
            "no feature could be scored (the test split holds a single class or a constant "
            "target): the check cannot decide."
        )
    peers = _PeerModel(encodings, raws, t_peer, y_b[peer_b], kind, n_classes)
    return ranked, peers, {str(name): i for i, name in enumerate(cols)}, error_ses


def _judge_features(
    ranked: list[tuple[str, float]],
    peers: _PeerModel,
    position: dict[str, int],
    error_ses: dict[str, float],
    rules: _Rules,
) -> list[JudgedFeature]:
    """Verdicts on the strongest features, each against all the others not already found
    leaking; then the two strongest left as a pair (two leaks mask each other, each being
    among the other's peers) against all the remaining features."""
    judged: list[JudgedFeature] = []
    flagged: set[int] = set()
    for name, score in ranked[:CANDIDATES]:
        others = peers.skill(flagged | {position[name]})
        verdict = rules.judge(name, score, *others, own_error_se=error_ses[name])
        if len(position) < 2:  # no other feature to tower over: only near-perfect counts
            verdict["dominant"] = False
        if verdict["near_perfect"] or verdict["dominant"]:
            flagged.add(position[name])
        judged.append(verdict)
    pair = [j for j in judged if not j["near_perfect"] and not j["dominant"]]
    pair = [j for j in pair if j["skill"] >= rules.min_skill][:2]
    if len(pair) == 2 and len(position) > 2:
        rest = peers.skill(flagged | {position[j["feature"]] for j in pair})
        verdicts = [
            rules.judge(j["feature"], j["score"], *rest, own_error_se=error_ses[j["feature"]])
            for j in pair
        ]
        if all(v["dominant"] for v in verdicts):
            for j, v, partner in zip(pair, verdicts, reversed(pair), strict=True):
                j["dominant"] = True
                j["dominance"] = v["dominance"]
                j["others_skill"] = v["others_skill"]
                j["others_skill_se"] = v["others_skill_se"]
                j["paired_with"] = partner["feature"]
    return judged


def _target_details(
    kind: str,
    ranked: list[tuple[str, float]],
    judged: list[JudgedFeature],
    rules: _Rules,
    n_train: int,
    n_test: int,
    sampled: dict[str, int],
    labels: list[str],
) -> TargetLeakageDetails:
    regression = kind == "regression"
    details: TargetLeakageDetails = {
        "task": kind,
        "metric": "R^2" if regression else ("ROC-AUC" if kind == "binary" else "macro ROC-AUC"),
        "skill_scale": "R^2" if regression else "2 * AUC - 1",
        "rows_train": n_train,
        "rows_test": n_test,
        "features_scored": len(ranked),
        "sampled_rows": sampled,
        "top_features": [{"feature": n, "score": s} for n, s in ranked[:10]],
        "judged_features": judged,
        "max_dominance": rules.dominance_limit,
        "min_skill": rules.min_skill,
        "limit": rules.limit,
        "leaking_features": [j["feature"] for j in judged if j["near_perfect"] or j["dominant"]],
    }
    if labels:
        details["classes"] = labels[:50]
    return details


def _verdict_word(judged: JudgedFeature) -> str:
    if judged["near_perfect"]:
        return "near-perfect"
    if not judged["dominant"]:
        return ""
    partner = judged.get("paired_with")
    return "dominant" if partner is None else f"dominant, with {partner!r}"


def _explain_target_leakage(details: TargetLeakageDetails, target: Hashable, limit: float) -> str:
    metric, judged, leaking = (
        details["metric"],
        details["judged_features"],
        details["leaking_features"],
    )
    top = details["top_features"][0]
    dominance_limit, min_skill = details["max_dominance"], details["min_skill"]
    if not leaking:
        best = judged[0]
        return (
            f"no_target_leakage: best single feature {top['feature']!r} reaches test {metric} "
            f"{fmt(top['score'], 4)} (near-perfect limit {fmt(limit, 4)}); skill "
            f"{fmt(best['skill'], 3)} alone vs {fmt(best['others_skill'], 3)} for all other "
            f"features together, which leave {fmt(best['dominance'], 3)}x its error (limit "
            f"{fmt(dominance_limit, 3)}x from skill {fmt(min_skill, 3)})."
        )
    rows = [
        [
            j["feature"],
            fmt(j["score"], 4),
            fmt(j["skill"], 3),
            fmt(j["others_skill"], 3),
            _verdict_word(j),
        ]
        for j in judged
    ]
    names = ", ".join(repr(name) for name in leaking[:5])
    verb = "predicts" if len(leaking) == 1 else "predict"
    return compose(
        f"no_target_leakage: {plural(len(leaking), 'feature')} alone {verb} {target!r} on the "
        f"test split far better than expected: {names} (top {metric} {fmt(top['score'], 4)}; "
        f"near-perfect above {fmt(limit, 4)}, or all other features together leave over "
        f"{fmt(dominance_limit, 3)}x its error; skill = {details['skill_scale']}).",
        body=table(
            ["feature", f"test {metric}", "skill alone", "skill of all others", "verdict"], rows
        ),
        why=TARGET_LEAKAGE_WHY,
        fix=TARGET_LEAKAGE_FIX,
    )


# ---------------------------------------------------------------------------- temporal leakage


def _stamp(value: Any) -> str:
    """A time stamp for messages: dates as pandas prints them, whole numbers without '.0'."""
    import pandas as pd

    if isinstance(value, (np.datetime64, datetime.date)):  # engines return datetimes
        return str(pd.Timestamp(value))
    number = float(value)
    return str(int(number)) if number.is_integer() else fmt(number)


def _times(frame: Any, column: Any, split: str) -> np.ndarray:
    import pandas as pd

    if column in frame.columns:
        col = frame[column]
    elif column is not None and column in (frame.index.names or []):
        col = frame.index.get_level_values(column).to_series(index=range(len(frame)))
    else:
        raise MLCheckUsageError(
            f"time_column {column!r} is neither a column nor an index level of {split}."
        )
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        if getattr(col.dt, "tz", None) is not None:
            col = col.dt.tz_convert("UTC").dt.tz_localize(None)
        return np.asarray(col.to_numpy(dtype="datetime64[ns]"))
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return np.asarray(col.to_numpy(dtype=np.float64, na_value=np.nan))
    try:
        parsed = pd.to_datetime(col, utc=True).dt.tz_localize(None)
    except (ValueError, TypeError) as exc:
        raise MLCheckUsageError(
            f"time_column {column!r} in {split} has dtype {col.dtype} that is neither "
            "datetime, numeric nor parseable as dates."
        ) from exc
    return np.asarray(parsed.to_numpy(dtype="datetime64[ns]"))


TEMPORAL_LEAKAGE_WHY = (
    "a model trained on rows from after the test period learns from the future (trends, later "
    "outcomes), so the test score overstates what it will do when deployed, where the future "
    "is unknown."
)
TEMPORAL_LEAKAGE_FIX = (
    "split by time: train on rows before a cut-off, test on rows after it (TimeSeriesSplit for "
    "cross-validation); drop rows of the overlap window."
)


class _TemporalFigures(TypedDict):
    """The keys every ``no_temporal_leakage`` record holds."""

    rows_train: int
    train_rows_after_test_start: int
    test_start: str  # the earliest test time stamp
    train_end: str  # the latest train time stamp (the test start when train has none)
    train_missing_times: int


class TemporalLeakageDetails(_TemporalFigures, total=False):
    """What ``no_temporal_leakage`` measured (the record's ``details``)."""

    engine: str  # native engines only, with exact=True
    exact: bool


def _measure_temporal_leakage(
    train: TableLike, test: TableLike, time_column: Hashable
) -> TemporalLeakageDetails:
    """Train rows stamped after the earliest test row (rows without a stamp are not)."""
    train_df = as_dataframe(train, "train")
    test_df = as_dataframe(test, "test")
    require_rows(train_df, "train")
    require_rows(test_df, "test")
    t_train = _times(train_df, time_column, "train")
    t_test = _times(test_df, time_column, "test")
    if t_train.dtype.kind != t_test.dtype.kind:
        raise MLCheckUsageError(
            f"time_column {time_column!r} is {t_train.dtype} in train but {t_test.dtype} in "
            "test: expected the same kind of time stamps in both splits."
        )
    n_train = len(t_train)
    missing_train = int(np.count_nonzero(np.isnan(t_train)))
    valid_test = t_test[~np.isnan(t_test)]
    if len(valid_test) == 0:
        raise MLCheckUsageError(f"time_column {time_column!r} is missing for every test row.")
    start = valid_test.min()
    end = t_train[~np.isnan(t_train)].max() if n_train > missing_train else start
    return {
        "rows_train": n_train,
        "train_rows_after_test_start": int(np.count_nonzero(t_train > start)),
        "test_start": _stamp(start),
        "train_end": _stamp(end),
        "train_missing_times": missing_train,
    }


def _native_time_kind(frame: NativeFrame, time_column: Hashable) -> str:
    """Whether a native split's time column holds timestamps or numbers (usage error if
    neither, or absent)."""
    name = str(time_column)
    if name not in frame.schema:
        raise MLCheckUsageError(
            f"time_column {time_column!r} is not a column of {frame.arg} (columns: "
            f"{frame.columns[:10]})."
        )
    kind = frame.time_kind(name)
    if kind is None:
        raise MLCheckUsageError(
            f"time_column {time_column!r} in {frame.arg} has type {frame.schema[name]}, neither "
            "dates, timestamps nor numbers: text is not parsed inside the engine (cast it to "
            "a timestamp first)."
        )
    return kind


def _native_temporal_leakage(
    train: NativeTable, test: NativeTable, time_column: Hashable
) -> TemporalLeakageDetails:
    """:func:`_measure_temporal_leakage` inside the user's engine: the test split's earliest
    stamp, then the train rows after it (three aggregate queries, exact)."""
    left, right = NativeFrame(train, "train"), NativeFrame(test, "test")
    name = str(time_column)
    kinds = (_native_time_kind(left, time_column), _native_time_kind(right, time_column))
    if kinds[0] != kinds[1]:
        raise MLCheckUsageError(
            f"time_column {time_column!r} is {left.schema[name]} in train but "
            f"{right.schema[name]} in test: expected the same kind of time stamps in both splits."
        )
    n_train, missing_train, _, end = left.time_range(name)
    n_test, _, start, _ = right.time_range(name)
    for split, n in (("train", n_train), ("test", n_test)):
        if n == 0:
            raise MLCheckUsageError(f"{split} is empty (0 rows): expected at least one row.")
    if start is None:
        raise MLCheckUsageError(f"time_column {time_column!r} is missing for every test row.")
    return {
        "rows_train": n_train,
        "train_rows_after_test_start": left.rows_after_start_of(right, name),
        "test_start": _stamp(start),
        "train_end": _stamp(end if end is not None else start),
        "train_missing_times": missing_train,
        "engine": left.engine,
        "exact": True,
    }


def _explain_temporal_leakage(details: TemporalLeakageDetails, passed: bool, limit: float) -> str:
    n_late, n_train = details["train_rows_after_test_start"], details["rows_train"]
    start, end = details["test_start"], details["train_end"]
    if passed:
        return (
            f"no_temporal_leakage: train ends at {end}, test starts at {start}; "
            f"{n_late:,} train rows after the test start."
        )
    headline = (
        f"no_temporal_leakage: {n_late:,} of {n_train:,} train rows ({percent(n_late / n_train)}) "
        f"are dated after the first test row; overlap window {start} .. {end} "
        f"(limit {percent(limit)})."
    )
    return compose(headline, why=TEMPORAL_LEAKAGE_WHY, fix=TEMPORAL_LEAKAGE_FIX)


@check("no_temporal_leakage")
def check_no_temporal_leakage(
    train: TableLike | NativeTable,
    test: TableLike | NativeTable,
    time_column: Hashable,
    *,
    max_fraction: float | None = None,
) -> CheckResult:
    """Detect training rows dated after the earliest test row (the model sees the future).

    Figure: the fraction of train rows later than the first test time stamp, held to
    ``max_fraction`` (ini ``ml_temporal_leakage_max_fraction``, default 0).
    Native frames (Spark, Dask, DuckDB, Polars) are counted inside their engine (exact);
    there the time column must hold dates, timestamps or numbers (text is not parsed).
    """
    limit = resolve_threshold("temporal_leakage_max_fraction", max_fraction)
    native = native_pair(train, test) is not None
    measure = _native_temporal_leakage if native else _measure_temporal_leakage
    details = measure(train, test, time_column)
    n_late = details["train_rows_after_test_start"]
    fraction = n_late / details["rows_train"]
    passed = fraction <= limit if limit > 0 else n_late == 0
    message = _explain_temporal_leakage(details, passed, limit)
    return result(passed, "error", fraction, limit, message, dict(details))


# ---------------------------------------------------------------------------- umbrella


def _column_names(split: TableLike | NativeTable) -> list[Any]:
    """The column names of a split (none for arrays), read from the schema of a native one."""
    if is_native(split):
        return NativeFrame(split, "split").columns
    return list(getattr(split, "columns", ()))


@check("no_leakage")
def check_no_leakage(
    train: TableLike | NativeTable,
    test: TableLike | NativeTable,
    *,
    target: Hashable | None = None,
    time_column: Hashable | None = None,
    id_columns: Columns | None = None,
    max_auc: float | None = None,
    max_r2: float | None = None,
    max_dominance: float | None = None,
) -> CheckReport:
    """Run every leakage check that applies and report all findings at once.

    Row overlap always (ignoring ``id_columns``); entity overlap when ``id_columns`` is
    given; target leakage when ``target`` is given (id and time columns are not scored as
    features); temporal leakage with ``time_column``. Native frames (Spark, Dask, DuckDB,
    Polars) go to each check as they are.
    """
    ids = as_name_list(id_columns, "id_columns")
    results = [check_no_row_overlap(train, test, id_columns=ids or None)]
    if ids:
        results.append(check_no_entity_overlap(train, test, ids))
    if target is not None:
        # the time column is not a feature (when it is an index level, it is not scored)
        time_is_column = time_column is not None and any(
            time_column in _column_names(split) for split in (train, test)
        )
        skip = [*ids, *([time_column] if time_is_column else [])]
        results.append(
            check_no_target_leakage(
                train,
                test,
                target,
                exclude=skip or None,
                max_auc=max_auc,
                max_r2=max_r2,
                max_dominance=max_dominance,
            )
        )
    if time_column is not None:
        results.append(check_no_temporal_leakage(train, test, time_column))
    return report(results)


# --------------------------------------------------------------- the HTML report's charts


@chart("no_target_leakage")
def _chart_target_leakage(details: dict[str, Any]) -> list[Chart]:
    """Each top feature's held-out score alone (ROC-AUC or R^2), as dots on an axis zoomed
    to the scores, against the near-perfect limit; leaking features in red."""
    top = details.get("top_features") or []
    if not top:
        return []
    leaking = set(details.get("leaking_features") or [])
    labels = [str(f["feature"]) for f in top]
    scores = [f["score"] for f in top]
    metric = str(details.get("metric", "score"))
    flagged = [f["feature"] in leaking for f in top]
    series = [
        Series(
            "leaking", [s if bad else None for s, bad in zip(scores, flagged, strict=True)], "bad"
        ),
        Series("not leaking", [None if bad else s for s, bad in zip(scores, flagged, strict=True)]),
    ]
    limit = details.get("limit")
    marks = [Mark(f"limit {limit}", limit, "bad")] if isinstance(limit, (int, float)) else []
    title = f"Held-out {metric} of each feature alone (the strongest {len(top)})"
    return [BarChart(title, labels, series, zoom=True, marks=marks)]
