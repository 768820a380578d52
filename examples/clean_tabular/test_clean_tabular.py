"""The clean example: the whole ladder passes."""

from __future__ import annotations

import pytest
from clean_tabular_data import make_churn

from pytest_mlchecks import assert_aligned, assert_class_balance, assert_finite


@pytest.fixture(scope="module")
def churn():
    return make_churn()


@pytest.mark.ml_data
def test_features_are_finite(churn):
    X, _ = churn
    assert_finite(X)


@pytest.mark.ml_data
def test_features_and_labels_line_up(churn):
    X, y = churn
    assert_aligned(X, y)


@pytest.mark.ml_data
def test_classes_are_not_rare(churn):
    _, y = churn
    assert_class_balance(y)


@pytest.mark.ml_model
def test_model_learns_something(churn, ml_audit):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    X, y = churn
    split = len(X) * 3 // 4
    model = LogisticRegression(max_iter=1000).fit(X[:split], y[:split])
    auc = roc_auc_score(y[split:], model.predict_proba(X[split:])[:, 1])
    ml_audit.record("test_roc_auc", auc, threshold=0.6, passed=auc > 0.6)
    assert auc > 0.6
