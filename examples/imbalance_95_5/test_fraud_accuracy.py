"""95/5 imbalance scored by accuracy: the model rung shows the model is no better than always
saying 'not fraud', and says which metric to use."""

from __future__ import annotations

import pytest
from fraud_data import make_transactions

from pytest_mlchecks import assert_beats_dummy


@pytest.mark.ml_model
def test_fraud_model_beats_dummy_on_accuracy():
    from sklearn.tree import DecisionTreeClassifier

    X, y = make_transactions()
    cut = int(len(X) * 0.75)
    model = DecisionTreeClassifier(max_depth=1, random_state=0)
    # fails: accuracy ~0.95 for both; the message explains the accuracy trap
    assert_beats_dummy(model, X[:cut], y[:cut], X[cut:], y[cut:], metric="accuracy")
