"""A small project whose audit report shows every kind of chart: the HTML report's browser
test (tests/test_html_report.py) renders it, and docs/report.png is its screenshot. Some
checks fail on purpose (drift, calibration, a weak segment, a performance drop, a leak)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

import pytest_mlchecks as mlc


def _table(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    X, y = make_classification(
        n_samples=n, n_features=6, n_informative=4, class_sep=0.8, random_state=seed
    )
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), y


def test_new_batch_has_not_drifted() -> None:
    rng = np.random.default_rng(1)
    cities = ["Lyon", "Paris", 'R&D <"lab">']
    reference = pd.DataFrame(
        {
            "income": rng.lognormal(10, 0.5, 3000),
            "children": rng.poisson(1.2, 3000),
            "city": rng.choice(cities, 3000, p=[0.5, 0.3, 0.2]),
        }
    )
    current = pd.DataFrame(
        {
            "income": rng.lognormal(10.25, 0.5, 3000),
            "children": rng.poisson(2.0, 3000),
            "city": rng.choice(cities, 3000, p=[0.25, 0.3, 0.45]),
        }
    )
    mlc.assert_no_drift(reference, current)


def test_probabilities_are_calibrated() -> None:
    X, y = _table(3000)
    model = GaussianNB().fit(X[:1500], y[:1500])
    mlc.assert_calibrated(y[1500:], model.predict_proba(X[1500:])[:, 1])


def test_learning_curve_is_healthy() -> None:
    X, y = _table(1200)
    mlc.assert_learning_curve_healthy(LogisticRegression(), X, y, cv=3)


def test_model_beats_its_baselines() -> None:
    X, y = _table(2000, seed=3)
    model = LogisticRegression().fit(X[:1000], y[:1000])
    mlc.assert_beats_baselines(model, X[:1000], y[:1000], X[1000:], y[1000:])


def test_no_weak_segment() -> None:
    rng = np.random.default_rng(4)
    n = 4000
    X = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east", "west"], n),
            "age": rng.integers(18, 80, n),
        }
    )
    y = rng.integers(0, 2, n)
    wrong = rng.random(n) < np.where(X["region"] == "east", 0.35, 0.08)
    mlc.assert_no_weak_segments(y, np.where(wrong, 1 - y, y), X, metric="accuracy")


def test_performance_holds_in_production() -> None:
    rng = np.random.default_rng(5)
    n = 6000
    y = rng.integers(0, 2, n)
    signal = np.where(np.arange(n) < 4000, 1.6, 0.6)
    score = 1 / (1 + np.exp(-(signal * (2 * y - 1) + rng.normal(0, 1, n))))
    mlc.assert_performance_holds(y, score, baseline=0.87, window=500)


def test_decisions_are_fair() -> None:
    rng = np.random.default_rng(6)
    n = 3000
    group = rng.choice(["a", "b", "c"], n)
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.85, y, 1 - y)
    mlc.assert_fair(y, pred, group)


def test_no_feature_leaks_the_target() -> None:
    X, y = _table(2000, seed=7)
    X["approved_flag"] = y  # recorded after the decision: a copy of the target
    X["target"] = y
    mlc.assert_no_target_leakage(X[:1000], X[1000:], "target")
