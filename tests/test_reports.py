"""Reports and conventions where ML teams already look (issue #17): ``--ml-compare``,
JUnit XML properties, GitHub annotations, ``--ml-summary``, pytest's short summary line,
``@pytest.mark.ml_thresholds``, the ``ml`` umbrella marker and a session-scoped ``ml_seed``.

Every option runs in a real pytest session (pytester), serially and under ``-n 2``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from pytest_mlchecks._annotations import (
    crash_headline,
    escape_data,
    escape_property,
    junit_properties,
)
from pytest_mlchecks._registry import CHECKS, THRESHOLDS

from .test_gate import MODES, _run

FIGURE = """
from pathlib import Path

import numpy as np
import pytest

from pytest_mlchecks import assert_finite

NANS = int((Path(__file__).parent / "nans.txt").read_text())


@pytest.mark.ml_data
def test_figure():
    X = np.ones((8, 2))
    X[:NANS, 0] = np.nan
    assert_finite(X, max_fraction=0.5)
"""


def _report(pytester: pytest.Pytester, name: str) -> Any:
    return json.loads((pytester.path / name).read_text())


def _baseline(pytester: pytest.Pytester, mode: str, nans: int, *extra: str) -> None:
    (pytester.path / "nans.txt").write_text(str(nans))
    result = _run(pytester, mode, "--ml-audit-json=base.json", *extra)
    assert result.ret == 0, result.stdout.str()[-2000:]


# ------------------------------------------------------------------------ --ml-compare


@pytest.mark.parametrize("mode", MODES)
def test_compare_shows_a_worse_figure_without_failing_by_default(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(test_fig=FIGURE)
    _baseline(pytester, mode, 0)
    (pytester.path / "nans.txt").write_text("2")
    result = _run(
        pytester,
        mode,
        "--ml-compare=base.json",
        "--ml-audit-json=now.json",
        "--ml-audit-md=now.md",
        "--ml-audit-html=now.html",
    )
    assert result.ret == 0
    section = _report(pytester, "now.json")["compare"]
    assert section["baseline"] == str(pytester.path / "base.json")
    assert section["tolerance"] == 0.05 and section["fail_on_regression"] is False
    (entry,) = section["checks"]
    assert entry["nodeid"] == "test_fig.py::test_figure" and entry["name"] == "finite"
    assert entry["occurrence"] == 0 and entry["worse"] == "higher"
    assert entry["then"] == 0 and entry["now"] == 0.125
    assert entry["change"] == "worse" and entry["regression"] is True
    assert _report(pytester, "now.json")["gate"] == "pass"
    result.stdout.fnmatch_lines(
        ["compared with *base.json*1 checks in both, 1 worse (1 beyond the 5% tolerance)*"]
    )
    result.stdout.fnmatch_lines(["*WORSE*finite*0 -> 0.125*higher is worse*test_fig.py*"])
    assert "What changed since the baseline" in (pytester.path / "now.md").read_text()
    html_text = (pytester.path / "now.html").read_text()
    assert "What changed since the baseline" in html_text and "<td>WORSE</td>" in html_text


@pytest.mark.parametrize("mode", MODES)
def test_compare_fail_fails_the_gate_and_names_the_figure(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(test_fig=FIGURE)
    _baseline(pytester, mode, 2)
    (pytester.path / "nans.txt").write_text("3")  # 0.125 -> 0.1875: +50%
    result = _run(
        pytester, mode, "--ml-compare=base.json", "--ml-compare-fail", "--ml-audit-json=now.json"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    report = _report(pytester, "now.json")
    assert report["gate"] == "fail"
    assert (
        "worse than the baseline beyond the 5% tolerance: finite in test_fig.py::test_figure"
        in (report["reason"])
    )
    assert "+50%" in report["reason"]
    result.stdout.fnmatch_lines(["--ml-compare-fail: gate FAIL - 1 figure worse than*finite*"])
    # a tolerance above the change: no regression, the run passes
    pytester.makeini("[pytest]\nml_compare_tolerance = 0.6\n")
    result = _run(
        pytester, mode, "--ml-compare=base.json", "--ml-compare-fail", "--ml-audit-json=now.json"
    )
    assert result.ret == 0, result.stdout.str()[-2000:]
    section = _report(pytester, "now.json")["compare"]
    assert section["tolerance"] == 0.6 and section["regressions"] == 0
    assert section["checks"][0]["change"] == "worse"
    assert _report(pytester, "now.json")["gate"] == "pass"


@pytest.mark.parametrize("mode", MODES)
def test_compare_lists_new_failures_vanished_and_new_checks(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(
        test_a="""
        import numpy as np
        from pytest_mlchecks import assert_finite, assert_class_balance

        def test_kept():
            assert_class_balance([0] * 50 + [1] * 50)

        def test_old():
            assert_finite(np.ones((4, 2)))
        """
    )
    result = _run(pytester, mode, "--ml-audit-json=base.json")
    assert result.ret == 0
    pytester.makepyfile(
        test_a="""
        import numpy as np
        from pytest_mlchecks import assert_finite, assert_class_balance

        def test_kept():
            assert_class_balance([0] * 80 + [1] * 20)
            assert_class_balance([0] * 70 + [1] * 30)  # a second, different record

        def test_new():
            assert_finite(np.full((4, 2), np.nan))
        """
    )
    result = _run(pytester, mode, "--ml-compare=base.json", "--ml-audit-json=now.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    section = _report(pytester, "now.json")["compare"]
    (kept,) = section["checks"]
    assert (kept["name"], kept["worse"], kept["then"], kept["now"]) == (
        "class_balance",
        "lower",
        0.5,
        0.2,
    )
    assert kept["change"] == "worse"
    assert [(e["nodeid"], e["name"]) for e in section["vanished"]] == [
        ("test_a.py::test_old", "finite")
    ]
    new = {(e["nodeid"], e["name"], e["occurrence"]) for e in section["new"]}
    assert new == {
        ("test_a.py::test_new", "finite", 0),
        ("test_a.py::test_kept", "class_balance", 1),
    }
    assert [(e["nodeid"], e["status_now"]) for e in section["new_failures"]] == [
        ("test_a.py::test_new", "fail")
    ]
    out = result.stdout.str()
    assert "1 new failures, 1 vanished, 2 new" in out
    assert re.search(r"NEW FAIL\s+finite", out) and re.search(r"vanished\s+finite", out)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("not json", "not JSON"),
        ('{"gate": "pass"}', "not a pytest-mlchecks report"),
        ('{"schema_version": 99, "checks": []}', "schema_version 99"),
        ('{"schema_version": 2, "checks": [1]}', "'checks' are not a list"),
    ],
)
def test_unusable_compare_file_is_a_usage_error_naming_the_option(
    pytester: pytest.Pytester, mode: str, content: str | None, expected: str
) -> None:
    pytester.makepyfile(test_x="def test_x(): pass\n")
    if content is not None:
        (pytester.path / "base.json").write_text(content)
    result = _run(pytester, mode, "--ml-compare=base.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--ml-compare=base.json: *{expected}*"])


def test_compare_fail_needs_compare_and_tolerance_is_validated(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass\n")
    result = pytester.runpytest("--ml-compare-fail")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ml-compare-fail needs --ml-compare PATH*"])
    (pytester.path / "base.json").write_text('{"schema_version": 2, "checks": []}')
    pytester.makeini("[pytest]\nml_compare_tolerance = -1\n")
    result = pytester.runpytest("--ml-compare=base.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ml_compare_tolerance must be a finite number >= 0*"])


def test_every_check_knows_which_way_its_figure_gets_worse() -> None:
    for spec in CHECKS.values():
        assert spec.worse in ("higher", "lower")
        if spec.thresholds:
            assert spec.worse in {THRESHOLDS[k].worse for k in spec.thresholds}, spec.name
    assert CHECKS["fair"].worse == "lower" and THRESHOLDS["fair_min_di"].worse == "lower"
    assert CHECKS["no_overfitting"].worse == "higher"


# ------------------------------------------------------------------------ JUnit XML


@pytest.mark.parametrize("mode", MODES)
def test_junit_xml_carries_each_checks_figures(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(
        test_j="""
        import numpy as np
        from pytest_mlchecks import assert_finite, check_finite

        def test_twice():
            assert_finite(np.ones((4, 2)))
            check_finite(np.array([[1.0, np.nan]]))

        def test_fails():
            assert_finite(np.array([[1.0, np.nan]]))
        """
    )
    _run(pytester, mode, "--junitxml=j.xml")
    root = ET.parse(pytester.path / "j.xml").getroot()
    props = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in root.iter("testcase")
    }
    assert props["test_twice"] == {
        "mlchecks.finite.rung": "data",
        "mlchecks.finite.value": "0",
        "mlchecks.finite.threshold": "0",
        "mlchecks.finite.verdict": "pass",
        "mlchecks.finite#2.rung": "data",
        "mlchecks.finite#2.value": "0.5",
        "mlchecks.finite#2.threshold": "0",
        "mlchecks.finite#2.verdict": "not enforced",
    }
    assert props["test_fails"]["mlchecks.finite.verdict"] == "fail"
    failure = next(c for c in root.iter("testcase") if c.get("name") == "test_fails").find(
        "failure"
    )
    assert failure is not None and failure.get("message", "").startswith("finite: 1 NaN/Inf")


def test_junit_properties_number_repeated_checks() -> None:
    record: Any = {"name": "finite", "rung": "data", "passed": False, "severity": "warning"}
    record |= {"value": 0.123456789, "threshold": None, "enforced": True}
    seen: dict[str, int] = {}
    assert junit_properties([record], seen, test_failed=False) == [
        ("mlchecks.finite.rung", "data"),
        ("mlchecks.finite.value", "0.123457"),
        ("mlchecks.finite.threshold", ""),
        ("mlchecks.finite.verdict", "warn"),
    ]
    assert junit_properties([record], seen, test_failed=False)[0][0] == "mlchecks.finite#2.rung"


# ------------------------------------------------------------------------ GitHub annotations


def test_github_escaping_follows_the_workflow_command_rules() -> None:
    assert escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert escape_property("a: b, 5%\n") == "a%3A b%2C 5%25%0A"


@pytest.mark.parametrize("mode", MODES)
def test_github_annotations_at_the_tests_file_and_line(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(
        test_g="""
        import numpy as np
        from pytest_mlchecks import assert_finite, assert_class_balance


        def test_nan():
            assert_finite(np.array([[1.0, np.nan]]))

        def test_rare():
            assert_class_balance([0] * 95 + [1] * 5)

        def test_ok():
            assert_finite(np.ones((2, 2)))
        """
    )
    result = _run(pytester, mode, "--ml-github-annotations")
    # the line of the test function (its def)
    lines = [ln for ln in result.stdout.lines if ln.startswith("::")]
    assert len(lines) == 2, result.stdout.str()[-3000:]
    error = next(ln for ln in lines if ln.startswith("::error "))
    assert error.startswith(
        "::error file=test_g.py,line=5,title=mlchecks%3A finite failed (data)::"
        "test_g.py::test_nan%0Afinite: 1 NaN/Inf"
    )
    assert "%0AWhy it matters" in error and "\n" not in error
    warning = next(ln for ln in lines if ln.startswith("::warning "))
    assert warning.startswith(
        "::warning file=test_g.py,line=8,title=mlchecks%3A class_balance warned (data)::"
    )
    assert "::" not in _run(pytester, mode).stdout.str().replace("py::test", "")


# ------------------------------------------------------------------------ --ml-summary


SUMMARY_TESTS = """
import numpy as np
from pytest_mlchecks import assert_finite, assert_class_balance

