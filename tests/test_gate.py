"""The JSON gate never says "pass" for a run that proved nothing or not everything it selected.

Each case runs in a real pytest session (pytester), serially and, where the summary is built
from worker reports, under ``-n 2`` (pytest-xdist).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import HAS_XDIST

MODES = [
    pytest.param("serial", id="serial"),
    pytest.param(
        "xdist",
        id="xdist",
        marks=pytest.mark.skipif(not HAS_XDIST, reason="pytest-xdist not installed"),
    ),
]


def _run(pytester: pytest.Pytester, mode: str, *args: str) -> pytest.RunResult:
    if mode == "xdist":
        return pytester.runpytest_subprocess(*args, "-n", "2")
    return pytester.runpytest(*args)


def _json(pytester: pytest.Pytester, name: str = "r.json") -> Any:
    return json.loads((pytester.path / name).read_text())


TWO_PASSING = """
import pytest

@pytest.mark.ml_data
def test_one(): pass

@pytest.mark.ml_model
def test_two(): pass
"""


# ------------------------------------------------------------------- runs that prove nothing


@pytest.mark.parametrize("mode", MODES)
def test_collection_error_is_a_gate_error(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING, test_broken="import not_a_module_xyz\n")
    result = _run(pytester, mode, "--ml-audit", "--ml-audit-json=r.json", "--ml-audit-md=r.md")
    assert result.ret != pytest.ExitCode.OK
    report = _json(pytester)
    assert report["gate"] == "error"
    assert "collection error" in report["reason"] and "test_broken.py" in report["reason"]
    assert report["run"]["collection_errors"] == ["test_broken.py"]
    assert report["partial"] is True
    assert "gate: ERROR - 1 collection error" in (pytester.path / "r.md").read_text()
    result.stdout.fnmatch_lines(["gate: ERROR - 1 collection error*test_broken.py*"])


@pytest.mark.parametrize("mode", MODES)
def test_empty_selection_is_incomplete(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING)
    result = _run(
        pytester,
        mode,
        "-k",
        "nomatch",
        "--ml-audit-json=r.json",
        "--ml-audit-md=r.md",
        "--ml-audit-html=r.html",
    )
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    report = _json(pytester)
    assert report["gate"] == "incomplete"
    assert report["reason"] == "no tests were selected (2 deselected): the run proved nothing"
    assert report["run"]["selected"] == 0 and report["run"]["deselected"] == 2
    assert report["partial"] is True
    md = (pytester.path / "r.md").read_text()
    assert md.startswith("## ⚠️ ML audit: gate INCOMPLETE")
    assert "gate: INCOMPLETE - no tests were selected" in md
    result.stdout.fnmatch_lines(["gate: INCOMPLETE - no tests were selected*"])
    html = (pytester.path / "r.html").read_text()
    assert "<span class='badge warn'>gate INCOMPLETE</span>" in html
    assert "<strong>Reason:</strong> no tests were selected" in html


def test_no_tests_at_all_is_incomplete(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--ml-audit", "--ml-audit-json=r.json")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert _json(pytester)["gate"] == "incomplete"


def test_every_test_skipped_is_incomplete(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_skip="""
        import pytest

        @pytest.mark.skip(reason="torch not installed")
        def test_a(): pass

        @pytest.mark.xfail(reason="known")
        def test_b(): assert False
        """
    )
    plain = pytester.runpytest("--ml-audit-json=r.json")
    assert plain.ret == pytest.ExitCode.OK  # without --ml-audit, pytest's exit code stands
    assert _json(pytester)["gate"] == "incomplete"
    result = pytester.runpytest("--ml-audit", "--ml-audit-json=r.json")
    result.assert_outcomes(skipped=1, xfailed=1)
    report = _json(pytester)
    assert report["gate"] == "incomplete"
    assert report["reason"] == (
        "no test passed: the 2 tests were skipped or expected to fail (the run proved nothing)"
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest said 0: the gate makes it non-zero
    pytester.makepyfile(test_ok="def test_ok(): pass\n")
    assert pytester.runpytest("--ml-audit", "--ml-audit-json=r.json").ret == pytest.ExitCode.OK
    assert _json(pytester)["gate"] == "pass"  # one real pass beside the skips


INTERRUPTED = """
import pytest
from pytest_mlchecks import check_finite

