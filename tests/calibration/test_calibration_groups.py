"""Reduced calibration of groups_represented and scores_equitable (``-m calibration``)."""

from __future__ import annotations

import pytest

from pytest_mlchecks.calibration.groups16 import calibrate_represented, calibrate_scores

pytestmark = pytest.mark.calibration


def test_groups_represented_quiet_on_reference_draws_and_catches_a_halved_group() -> None:
    rows = calibrate_represented(draws=20, seed=1)
    for case, kind, against, n, failed in rows:
        count = int(failed.split(" / ")[0])
        if kind == "clean":
            assert count <= 2, (case, against, n)
        elif n == "5,000" or case.startswith("2 groups"):
            assert count >= 18, (case, against, n)


def test_scores_equitable_quiet_on_equal_scores_and_catches_a_lowered_group() -> None:
    rows = calibrate_scores(draws=20, seed=1)
    for case, kind, n, failed, _ in rows:
        count = int(failed.split(" / ")[0])
        if kind == "clean":
            assert count <= 2, (case, n)
        elif kind == "broken" and ("1.0 SD" in case or ("0.5 SD" in case and n != "300")):
            assert count >= 19, (case, n)