def test_pass_one():
    assert_finite(np.ones((2, 2)))

def test_warns():
    assert_class_balance([0] * 95 + [1] * 5)
"""


@pytest.mark.parametrize("mode", MODES)
def test_summary_modes(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_s=SUMMARY_TESTS)
    # default: a warning prints the block, with the counts and only the row not passing
    out = _run(pytester, mode).stdout.str()
    assert "ML checks" in out and "checks: 2 ran, 0 failed, 1 warned" in out
    assert re.search(r"WARN\s+data\s+class_balance", out)
    assert not re.search(r"pass\s+data\s+finite", out)
    out = _run(pytester, mode, "--ml-summary=all").stdout.str()
    assert re.search(r"pass\s+data\s+finite", out) and re.search(r"WARN\s+data\s+class", out)
    out = _run(pytester, mode, "--ml-summary=none", "--ml-audit").stdout.str()
    assert "ML audit ladder" not in out and "gate:" not in out


@pytest.mark.parametrize("mode", MODES)
def test_no_block_when_every_check_passed_without_audit(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(
        test_s="import numpy as np\nfrom pytest_mlchecks import assert_finite\n"
        "def test_ok():\n    assert_finite(np.ones((2, 2)))\n"
    )
    assert "ML checks" not in _run(pytester, mode).stdout.str()
    out = _run(pytester, mode, "--ml-summary=all").stdout.str()
    assert "ML checks" in out and re.search(r"pass\s+data\s+finite", out)
    out = _run(pytester, mode, "--ml-audit").stdout.str()
    assert "ML audit ladder" in out and "checks: 1 ran, 0 failed, 0 warned" in out


def test_bad_summary_mode_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass\n")
    result = pytester.runpytest("--ml-summary=some")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


# ------------------------------------------------------------------------ short summary line


@pytest.mark.parametrize("mode", MODES)
def test_short_summary_line_shows_the_checks_headline(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(
        test_f="""
        import numpy as np
        import pytest
        from pytest_mlchecks import assert_finite, assert_no_duplicates

        def test_nan():
            assert_finite(np.array([[1.0, np.nan]]))

        def test_other():
            assert 1 == 2
        """
    )
    result = _run(pytester, mode, "-rf")
    result.stdout.fnmatch_lines(["FAILED test_f.py::test_nan - finite: 1 NaN/Inf value*"])
    result.stdout.fnmatch_lines(["FAILED test_f.py::test_other - assert 1 == 2"])
    assert "MLCheckErro" not in "\n".join(
        ln for ln in result.stdout.lines if ln.startswith("FAILED")
    )


def test_crash_headline_counts_the_other_failed_checks() -> None:
    assert crash_headline(["a: bad\nmore", "b: worse"]) == "a: bad (+1 more failed check)"
    assert crash_headline(["", "  "]) is None


# ------------------------------------------------------------------------ markers


THRESHOLD_TESTS = """
import numpy as np
import pytest
from pytest_mlchecks import check_finite

