"""Calibration of ``calibrated`` and ``learning_curve_healthy``.

``calibrated``: probabilities p drawn from several distributions (binary: uniform, U-shaped
Beta(0.5, 0.5), Beta(2, 8) around 20% positives, Beta(1, 30) around 3%; multiclass:
Dirichlet with 3 and 10 classes), labels drawn as Bernoulli(p) / Categorical(p) so p is
perfectly calibrated; broken = the same labels scored with p ** 2 (binary) or with the logits
doubled (temperature 0.5, overconfident). Then real models on scikit-learn's bundled tables.

``learning_curve_healthy``: generated tables with well-specified models (which must pass),
an unpruned tree on noisy labels (overfitting), a linear model on concentric circles
(underfitting) and a leaked feature, then real tables.

``python -m pytest_mlchecks.calibration --only curves``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from pytest_mlchecks._messages import md_table

SIZES = (300, 1000, 10000)


def _binary_draws() -> dict[str, Callable[[Any, int], Any]]:
    return {
        "uniform": lambda rng, n: rng.uniform(size=n),
        "Beta(0.5, 0.5)": lambda rng, n: rng.beta(0.5, 0.5, size=n),
        "Beta(2, 8), ~20% positive": lambda rng, n: rng.beta(2, 8, size=n),
        "Beta(1, 30), ~3% positive": lambda rng, n: rng.beta(1, 30, size=n),
    }


def _overconfident(prob: Any) -> Any:
    """Class probabilities with the logits doubled (temperature 0.5)."""
    import numpy as np

    if prob.ndim == 1:
        clipped = np.clip(prob, 1e-12, 1 - 1e-12)
        logit = np.log(clipped / (1 - clipped))
        return 1 / (1 + np.exp(-2 * logit))
    logits = 2 * np.log(np.clip(prob, 1e-12, None))
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def calibrate_calibrated(draws: int, seed: int = 0) -> list[list[str]]:
    """One row per (p distribution, rows, case): failures out of ``draws`` at the default,
    and the 1% / 99% quantiles of the figure (ECE minus its noise allowance)."""
    import numpy as np

    import pytest_mlchecks as mlc

    rows = []
    cases: list[tuple[str, Callable[[Any, int], tuple[Any, Any]]]] = []
    for name, draw in _binary_draws().items():

        def binary(rng: Any, n: int, draw: Callable[[Any, int], Any] = draw) -> tuple[Any, Any]:
            p = draw(rng, n)
            return (rng.uniform(size=n) < p).astype(int), p

        cases.append((name, binary))
    for k in (3, 10):

        def multi(rng: Any, n: int, k: int = k) -> tuple[Any, Any]:
            p = rng.dirichlet(np.full(k, 1.0), size=n)
            y = (rng.uniform(size=(n, 1)) > p.cumsum(axis=1)).sum(axis=1)
            return np.minimum(y, k - 1), p

        cases.append((f"Dirichlet(1), {k} classes", multi))
    for name, make in cases:
        for n in SIZES:
            figures: dict[str, list[float]] = {"calibrated": [], "p ** 2": [], "T = 0.5": []}
            fails = dict.fromkeys(figures, 0)
            for i in range(draws):
                rng = np.random.default_rng(seed * 1_000_003 + i)
                y, p = make(rng, n)
                variants = {"calibrated": p, "T = 0.5": _overconfident(p)}
                if p.ndim == 1:
                    variants["p ** 2"] = p**2
                for case, prob in variants.items():
                    out = mlc.check_calibrated(y, prob)
                    figures[case].append(float(out.value or 0.0))
                    fails[case] += not out.passed
            for case, values in figures.items():
                if not values:
                    continue
                rows.append(
                    [
                        name,
                        f"{n:,}",
                        case,
                        f"{fails[case]} / {len(values)}",
                        f"{np.quantile(values, 0.01):.3f}",
                        f"{np.quantile(values, 0.99):.3f}",
                    ]
                )
    return rows


def _real_models() -> dict[str, Callable[[], Any]]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logistic regression": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000)
        ),
        "GaussianNB": GaussianNB,
        "random forest, 3 trees": lambda: RandomForestClassifier(3, random_state=0),
    }


def calibrated_real_rows(splits: int = 20) -> list[list[str]]:
    """Each model on random halves of breast_cancer and digits: fitted on one half, its
    predict_proba judged on the other."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split

    import pytest_mlchecks as mlc

    rows = []
    for table, loader in (("breast_cancer", load_breast_cancer), ("digits", load_digits)):
        X, y = loader(return_X_y=True)
        for name, factory in _real_models().items():
            fails, figures = 0, []
            for s in range(splits):
                Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.5, random_state=s, stratify=y)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = factory().fit(Xa, ya)
                out = mlc.check_calibrated(yb, model.predict_proba(Xb), classes=model.classes_)
                fails += not out.passed
                figures.append(float(out.details["worst_ece"]))
            rows.append(
                [
                    table,
                    f"{len(y) // 2:,}",
                    name,
                    f"{fails} / {splits}",
                    f"{np.median(figures):.3f}",
                ]
            )
    return rows


