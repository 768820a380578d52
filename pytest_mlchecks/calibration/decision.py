"""Calibration of ``decision_threshold_tuned``: logistic regression on generated binary data
(balanced to 3% positives, 500 and 5,000 validation rows); healthy = 0.5 on balanced data or
a threshold tuned on separate rows, broken = 0.5 on imbalanced data. ``python -m
pytest_mlchecks.calibration --only decision``.
"""

from __future__ import annotations

import warnings

from pytest_mlchecks._messages import md_table

SIZES = (500, 5000)
PREVALENCES = (0.5, 0.2, 0.05, 0.03)


def calibrate_decision(draws: int, seed: int = 0) -> list[list[str]]:
    """One table row per (case, rows, prevalence): failures out of ``draws``, median gain."""
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    import pytest_mlchecks as mlc
    from pytest_mlchecks.checks.evaluation.decision import _best_threshold

    rows = []
    for n in SIZES:
        for prevalence in PREVALENCES:
            tally: dict[str, list[tuple[bool | str, float]]] = {"0.5": [], "tuned elsewhere": []}
            for i in range(draws):
                X, y = make_classification(
                    n_samples=3 * n,
                    n_features=8,
                    n_informative=4,
                    weights=[1 - prevalence],
                    class_sep=0.8,
                    flip_y=0.02,
                    random_state=seed * 100_003 + i,
                )
                fit, val, tune = slice(0, n), slice(n, 2 * n), slice(2 * n, 3 * n)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = LogisticRegression().fit(X[fit], y[fit])
                cut, _ = _best_threshold(model.predict_proba(X[tune])[:, 1], y[tune] == 1, "f1")
                for case, threshold in (("0.5", None), ("tuned elsewhere", cut)):
                    out = mlc.check_decision_threshold_tuned(
                        model, X[val], y[val], threshold=threshold
                    )
                    tally[case].append((out.passed or out.severity, out.details["gain"]))
            for case, runs in tally.items():
                broken = case == "0.5" and prevalence < 0.5
                errors = sum(outcome == "error" for outcome, _ in runs)
                warned = sum(outcome == "warning" for outcome, _ in runs)
                gain = float(np.median([g for _, g in runs]))
                rows.append(
                    [
                        case,
                        "broken" if broken else "healthy",
                        f"{n:,}",
                        f"{prevalence:.0%}",
                        f"{errors} / {len(runs)}",
                        f"{warned} / {len(runs)}",
                        f"{gain:.3f}",
                    ]
                )
    return rows


def markdown(rows: list[list[str]]) -> str:
    headers = [
        "threshold",
        "kind",
        "validation rows",
        "positives",
        "errors",
        "warnings",
        "median gain",
    ]
    return "\n".join(md_table(headers, rows, right=(2, 3, 4, 5, 6)))
