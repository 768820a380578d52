"""Salary survey: the data rung finds the duplicated respondents and the target-derived bonus."""

from __future__ import annotations

import pytest
from salary_data import make_survey

from pytest_mlchecks import assert_no_leakage


@pytest.mark.ml_data
def test_splits_do_not_leak():
    train, test = make_survey()
    # fails twice at once: respondents in both splits, and 'bonus' predicts 'salary' (R^2 ~ 0.99)
    assert_no_leakage(train, test, target="salary", id_columns="respondent")


@pytest.mark.ml_model
def test_salary_model_fits(ml_audit):
    from sklearn.linear_model import LinearRegression

    train, test = make_survey()
    features = ["years_experience", "weekly_hours", "bonus"]
    model = LinearRegression().fit(train[features], train["salary"])
    ml_audit.record("test_r2", model.score(test[features], test["salary"]))
