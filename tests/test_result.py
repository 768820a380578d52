from __future__ import annotations

import json
import math

import numpy as np
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import CheckReport, CheckResult, MLCheckError, MLCheckUsageError


def test_check_result_round_trips_through_json() -> None:
    result = CheckResult(
        "finite",
        "data",
        False,
        value=float("inf"),
        threshold=0.0,
        message="m",
        details={"count": np.int64(3), "rate": np.float32(0.5), "cols": ("a", "b")},
    )
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["value"] == "inf"
    assert data["details"] == {"count": 3, "rate": 0.5, "cols": ["a", "b"]}
    back = CheckResult.from_dict(data)
    assert math.isinf(back.value) and back.passed is False and back.name == "finite"


def test_severity_is_validated() -> None:
    with pytest.raises(MLCheckUsageError, match="severity"):
        CheckResult("x", "data", True, severity="fatal")


def test_report_passes_when_only_warnings_fail() -> None:
    report = CheckReport(
        "umbrella",
        "data",
        [
            CheckResult("a", "data", True),
            CheckResult("b", "data", False, severity="warning", message="b is rare"),
        ],
    )
    assert report.passed
    assert [r.name for r in report.failures] == ["b"]
    report.results.append(CheckResult("c", "data", False, message="c broke"))
    assert not report.passed
    assert "c broke" in report.message and "b is rare" in report.message


def test_mlcheck_error_is_an_assertion_error_with_results() -> None:
    failing = CheckResult("a", "data", False, message="what is wrong")
    err = MLCheckError([failing, CheckResult("b", "data", True, message="fine")])
    assert isinstance(err, AssertionError)
    assert err.results[0] is failing
    assert str(err) == "what is wrong"


def test_usage_error_is_a_value_error() -> None:
    assert issubclass(MLCheckUsageError, ValueError)


def test_public_names_resolve_lazily() -> None:
    for name in mlc.__all__:
        assert getattr(mlc, name) is not None
    with pytest.raises(AttributeError):
        mlc.no_such_helper  # noqa: B018
    assert "assert_finite" in dir(mlc)


def test_assert_twin_returns_the_result_when_it_passes() -> None:
    result = mlc.assert_finite(np.ones((3, 2)))
    assert isinstance(result, CheckResult) and result.passed
    assert mlc.assert_finite.__name__ == "assert_finite"
    assert "check_finite" in (mlc.assert_finite.__doc__ or "")


def test_unexpected_crash_inside_a_check_is_not_a_silent_pass() -> None:
    class Weird:
        __module__ = "pandas.core.frame"  # looks like pandas but is not

    with pytest.raises(MLCheckUsageError):
        mlc.check_finite(Weird())


def test_missing_optional_dependency_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from pytest_mlchecks._deps import MissingDependencyError, require

    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(MissingDependencyError, match=r"pytest-mlchecks\[sklearn\]") as info:
        require("sklearn", helper="assert_beats_dummy")
    assert isinstance(info.value, MLCheckUsageError)
    assert "assert_beats_dummy" in str(info.value)


@pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("sklearn") is not None,
    reason="only meaningful where scikit-learn is missing (tox -e minimal)",
)
def test_minimal_install_names_the_extra_for_real() -> None:
    from pytest_mlchecks._deps import MissingDependencyError, require

    with pytest.raises(MissingDependencyError, match=r"pip install 'pytest-mlchecks\[sklearn\]'"):
        require("sklearn", helper="assert_beats_dummy")


def test_readme_documents_every_ini_threshold_and_check() -> None:
    from pathlib import Path

    from pytest_mlchecks._registry import CHECKS, THRESHOLDS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for spec in THRESHOLDS.values():
        sci = f"{spec.default:.0e}".replace("e-0", "e-").replace("e+0", "e")
        shown = {f"{spec.default:g}", f"{spec.default:.2f}", sci}
        assert any(f"`{spec.ini}` | {v} |" in readme for v in shown), f"{spec.ini} not in README"
    for spec in CHECKS.values():
        if not spec.helpers:  # reached through another public name (GradNormTracker)
            assert f"`{spec.name}`" in readme, spec.name
            continue
        assert f"`{spec.name}(" in readme or f"`{spec.assert_name}(" in readme, spec.name


def test_except_tells_misuse_from_a_bug() -> None:
    """One base for every exception; the no-verdict ones share a base; our bug is its own
    class (still a usage error, as the public contract says a check that could not run
    raises one), so `except MLCheckInternalError` before `except MLCheckUsageError` tells
    them apart."""
    assert issubclass(mlc.MLCheckError, mlc.MLCheckException)
    assert issubclass(mlc.MLCheckError, AssertionError)
    for kind in (mlc.MLCheckUsageError, mlc.MLCheckInternalError):
        assert issubclass(kind, mlc.MLCheckNoVerdictError) and issubclass(kind, ValueError)
    assert issubclass(mlc.MLCheckNoVerdictError, mlc.MLCheckException)
    assert issubclass(mlc.MLCheckInternalError, mlc.MLCheckUsageError)
    assert not issubclass(mlc.MLCheckUsageError, mlc.MLCheckInternalError)
    assert not issubclass(mlc.MLCheckError, mlc.MLCheckNoVerdictError)
    for name in ("MLCheckException", "MLCheckNoVerdictError"):
        assert name in mlc.__all__ and getattr(mlc, name).__module__ == "pytest_mlchecks"

    # the internal kind is raised for a crash in our own code: tests/test_fuzz.py
    with pytest.raises(mlc.MLCheckNoVerdictError) as info:
        mlc.check_finite("not data")  # type: ignore[arg-type]
    assert isinstance(info.value, mlc.MLCheckUsageError)
