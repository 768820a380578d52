"""predictions_not_collapsed: fires on collapsed models, quiet on healthy ones."""

from __future__ import annotations

import numpy as np
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckError, MLCheckUsageError

from ...conftest import needs_sklearn

pytestmark = needs_sklearn


def _imbalanced(n: int = 2000, seed: int = 0, positive: float = 0.1) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=2 * n,
        n_features=8,
        n_informative=3,
        weights=[1 - positive],
        class_sep=0.8,
        random_state=seed,
    )
    return X[:n], y[:n], X[n:], y[n:]


def test_healthy_classifiers_pass_on_real_and_generated_data() -> None:
    from sklearn.datasets import load_breast_cancer, load_iris, load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for loader in (load_breast_cancer, load_iris, load_wine):
        X, y = loader(return_X_y=True)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
        outcome = mlc.assert_predictions_not_collapsed(model, X)
        assert outcome.details["score_spread"] > 0.5, loader.__name__
    X_train, y_train, X_test, _ = _imbalanced()
    forest = RandomForestClassifier(50, random_state=0).fit(X_train, y_train)
    outcome = mlc.check_predictions_not_collapsed(forest, X_test)
    assert outcome.passed, outcome.message
    assert outcome.details["distinct_predictions"] == 2


def test_regularised_to_death_classifier_fails_with_the_figure() -> None:
    from sklearn.linear_model import LogisticRegression

    X_train, y_train, X_test, _ = _imbalanced()
    model = LogisticRegression(C=1e-8).fit(X_train, y_train)
    with pytest.raises(MLCheckError) as info:
        mlc.assert_predictions_not_collapsed(model, X_test)
    message = str(info.value)
    assert "every one of 2,000 predictions is the same class" in message
    assert "every class probability stays within" in message
    assert "regularisation far too strong" in message
    outcome = info.value.results[0]
    assert outcome.details["findings"] == ["one_value", "flat_scores"]
    assert outcome.details["score_spread"] < 1e-3
    assert outcome.value == 1.0


def test_dummy_models_fail() -> None:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    X_train, y_train, X_test, _ = _imbalanced(500)
    assert not mlc.check_predictions_not_collapsed(
        DummyClassifier().fit(X_train, y_train), X_test
    ).passed
    regressor = DummyRegressor().fit(X_train, y_train.astype(float))
    outcome = mlc.check_predictions_not_collapsed(regressor, X_test)
    assert not outcome.passed and outcome.details["task"] == "regression"
    assert "same value" in outcome.message


def test_regression_spread_is_read_against_y() -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression, Ridge

    X, y = load_diabetes(return_X_y=True)
    healthy = mlc.check_predictions_not_collapsed(LinearRegression().fit(X, y), X, y=y)
    assert healthy.passed, healthy.message
    assert healthy.details["relative_spread"] > 0.5
    flat = mlc.check_predictions_not_collapsed(Ridge(alpha=1e9).fit(X, y), X, y=y)
    assert not flat.passed
    assert flat.details["findings"] == ["flat_predictions"]
    # without y, predictions that still differ cannot be judged flat
    assert mlc.check_predictions_not_collapsed(Ridge(alpha=1e9).fit(X, y), X).passed


def test_one_class_with_varying_scores_points_at_the_threshold() -> None:
    from sklearn.linear_model import LogisticRegression

    # a real but rare signal: P(y=1 | x) = sigmoid(x - 5) stays below 0.5 for x < 5, so every
    # prediction is the majority class while the scores still rank the rows
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, 1))
    y = (rng.random(20_000) < 1 / (1 + np.exp(5 - x[:, 0]))).astype(int)
    model = LogisticRegression().fit(x[:10_000], y[:10_000])
    outcome = mlc.check_predictions_not_collapsed(model, x[10_000:])
    assert outcome.details["distinct_predictions"] == 1
    assert outcome.details["findings"] == ["one_value"]
    assert outcome.details["score_spread"] > 0.05
    assert "decision threshold" in outcome.message


def test_max_share_lowers_the_bar_and_is_validated() -> None:
    from sklearn.ensemble import RandomForestClassifier

    X_train, y_train, X_test, _ = _imbalanced(positive=0.05)
    forest = RandomForestClassifier(30, random_state=0).fit(X_train, y_train)
    passed = mlc.check_predictions_not_collapsed(forest, X_test)
    assert passed.passed
    strict = mlc.check_predictions_not_collapsed(forest, X_test, max_share=0.9)
    assert not strict.passed and strict.details["findings"] == ["top_share"]
    assert strict.provenance["collapse_max_share"] == {"value": 0.9, "source": "argument"}
    for bad in (0.0, 1.5, float("nan")):
        with pytest.raises(MLCheckUsageError, match="max_share"):
            mlc.check_predictions_not_collapsed(forest, X_test, max_share=bad)


def test_bad_input_is_a_usage_error_and_nothing_is_mutated() -> None:
    from sklearn.linear_model import LogisticRegression

    X_train, y_train, X_test, y_test = _imbalanced(300)
    model = LogisticRegression().fit(X_train, y_train)
    coef, before = model.coef_.copy(), X_test.copy()
    mlc.check_predictions_not_collapsed(model, X_test, y=y_test)
    assert np.array_equal(model.coef_, coef) and np.array_equal(X_test, before)
    with pytest.raises(MLCheckUsageError, match="no predict method"):
        mlc.check_predictions_not_collapsed(object(), X_test)
    with pytest.raises(MLCheckUsageError, match="X is empty"):
        mlc.check_predictions_not_collapsed(model, X_test[:0])
    with pytest.raises(MLCheckUsageError, match="y"):
        mlc.check_predictions_not_collapsed(model, X_test, y=y_test[:10])


def test_html_chart_shows_share_and_spread() -> None:
    from sklearn.dummy import DummyClassifier

    from pytest_mlchecks._charts import chart_for

    X_train, y_train, X_test, _ = _imbalanced(300)
    outcome = mlc.check_predictions_not_collapsed(DummyClassifier().fit(X_train, y_train), X_test)
    build = chart_for("predictions_not_collapsed")
    assert build is not None
    (drawn,) = build(outcome.to_dict()["details"])
    assert drawn.labels == ["most frequent prediction (share)", "score spread"]
    assert "<svg" in drawn.svg()
    assert build({}) == []
