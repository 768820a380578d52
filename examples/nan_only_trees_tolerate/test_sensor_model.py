"""NaNs that only trees tolerate: the data rung catches them before the model rung runs."""

from __future__ import annotations

import pytest
from sensor_data import make_sensor_readings

from pytest_mlchecks import assert_finite


@pytest.mark.ml_data
def test_readings_are_finite():
    X, _ = make_sensor_readings()
    assert_finite(X)  # fails: vibration has gaps


@pytest.mark.ml_model
def test_tree_model_scores_well(ml_audit):
    # Blocked under --ml-audit: HistGradientBoosting would train on the gaps without a word.
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = make_sensor_readings()
    model = HistGradientBoostingClassifier(random_state=0).fit(X[:2000], y[:2000])
    ml_audit.record("test_accuracy", model.score(X[2000:], y[2000:]))
