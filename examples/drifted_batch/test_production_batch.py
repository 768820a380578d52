"""A drifted production batch: the production rung reports which column moved and how much."""

from __future__ import annotations

import pytest
from batches import production_batch, reference_batch

from pytest_mlchecks import assert_no_drift, assert_schema_matches, infer_schema


@pytest.mark.ml_production
def test_batch_matches_the_training_schema():
    assert_schema_matches(production_batch(), infer_schema(reference_batch()))  # fails: range


@pytest.mark.ml_production
def test_batch_has_not_drifted():
    assert_no_drift(reference_batch(), production_batch())  # fails: 'amount' PSI >> 0.25
