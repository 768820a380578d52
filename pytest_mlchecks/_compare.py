"""``--ml-compare PATH``: this run's check figures against an earlier JSON audit report.

A check is identified across runs by its test's node id, its name and its occurrence (the
first, second, ... record of that check in that test). For each check found in both reports
the figure then and now is compared in the direction the registry says is worse
(``CheckSpec.worse``); a figure that got worse by more than the relative tolerance (ini
``ml_compare_tolerance``) is a regression, and ``--ml-compare-fail`` makes regressions fail the
gate (like pytest-benchmark's ``--benchmark-compare-fail``). Checks that fail now and did not
fail then, checks that vanished and new checks are listed too.

Standard library and pytest only: the plugin loads this module at start-up when
``--ml-compare`` is given.
"""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_mlchecks._messages import fmt_report, md_table
from pytest_mlchecks._registry import CHECKS
from pytest_mlchecks._report import md_code, md_escape, status_key

if TYPE_CHECKING:
    from pytest_mlchecks._records import AuditReport, CompareEntry, CompareSection, ReportCheck

#: relative change of a figure, in the worse direction, tolerated by ``--ml-compare-fail``
DEFAULT_TOLERANCE = 0.05
OPTION = "--ml-compare"
#: schema versions of the JSON report this module can read
READABLE_SCHEMAS = (1, 2)


@dataclass(frozen=True)
class Baseline:
    """An earlier report's checks, read at start-up."""

    path: str
    gate: str | None
    checks: list[ReportCheck]


@dataclass(frozen=True)
class Comparison:
    """What ``--ml-compare`` asked for: the earlier report, the tolerance, whether to fail."""

    baseline: Baseline
    tolerance: float
    fail: bool

    def apply(self, summary: AuditReport) -> bool:
        """Compare, attach the section to ``summary``; True when it failed the run."""
        section = compare(summary, self.baseline, tolerance=self.tolerance, fail=self.fail)
        return apply(summary, section)


def tolerance_from_ini(raw: object) -> float:
    """The ini ``ml_compare_tolerance`` as a relative change >= 0, or a usage error."""
    text = str(raw or "").strip()
    if not text:
        return DEFAULT_TOLERANCE
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise pytest.UsageError(
            "ini option ml_compare_tolerance must be a finite number >= 0 (a relative change, "
            f"e.g. 0.05 for 5%), got {text!r}"
        )
    return value


