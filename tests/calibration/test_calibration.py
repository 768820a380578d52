"""Calibration: false-alarm rate on clean data and detection rate on injected failures.

Marked ``calibration`` (excluded from the default run). CI runs it with a reduced budget:
``pytest -m calibration``; ``python -m pytest_mlchecks.calibration`` prints the full table.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from pytest_mlchecks.calibration import DETECTORS, calibrate_one

pytestmark = pytest.mark.calibration

DATASETS = int(os.environ.get("MLCHECKS_CALIBRATION_DATASETS", "60"))


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.name)
@pytest.mark.parametrize("n_rows", [2000])
def test_detector_is_calibrated(detector, n_rows: int) -> None:
    if detector.needs and importlib.util.find_spec(detector.needs) is None:
        pytest.skip(f"needs {detector.needs}")
    row = calibrate_one(detector, n_rows, DATASETS, seed=7)
    # goals: <= 1% false alarms, >= 99% detection; with a small budget allow one stray alarm
    assert row.false_alarms <= max(1, int(0.01 * DATASETS)), row
    assert row.detections >= DATASETS - max(1, int(0.01 * DATASETS)), row
