"""Every threshold is validated against its domain, from an argument and from the ini file."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckUsageError
from pytest_mlchecks._protocol import Recorder, Settings, recording, resolve_threshold
from pytest_mlchecks._registry import CHECKS, DOMAINS, THRESHOLDS

from .conftest import needs_torch

KEYS = sorted(THRESHOLDS)


def _outside(key: str) -> list[float]:
    """Values outside the domain of ``key``: non-finite ones, and beyond each bound."""
    spec = THRESHOLDS[key]
    bad = [math.nan, -math.inf] + ([] if spec.allow_inf else [math.inf])
    if spec.lo is not None:
        bad.append(spec.lo - 1.0)
        if spec.lo_open:
            bad.append(spec.lo)
    if spec.hi is not None:
        bad.append(spec.hi + 1.0)
        if spec.hi_open:
            bad.append(spec.hi)
    return bad


def test_every_threshold_declares_its_domain() -> None:
    # a new threshold must say which values are valid (DOMAINS in _registry.py)
    assert not set(THRESHOLDS) - set(DOMAINS), sorted(set(THRESHOLDS) - set(DOMAINS))
    for spec in THRESHOLDS.values():
        assert spec.arg, spec.key


def test_every_default_lies_in_its_domain() -> None:
    for spec in THRESHOLDS.values():
        assert spec.accepts(spec.default), spec.key
        assert resolve_threshold(spec.key, None) == spec.default


def test_every_threshold_argument_is_a_parameter_of_its_checks() -> None:
    for check in CHECKS.values():
        checked = getattr(mlc, check.check_name) if check.helpers else mlc.GradNormTracker
        params = inspect.signature(checked).parameters
        for key in check.thresholds:
            assert THRESHOLDS[key].arg in params, (check.name, key)


@pytest.mark.parametrize("key", KEYS)
def test_argument_outside_the_domain_is_a_usage_error_naming_the_argument(key: str) -> None:
    spec = THRESHOLDS[key]
    for value in _outside(key):
        with pytest.raises(MLCheckUsageError, match=rf"argument {spec.arg}\b") as info:
            resolve_threshold(key, value)
        assert spec.domain in str(info.value)
    for value in ("0.5", True, [0.1], object()):
        with pytest.raises(MLCheckUsageError, match=rf"argument {spec.arg}\b"):
            resolve_threshold(key, value)  # type: ignore[arg-type]
    assert resolve_threshold(key, spec.default) == spec.default
    assert resolve_threshold(key, np.float32(spec.default)) == pytest.approx(spec.default)


@pytest.mark.parametrize("key", KEYS)
def test_ini_value_outside_the_domain_is_a_usage_error_naming_the_option(key: str) -> None:
    spec = THRESHOLDS[key]
    for value in _outside(key):
        with recording(Recorder("t", Settings(ini={key: value}))):
            with pytest.raises(MLCheckUsageError, match=rf"ini option {spec.ini}\b") as info:
                resolve_threshold(key, None)
            assert spec.domain in str(info.value)
            # an argument overrides (and so hides) a bad ini value
            assert resolve_threshold(key, spec.default) == spec.default


def test_the_issue_examples_are_refused() -> None:
    refused = {
        "fair_min_di": (math.nan, -1.0, 5.0),
        "drift_psi_threshold": (-1.0,),
        "grad_max_total_norm": (math.nan,),
    }
    for key, values in refused.items():
        for value in values:
            with pytest.raises(MLCheckUsageError):
                resolve_threshold(key, value)
    assert resolve_threshold("fair_min_di", 1.0) == 1.0
    with pytest.raises(MLCheckUsageError, match=r"ml_fair_min_di\) must be in \(0, 1\]"):
        resolve_threshold("fair_min_di", 0.0)  # a limit of 0 would never fail


def test_check_refuses_bad_argument_end_to_end() -> None:
    y = [0, 1, 0, 1] * 10
    pred = [0, 1, 1, 0] * 10
    groups = ["a", "b"] * 20
    for bad in (math.nan, -1.0, 5.0):
        with pytest.raises(MLCheckUsageError, match="min_disparate_impact"):
            mlc.check_fair(y, pred, groups, min_disparate_impact=bad)
    with pytest.raises(MLCheckUsageError, match="threshold"):
        mlc.check_no_drift(np.zeros((50, 1)), np.zeros((50, 1)), threshold=-1)


@needs_torch
def test_nan_norm_limit_no_longer_disables_the_exploding_check() -> None:
    import torch

    model = torch.nn.Linear(2, 1)
    (model(torch.full((4, 2), 1e6)).sum() * 1e6).backward()
    assert not mlc.check_grad_norm_healthy(model).passed  # exploding, default limit
    with pytest.raises(MLCheckUsageError, match="max_total_norm"):
        mlc.check_grad_norm_healthy(model, max_total_norm=math.nan)
    with pytest.raises(MLCheckUsageError, match="max_total_norm"):
        mlc.check_grad_norm_healthy(model, max_total_norm=-5.0)


INI_SUITE = """
def test_never_runs():
    pass
"""


@pytest.mark.parametrize("value", ["nan", "-1", "5"])
def test_ini_thresholds_are_validated_at_start_up(pytester: pytest.Pytester, value: str) -> None:
    pytester.makeini(f"[pytest]\nml_fair_min_di = {value}\n")
    pytester.makepyfile(test_ini=INI_SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini option ml_fair_min_di must be in (0, 1]*"])
    assert "test_never_runs" not in result.stdout.str()


def test_a_valid_ini_threshold_is_used(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nml_drift_psi_threshold = 0.5\nml_fair_min_di = 0.7\n")
    pytester.makepyfile(
        test_ok="""

def test_ok(ml_thresholds):
    assert ml_thresholds["ml_drift_psi_threshold"] == 0.5
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
