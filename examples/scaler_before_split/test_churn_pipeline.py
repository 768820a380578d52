"""A scaler fitted before the split: the pipeline rung notices it saw the test rows."""

from __future__ import annotations

import pytest
from churn_pipeline import fitted_scaler_and_split

from pytest_mlchecks import assert_fit_on_train_only, assert_no_leakage


@pytest.mark.ml_data
def test_raw_splits_are_clean():
    _, X_train, _, X_test, _ = fitted_scaler_and_split()
    assert_no_leakage(X_train, X_test)


@pytest.mark.ml_pipeline
def test_scaler_saw_only_training_rows():
    scaler, X_train, _, _, _ = fitted_scaler_and_split()
    assert_fit_on_train_only(scaler, X_train)  # fails: it has seen 2,000 rows, X_train 1,500


@pytest.mark.ml_model
def test_model_on_scaled_features(ml_audit):
    from sklearn.linear_model import LogisticRegression

    scaler, X_train, y_train, X_test, y_test = fitted_scaler_and_split()
    model = LogisticRegression().fit(scaler.transform(X_train), y_train)
    ml_audit.record("test_accuracy", model.score(scaler.transform(X_test), y_test))