@pytest.mark.ml_data
def test_a(): pass

@pytest.mark.ml_data
def test_b():
    check_finite([1.0, 2.0])
    raise KeyboardInterrupt

@pytest.mark.ml_data
def test_c(): pass
"""


def test_interrupted_run_is_incomplete_and_the_test_not_passed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_int=INTERRUPTED)
    # a subprocess: pytester re-raises an in-process run's KeyboardInterrupt
    result = pytester.runpytest_subprocess(
        "--ml-audit", "--ml-audit-json=r.json", "--ml-audit-md=r.md", "--ml-audit-html=r.html"
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert (
        "<h2>Not finished (1)</h2><ul>\n<li>test_int.py::test_b</li>"
        in (pytester.path / "r.html").read_text()
    )
    assert "1 not finished</summary>" in (pytester.path / "r.md").read_text()
    report = _json(pytester)
    assert report["gate"] == "incomplete"
    assert report["reason"] == "interrupted: 2 of 3 selected tests did not finish"
    outcomes = {t["nodeid"].split("::")[1]: t["outcome"] for t in report["tests"]}
    assert outcomes == {"test_a": "passed", "test_b": "not_finished"}
    assert report["rungs"]["data"]["passed"] == 1  # the interrupted test is not a pass
    assert report["run"]["not_finished"] == ["test_int.py::test_b"]
    assert report["checks"][0]["name"] == "finite"  # what it did record is kept
    assert report["partial"] is True
    result.stdout.fnmatch_lines(["gate: INCOMPLETE - interrupted: 2 of 3 selected tests*"])


@pytest.mark.parametrize("mode", MODES)
def test_keyboard_interrupt_in_a_test_is_incomplete(pytester: pytest.Pytester, mode: str) -> None:
    """Under xdist the worker goes down and xdist reports its test as "crashed" (failed): the
    gate must still say the run did not finish, not that the test failed."""
    pytester.makepyfile(test_int=INTERRUPTED)
    args = ["--ml-audit", "--ml-audit-json=r.json"]
    if mode == "xdist":
        args += ["-n", "2", "--dist", "loadfile"]
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    report = _json(pytester)
    assert report["gate"] == "incomplete", report["reason"]
    assert report["reason"].startswith("interrupted")
    assert report["reason"].endswith("2 of 3 selected tests did not finish")
    if mode == "xdist":
        assert "keyboard-interrupt in worker gw" in report["reason"]
    outcomes = {t["nodeid"].split("::")[1]: t["outcome"] for t in report["tests"]}
    assert outcomes == {"test_a": "passed", "test_b": "not_finished"}
    assert report["run"]["not_finished"] == ["test_int.py::test_b"]
    assert report["rungs"]["data"]["failed"] == 0
    # what the interrupted test recorded is kept, even from a worker that went down
    assert [c["name"] for c in report["checks"]] == ["finite"]
    assert any("keyboard-interrupt" in r or "interrupted" in r for r in report["partial_reasons"])


SLOW = """
import time
from pathlib import Path

def test_fast(): pass

def test_slow():
    Path({flag!r}).write_text("started")
    time.sleep(60)

