"""Tests of the evaluation rung (pytest_mlchecks/checks/evaluation/)."""