X = np.ones((10, 2))
X[0, 0] = np.nan  # 5% of the cells

pytestmark = pytest.mark.ml_thresholds(finite_max_fraction=0.01)


def test_module_marker():
    assert check_finite(X).threshold == 0.01


@pytest.mark.ml_thresholds(finite_max_fraction=0.2)
def test_test_marker_beats_module(ml_thresholds):
    assert ml_thresholds["finite_max_fraction"] == 0.2
    assert ml_thresholds.source("finite_max_fraction") == "marker"
    assert check_finite(X).passed


@pytest.mark.ml_thresholds(ml_finite_max_fraction=0.2)
class TestClass:
    def test_class_marker(self):
        assert check_finite(X).threshold == 0.2

    def test_argument_beats_marker(self):
        assert check_finite(X, max_fraction=0.3).threshold == 0.3
"""


@pytest.mark.parametrize("mode", MODES)
def test_ml_thresholds_marker_precedence(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makeini("[pytest]\nml_finite_max_fraction = 0.5\n")
    pytester.makepyfile(test_t=THRESHOLD_TESTS)
    sub = pytester.mkdir("sub")
    (sub / "conftest.py").write_text(
        "import pytest\npytestmark = [pytest.mark.ml_thresholds(finite_max_fraction=0.07)]\n"
    )
    (sub / "test_sub.py").write_text(
        "import numpy as np\nfrom pytest_mlchecks import check_finite\n\n"
        "def test_conftest_marker():\n    assert check_finite(np.ones((2, 2))).threshold == 0.07\n"
        "\ndef test_ini_elsewhere_is_kept():\n    pass\n"
    )
    (pytester.path / "test_plain.py").write_text(
        "import numpy as np\nfrom pytest_mlchecks import check_finite\n\n"
        "def test_ini():\n    assert check_finite(np.ones((2, 2))).threshold == 0.5\n"
    )
    result = _run(pytester, mode, "--ml-audit-json=r.json")
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.assert_outcomes(passed=7)
    sources = {
        c["nodeid"]: c["thresholds"]["finite_max_fraction"]["source"]
        for c in _report(pytester, "r.json")["checks"]
    }
    assert sources["test_t.py::test_module_marker"] == "marker"
    assert sources["test_t.py::TestClass::test_argument_beats_marker"] == "argument"
    assert sources["sub/test_sub.py::test_conftest_marker"] == "marker"
    assert sources["test_plain.py::test_ini"] == "ini"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("finite_max_frac=0.1", "unknown threshold 'finite_max_frac' (did you mean"),
        ("finite_max_fraction=2.0", "marker ml_thresholds(finite_max_fraction=...) must be in"),
        ("0.1", "takes keyword arguments only"),
    ],
)
def test_bad_ml_thresholds_marker_is_an_error_naming_the_key(
    pytester: pytest.Pytester, mode: str, marker: str, expected: str
) -> None:
    pytester.makepyfile(
        test_b=f"import pytest\n\n@pytest.mark.ml_thresholds({marker})\ndef test_x(): pass\n"
    )
    result = _run(pytester, mode)
    # a collection error: pytest stops (2); xdist reports it as a failed run (1)
    assert result.ret in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.TESTS_FAILED)
    out = result.stdout.str()
    assert "ERROR collecting test_b.py" in out and "INTERNALERROR" not in out
    assert "test_b.py::test_x: " in out
    assert expected in out


@pytest.mark.parametrize("mode", MODES)
def test_ml_marker_selects_every_test_on_a_rung(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(
        test_m="""
        import pytest

        @pytest.mark.ml_model
        def test_marked(): pass

        def test_inferred(assert_finite): pass

        def test_plain(): pass
        """
    )
    result = _run(pytester, mode, "-m", "ml", "--strict-markers", "-v")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "test_marked" in out and "test_inferred" in out and "test_plain" not in out
    result = _run(pytester, mode, "-m", "not ml", "-v")
    result.assert_outcomes(passed=1)
    assert "test_plain" in result.stdout.str() and "test_marked" not in result.stdout.str()


@pytest.mark.parametrize("mode", MODES)
def test_ml_seed_works_from_session_fixtures(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makeconftest(
        """
        import random
        import pytest

        @pytest.fixture(scope="session")
        def dataset(ml_seed):
            return [random.random() for _ in range(3)], ml_seed
        """
    )
    pytester.makepyfile(
        test_s="""
        import random

        def test_a(dataset, ml_seed):
            random.seed(123)
            assert dataset[1] == ml_seed == 7
            random.seed(7)
            assert dataset[0] == [random.random() for _ in range(3)]

        def test_b(ml_seed):
            first = random.random()
            random.seed(7)
            assert first == random.random()  # reseeded before this test, whatever ran before
        """
    )
    result = _run(pytester, mode, "--ml-seed=7", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    result = _run(pytester, mode, "--ml-seed=7", "-p", "no:randomly", "--ml-audit")
    result.assert_outcomes(passed=2)


def test_missing_torch_message_names_a_pinned_build(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from pytest_mlchecks._deps import MissingDependencyError, require

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError) as info:
        require("torch", helper="assert_grad_norm_healthy")
    text = str(info.value)
    assert "torch==" in text and "pytorch.org" in text
    # never a bare, unpinned torch (several GB of CUDA packages)
    assert not re.search(r"pip install (torch\b|'pytest-mlchecks\[(torch|all)\]')", text)


def test_no_message_suggests_an_unpinned_torch() -> None:
    package = Path(__file__).resolve().parent.parent / "pytest_mlchecks"
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"pip install\s+'?torch\b(?!==)", text), path
        assert "pytest-mlchecks[torch]" not in text and "pytest-mlchecks[all]" not in text, path