def test_after(): pass
"""


@pytest.mark.parametrize("mode", MODES)
def test_ctrl_c_mid_test_is_incomplete(pytester: pytest.Pytester, mode: str) -> None:
    """A real Ctrl-C: SIGINT to the whole process group while a test runs."""
    flag = pytester.path / "started.flag"
    pytester.makepyfile(test_slow=SLOW.format(flag=str(flag)))
    args = [sys.executable, "-m", "pytest", "--ml-audit-json=r.json", "-p", "no:randomly"]
    if mode == "xdist":
        args += ["-n", "2"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(
        args,
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert flag.exists(), proc.communicate(timeout=5)[0].decode()
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)
        out = proc.communicate(timeout=60)[0].decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0, out
    report = _json(pytester)
    assert report["gate"] != "pass", out
    outcomes = {t["nodeid"].split("::")[1]: t["outcome"] for t in report["tests"]}
    assert outcomes.get("test_slow") != "passed"
    if mode == "serial":
        assert report["gate"] == "incomplete"
        assert outcomes["test_slow"] == "not_finished"
        assert report["reason"].startswith("interrupted:")


@pytest.mark.parametrize("mode", MODES)
def test_stopping_early_marks_the_report_partial(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.parametrize("i", range(8))
        def test_many(i):
            assert i != 0
        """
    )
    args = ["-x", "--ml-audit-json=r.json", "-p", "no:randomly"]
    if mode == "xdist":
        args += ["--dist", "loadfile"]  # keeps every test on one worker: -x stops them all
    result = _run(pytester, mode, *args)
    assert result.ret != pytest.ExitCode.OK
    report = _json(pytester)
    assert report["gate"] == "fail"
    assert report["partial"] is True
    assert any(
        "stopping after 1 failures" in r and "of 8 selected tests did not finish" in r
        for r in report["partial_reasons"]
    ), report["partial_reasons"]
    assert report["run"]["selected"] == 8


