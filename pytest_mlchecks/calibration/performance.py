"""Calibration of ``performance_holds`` and ``no_concept_drift`` (``python -m
pytest_mlchecks.calibration --only performance``).

``performance_holds``: binormal scores with ROC-AUC 0.85 (positives 50% and 10% in turn),
5 windows per run; healthy = every window drawn like the baseline, broken = the last two
windows at AUC 0.75 (a real drop of 0.10). ``no_concept_drift``: logistic labels on three
normal features (coefficients 1, -1, 0.5); healthy = the same relation (clean), or the same
relation with every feature shifted by 1 or 2 SD (covariate shift only); broken = the first
coefficient flipped (1 -> -1) or doubled (1 -> 2). 500 and 5,000 rows per period (runs:
``--datasets`` at 500, a fifth of it at 5,000: each run fits 4 x cv models).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

from pytest_mlchecks._messages import md_table

WINDOW_SIZES = (200, 1000, 5000)
WINDOWS = 5
BASE_AUC, DROPPED_AUC = 0.85, 0.75
CONCEPT_CASES: dict[str, tuple[str, float, tuple[float, float, float]]] = {
    "clean": ("healthy", 0.0, (1.0, -1.0, 0.5)),
    "covariate shift 1 SD": ("healthy", 1.0, (1.0, -1.0, 0.5)),
    "covariate shift 2 SD": ("healthy", 2.0, (1.0, -1.0, 0.5)),
    "flipped (1 -> -1)": ("broken", 0.0, (-1.0, -1.0, 0.5)),
    "doubled (1 -> 2)": ("broken", 0.0, (2.0, -1.0, 0.5)),
}


def _scores(rng: Any, n: int, auc: float, prevalence: float) -> tuple[Any, Any]:
    """Binormal scores with the given ROC-AUC: negatives N(0, 1), positives N(d, 1)."""

    d = NormalDist().inv_cdf(auc) * math.sqrt(2.0)
    y = (rng.random(n) < prevalence).astype(int)
    return y, rng.normal(size=n) + d * y


def calibrate_performance(
    runs: int, seed: int = 0, sizes: tuple[int, ...] = WINDOW_SIZES
) -> list[list[str]]:
    """One row per (window size, case): runs failed (error), warned, median worst drop."""
    import numpy as np

    import pytest_mlchecks as mlc

    rows = []
    for size in sizes:
        for case in ("healthy", "broken"):
            failed = warned = 0
            worst = []
            for i in range(runs):
                rng = np.random.default_rng(seed * 100_003 + i)
                prevalence = (0.5, 0.1)[i % 2]
                parts = [
                    _scores(
                        rng,
                        size,
                        DROPPED_AUC if case == "broken" and k >= 3 else BASE_AUC,
                        prevalence,
                    )
                    for k in range(WINDOWS)
                ]
                y = np.concatenate([p[0] for p in parts])
                s = np.concatenate([p[1] for p in parts])
                out = mlc.check_performance_holds(y, s, baseline=BASE_AUC, window=size)
                failed += not out.passed and out.severity == "error"
                warned += not out.passed and out.severity == "warning"
                worst.append(out.details["worst_drop"])
            rows.append(
                [
                    case,
                    "AUC 0.85 -> 0.75 in 2 of 5 windows" if case == "broken" else "AUC 0.85",
                    f"{size:,}",
                    f"{failed} / {runs}",
                    f"{warned} / {runs}",
                    f"{float(np.median(worst)):.3f}",
                ]
            )
    return rows


def _logistic(rng: Any, n: int, shift: float, beta: tuple[float, float, float]) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    X = rng.normal(size=(n, 3)) + shift
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ np.array(beta))))).astype(int)
    return pd.DataFrame(X, columns=["a", "b", "c"]), y


def calibrate_concept(
    runs: dict[int, int], seed: int = 0, cases: tuple[str, ...] = tuple(CONCEPT_CASES)
) -> list[list[str]]:
    """One row per (rows per period, case): runs failed, median and largest gain; ``runs``
    per size."""
    import numpy as np

    import pytest_mlchecks as mlc

    rows = []
    for n in runs:
        for case in cases:
            kind, shift, beta = CONCEPT_CASES[case]
            failed = 0
            gains = []
            for i in range(runs[n]):
                rng = np.random.default_rng(seed * 100_003 + i)
                Xa, ya = _logistic(rng, n, 0.0, (1.0, -1.0, 0.5))
                Xb, yb = _logistic(rng, n, shift, beta)
                out = mlc.check_no_concept_drift(Xa, ya, Xb, yb)
                failed += not out.passed
                gains.append(out.details["gain"])
            rows.append(
                [
                    case,
                    kind,
                    f"{n:,}",
                    f"{failed} / {runs[n]}",
                    f"{float(np.median(gains)):.4f}",
                    f"{float(np.max(gains)):.4f}",
                ]
            )
    return rows


def markdown(perf: list[list[str]], concept: list[list[str]]) -> str:
    lines = md_table(
        [
            "performance_holds",
            "windows",
            "labels per window",
            "failed",
            "warned",
            "median worst drop",
        ],
        perf,
        right=(2, 3, 4, 5),
    )
    lines.append("")
    lines += md_table(
        ["no_concept_drift", "kind", "rows per period", "failed", "median gain", "max gain"],
        concept,
        right=(2, 3, 4, 5),
    )
    return "\n".join(lines)
