"""95/5 imbalance: the data rung warns and names the metric to use instead of accuracy."""

from __future__ import annotations

import pytest
from fraud_data import make_transactions

from pytest_mlchecks import assert_class_balance


@pytest.mark.ml_data
def test_label_balance():
    _, y = make_transactions()
    assert_class_balance(y)  # a warning: fails only with --ml-strict
