"""Labels reordered on one side only: the data rung catches the misalignment."""

from __future__ import annotations

import pytest
from house_data import make_houses

from pytest_mlchecks import assert_aligned


@pytest.mark.ml_data
def test_features_and_prices_line_up():
    X, y = make_houses()
    assert_aligned(X, y)  # fails: y was sorted, X was not


@pytest.mark.ml_model
def test_price_model_fits(ml_audit):
    from sklearn.linear_model import LinearRegression

    X, y = make_houses()
    r2 = LinearRegression().fit(X, y.to_numpy()).score(X, y.to_numpy())
    ml_audit.record("train_r2", r2)
