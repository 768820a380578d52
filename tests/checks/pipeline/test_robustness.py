"""pipeline/robustness.py: row order, missing values, unseen categories, both ways."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from pytest_mlchecks import (
    check_handles_missing,
    check_handles_unseen_categories,
    check_invariant_to_row_order,
)

from ...conftest import needs_sklearn

pytestmark = needs_sklearn  # the module imports scikit-learn: conftest's NEEDS_AT_IMPORT


def _xy():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=300), "city": rng.choice(["a", "b", "c"], 300)})
    y = (X["x"] + (X["city"] == "a") > 0.3).astype(int)
    return X, y


def _pipe(*, impute: bool, unknown: str):
    num = make_pipeline(SimpleImputer(), StandardScaler()) if impute else StandardScaler()
    # OrdinalEncoder() raises on unknown categories
    cat = OneHotEncoder(handle_unknown="ignore") if unknown == "ignore" else OrdinalEncoder()
    if impute:
        cat = make_pipeline(SimpleImputer(strategy="most_frequent"), cat)
    pre = make_column_transformer((num, ["x"]), (cat, ["city"]))
    X, y = _xy()
    return make_pipeline(pre, LogisticRegression()).fit(X, y)


def test_property_helpers_both_ways() -> None:
    X, _ = _xy()
    robust = _pipe(impute=True, unknown="ignore")
    fragile = _pipe(impute=False, unknown="error")
    assert check_invariant_to_row_order(robust, X).passed
    assert check_handles_missing(robust, X).passed
    assert check_handles_unseen_categories(robust, X).passed
    before = X.copy()
    missing = check_handles_missing(fragile, X)
    pd.testing.assert_frame_equal(X, before)  # probes never write to the caller's frame
    assert not missing.passed and set(missing.details["broken"]) == {"x", "city"}
    unseen = check_handles_unseen_categories(fragile, X)
    assert not unseen.passed and "raises" in unseen.details["broken"]["city"]


class _BatchScaled:
    """Predictions that use the batch's own mean: depends on which rows come together."""

    def predict(self, X):
        values = np.asarray(X["x"], dtype=float)
        return values - values[: len(values) // 2].mean()


def test_row_order_dependence_is_caught() -> None:
    X, _ = _xy()
    result = check_invariant_to_row_order(_BatchScaled(), X)
    assert not result.passed and result.details["rows_changed"] == len(X)
