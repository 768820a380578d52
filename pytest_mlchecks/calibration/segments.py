"""Calibration of ``no_weak_segments``: generated tables (7 numeric, 2 categorical, 1 count
feature) with predictions whose errors are spread uniformly (binary: 15% of predictions
wrong; regression: Gaussian errors), then a weak segment injected: within one feature's range
covering 10% of the rows (a random position, not aligned with the bins), or within a pair
intersection (a numeric feature's top 30% and one of three categories: ~10% of rows), a share
of the predictions flipped (binary) or the error multiplied (regression). Scored: the same
judged with the model's probabilities (``y_score``), plus a hard segment where the label is
a coin flip and the model says so (must pass). Real tables:
cross-validated predictions of a gradient-boosting model on the bundled tables (random folds).
``python -m pytest_mlchecks.calibration --only segments``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pytest_mlchecks._messages import md_table

SIZES = (1_000, 5_000, 20_000)
STRENGTHS = (0.3, 0.4)  # binary: share of the segment's predictions flipped
FACTORS = (1.5, 2.0)  # regression: the segment's errors this many times larger
REAL_SPLITS = 3


def make_table(n: int, seed: int) -> Any:
    """The features: 7 Gaussian, a 3-level plan (50/30/20%), a 12-level region, a count."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(7)})
    X["plan"] = rng.choice(["free", "basic", "pro"], size=n, p=[0.5, 0.3, 0.2])
    X["region"] = rng.choice([f"r{k}" for k in range(12)], size=n)
    X["count"] = rng.poisson(3, size=n)
    return X


def segment(X: Any, kind: str | None, seed: int) -> Any:
    """The rows of the injected segment (~10% of rows), as a boolean array."""
    import numpy as np

    if kind is None:
        return np.zeros(len(X), dtype=bool)
    if kind == "single":
        start = np.random.default_rng([seed, 7]).uniform(0.0, 0.9)
        lo, hi = np.quantile(X["x0"], [start, start + 0.1])
        return ((X["x0"] >= lo) & (X["x0"] < hi)).to_numpy()
    return ((X["x1"] >= np.quantile(X["x1"], 0.7)) & (X["plan"] == "basic")).to_numpy()


def binary_case(n: int, seed: int, kind: str | None, strength: float) -> tuple[Any, Any, Any]:
    """y, predictions (15% wrong uniformly, ``strength`` of the segment flipped on top), X."""
    import numpy as np

    X = make_table(n, seed)
    rng = np.random.default_rng([seed, 1])
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.15, 1 - y, y)
    flip = segment(X, kind, seed) & (rng.random(n) < strength)
    return y, np.where(flip, 1 - pred, pred), X


def scored_case(n: int, seed: int, kind: str | None, strength: float) -> tuple[Any, ...]:
    """y, predictions, X and the model's probabilities of the positive class (calibrated:
    each label drawn from them). Everywhere the model is 85% sure; ``kind`` "uncertain":
    in a 10% range of x0 the label is a coin flip and the model says so (probabilities
    0.45-0.55: a hard segment, not a broken one); "single" / "pair": ``strength`` of the
    segment's predictions and probabilities flipped (confidently wrong)."""
    import numpy as np

    X = make_table(n, seed)
    rng = np.random.default_rng([seed, 3])
    side = rng.random(n) < 0.5
    prob = np.where(side, 0.85, 0.15)
    if kind == "uncertain":
        prob = np.where(segment(X, "single", seed), rng.uniform(0.45, 0.55, n), prob)
    y = (rng.random(n) < prob).astype(int)
    if kind in ("single", "pair"):
        flip = segment(X, kind, seed) & (rng.random(n) < strength)
        prob = np.where(flip, 1.0 - prob, prob)
    return y, (prob > 0.5).astype(int), X, prob


def regression_case(n: int, seed: int, kind: str | None, factor: float) -> tuple[Any, Any, Any]:
    """y, predictions (unit Gaussian errors, ``factor`` times larger in the segment), X."""
    import numpy as np

    X = make_table(n, seed)
    rng = np.random.default_rng([seed, 2])
    y = X["x0"].to_numpy() + X["x1"].to_numpy() + rng.normal(size=n)
    scale = np.where(segment(X, kind, seed), factor, 1.0)
    return y, y + scale * rng.normal(size=n), X


_MAKERS: dict[str, Callable[[int, int, str | None, float], tuple[Any, ...]]] = {
    "binary": binary_case,
    "regression": regression_case,
    "scored": scored_case,
}


