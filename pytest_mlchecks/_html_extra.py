"""The check table as a pytest-html extra: when the pytest-html plugin is installed and
writing a report (``--html=PATH``), each test that ran checks gets a small table of them
(name, rung, figure, threshold, verdict) in its row of pytest-html's report.

``pytest_html`` is imported only when the plugin is active: a run without ``--html`` (or
without pytest-html) never loads it. Standard library and pytest only.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from pytest_mlchecks._annotations import verdict
from pytest_mlchecks._messages import fmt_report

if TYPE_CHECKING:
    import pytest

    from pytest_mlchecks._records import CheckRecord

#: colours of the verdict cell
VERDICT_COLORS = {"fail": "#c0392b", "warn": "#d68910", "pass": "#2e8b57"}
CELL = "border:1px solid #ddd;padding:2px 8px;text-align:left"


def active(config: pytest.Config) -> bool:
    """Whether pytest-html is loaded and writing a report in this run."""
    return config.pluginmanager.hasplugin("html") and bool(config.getoption("htmlpath", None))


def check_table(records: list[CheckRecord], *, test_failed: bool) -> str:
    """An HTML table of the checks: name, rung, figure, threshold and verdict."""
    rows = []
    for record in records:
        said = verdict(record, test_failed=test_failed)
        color = VERDICT_COLORS.get(said, "#555")
        cells = [
            f"<td style='{CELL}'><code>{html.escape(str(record.get('name')))}</code></td>",
            f"<td style='{CELL}'>{html.escape(str(record.get('rung') or ''))}</td>",
            f"<td style='{CELL}'>{html.escape(fmt_report(record.get('value')))}</td>",
            f"<td style='{CELL}'>{html.escape(fmt_report(record.get('threshold')))}</td>",
            f"<td style='{CELL};color:{color};font-weight:600'>{html.escape(said)}</td>",
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(
        f"<th style='{CELL};background:#f4f4f4'>{name}</th>"
        for name in ("ML check", "rung", "figure", "threshold", "verdict")
    )
    return (
        "<table class='mlchecks' style='border-collapse:collapse;margin:4px 0'>"
        f"<tr>{head}</tr>{''.join(rows)}</table>"
    )


def attach(report: pytest.TestReport, records: list[CheckRecord]) -> None:
    """Add the check table of ``records`` to the report's pytest-html extras."""
    from pytest_html import extras

    table = check_table(records, test_failed=report.failed)
    current: list[Any] = list(getattr(report, "extras", None) or [])
    report.extras = [*current, extras.html(table)]  # type: ignore[attr-defined]
