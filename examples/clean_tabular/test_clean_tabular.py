"""The clean example: every rung of the ladder passes."""

from __future__ import annotations

import pytest
from clean_tabular_data import make_churn

from pytest_mlchecks import (
    assert_aligned,
    assert_beats_dummy,
    assert_class_balance,
    assert_finite,
    assert_fit_on_train_only,
    assert_no_drift,
    assert_no_leakage,
    assert_no_overfitting,
    assert_schema_matches,
    infer_schema,
)


@pytest.fixture(scope="module")
def churn():
    X, y = make_churn()
    cut = len(X) * 3 // 4
    return X.iloc[:cut], y.iloc[:cut], X.iloc[cut:], y.iloc[cut:]


@pytest.mark.ml_data
def test_features_are_finite(churn):
    assert_finite(churn[0])


@pytest.mark.ml_data
def test_features_and_labels_line_up(churn):
    X_train, y_train, _, _ = churn
    assert_aligned(X_train, y_train)


@pytest.mark.ml_data
def test_classes_are_not_rare(churn):
    assert_class_balance(churn[1])


@pytest.mark.ml_data
def test_splits_do_not_leak(churn):
    X_train, y_train, X_test, y_test = churn
    assert_no_leakage(
        X_train.assign(churned=y_train), X_test.assign(churned=y_test), target="churned"
    )


@pytest.mark.ml_pipeline
def test_scaler_fitted_on_train_only(churn):
    from sklearn.preprocessing import StandardScaler

    X_train = churn[0]
    assert_fit_on_train_only(StandardScaler().fit(X_train), X_train)


@pytest.mark.ml_model
def test_model_beats_dummy(churn, ml_audit):
    from sklearn.linear_model import LogisticRegression

    result = assert_beats_dummy(LogisticRegression(max_iter=1000), *churn)
    ml_audit.record(
        "test_roc_auc",
        result.details["model_score"],
        threshold=0.6,
        passed=result.details["model_score"] > 0.6,
    )


@pytest.mark.ml_evaluation
def test_model_does_not_overfit(churn):
    from sklearn.linear_model import LogisticRegression

    assert_no_overfitting(LogisticRegression(max_iter=1000), *churn)


@pytest.mark.ml_production
def test_new_batch_matches_training(churn):
    X_train = churn[0]
    new_batch, _ = make_churn(seed=99)
    assert_schema_matches(new_batch, infer_schema(X_train))
    assert_no_drift(X_train, new_batch)
