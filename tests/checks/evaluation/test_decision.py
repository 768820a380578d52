"""decision_threshold_tuned: fires on 0.5 with rare positives, quiet when 0.5 or the given
threshold is already near the best."""

from __future__ import annotations

import numpy as np
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckError, MLCheckUsageError

from ...conftest import needs_sklearn

pytestmark = needs_sklearn


def _split(n: int, positive: float, seed: int = 0, sep: float = 1.0) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=3 * n,
        n_features=8,
        n_informative=4,
        weights=[1 - positive],
        class_sep=sep,
        flip_y=0.02,
        random_state=seed,
    )
    return X[:n], y[:n], X[n : 2 * n], y[n : 2 * n], X[2 * n :], y[2 * n :]


def _model(X: np.ndarray, y: np.ndarray) -> object:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(X, y)


def test_half_on_rare_positives_fails_with_both_thresholds_and_scores() -> None:
    X_train, y_train, X_val, y_val, _, _ = _split(5000, 0.03)
    model = _model(X_train, y_train)
    with pytest.raises(MLCheckError) as info:
        mlc.assert_decision_threshold_tuned(model, X_val, y_val)
    outcome = info.value.results[0]
    d = outcome.details
    assert d["threshold_in_use"] is None and d["best_threshold"] < 0.5
    assert d["best_score"] > d["score_in_use"] + 0.1
    assert d["gain"] - 2.326 * d["gain_se"] > d["margin"] == 0.05
    message = str(info.value)
    assert "at threshold predict (0.5)" in message and "the best threshold on these" in message
    assert "TunedThresholdClassifierCV" in message


def test_balanced_data_at_half_and_a_tuned_threshold_pass() -> None:
    from pytest_mlchecks.checks.evaluation.decision import _best_threshold

    X_train, y_train, X_val, y_val, _, _ = _split(3000, 0.5)
    balanced = mlc.assert_decision_threshold_tuned(_model(X_train, y_train), X_val, y_val)
    assert abs(balanced.details["gain"]) < 0.05
    X_train, y_train, X_val, y_val, X_tune, y_tune = _split(5000, 0.03)
    model = _model(X_train, y_train)
    cut, _ = _best_threshold(model.predict_proba(X_tune)[:, 1], y_tune == 1, "f1")
    tuned = mlc.assert_decision_threshold_tuned(model, X_val, y_val, threshold=cut)
    assert tuned.details["threshold_in_use"] == cut
    for metric in ("balanced_accuracy", "mcc"):
        outcome = mlc.check_decision_threshold_tuned(model, X_val, y_val, metric=metric)
        assert outcome.details["metric"] == metric


def test_same_seed_same_figure_and_nothing_mutated() -> None:
    X_train, y_train, X_val, y_val, _, _ = _split(800, 0.1)
    model = _model(X_train, y_train)
    before = X_val.copy()
    first = mlc.check_decision_threshold_tuned(model, X_val, y_val, random_state=3)
    second = mlc.check_decision_threshold_tuned(model, X_val, y_val, random_state=3)
    assert first.to_dict() == second.to_dict()
    assert np.array_equal(X_val, before)


def test_bad_input_is_a_usage_error() -> None:
    from sklearn.linear_model import LinearRegression, LogisticRegression

    X_train, y_train, X_val, y_val, _, _ = _split(300, 0.3)
    model = _model(X_train, y_train)
    with pytest.raises(MLCheckUsageError, match="metric must be one of"):
        mlc.check_decision_threshold_tuned(model, X_val, y_val, metric="accuracy")  # type: ignore[arg-type]
    with pytest.raises(MLCheckUsageError, match="only one class"):
        mlc.check_decision_threshold_tuned(model, X_val, np.zeros(len(y_val), dtype=int))
    with pytest.raises(MLCheckUsageError, match="threshold must be a finite number"):
        mlc.check_decision_threshold_tuned(model, X_val, y_val, threshold=float("nan"))
    with pytest.raises(MLCheckUsageError, match="binary classifier"):
        mlc.check_decision_threshold_tuned(LinearRegression().fit(X_train, y_train), X_val, y_val)
    three = np.arange(len(y_train)) % 3
    with pytest.raises(MLCheckUsageError, match="binary classifier"):
        mlc.check_decision_threshold_tuned(
            LogisticRegression().fit(X_train, three), X_val, np.arange(len(y_val)) % 3
        )
    with pytest.raises(MLCheckUsageError, match="y_val"):
        mlc.check_decision_threshold_tuned(model, X_val, y_val[:10])
    with pytest.raises(MLCheckUsageError, match="margin"):
        mlc.check_decision_threshold_tuned(model, X_val, y_val, margin=-0.1)


def test_html_chart_compares_the_threshold_in_use_with_the_best() -> None:
    from pytest_mlchecks._charts import chart_for

    X_train, y_train, X_val, y_val, _, _ = _split(1000, 0.1)
    outcome = mlc.check_decision_threshold_tuned(_model(X_train, y_train), X_val, y_val)
    build = chart_for("decision_threshold_tuned")
    assert build is not None
    (drawn,) = build(outcome.to_dict()["details"])
    assert list(drawn.labels) == ["in use", "best on validation"]
    assert list(drawn.series[0].values) == [
        outcome.details["score_in_use"],
        outcome.details["best_score"],
    ]
    assert "<svg" in drawn.svg() and build({}) == []


def test_a_gain_above_the_margin_within_its_noise_is_a_warning() -> None:
    """300 validation rows, 12% positives: the held-out gain's 95% lower bound is above the
    margin, its 99% one is not: a warning (fails under --ml-strict), not an error."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=600,
        n_features=6,
        n_informative=3,
        weights=[0.88],
        class_sep=0.8,
        flip_y=0.02,
        random_state=5,
    )
    model = _model(X[:300], y[:300])
    result = mlc.check_decision_threshold_tuned(model, X[300:], y[300:])
    d = result.details
    assert not result.passed and result.severity == "warning"
    assert d["gain"] - 1.645 * d["gain_se"] > d["margin"] > d["gain"] - 2.326 * d["gain_se"]
    assert "its 95% lower bound" in result.message and "a warning" in result.message
    # a margin above the gain passes
    assert mlc.check_decision_threshold_tuned(model, X[300:], y[300:], margin=0.3).passed
