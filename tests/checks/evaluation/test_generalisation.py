"""Tests of the checks in pytest_mlchecks/checks/evaluation/generalisation.py."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from pytest_mlchecks import (
    check_no_overfitting,
    check_not_suspiciously_good,
    check_stable_across_folds,
)

from ...builders import classification_split, regression_split
from ...conftest import needs_sklearn

pytestmark = needs_sklearn


# ------------------------------------------------------------------------ evaluation


def test_unpruned_tree_overfits_and_shallow_tree_does_not() -> None:
    Xtr, ytr, Xte, yte = classification_split()
    deep = check_no_overfitting(DecisionTreeClassifier(random_state=0), Xtr, ytr, Xte, yte)
    assert not deep.passed and deep.details["train_score"] == pytest.approx(1.0)
    shallow = check_no_overfitting(
        DecisionTreeClassifier(max_depth=3, random_state=0), Xtr, ytr, Xte, yte
    )
    assert shallow.passed


def test_suspiciously_good_catches_a_leaked_feature() -> None:
    Xtr, ytr, Xte, yte = classification_split()
    assert check_not_suspiciously_good(LogisticRegression(), Xtr, ytr, Xte, yte).passed
    leak_tr = np.column_stack([Xtr, ytr + np.random.default_rng(0).normal(0, 0.01, len(ytr))])
    leak_te = np.column_stack([Xte, yte + np.random.default_rng(1).normal(0, 0.01, len(yte))])
    result = check_not_suspiciously_good(LogisticRegression(), leak_tr, ytr, leak_te, yte)
    assert not result.passed and "near-perfect" in result.message


def test_stability_across_folds() -> None:
    Xtr, ytr, _, _ = regression_split(3000)
    stable = check_stable_across_folds(LinearRegression(), Xtr, ytr, cv=5)
    assert stable.passed and len(stable.details["folds"]) == 5
    tiny_X, tiny_y = Xtr[:60], ytr[:60]
    shaky = check_stable_across_folds(DecisionTreeRegressor(random_state=0), tiny_X, tiny_y, cv=5)
    assert not shaky.passed, shaky.message
    groups = np.repeat(np.arange(30), 100)[: len(Xtr)]
    grouped = check_stable_across_folds(LinearRegression(), Xtr, ytr, cv=5, groups=groups)
    assert grouped.details["grouped"] is True
