"""Fairness, schema and drift checks on real tables (issue 12): random halves must pass,
injected faults must fail. Marked ``real`` (excluded by default): ``pytest -m real``."""

from __future__ import annotations

import importlib.util

import pytest

from pytest_mlchecks.calibration.run import calibrate_fair_real, calibrate_real, schema_generated

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(
        importlib.util.find_spec("sklearn") is None, reason="real tables need scikit-learn"
    ),
]


def test_fair_and_slices_on_real_predictions_with_random_groups() -> None:
    rows = calibrate_fair_real(labelings=40, seed=3)
    for row in rows:
        assert row.false_alarms <= 1, row  # <= 1% goal, one stray alarm in 40 tolerated
    (cancer,) = [r for r in rows if r.detector == "fair: sklearn breast_cancer"]
    assert cancer.detections >= 0.9 * cancer.datasets, cancer  # 285 rows, base rate 37%


@pytest.mark.parametrize("which", ["schema", "drift"])
def test_random_halves_of_real_tables_pass_and_injected_faults_fail(which: str) -> None:
    tallies, alarms = calibrate_real(which, tables=25, splits=2, seed=5)
    # a 0.5 SD shift is not always visible in the halves of small tables (iris: 75 rows)
    power = {"schema_matches": 0.9, "no_drift": 0.8, "in_distribution": 0.75}
    for tally in tallies:
        assert tally.errors <= max(1, tally.runs // 50), (tally, alarms)
        assert tally.caught >= power[tally.name] * tally.injected, tally


def test_schema_sentinels_and_closed_domain_categories_on_generated_batches() -> None:
    rows = {(r.n_rows, r.strength): r for r in schema_generated(20, sizes=(300, 5000), seed=1)}
    for (_, injected), row in rows.items():
        assert row.false_alarms <= 1, row
        if injected in ("7 x -999999 in age", "10 rows of a new plan"):
            assert row.detections == row.datasets, row
    # one new value: beyond chance where the domain is closed (its rarest level common)
    assert rows[5000, "1 row of a 5th tier (4 even)"].detections == 20
    assert rows[300, "1 row of a new plan"].detections == 0  # 'team' seen ~15 times
    assert rows[5000, "3 rows of a new plan"].detections == 20