def markdown_calibrated(rows: list[list[str]], real: list[list[str]]) -> str:
    headers = ["probabilities", "rows", "case", "failed", "figure q01", "figure q99"]
    lines = md_table(headers, rows, right=(1, 3, 4, 5))
    lines += ["", *md_table(["table", "judged rows", "model", "failed", "median ECE"], real)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- learning curve


def _learning_cases() -> dict[str, tuple[str, Callable[[int, int], tuple[Any, Any, Any]]]]:
    """name -> (expected diagnosis, (rows, seed) -> (model, X, y))."""
    import numpy as np
    from sklearn.datasets import make_circles, make_classification, make_regression
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.tree import DecisionTreeClassifier

    def logistic(n: int, s: int) -> tuple[Any, Any, Any]:
        X, y = make_classification(n, n_features=10, n_informative=5, flip_y=0.05, random_state=s)
        return LogisticRegression(), X, y

    def ridge(n: int, s: int) -> tuple[Any, Any, Any]:
        X, y = make_regression(n, n_features=10, n_informative=5, noise=30.0, random_state=s)
        return Ridge(), X, y

    def deep_tree(n: int, s: int) -> tuple[Any, Any, Any]:
        X, y = make_classification(n, n_features=10, n_informative=5, flip_y=0.3, random_state=s)
        return DecisionTreeClassifier(random_state=0), X, y

    def circles(n: int, s: int) -> tuple[Any, Any, Any]:
        X, y = make_circles(n, noise=0.1, factor=0.5, random_state=s)
        return LogisticRegression(), X, y

    def leaked(n: int, s: int) -> tuple[Any, Any, Any]:
        model, X, y = deep_tree(n, s)
        noise = np.random.default_rng(s).normal(0, 0.3, n)
        return model, np.column_stack([X, y + noise]), y

    return {
        "logistic regression, logistic data": ("healthy", logistic),
        "ridge, linear data": ("healthy", ridge),
        "unpruned tree, 30% flipped labels": ("overfitting", deep_tree),
        "logistic regression, concentric circles": ("underfitting", circles),
        "unpruned tree + leaked feature y + N(0, 0.3)": ("validation_above_train", leaked),
    }


def calibrate_learning_curve(
    draws: int, sizes: tuple[int, ...] = (300, 1000), seed: int = 0
) -> list[list[str]]:
    """Each case on ``draws`` seeded datasets per size (fewer draws at larger sizes):
    diagnoses made, and the quantiles of the gap and of the training gain over the dummy."""
    import numpy as np

    import pytest_mlchecks as mlc

    rows = []
    for name, (expected, make) in _learning_cases().items():
        for n in sizes:
            runs = draws if expected == "healthy" else max(10, draws // 5)
            runs = runs if n == sizes[0] else max(10, runs // 10)
            found: dict[str, int] = {}
            gaps, gains = [], []
            for i in range(runs):
                model, X, y = make(n, seed * 1_000_003 + i)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out = mlc.check_learning_curve_healthy(model, X, y)
                kind = str(out.details["diagnosis"])
                found[kind] = found.get(kind, 0) + 1
                gaps.append(float(out.details["gap"]))
                gains.append(float(out.details["train_gain"]))
            tally = ", ".join(f"{k} {v}" for k, v in sorted(found.items()))
            rows.append(
                [
                    name,
                    expected,
                    f"{n:,}",
                    f"{found.get(expected, 0)} / {runs}",
                    tally,
                    f"{np.quantile(gaps, 0.01):.3f} to {np.quantile(gaps, 0.99):.3f}",
                    f"{np.quantile(gains, 0.01):.3f} to {np.quantile(gains, 0.99):.3f}",
                ]
            )
    return rows


def learning_curve_real_rows() -> list[list[str]]:
    """Logistic regression and a random forest on bundled tables (default cv=5, seed 0)."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import pytest_mlchecks as mlc

    def linear_classifier() -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))

    tables = {
        "breast_cancer": (load_breast_cancer, linear_classifier, RandomForestClassifier),
        "wine": (load_wine, linear_classifier, RandomForestClassifier),
        "digits": (load_digits, linear_classifier, RandomForestClassifier),
        "diabetes": (load_diabetes, Ridge, RandomForestRegressor),
    }
    rows = []
    for table, (loader, linear, forest) in tables.items():
        X, y = loader(return_X_y=True)
        for name, model in (
            ("linear", linear()),
            ("random forest (100 trees)", forest(random_state=0)),
        ):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = mlc.check_learning_curve_healthy(model, X, y)
            d = out.details
            rows.append(
                [
                    table,
                    name,
                    str(d["metric"]),
                    str(d["diagnosis"]) + (" (more data helps)" if d["more_data_helps"] else ""),
                    f"{d['train_mean'][-1]:.3f} / {d['validation_mean'][-1]:.3f}",
                    f"{d['gap']:.3f} ± {d['gap_se']:.3f}",
                ]
            )
    return rows


def markdown_learning_curve(rows: list[list[str]], real: list[list[str]]) -> str:
    headers = ["case", "expected", "rows", "as expected", "diagnoses", "gap q01-q99", "train gain"]
    lines = md_table(headers, rows, right=(2, 3))
    headers = ["table", "model", "metric", "diagnosis", "train / validation", "gap ± SE"]
    return "\n".join([*lines, "", *md_table(headers, real)])