def calibrate_segments(
    clean: int,
    injected: int,
    sizes: tuple[int, ...] = SIZES,
    seed: int = 0,
    progress: Callable[[list[str]], None] | None = None,
) -> list[list[str]]:
    """One table row per (case, rows, strength): failures out of ``clean`` clean datasets or
    ``injected`` datasets with a weak segment, and seconds per check (``progress`` gets
    each row as it is done)."""
    import pytest_mlchecks as mlc

    cases: list[tuple[str, str, str | None, float]] = [
        ("binary", "accuracy", None, 0.0),
        *(("binary", "accuracy", kind, s) for kind in ("single", "pair") for s in STRENGTHS),
        ("regression", "mae", None, 1.0),
        *(("regression", "mae", kind, f) for kind in ("single", "pair") for f in FACTORS),
        ("scored", "accuracy", None, 0.0),
        ("scored", "accuracy", "uncertain", 0.0),
        *(("scored", "accuracy", kind, s) for kind in ("single", "pair") for s in STRENGTHS),
    ]
    rows = []
    for n in sizes:
        for task, metric, kind, strength in cases:
            make = _MAKERS[task]
            datasets = clean if kind in (None, "uncertain") else injected
            failed, start = 0, time.perf_counter()
            for i in range(datasets):
                y, pred, X, *score = make(n, seed * 100_003 + i, kind, strength)
                outcome = mlc.check_no_weak_segments(
                    y, pred, X, metric=metric, y_score=score[0] if score else None
                )
                failed += not outcome.passed
            row = [
                f"{task} ({metric})",
                kind or "clean",
                "-" if kind in (None, "uncertain") else f"{strength:g}",
                f"{n:,}",
                f"{failed} / {datasets}",
                f"{(time.perf_counter() - start) / max(datasets, 1):.2f}",
            ]
            rows.append(row)
            if progress is not None:
                progress(row)
    return rows


def markdown(rows: list[list[str]]) -> str:
    headers = ["task", "segment", "strength", "rows", "failed", "s / check"]
    return "\n".join(md_table(headers, rows, right=(2, 3, 4, 5)))


def real_rows(
    splits: int = REAL_SPLITS, seed: int = 0, progress: Callable[[list[str]], None] | None = None
) -> list[list[str]]:
    """Cross-validated predictions (5 shuffled folds, ``splits`` seeds) of a histogram
    gradient-boosting model on every clean real table with at least 400 rows: the verdict
    and the weakest segment found."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.model_selection import KFold, cross_val_predict

    import pytest_mlchecks as mlc
    from pytest_mlchecks.calibration.real_tables import CLEAN_TABLES

    rows = []
    for load in CLEAN_TABLES:
        try:
            table = load()
        except LookupError:
            continue
        frame = table.frame
        if len(frame) < 400:
            continue
        X = frame.drop(columns=[table.target])
        features = pd.get_dummies(X, drop_first=True).astype(float)
        y = frame[table.target].to_numpy()
        regression = table.task == "regression"
        model = HistGradientBoostingRegressor() if regression else HistGradientBoostingClassifier()
        metric = "mae" if regression else "accuracy"
        found, scored_fails = [], 0
        for s in range(splits):
            folds = KFold(5, shuffle=True, random_state=seed + s)
            if regression:
                pred = cross_val_predict(model, features, y, cv=folds)
            else:
                prob = cross_val_predict(model, features, y, cv=folds, method="predict_proba")
                classes = np.unique(y)
                pred = classes[prob.argmax(axis=1)]
                scored = mlc.check_no_weak_segments(
                    y, pred, X, metric=metric, y_score=prob, classes=classes
                )
                scored_fails += not scored.passed
            out = mlc.check_no_weak_segments(y, pred, X, metric=metric)
            top = out.details["segments"][:1]
            found.append((out.passed, top[0] if top else None))
        fails = sum(not passed for passed, _ in found)
        worst = next((s for passed, s in found if not passed), None) or found[0][1]
        shown = "-"
        if worst is not None:
            shown = (
                f"{worst['segment']} ({worst['size']:,} rows, held-out gap "
                f"{worst['held_out_gap']:.3f}, noise {worst['noise']:.3f})"
            )
        row = [
            table.name,
            f"{len(frame):,}",
            metric,
            f"{fails} / {splits}",
            "-" if regression else f"{scored_fails} / {splits}",
            shown.replace("|", "/"),
        ]
        rows.append(row)
        if progress is not None:
            progress(row)
    return rows


def real_markdown(rows: list[list[str]]) -> str:
    headers = [
        "table",
        "rows",
        "metric",
        "failed",
        "failed with y_score",
        "weakest segment (first failing split)",
    ]
    return "\n".join(md_table(headers, rows, right=(1, 3, 4)))
