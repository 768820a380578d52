"""Calibration of ``predictions_not_collapsed``: healthy models (which must pass, apart from
predicting one class when a rare class is never above 0.5) and collapsed ones (which must
fail) on generated classification data across sizes, class balance and signal strength, plus
scikit-learn's bundled real tables. ``python -m pytest_mlchecks.calibration --only collapse``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_mlchecks._messages import md_table

SIZES = (100, 1000, 4000)
# (minority share, class separation): balanced and imbalanced, from barely-there to strong
SHAPES = ((0.5, 0.05), (0.5, 1.0), (0.1, 0.3), (0.03, 1.0))


def _models() -> dict[str, tuple[bool, Callable[[], Any]]]:
    """name -> (collapsed?, factory)."""
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    return {
        "logistic regression": (False, lambda: LogisticRegression(max_iter=500)),
        "random forest": (False, lambda: RandomForestClassifier(30, random_state=0)),
        "gradient boosting": (False, lambda: HistGradientBoostingClassifier(max_iter=30)),
        "depth-2 tree": (False, lambda: DecisionTreeClassifier(max_depth=2, random_state=0)),
        "logistic, C=1e-6": (True, lambda: LogisticRegression(C=1e-6)),
        "boosting, 1 step at lr 1e-4": (
            True,
            lambda: HistGradientBoostingClassifier(max_iter=1, learning_rate=1e-4),
        ),
        "dummy (prior)": (True, lambda: DummyClassifier(strategy="prior")),
    }


@dataclass
class CollapseRow:
    model: str
    collapsed: bool
    rows: int
    runs: int = 0
    failed: int = 0  # any finding
    one_class: int = 0  # every prediction the same class (a fact, not a threshold)
    flat: int = 0  # score spread under the limit: what the threshold decides
    spreads: list[float] = field(default_factory=list)


def calibrate_collapse(datasets: int, seed: int = 0) -> list[CollapseRow]:
    """Each model on ``datasets`` draws per size (shapes cycled), held-out rows scored."""
    import numpy as np
    from sklearn.datasets import make_classification

    import pytest_mlchecks as mlc

    rows: dict[tuple[str, int], CollapseRow] = {}
    for n in SIZES:
        for i in range(datasets):
            minority, sep = SHAPES[i % len(SHAPES)]
            X, y = make_classification(
                n_samples=2 * n,
                n_features=8,
                n_informative=3,
                weights=[1 - minority],
                class_sep=sep,
                flip_y=0.02,
                random_state=seed * 100_003 + i,
            )
            for name, (collapsed, make) in _models().items():
                row = rows.setdefault((name, n), CollapseRow(name, collapsed, n))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = make().fit(X[:n], y[:n])
                    out = mlc.check_predictions_not_collapsed(model, X[n:])
                found = out.details["findings"]
                row.runs += 1
                row.failed += bool(found)
                row.one_class += "one_value" in found
                row.flat += "flat_scores" in found
                row.spreads.append(float(out.details.get("score_spread", np.nan)))
    return list(rows.values())


def real_rows(seed: int = 0) -> list[list[str]]:
    """Healthy models on scikit-learn's bundled tables (half to fit, half to predict)."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine

    import pytest_mlchecks as mlc

    out = []
    rng = np.random.default_rng(seed)
    for loader in (load_breast_cancer, load_iris, load_wine, load_digits):
        X, y = loader(return_X_y=True)
        order = rng.permutation(len(y))
        half = len(y) // 2
        fit, score = order[:half], order[half:]
        for name, (collapsed, make) in _models().items():
            if collapsed:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make().fit(X[fit], y[fit])
                result = mlc.check_predictions_not_collapsed(model, X[score])
            spread = result.details.get("score_spread", float("nan"))
            out.append(
                [loader.__name__[5:], name, "pass" if result.passed else "FAIL", f"{spread:.3f}"]
            )
    return out


def markdown(rows: list[CollapseRow], real: list[list[str]]) -> str:
    import numpy as np

    body = [
        [
            r.model,
            "collapsed" if r.collapsed else "healthy",
            f"{r.rows:,}",
            str(r.runs),
            f"{r.failed} ({100 * r.failed / r.runs:.0f}%)",
            str(r.one_class),
            str(r.flat),
            f"{np.nanmin(r.spreads):.2g} / {np.nanmax(r.spreads):.2g}",
        ]
        for r in rows
    ]
    headers = ["model", "kind", "rows", "runs", "failed", "one class", "flat scores"]
    lines = md_table([*headers, "score spread min / max"], body, right=(2, 3, 4, 5, 6))
    lines += ["", *md_table(["table", "model", "verdict", "score spread"], real)]
    return "\n".join(lines)
