"""Tests of the model rung (pytest_mlchecks/checks/model/)."""
