"""calibrated and learning_curve_healthy: fire on miscalibrated probabilities and on
overfitting / underfitting curves, stay quiet on calibrated probabilities and healthy models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckError, MLCheckUsageError
from pytest_mlchecks._protocol import Recorder, Settings, recording

from ...conftest import needs_sklearn


def _calibrated(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=n)
    return (rng.uniform(size=n) < p).astype(int), p


def _multiclass(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k), size=n)
    y = np.minimum((rng.uniform(size=(n, 1)) > p.cumsum(axis=1)).sum(axis=1), k - 1)
    return y, p


# ---------------------------------------------------------------------------- calibrated


def test_calibrated_probabilities_pass_at_every_size() -> None:
    for n in (60, 300, 3000):
        y, p = _calibrated(n, seed=n)
        outcome = mlc.assert_calibrated(y, p)
        d = outcome.details
        assert d["bins"] == max(1, min(20, round(n ** (1 / 3)), n // 30))
        assert d["worst_ece"] > d["worst_excess"] and d["worst_excess"] < 0.02
        assert d["classes"] == ["1"] and sum(d["curve"]["rows"]) == n


def test_squared_probabilities_fail_with_the_figure_why_and_fix() -> None:
    y, p = _calibrated(1000)
    with pytest.raises(MLCheckError) as info:
        mlc.assert_calibrated(y, p**2)
    outcome = info.value.results[0]
    assert outcome.value == outcome.details["worst_excess"] > 0.02 == outcome.threshold
    message = str(info.value)
    assert "expected calibration error" in message and "10 equal-mass bins" in message
    assert "probabilities too low there" in message and "CalibratedClassifierCV" in message


def test_two_columns_and_named_labels_read_like_a_vector() -> None:
    y, p = _calibrated(500)
    vector = mlc.check_calibrated(y, p)
    two = mlc.check_calibrated(y, np.column_stack([1 - p, p]))
    named = mlc.check_calibrated(pd.Series(np.where(y == 1, "yes", "no")), p)
    letters = np.where(y == 1, "a", "b")  # sorted: "b" is the positive (second) class
    flipped = mlc.check_calibrated(letters, 1 - p)
    ordered = mlc.check_calibrated(letters, p, classes=["b", "a"])
    assert vector.value == two.value == named.value
    assert named.details["classes"] == ["yes"]
    assert flipped.details["classes"] == ["b"] and flipped.passed
    assert ordered.details["classes"] == ["a"] and ordered.value == vector.value


def test_multiclass_names_the_worst_class() -> None:
    y, p = _multiclass(2000, 3)
    assert mlc.check_calibrated(y, p).passed
    broken = p.copy()
    broken[:, 2] = 0.5 * p[:, 2]  # class 2 under-predicted, mass moved to class 0
    broken[:, 0] += 0.5 * p[:, 2]
    outcome = mlc.check_calibrated(y, broken)
    assert not outcome.passed and outcome.details["worst_class"] in {"0", "2"}
    assert len(outcome.details["ece"]) == 3 and "ECE per class" in outcome.message


def test_max_ece_argument_and_ini_override() -> None:
    y, p = _calibrated(1000)
    figure = mlc.check_calibrated(y, p**2).value
    assert figure is not None
    assert mlc.check_calibrated(y, p**2, max_ece=figure + 0.01).passed
    with recording(Recorder("ini", Settings(ini={"calibration_max_ece": figure + 0.01}))):
        assert mlc.check_calibrated(y, p**2).passed
    with pytest.raises(MLCheckUsageError, match="max_ece"):
        mlc.check_calibrated(y, p, max_ece=-0.1)


def test_calibrated_bad_input_names_the_argument() -> None:
    y, p = _calibrated(200)
    with pytest.raises(MLCheckUsageError, match="y_prob has 1 rows with values outside"):
        mlc.check_calibrated(y, np.r_[p[:-1], 1.5])
    with pytest.raises(MLCheckUsageError, match=r"y_prob .*NaN"):
        mlc.check_calibrated(y, np.r_[p[:-1], np.nan])
    yk, pk = _multiclass(200, 3)
    with pytest.raises(MLCheckUsageError, match="do not sum to 1"):
        mlc.check_calibrated(yk, pk * 0.9)
    with pytest.raises(MLCheckUsageError, match="y_prob"):
        mlc.check_calibrated(y, p[:50])
    with pytest.raises(MLCheckUsageError, match="y_true holds 3 labels but y_prob has 2"):
        mlc.check_calibrated(np.array(["a", "b", "c"] * 50), np.full(150, 0.5))
    with pytest.raises(MLCheckUsageError, match="not one of the y_prob columns"):
        mlc.check_calibrated(np.r_[yk[:-1], 7], pk, classes=[0, 1, 2])
    with pytest.raises(MLCheckUsageError, match="classes has 2 entries"):
        mlc.check_calibrated(yk, pk, classes=[0, 1])
    with pytest.raises(MLCheckUsageError, match="y_prob has shape"):
        mlc.check_calibrated(y, np.zeros((200, 2, 2)))
    with pytest.raises(MLCheckUsageError, match="y_true"):
        mlc.check_calibrated([], [])


def test_calibrated_is_deterministic_and_leaves_inputs_alone() -> None:
    y, p = _calibrated(400)
    y0, p0 = y.copy(), p.copy()
    assert mlc.check_calibrated(y, p).to_dict() == mlc.check_calibrated(y, p).to_dict()
    assert np.array_equal(y, y0) and np.array_equal(p, p0)


def test_reliability_chart_shows_predicted_and_observed_per_bin() -> None:
    from pytest_mlchecks._charts import chart_for

    y, p = _calibrated(1000)
    outcome = mlc.check_calibrated(y, p**2)
    build = chart_for("calibrated")
    assert build is not None
    (drawn,) = build(outcome.to_dict()["details"])
    curve = outcome.details["curve"]
    (line,) = drawn.lines
    assert drawn.diagonal and drawn.x_range == (0.0, 1.0)
    assert drawn.points(line) == list(zip(curve["predicted"], curve["observed"], strict=True))
    assert len(curve["observed"]) == outcome.details["bins"]
    assert "<polyline" in drawn.svg() and build({}) == []


@needs_sklearn
def test_real_models_logistic_passes_naive_bayes_fails_on_digits() -> None:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(Xa, ya)
    assert mlc.check_calibrated(yb, logistic.predict_proba(Xb), classes=logistic.classes_).passed
    nb = GaussianNB().fit(Xa, ya)
    outcome = mlc.check_calibrated(yb, nb.predict_proba(Xb), classes=nb.classes_)
    assert not outcome.passed and len(outcome.details["classes"]) == 10


# ---------------------------------------------------------------------------- learning curve


def _classification(n: int, flip: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    X, y = make_classification(n, n_features=8, n_informative=4, flip_y=flip, random_state=seed)
    return X, y


@needs_sklearn
def test_well_specified_model_is_healthy_and_never_fitted_itself() -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = _classification(300, 0.05)
    X0 = X.copy()
    model = LogisticRegression()
    outcome = mlc.assert_learning_curve_healthy(model, X, y)
    d = outcome.details
    assert d["diagnosis"] == "healthy" and d["folds"] == 5 and len(d["train_sizes"]) == 5
    assert d["train_sizes"][-1] == 240 and d["dummy"] == 0.5 and d["metric"] == "roc_auc"
    assert not hasattr(model, "coef_") and np.array_equal(X, X0)
    assert mlc.check_learning_curve_healthy(model, X, y).to_dict() == outcome.to_dict()


@needs_sklearn
def test_unpruned_tree_on_noisy_labels_overfits() -> None:
    from sklearn.tree import DecisionTreeClassifier

    X, y = _classification(300, 0.3)
    with pytest.raises(MLCheckError) as info:
        mlc.assert_learning_curve_healthy(DecisionTreeClassifier(random_state=0), X, y)
    outcome = info.value.results[0]
    assert outcome.details["diagnosis"] == "overfitting"
    assert outcome.value == outcome.details["gap"] > 0.2 and outcome.threshold == 0.1
    assert "overfitting" in str(info.value) and "max_depth" in str(info.value)
    tree = DecisionTreeClassifier(random_state=0)
    assert mlc.check_learning_curve_healthy(tree, X, y, cv=3, max_gap=0.9).passed
    with recording(Recorder("ini", Settings(ini={"learning_curve_max_gap": 0.9}))):
        assert mlc.check_learning_curve_healthy(tree, X, y, cv=3).passed


@needs_sklearn
def test_linear_model_on_circles_underfits() -> None:
    from sklearn.datasets import make_circles
    from sklearn.linear_model import LogisticRegression

    X, y = make_circles(400, noise=0.1, factor=0.5, random_state=0)
    outcome = mlc.check_learning_curve_healthy(LogisticRegression(), X, y)
    assert not outcome.passed and outcome.details["diagnosis"] == "underfitting"
    assert outcome.value == outcome.details["train_gain"] < 0.05 == outcome.threshold
    assert "dummy baseline" in outcome.message
    assert mlc.check_learning_curve_healthy(LogisticRegression(), X, y, min_gain=-1).passed


@needs_sklearn
def test_validation_above_train_is_the_leakage_signature() -> None:
    from pytest_mlchecks.checks.evaluation.curves import _diagnose

    train = np.full((2, 5), 0.80)
    valid = np.array([[0.80] * 5, [0.90, 0.91, 0.89, 0.90, 0.92]])
    kind, figures = _diagnose(train, valid, 0.5, (0.1, 0.05, 0.02))
    assert kind == "validation_above_train" and figures["gap"] < -0.08
    assert _diagnose(train, train, 0.5, (0.1, 0.05, 0.02))[0] == "healthy"


@needs_sklearn
def test_more_data_helps_is_reported_without_failing() -> None:
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Ridge

    X, y = make_regression(150, n_features=40, n_informative=30, noise=5.0, random_state=0)
    outcome = mlc.check_learning_curve_healthy(Ridge(alpha=1e-3), X, y, train_sizes=[0.5, 1.0])
    assert outcome.details["more_data_helps"] and outcome.details["metric"] == "r2"
    assert "more data would help" in outcome.message


@needs_sklearn
def test_learning_curve_bad_input_is_a_usage_error() -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = _classification(100, 0.0)
    model = LogisticRegression()
    with pytest.raises(MLCheckUsageError, match="y"):
        mlc.check_learning_curve_healthy(model, X, y[:50])
    with pytest.raises(MLCheckUsageError, match="cv must be an integer"):
        mlc.check_learning_curve_healthy(model, X, y, cv=1)
    for bad in ([0.5], [0.0, 1.0], [0.5, 20], "many"):
        with pytest.raises(MLCheckUsageError, match="train_sizes"):
            mlc.check_learning_curve_healthy(model, X, y, train_sizes=bad)
    with pytest.raises(MLCheckUsageError, match="max_gap"):
        mlc.check_learning_curve_healthy(model, X, y, max_gap=-1)
    with pytest.raises(MLCheckUsageError, match="model"):
        mlc.check_learning_curve_healthy(object(), X, y)


@needs_sklearn
def test_learning_curve_chart_has_train_and_validation_by_size() -> None:
    from sklearn.linear_model import LogisticRegression

    from pytest_mlchecks._charts import chart_for

    X, y = _classification(200, 0.05)
    outcome = mlc.check_learning_curve_healthy(LogisticRegression(), X, y, cv=3)
    build = chart_for("learning_curve_healthy")
    assert build is not None
    (drawn,) = build(outcome.to_dict()["details"])
    assert [line.name for line in drawn.lines] == ["train", "validation"]
    sizes = outcome.details["train_sizes"]
    assert [x for x, _ in drawn.points(drawn.lines[1])] == sizes
    assert [m.name for m in drawn.marks] == ["dummy baseline"]
    assert drawn.svg().count("<polyline") == 2 and build({}) == []
