"""Calibration of performance_holds, reduced (``pytest -m calibration``): no false alarm on
windows like the baseline, a fall of AUC 0.85 -> 0.75 caught with 5,000 labels per window."""

from __future__ import annotations

import os

import pytest

from pytest_mlchecks.calibration.performance import calibrate_performance

pytestmark = pytest.mark.calibration

RUNS = int(os.environ.get("MLCHECKS_CALIBRATION_DATASETS", "60"))


def test_performance_holds_is_calibrated() -> None:
    healthy, broken = calibrate_performance(RUNS, seed=7, sizes=(5000,))
    assert healthy[0] == "healthy" and broken[0] == "broken"
    assert int(healthy[3].split(" / ")[0]) <= max(1, RUNS // 100), healthy
    assert int(broken[3].split(" / ")[0]) >= RUNS - max(1, RUNS // 100), broken
