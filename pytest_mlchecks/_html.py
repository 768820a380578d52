"""A single self-contained HTML audit report: the ladder, failing checks, inline SVG plots.

Plots are drawn as inline SVG from the checks' aggregate details (no plotting library, no
network, no external files): each check declares its chart beside its code (``@chart`` in
``pytest_mlchecks._charts``), e.g. per-layer gradient norms, drift histograms (reference vs
current), train vs test (and baseline) scores, per-group rates.
"""

from __future__ import annotations

import html
from typing import Any

from pytest_mlchecks._charts import bars as _bars  # noqa: F401  (the primitive, old name)
from pytest_mlchecks._charts import chart_for
from pytest_mlchecks._messages import fmt_report as _fmt
from pytest_mlchecks._records import AuditReport, CheckDict, CheckStatus, ReportCheck
from pytest_mlchecks._report import NOT_COUNTED, STATUS_LABELS, partial_lines, status_key
from pytest_mlchecks._result import RUNGS

__all__ = ["plot_for", "render"]


def _esc(value: Any) -> str:
    return html.escape(str(value))


def plot_for(check: CheckDict) -> str:
    """An SVG picture of a check's figures, when one says more than the numbers: the chart
    its check declared with ``@chart``, drawn from the recorded details."""
    build = chart_for(str(check.get("name")))
    if build is None:
        return ""
    drawn = "".join(chart.svg() for chart in build(check.get("details") or {}))
    return f"<div class='charts'>{drawn}</div>" if drawn else ""


CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;
max-width:1100px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;color:#fff;font-weight:600}
.pass{background:#2e8b57}.fail{background:#c0392b}.warn{background:#d68910}.muted{color:#777}
table{border-collapse:collapse;margin:6px 0 12px}
td,th{border:1px solid #ddd;padding:4px 9px;text-align:left}
th{background:#f4f4f4} td.num{text-align:right}
tr.failed td:first-child{border-left:4px solid #c0392b}
tr.blocked td:first-child{border-left:4px solid #d68910}
pre{background:#fafafa;border:1px solid #eee;padding:10px;white-space:pre-wrap;font-size:12.5px}
details{margin:8px 0;border:1px solid #e5e5e5;border-radius:6px;padding:6px 10px}
summary{cursor:pointer;font-weight:600}
.charts{display:flex;flex-wrap:wrap;align-items:flex-start;gap:6px 22px;margin:6px 0}
svg.chart{display:block;max-width:100%;height:auto;margin:4px 0}
td.muted,summary{overflow-wrap:anywhere} code{overflow-wrap:anywhere}
"""


def _status(check: ReportCheck) -> CheckStatus:
    """info / pass / warn / fail / not_enforced / xfail / rerun (also the CSS class)."""
    return status_key(check)


def render(summary: AuditReport) -> str:
    """The whole report as one HTML document."""
    gate = summary["gate"]
    lowest = summary.get("failed_rung")
    lowest_note = f", lowest failing rung: {_esc(lowest)}" if lowest else ""
    badge = {"pass": "pass", "incomplete": "warn"}.get(gate, "fail")
    notes = []
    if gate != "pass" and summary.get("reason"):
        notes.append(f"<p><strong>Reason:</strong> {_esc(summary['reason'])}</p>")
    notes += [f"<p class='muted'>{_esc(line)}</p>" for line in partial_lines(summary)]
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>ML audit report</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>ML audit <span class='badge {badge}'>gate {_esc(gate.upper())}</span></h1>",
        f"<div class='muted'>seed {_esc(summary.get('seed'))}"
        f"{', strict' if summary.get('strict') else ''}"
        f"{lowest_note}</div>",
        *notes,
        "<h2>The ladder</h2><table><tr><th>rung</th><th>tests</th><th>passed</th>"
        "<th>failed</th><th>skipped</th><th>blocked</th></tr>",
    ]
    rungs = summary["rungs"]
    for rung in ("unranked", *RUNGS):
        row = rungs.get(rung)
        if row is None:
            continue
        css = "failed" if row["failed"] else ("blocked" if row["blocked"] else "")
        cells = "".join(
            f"<td class='num'>{row[c]}</td>"
            for c in ("tests", "passed", "failed", "skipped", "blocked")
        )
        out.append(f"<tr class='{css}'><td>{_esc(rung)}</td>{cells}</tr>")
    out.append("</table>")
    ladders = summary.get("ladders") or {}
    if ladders:
        out.append(
            "<h2>Ladders, one per directory</h2><table><tr><th>ladder</th><th>tests</th>"
            "<th>verdict</th></tr>"
        )
        for name, entry in ladders.items():
            ok = entry["failed_rung"] is None
            verdict = "pass" if ok else f"fails at {entry['failed_rung']}"
            out.append(
                f"<tr class='{'' if ok else 'failed'}'><td>{_esc(name)}</td>"
                f"<td class='num'>{entry['tests']}</td>"
                f"<td><span class='badge {'pass' if ok else 'fail'}'>{_esc(verdict)}</span>"
                "</td></tr>"
            )
        out.append("</table>")
    compared = summary.get("compare")
    if compared is not None:
        from pytest_mlchecks._compare import html_section

        out.append(html_section(compared))
    checks = summary["checks"]
    failing = [c for c in checks if _status(c) in ("fail", "warn")]
    out.append(f"<h2>Findings ({len(failing)} of {len(checks)} checks)</h2>")
    if not failing:
        out.append("<p>Every check passed.</p>")
    order = {rung: i for i, rung in enumerate(RUNGS)}
    for check in sorted(failing, key=lambda c: (order.get(str(c.get("rung")), 9), c["nodeid"])):
        status = _status(check)
        out.append(
            f"<details open><summary><span class='badge {status}'>{status.upper()}</span> "
            f"{_esc(check.get('rung'))} · <code>{_esc(check['name'])}</code> · "
            f"value {_esc(_fmt(check.get('value')))} (threshold "
            f"{_esc(_fmt(check.get('threshold')))}) · <span class='muted'>"
            f"{_esc(check['nodeid'])}</span></summary>"
        )
        out.append(plot_for(check))
        out.append(f"<pre>{_esc(check.get('message', ''))}</pre></details>")
    passed = [c for c in checks if _status(c) in ("pass", "info")]
    if passed:
        out.append(
            f"<h2>Passed and recorded ({len(passed)})</h2><table><tr><th>rung</th>"
            "<th>check</th><th>value</th><th>threshold</th><th>test</th></tr>"
        )
        for check in passed:
            out.append(
                f"<tr><td>{_esc(check.get('rung'))}</td><td><code>{_esc(check['name'])}</code>"
                f"</td><td class='num'>{_esc(_fmt(check.get('value')))}</td>"
                f"<td class='num'>{_esc(_fmt(check.get('threshold')))}</td>"
                f"<td class='muted'>{_esc(check['nodeid'])}</td></tr>"
            )
        out.append("</table>")
        pictured = [(c, plot_for(c)) for c in passed]
        pictured = [(c, drawn) for c, drawn in pictured if drawn]
        for check, drawn in pictured:
            status = _status(check)
            out.append(
                f"<details><summary><span class='badge {status}'>{status.upper()}</span> "
                f"{_esc(check.get('rung'))} · <code>{_esc(check['name'])}</code> · value "
                f"{_esc(_fmt(check.get('value')))} · <span class='muted'>{_esc(check['nodeid'])}"
                f"</span></summary>{drawn}</details>"
            )
    uncounted = [c for c in checks if _status(c) in NOT_COUNTED]
    if uncounted:
        out.append(
            f"<h2>Recorded, not counted ({len(uncounted)})</h2><table><tr><th>status</th>"
            "<th>rung</th><th>check</th><th>value</th><th>threshold</th><th>test</th></tr>"
        )
        for check in uncounted:
            out.append(
                f"<tr><td>{_esc(STATUS_LABELS[_status(check)])}</td>"
                f"<td>{_esc(check.get('rung'))}</td><td><code>{_esc(check['name'])}</code>"
                f"</td><td class='num'>{_esc(_fmt(check.get('value')))}</td>"
                f"<td class='num'>{_esc(_fmt(check.get('threshold')))}</td>"
                f"<td class='muted'>{_esc(check['nodeid'])}</td></tr>"
            )
        out.append("</table>")
    blocked = [t for t in summary["tests"] if t["outcome"] == "blocked"]
    if blocked:
        out.append(f"<h2>Blocked tests ({len(blocked)})</h2><ul>")
        for t in blocked:
            out.append(
                f"<li>{_esc(t['nodeid'])} ({_esc(t['rung'])}; blocked by "
                f"{_esc(t['blocked_by'])}: fix lower layers first)</li>"
            )
        out.append("</ul>")
    not_finished = [t for t in summary["tests"] if t["outcome"] == "not_finished"]
    if not_finished:
        out.append(f"<h2>Not finished ({len(not_finished)})</h2><ul>")
        out += [f"<li>{_esc(t['nodeid'])}</li>" for t in not_finished]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)
