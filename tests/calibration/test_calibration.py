"""Calibration: false-alarm rate on clean data and detection rate on injected failures.

Marked ``calibration`` (excluded from the default run). CI runs it with a reduced budget:
``pytest -m calibration``; ``python -m pytest_mlchecks.calibration`` prints the full table.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from pytest_mlchecks.calibration.run import (
    BATCH_DETECTORS,
    DETECTORS,
    calibrate_batch,
    calibrate_one,
)

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


@pytest.mark.parametrize("detector", BATCH_DETECTORS, ids=lambda d: d.name)
@pytest.mark.parametrize("n_rows", [5000])
def test_production_detector_is_calibrated(detector, n_rows: int) -> None:
    row = calibrate_batch(detector, n_rows, DATASETS, seed=7)
    assert row.false_alarms <= max(1, int(0.01 * DATASETS)), row
    assert row.detections >= DATASETS - max(1, int(0.01 * DATASETS)), row


def test_datasets_strategy_draws_from_the_calibrated_generator() -> None:
    pytest.importorskip("hypothesis")
    from hypothesis import find, settings
    from hypothesis import strategies as st

    from pytest_mlchecks.strategies import datasets

    ds = find(
        datasets(inject=st.sampled_from(["target_leak"]), n_rows=300),
        lambda d: d.injected == "target_leak",
        settings=settings(database=None),
    )
    assert "derived" in ds.X_train.columns and ds.info["seed"] >= 0


def _grad_cases():
    from pytest_mlchecks.calibration.grad_cases import GRAD_CASES

    return GRAD_CASES


@pytest.mark.parametrize("case", _grad_cases(), ids=lambda c: c.name)
def test_grad_norm_healthy_is_calibrated(case) -> None:
    """Healthy architectures pass on (almost) every seed, saturating deep nets fail on (almost)
    every seed; goals: <= 5% either way."""
    pytest.importorskip("torch")
    from pytest_mlchecks.calibration.grad_cases import calibrate_case

    seeds = max(10, DATASETS // 2)
    row = calibrate_case(case, seeds, seed=7)
    if case.healthy:
        assert row.flagged <= max(1, int(0.05 * seeds)), row
    else:
        assert row.flagged >= seeds - max(1, int(0.05 * seeds)), row


def _training_cases():
    from pytest_mlchecks.calibration.grad_cases import TRAINING_CASES

    return TRAINING_CASES


@pytest.mark.parametrize("case", _training_cases(), ids=lambda c: c.name)
def test_grad_tracker_is_calibrated(case) -> None:
    """Healthy minibatch training is never flagged; the broken runs always are."""
    pytest.importorskip("torch")
    from pytest_mlchecks.calibration.grad_cases import calibrate_training

    runs = max(5, DATASETS // 6)
    row = calibrate_training(case, runs, seed=7)
    assert row.flagged == (0 if case.healthy else runs), row