def test_stopped_early_without_a_failure_is_not_a_pass(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_runtest_teardown(item):
            if item.name == "test_first":
                item.session.shouldstop = "a plugin asked to stop"
        """
    )
    pytester.makepyfile(test_s="def test_first(): pass\n\ndef test_second(): pass\n")
    result = pytester.runpytest("--ml-audit-json=r.json", "-p", "no:randomly")
    report = _json(pytester)
    assert report["gate"] == "incomplete"
    assert report["reason"] == "a plugin asked to stop: 1 of 2 selected tests did not finish"
    assert result.ret != pytest.ExitCode.OK


@pytest.mark.parametrize("mode", MODES)
def test_collect_only_never_writes_a_report(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING)
    for flag in ("--co", "--collect-only"):
        result = _run(pytester, mode, flag, "--ml-audit", "--ml-audit-json=new.json")
        assert result.ret == pytest.ExitCode.OK
        assert not (pytester.path / "new.json").exists()
    (pytester.path / "r.json").write_text("earlier report\n")
    (pytester.path / "r.md").write_text("earlier summary\n")
    _run(pytester, mode, "--co", "--ml-audit", "--ml-audit-json=r.json", "--ml-audit-md=r.md")
    assert (pytester.path / "r.json").read_text() == "earlier report\n"
    assert (pytester.path / "r.md").read_text() == "earlier summary\n"


# ------------------------------------------------------------------- partial selections


@pytest.mark.parametrize("mode", MODES)
def test_deselection_passes_but_says_partial(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING)
    result = _run(pytester, mode, "-k", "one", "--ml-audit", "--ml-audit-json=r.json")
    assert result.ret == pytest.ExitCode.OK
    report = _json(pytester)
    assert report["gate"] == "pass"
    assert report["partial"] is True
    assert report["run"]["deselected"] == 1 and report["run"]["selected"] == 1
    assert report["partial_reasons"] == [
        "1 of 2 collected tests were deselected (-k, -m, --deselect, --lf or a split plugin)"
    ]
    result.stdout.fnmatch_lines(["gate: PASS", "partial report: 1 of 2 collected tests*"])


def test_full_run_is_not_partial(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING)
    pytester.runpytest("--ml-audit", "--ml-audit-json=r.json")
    report = _json(pytester)
    assert report["gate"] == "pass" and report["reason"] is None
    assert report["partial"] is False and report["partial_reasons"] == []
    assert report["run"]["selected"] == report["run"]["finished"] == 2


@pytest.mark.parametrize("mode", MODES)
def test_last_failed_run_is_partial(pytester: pytest.Pytester, mode: str) -> None:
    flag = pytester.path / "fixed.flag"
    pytester.makepyfile(
        test_lf=f"""
        import os

        def test_flaky():
            assert os.path.exists({str(flag)!r})

        def test_fine(): pass
        """,
        test_other="def test_other(): pass\n",
    )
    first = _run(pytester, mode, "--ml-audit-json=r.json")
    first.assert_outcomes(passed=2, failed=1)
    flag.write_text("fixed")
    rerun = _run(pytester, mode, "--lf", "--ml-audit-json=r.json")
    rerun.assert_outcomes(passed=1)
    report = _json(pytester)
    assert report["gate"] == "pass"  # the fixed test passed; the report says what it covers
    assert report["partial"] is True and report["run"]["last_failed_only"] is True
    assert (
        "--lf: only the 1 test that failed last time were selected" in (report["partial_reasons"])
    )
    if mode == "xdist":
        return  # (the rest needs no worker to be shown)
    # nothing failed last time: --lf runs everything, the report is whole
    full = _run(pytester, mode, "--lf", "--ml-audit-json=r.json")
    full.assert_outcomes(passed=3)
    assert _json(pytester)["partial"] is False
    # recorded failures outside the selection: --lf runs everything it selected
    flag.unlink()
    _run(pytester, mode, "--ml-audit-json=r.json").assert_outcomes(passed=2, failed=1)
    outside = _run(pytester, mode, "--lf", "test_other.py", "--ml-audit-json=r.json")
    outside.assert_outcomes(passed=1)
    report = _json(pytester)
    assert report["run"]["last_failed_only"] is False
    assert not any(r.startswith("--lf") for r in report["partial_reasons"])


# ------------------------------------------------------------------- reports


def test_markdown_appends_to_the_step_summary(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING)
    summary = pytester.path / "step_summary.md"
    summary.write_text("## Lint\n\nall good\n")
    pytester.runpytest("--ml-audit", f"--ml-audit-md={summary}")
    text = summary.read_text()
    assert text.startswith("## Lint\n\nall good\n\n## ✅ ML audit: gate PASS")
    pytester.runpytest("--ml-audit", f"--ml-audit-md={summary}")
    assert summary.read_text().count("ML audit: gate PASS") == 2
    summary.write_text("no newline at the end")
    pytester.runpytest("--ml-audit", f"--ml-audit-md={summary}")
    assert summary.read_text().startswith("no newline at the end\n\n## ✅ ML audit")


HOSTILE = """
import pytest

@pytest.mark.ml_evaluation
@pytest.mark.parametrize("case", ["a|b", "<script>alert(1)</script>", "x`y*z_"])
def test_hostile(case, ml_audit):
    ml_audit.record("score<b>|" + case, 0.5, threshold=0.9, passed=False)
"""


def _table_cells(line: str) -> int:
    return len(line.strip().strip("|").split("|"))


def test_markdown_and_html_escape_ids_and_messages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_hostile=HOSTILE)
    pytester.runpytest("--ml-audit", "--ml-audit-md=r.md", "--ml-audit-html=r.html")
    md = (pytester.path / "r.md").read_text()
    html = (pytester.path / "r.html").read_text()
    for text in (md, html):
        assert "<script>" not in text and "<b>" not in text
    # every table row has as many cells as its header: no '|' breaks a cell
    tables = [line for line in md.splitlines() if line.startswith("|")]
    header = next(line for line in tables if line.startswith("| status"))
    for line in tables[tables.index(header) :]:
        assert _table_cells(line) == _table_cells(header), line
    assert "a&#124;b" in md and "&#60;script&#62;" in md
    # no Markdown markup leaks from ids either: backticks, stars and underscores are inert
    # (messages sit in <pre> blocks, where Markdown is not parsed)
    assert not [line for line in tables if "x`y*z_" in line]
    assert "&lt;script&gt;" in html


# ------------------------------------------------------------------- what counts


RERUN = """
import pytest
from pathlib import Path
from pytest_mlchecks import assert_finite

@pytest.mark.ml_data
def test_flaky(tmp_path_factory):
    marker = Path({marker!r})
    first = not marker.exists()
    marker.write_text("ran")
    assert_finite([float("nan") if first else 1.0, 2.0])
"""


@pytest.mark.parametrize("mode", MODES)
def test_rerun_attempts_are_marked_not_failures(pytester: pytest.Pytester, mode: str) -> None:
    pytest.importorskip("pytest_rerunfailures")
    pytester.makepyfile(test_rerun=RERUN.format(marker=str(pytester.path / "attempted")))
    result = _run(pytester, mode, "--reruns", "1", "--ml-audit", "--ml-audit-json=r.json")
    assert result.parseoutcomes() == {"passed": 1, "rerun": 1}
    assert result.ret == pytest.ExitCode.OK
    report = _json(pytester)
    assert report["gate"] == "pass"
    assert report["rungs"]["data"] == {
        "tests": 1,
        "passed": 1,
        "failed": 0,
        "skipped": 0,
        "blocked": 0,
    }
    assert report["tests"][0]["reruns"] == 1
    statuses = [(c["status"], c.get("rerun", False), c["passed"]) for c in report["checks"]]
    assert statuses == [("rerun", True, False), ("pass", False, True)]
    result.stdout.fnmatch_lines(["checks: 2 ran, 0 failed, 0 warned, not counted: 1 rerun*"])


def test_a_rerun_that_keeps_failing_fails_the_gate(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_rerunfailures")
    pytester.makepyfile(
        test_bad="""
        import pytest
        from pytest_mlchecks import assert_finite

        @pytest.mark.ml_data
        def test_always(): assert_finite([float("nan")])
        """
    )
    result = pytester.runpytest("--reruns", "2", "--ml-audit", "--ml-audit-json=r.json")
    assert result.parseoutcomes() == {"failed": 1, "rerun": 2}
    report = _json(pytester)
    assert report["gate"] == "fail"
    assert [c["status"] for c in report["checks"]] == ["rerun", "fail"]
    assert report["checks"][0]["count"] == 2  # the two discarded attempts, merged


XFAIL = """
import pytest
from pytest_mlchecks import assert_finite

@pytest.mark.ml_data
@pytest.mark.xfail(reason="known NaN in the export")
def test_known_bad():
    assert_finite([float("nan"), 1.0])

@pytest.mark.ml_data
def test_good():
    assert_finite([1.0])
"""


@pytest.mark.parametrize("mode", MODES)
def test_checks_inside_xfail_are_accepted(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_xf=XFAIL)
    result = _run(pytester, mode, "--ml-audit", "--ml-audit-json=r.json", "--ml-audit-md=r.md")
    result.assert_outcomes(passed=1, xfailed=1)
    report = _json(pytester)
    assert report["gate"] == "pass"
    by_test = {c["nodeid"].split("::")[1]: c["status"] for c in report["checks"]}
    assert by_test == {"test_known_bad": "xfail", "test_good": "pass"}
    outcomes = {t["nodeid"].split("::")[1]: t["outcome"] for t in report["tests"]}
    assert outcomes["test_known_bad"] == "xfailed"
    md = (pytester.path / "r.md").read_text()
    assert "| FAIL |" not in md and "xfail (accepted)" in md


def test_strict_xpass_fails_the_gate(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nxfail_strict = true\n")
    pytester.makepyfile(
        test_xp="""
        import pytest
        from pytest_mlchecks import assert_finite

        @pytest.mark.xfail(reason="should have been fixed")
        def test_now_passes():
            assert_finite([1.0])
        """
    )
    result = pytester.runpytest("--ml-audit", "--ml-audit-json=r.json")
    result.assert_outcomes(failed=1)
    assert _json(pytester)["gate"] == "fail"


@pytest.mark.parametrize("mode", MODES)
def test_repeated_identical_checks_are_one_record_with_a_count(
    pytester: pytest.Pytester, mode: str
) -> None:
    # what pytest-benchmark does: call the same code (and so the same check) once per round
    pytester.makepyfile(
        test_bench="""
        import numpy as np
        from pytest_mlchecks import assert_finite

        def test_rounds():
            X = np.ones((50, 3))
            for _ in range(500):
                assert_finite(X)
            assert_finite(np.ones((5, 2)))  # another figure: its own record
        """
    )
    _run(pytester, mode, "--ml-audit-json=r.json")
    checks = _json(pytester)["checks"]
    assert [(c["name"], c["count"]) for c in checks] == [("finite", 500), ("finite", 1)]


def test_pytest_benchmark_gives_one_record_per_test(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_benchmark")
    pytester.makepyfile(
        test_bench="""
        import numpy as np
        from pytest_mlchecks import assert_finite

        def test_bench(benchmark):
            benchmark(assert_finite, np.ones((50, 3)))
        """
    )
    result = pytester.runpytest_subprocess("--ml-audit-json=r.json", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    checks = _json(pytester)["checks"]
    assert len(checks) == 1 and checks[0]["count"] > 1


NOT_ENFORCED = """
import numpy as np
from pytest_mlchecks import check_finite

def test_looks_but_does_not_assert():
    check_finite(np.array([np.nan, 1.0]))

def test_asserts_the_twin():
    assert check_finite(np.array([np.nan, 1.0])).passed
"""


@pytest.mark.parametrize("mode", MODES)
def test_unasserted_failing_twin_is_not_enforced(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_ne=NOT_ENFORCED)
    result = _run(pytester, mode, "--ml-audit-json=r.json", "--ml-audit-md=r.md", "-v")
    result.assert_outcomes(passed=1, failed=1)
    report = _json(pytester)
    by_test = {c["nodeid"].split("::")[1]: c["status"] for c in report["checks"]}
    assert by_test == {
        "test_looks_but_does_not_assert": "not_enforced",
        "test_asserts_the_twin": "fail",
    }
    result.stdout.fnmatch_lines(["checks: 2 ran, 1 failed, 0 warned, not counted: 1 not enforced*"])
    assert "| not enforced |" in (pytester.path / "r.md").read_text()


def test_unasserted_twin_beside_a_passing_gate(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ne=NOT_ENFORCED.split("def test_asserts_the_twin")[0])
    result = pytester.runpytest("--ml-audit", "--ml-audit-json=r.json", "--ml-audit-md=r.md")
    assert result.ret == pytest.ExitCode.OK
    report = _json(pytester)
    assert report["gate"] == "pass"
    md = (pytester.path / "r.md").read_text()
    assert "FAIL" not in md and "not enforced" in md


WARNING_CHECK = """
import numpy as np
from pytest_mlchecks import assert_class_balance

def test_imbalanced():
    assert_class_balance(np.array([0] * 95 + [1] * 5))
"""


@pytest.mark.parametrize("mode", MODES)
def test_filterwarnings_error_makes_summary_and_gate_agree(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(test_warn=WARNING_CHECK)
    if mode == "serial":  # (the warning side needs no worker to be shown)
        relaxed = _run(pytester, mode, "--ml-audit", "--ml-audit-json=r.json")
        relaxed.assert_outcomes(passed=1, warnings=1)
        report = _json(pytester)
        assert report["gate"] == "pass" and report["checks"][0]["status"] == "warn"
        relaxed.stdout.fnmatch_lines(["checks: 1 ran, 0 failed, 1 warned*", "gate: PASS"])

    pytester.makeini("[pytest]\nfilterwarnings =\n    error\n")
    strict = _run(pytester, mode, "--ml-audit", "--ml-audit-json=r.json")
    strict.assert_outcomes(failed=1)
    report = _json(pytester)
    assert report["gate"] == "fail"
    assert report["checks"][0]["status"] == "fail"
    strict.stdout.fnmatch_lines(["checks: 1 ran, 1 failed, 0 warned*", "gate: FAIL*"])


def test_a_warning_stays_a_warning_when_another_check_fails_the_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_both="""
        import numpy as np
        from pytest_mlchecks import assert_class_balance, assert_finite

        def test_both():
            assert_class_balance(np.array([0] * 95 + [1] * 5))
            assert_finite([float("nan")])
        """
    )
    pytester.runpytest("--ml-audit-json=r.json").assert_outcomes(failed=1)
    statuses = {c["name"]: c["status"] for c in _json(pytester)["checks"]}
    assert statuses == {"class_balance": "warn", "finite": "fail"}


def test_ml_strict_counts_the_warning_as_failed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_warn=WARNING_CHECK)
    result = pytester.runpytest("--ml-strict", "--ml-audit-json=r.json")
    result.assert_outcomes(failed=1)
    report = _json(pytester)
    assert report["gate"] == "fail" and report["checks"][0]["status"] == "fail"


# ------------------------------------------------------------------- ordering


def test_ladder_order_survives_failed_first(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_ff="""
        import os
        import pytest

        @pytest.mark.ml_model
        def test_model():
            assert os.environ.get("MODEL_OK") == "1"

        @pytest.mark.ml_data
        def test_data_a(): pass

        @pytest.mark.ml_data
        def test_data_b(): pass

        @pytest.mark.ml_production
        def test_production(): pass
        """
    )
    first = pytester.runpytest("--ml-audit", "--ml-no-block", "-p", "no:randomly")
    first.assert_outcomes(passed=3, failed=1)
    result = pytester.runpytest("--ml-audit", "--ml-no-block", "--ff", "-v", "-p", "no:randomly")
    order = re.findall(r"::(test_\w+) (?:PASSED|FAILED|SKIPPED)", result.stdout.str())
    assert order == ["test_data_a", "test_data_b", "test_model", "test_production"], order
    # without --ml-audit, --ff keeps its own order: the failed model test first
    plain = pytester.runpytest("--ff", "-v", "-p", "no:randomly")
    plain_order = re.findall(r"::(test_\w+) (?:PASSED|FAILED)", plain.stdout.str())
    assert plain_order[0] == "test_model"


# ------------------------------------------------------------------- report paths


@pytest.mark.parametrize("option", ["--ml-audit-json", "--ml-audit-md", "--ml-audit-html"])
def test_report_path_under_a_file_is_a_usage_error(pytester: pytest.Pytester, option: str) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING)
    (pytester.path / "afile").write_text("x")
    result = pytester.runpytest(f"{option}=afile/report.out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{option}=afile/report.out: *afile is a file*"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


@pytest.mark.skipif(not HAS_XDIST, reason="pytest-xdist not installed")
def test_report_path_errors_stop_an_xdist_run_before_it_starts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING)
    (pytester.path / "afile").write_text("x")
    result = _run(pytester, "xdist", "--ml-audit-json=afile/r.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ml-audit-json=afile/r.json: *afile is a file*"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


@pytest.mark.parametrize("option", ["--ml-audit-json", "--ml-audit-md", "--ml-audit-html"])
def test_report_path_that_is_a_directory_is_a_usage_error(
    pytester: pytest.Pytester, option: str
) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING)
    pytester.mkdir("reports")
    result = pytester.runpytest(f"{option}=reports")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{option}=reports: is a directory*"])


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_unwritable_report_path_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING)
    # /proc refuses new files even to root (a chmod-ed directory would not stop root)
    result = pytester.runpytest("--ml-audit-json=/proc/self/report.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ml-audit-json=/proc/self/report.json: cannot write in*"])


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root")
def test_read_only_directory_is_a_usage_error(pytester: pytest.Pytester) -> None:
    locked = pytester.mkdir("locked")
    locked.chmod(0o500)
    try:
        pytester.makepyfile(test_ok=TWO_PASSING)
        result = pytester.runpytest("--ml-audit-md=locked/summary.md")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*--ml-audit-md=locked/summary.md: cannot write in*"])
    finally:
        locked.chmod(0o700)


def test_a_test_that_changes_directory_does_not_move_the_report(
    pytester: pytest.Pytester,
) -> None:
    pytester.mkdir("elsewhere")
    pytester.makepyfile(
        test_cd="""
        import os

        def test_wanders():
            os.chdir("elsewhere")
        """
    )
    pytester.runpytest("--ml-audit-json=r.json")
    assert _json(pytester)["gate"] == "pass"
    assert not (pytester.path / "elsewhere" / "r.json").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_written_in_place(pytester: pytest.Pytester) -> None:
    import threading

    pytester.makepyfile(test_ok=TWO_PASSING)
    pipe = pytester.path / "report.pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()), daemon=True)
    reader.start()
    result = pytester.runpytest_subprocess(f"--ml-audit-json={pipe}")
    reader.join(timeout=30)
    assert result.ret == pytest.ExitCode.OK
    assert json.loads(received[0])["gate"] == "pass"
    assert pipe.is_fifo()  # still the pipe, not replaced by a file


def test_missing_parent_directories_are_created(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ok=TWO_PASSING)
    result = pytester.runpytest("--ml-audit-json=out/deep/r.json")
    assert result.ret == pytest.ExitCode.OK
    assert json.loads((pytester.path / "out/deep/r.json").read_text())["gate"] == "pass"