def load_baseline(path: str) -> Baseline:
    """Read the earlier report, or stop the run with a usage error naming ``--ml-compare``."""
    where = f"{OPTION}={path}"
    target = os.path.abspath(os.path.expanduser(path))
    try:
        with open(target, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise pytest.UsageError(
            f"{where}: no such file (give an earlier --ml-audit-json report)"
        ) from None
    except IsADirectoryError:
        raise pytest.UsageError(f"{where}: is a directory, not a JSON report") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise pytest.UsageError(f"{where}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise pytest.UsageError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise pytest.UsageError(
            f"{where}: not a pytest-mlchecks report (no schema_version; write one with "
            "--ml-audit-json)"
        )
    version = data.get("schema_version")
    if version not in READABLE_SCHEMAS:
        raise pytest.UsageError(
            f"{where}: report schema_version {version!r} is not one this version reads "
            f"{READABLE_SCHEMAS}"
        )
    checks = data.get("checks")
    if not isinstance(checks, list) or not all(
        isinstance(c, dict) and isinstance(c.get("nodeid"), str) and isinstance(c.get("name"), str)
        for c in checks
    ):
        raise pytest.UsageError(f"{where}: its 'checks' are not a list of check records")
    gate = data.get("gate")
    return Baseline(path=target, gate=gate if isinstance(gate, str) else None, checks=checks)


def _keyed(checks: list[ReportCheck]) -> dict[tuple[str, str, int], ReportCheck]:
    """Checks by (node id, name, occurrence); discarded rerun attempts left out."""
    out: dict[tuple[str, str, int], ReportCheck] = {}
    seen: dict[tuple[str, str], int] = {}
    for check in checks:
        if check.get("rerun") or check.get("status") == "rerun":
            continue
        pair = (str(check["nodeid"]), str(check["name"]))
        occurrence = seen.get(pair, 0)
        seen[pair] = occurrence + 1
        out[(pair[0], pair[1], occurrence)] = check
    return out


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _direction(check: ReportCheck) -> Any:
    spec = CHECKS.get(str(check.get("name")))
    if spec is None or check.get("user"):
        return None  # the test's own figure (ml_audit.record): no known direction
    return spec.worse


def _entry(
    key: tuple[str, str, int],
    then: ReportCheck | None,
    now: ReportCheck | None,
    tolerance: float,
) -> CompareEntry:
    nodeid, name, occurrence = key
    either = now if now is not None else then
    worse = _direction(either) if either is not None else None
    before = _number(then.get("value")) if then is not None else None
    after = _number(now.get("value")) if now is not None else None
    change, relative, regression = "n/a", None, False
    if before is not None and after is not None:
        if before != 0:
            relative = (after - before) / abs(before)
        if after == before:
            change = "same"
        elif worse is None:
            change = "changed"
        else:
            got_worse = after > before if worse == "higher" else after < before
            change = "worse" if got_worse else "better"
            regression = got_worse and (relative is None or abs(relative) > tolerance)
    return {
        "nodeid": nodeid,
        "name": name,
        "occurrence": occurrence,
        "rung": either.get("rung") if either is not None else None,
        "then": then.get("value") if then is not None else None,
        "now": now.get("value") if now is not None else None,
        "status_then": status_key(then) if then is not None else None,
        "status_now": status_key(now) if now is not None else None,
        "worse": worse,
        "change": change,
        "relative": relative,
        "regression": regression,
    }


def compare(
    summary: AuditReport, baseline: Baseline, *, tolerance: float, fail: bool
) -> CompareSection:
    """What changed between the earlier report and this run's summary."""
    before = _keyed(baseline.checks)
    after = _keyed(summary["checks"])
    both = [k for k in after if k in before]
    section: CompareSection = {
        "baseline": baseline.path,
        "baseline_gate": baseline.gate,
        "tolerance": tolerance,
        "fail_on_regression": fail,
        "checks": [_entry(k, before[k], after[k], tolerance) for k in both],
        "new_failures": [
            _entry(k, before.get(k), check, tolerance)
            for k, check in after.items()
            if status_key(check) == "fail" and (k not in before or status_key(before[k]) != "fail")
        ],
        "vanished": [
            _entry(k, check, None, tolerance) for k, check in before.items() if k not in after
        ],
        "new": [_entry(k, None, check, tolerance) for k, check in after.items() if k not in before],
        "regressions": 0,
    }
    section["regressions"] = sum(1 for e in section["checks"] if e["regression"])
    return section


def regression_reason(section: CompareSection) -> str | None:
    """The gate's reason when ``--ml-compare-fail`` fails it (names the first figures)."""
    worse = [e for e in section["checks"] if e["regression"]]
    if not worse:
        return None
    named = ", ".join(f"{e['name']} in {e['nodeid']} ({_figures(e)})" for e in worse[:3])
    more = f" and {len(worse) - 3} more" if len(worse) > 3 else ""
    noun = "figure" if len(worse) == 1 else "figures"
    return (
        f"{len(worse)} {noun} worse than the baseline beyond the "
        f"{section['tolerance']:.0%} tolerance: {named}{more}"
    )


def apply(summary: AuditReport, section: CompareSection) -> bool:
    """Attach the section to the summary; with ``--ml-compare-fail`` a regression fails the
    gate (an "error" gate stays one). Returns whether the comparison failed the run."""
    summary["compare"] = section
    reason = regression_reason(section) if section["fail_on_regression"] else None
    if reason is None:
        return False
    if summary["gate"] != "error":
        earlier = summary.get("reason") if summary["gate"] == "fail" else None
        summary["gate"] = "fail"
        summary["reason"] = f"{earlier}; {reason}" if earlier else reason
    return True


def _relative(entry: CompareEntry) -> str:
    if entry["relative"] is None:
        return "from 0" if entry["change"] in ("worse", "better") else ""
    return f"{entry['relative']:+.0%}"


def _figures(entry: CompareEntry) -> str:
    rel = _relative(entry)
    text = f"{fmt_report(entry['then'])} -> {fmt_report(entry['now'])}"
    return f"{text}, {rel}" if rel else text


def _label(entry: CompareEntry) -> str:
    if entry["regression"]:
        return "WORSE"
    return {"worse": "worse", "better": "better", "changed": "changed"}.get(entry["change"], "")


def counts_line(section: CompareSection) -> str:
    changes = section["checks"]
    worse = sum(1 for e in changes if e["change"] == "worse")
    better = sum(1 for e in changes if e["change"] == "better")
    gate = section["baseline_gate"]
    return (
        f"compared with {section['baseline']}"
        + (f" (gate {gate.upper()} then)" if gate else "")
        + f": {len(changes)} checks in both, {worse} worse ({section['regressions']} beyond "
        f"the {section['tolerance']:.0%} tolerance), {better} better, "
        f"{len(section['new_failures'])} new failures, {len(section['vanished'])} vanished, "
        f"{len(section['new'])} new"
    )


def _shown(section: CompareSection) -> list[tuple[str, CompareEntry]]:
    """(label, entry) rows worth showing: changed figures, new failures, vanished checks."""
    rows = [(_label(e), e) for e in section["checks"] if e["change"] not in ("same", "n/a")]
    rows.sort(key=lambda row: (row[0] != "WORSE", row[0] != "worse"))
    rows += [("NEW FAIL", e) for e in section["new_failures"]]
    rows += [("vanished", e) for e in section["vanished"]]
    return rows


def terminal_lines(section: CompareSection, *, verbose: int = 0) -> list[str]:
    """The comparison in the terminal summary: counts, then the rows that changed."""
    lines = [counts_line(section)]
    rows = _shown(section)
    if verbose <= 0 and len(rows) > 30:
        rows = rows[:30]
        lines.append("  (the first 30; -v: all)")
    label_w = max([len(label) for label, _ in rows] + [4])
    name_w = max([len(e["name"]) for _, e in rows] + [4])
    for label, e in rows:
        worse = f" ({e['worse']} is worse)" if e["worse"] and e["change"] == "worse" else ""
        lines.append(
            f"  {label:{label_w}}  {e['name']:{name_w}}  {_figures(e) + worse:36}  {e['nodeid']}"
        )
    reason = regression_reason(section) if section["fail_on_regression"] else None
    if reason is not None:
        lines.append(f"--ml-compare-fail: gate FAIL - {reason}")
    return lines


def markdown_lines(section: CompareSection) -> list[str]:
    """A "What changed since the baseline" section for the Markdown report."""
    out = ["### What changed since the baseline", "", md_escape(counts_line(section)), ""]
    rows = [
        [
            md_escape(label),
            md_code(e["name"]),
            md_escape(fmt_report(e["then"])),
            md_escape(fmt_report(e["now"])),
            md_escape(_relative(e)),
            md_escape(e["worse"] or "?"),
            md_code(e["nodeid"]),
        ]
        for label, e in _shown(section)
    ]
    if rows:
        headers = ["change", "check", "then", "now", "relative", "worse when", "test"]
        out += md_table(headers, rows, right=(2, 3, 4))
        out.append("")
    return out


def html_section(section: CompareSection) -> str:
    """The same section as an HTML table for the HTML report."""

    def esc(value: Any) -> str:
        return html.escape(str(value))

    out = [
        "<h2>What changed since the baseline</h2>",
        f"<p class='muted'>{esc(counts_line(section))}</p>",
    ]
    rows = _shown(section)
    if not rows:
        return "\n".join(out)
    out.append(
        "<table class='compare'><tr><th>change</th><th>check</th><th>then</th><th>now</th>"
        "<th>relative</th><th>worse when</th><th>test</th></tr>"
    )
    for label, e in rows:
        css = "failed" if label in ("WORSE", "NEW FAIL") else ""
        out.append(
            f"<tr class='{css}'><td>{esc(label)}</td><td><code>{esc(e['name'])}</code></td>"
            f"<td class='num'>{esc(fmt_report(e['then']))}</td>"
            f"<td class='num'>{esc(fmt_report(e['now']))}</td>"
            f"<td class='num'>{esc(_relative(e))}</td><td>{esc(e['worse'] or '?')}</td>"
            f"<td class='muted'>{esc(e['nodeid'])}</td></tr>"
        )
    out.append("</table>")
    out.append(change_chart(section))
    return "\n".join(out)


def change_chart(section: CompareSection, limit: int = 20) -> str:
    """SVG of the figures that moved: each check's relative change (now vs then) in its
    worse direction (right: worse, left: better), with the tolerance line; the largest
    ``limit`` moves. Relative, because figures of different checks have different scales."""
    from pytest_mlchecks._charts import BarChart, Mark, Series

    moved = [
        (e, (e["relative"] if e["worse"] == "higher" else -e["relative"]) * 100)
        for e in section["checks"]
        if e["relative"] is not None and e["worse"] and e["change"] != "same"
    ]
    if not moved:
        return ""
    moved.sort(key=lambda item: -abs(item[1]))
    moved = moved[:limit]
    labels = [f"{e['name']} \u00b7 {e['nodeid'].rsplit('::', 1)[-1]}" for e, _ in moved]
    worse = [v if v > 0 else None for _, v in moved]
    better = [v if v <= 0 else None for _, v in moved]
    tolerance = section["tolerance"] * 100
    return BarChart(
        "Change since the baseline, % of the figure then (right: worse)",
        labels,
        [Series("worse", worse, "bad"), Series("better", better, "ok")],
        marks=[Mark(f"tolerance {fmt_report(tolerance)}%", tolerance, "muted")],
        value_text=lambda v: f"{v:+.1f}%",
    ).svg()
