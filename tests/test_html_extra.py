"""pytest-html gets the check table (name, rung, figure, threshold, verdict) of each test as
an extra, when the pytest-html plugin is installed and writing a report; never otherwise."""

from __future__ import annotations

import html
import json
import re

import pytest

from pytest_mlchecks import _html_extra

from .test_gate import MODES, _run

pytest.importorskip("pytest_html")

TESTS = """
import numpy as np
from pytest_mlchecks import assert_finite, check_finite

def test_passes():
    assert_finite(np.ones((4, 2)))

def test_fails():
    assert_finite(np.array([[1.0, np.nan]]))

def test_no_checks():
    assert True
"""


def _extras_by_test(text: str) -> dict[str, list[str]]:
    """The HTML extras of each test, read back from pytest-html's embedded JSON data."""
    blob = re.search(r'data-jsonblob="([^"]*)"', text)
    assert blob is not None
    data = json.loads(html.unescape(blob.group(1)))
    out: dict[str, list[str]] = {}
    for test_id, rows in data["tests"].items():
        for row in rows:
            out.setdefault(test_id, []).extend(
                e["content"] for e in row.get("extras", []) if e["format_type"] == "html"
            )
    return out


@pytest.mark.parametrize("mode", MODES)
def test_the_check_table_is_an_extra_of_each_test_in_the_html_report(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(test_x=TESTS)
    result = _run(pytester, mode, "--html=report.html", "--self-contained-html")
    result.assert_outcomes(passed=2, failed=1)
    extras = _extras_by_test((pytester.path / "report.html").read_text())
    passed = [e for k, v in extras.items() if k.endswith("test_passes") for e in v]
    failed = [e for k, v in extras.items() if k.endswith("test_fails") for e in v]
    assert len(passed) == 1 and len(failed) == 1
    assert not [e for k, v in extras.items() if k.endswith("test_no_checks") for e in v]
    for table, verdict in ((passed[0], "pass"), (failed[0], "fail")):
        assert "<table class='mlchecks'" in table
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", table)
        assert cells[:5] == ["ML check", "rung", "figure", "threshold", "verdict"]
        assert cells[5:] == ["<code>finite</code>", "data", cells[7], "0", verdict]
    assert re.findall(r"<td[^>]*>(.*?)</td>", failed[0])[2] == "0.5"  # half the cells NaN


def test_no_extra_and_no_pytest_html_import_without_the_plugin_active(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_x=TESTS)
    pytester.makeconftest(
        """
        import sys

        seen = []

        def pytest_runtest_logreport(report):
            if report.when == "call" and getattr(report, "extras", None):
                seen.append(report.nodeid)

        def pytest_sessionfinish(session):
            with open("probe.txt", "w") as f:
                f.write(f"{seen} {'pytest_html.extras' in sys.modules}")
        """
    )
    blocked = ("-p", "no:html", "-p", "no:html_fixtures")  # as if pytest-html were absent
    pytester.runpytest_subprocess(*blocked).assert_outcomes(passed=2, failed=1)
    assert (pytester.path / "probe.txt").read_text() == "[] False"
    pytester.runpytest_subprocess().assert_outcomes(passed=2, failed=1)  # loaded, no --html
    assert (pytester.path / "probe.txt").read_text().startswith("[] ")


def test_the_table_escapes_names_and_spells_verdicts() -> None:
    record = {"name": "a<b", "rung": "data", "value": 0.5, "threshold": None, "passed": False}
    table = _html_extra.check_table([record], test_failed=True)  # type: ignore[list-item]
    assert "a&lt;b" in table and "a<b" not in table and ">fail<" in table
