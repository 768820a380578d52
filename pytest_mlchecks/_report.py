"""Render an audit summary: terminal lines, Markdown for CI job summaries, JSON on disk."""

from __future__ import annotations

import html
import json
import os
import tempfile
from typing import TYPE_CHECKING, Any, Literal

from pytest_mlchecks._messages import fmt_report, md_table
from pytest_mlchecks._result import RUNGS

if TYPE_CHECKING:  # the record types cost start-up time: the annotations only name them
    from pytest_mlchecks._records import AuditReport, CheckStatus, ReportCheck, RungRow

COLUMNS: tuple[Literal["tests", "passed", "failed", "skipped", "blocked"], ...] = (
    "tests",
    "passed",
    "failed",
    "skipped",
    "blocked",
)


#: how each check status reads; only FAIL and WARN are findings, the last three are not counted
STATUS_LABELS: dict[CheckStatus, str] = {
    "pass": "pass",
    "info": "info",
    "fail": "FAIL",
    "warn": "WARN",
    "not_enforced": "not enforced",
    "xfail": "xfail (accepted)",
    "rerun": "rerun (discarded)",
}
NOT_COUNTED: tuple[CheckStatus, ...] = ("not_enforced", "xfail", "rerun")
GATE_ICONS = {"pass": "✅", "fail": "❌", "incomplete": "⚠️", "error": "❌"}


def status_key(check: ReportCheck) -> CheckStatus:
    """The check's status (reports of schema 1 had none: derived from the verdict)."""
    status = check.get("status")
    if isinstance(status, str) and status in STATUS_LABELS:
        return status
    if check.get("passed") is None:
        return "info"
    if check["passed"]:
        return "pass"
    return "warn" if check.get("severity") == "warning" else "fail"


def _status(check: ReportCheck) -> str:
    return STATUS_LABELS[status_key(check)]


#: characters that Markdown or HTML would act on, as numeric character references
_MD_ACTIVE = {ord(char): f"&#{ord(char)};" for char in "&<>\"'|\\`*_[]#~!"}


def md_escape(text: Any) -> str:
    """Plain text safe in a Markdown table cell or inline HTML: no markup, no cell breaks."""
    return " ".join(str(text).translate(_MD_ACTIVE).split("\n"))


def md_code(text: Any) -> str:
    """Inline code (test ids, check names) that survives any character in ``text``."""
    return f"<code>{md_escape(text)}</code>"


def _rung_rows(summary: AuditReport) -> list[tuple[str, RungRow]]:
    rungs = summary["rungs"]
    order = [r for r in ("unranked", *RUNGS) if r in rungs]
    return [(r, rungs[r]) for r in order]


def terminal_lines(
    summary: AuditReport, *, verbose: int = 0, every_check: bool = False
) -> list[str]:
    """Aligned lines for the terminal summary (title printed by the caller): the rung counts,
    the check counts, and a row per check that failed or warned (every check with
    ``every_check``, ``--ml-summary=all``, or ``-v``)."""
    lines: list[str] = []
    rows = _rung_rows(summary)
    width = max(len(name) for name, _ in rows)
    header = "rung".ljust(width) + "".join(c.rjust(9) for c in COLUMNS)
    lines.append(header)
    for name, row in rows:
        line = name.ljust(width) + "".join(str(row[c]).rjust(9) for c in COLUMNS)
        lines.append(line)
    checks = summary["checks"]
    failing = [c for c in checks if _status(c) in ("FAIL", "WARN")]
    shown = checks if (verbose > 0 or every_check) else failing
    if checks:
        lines.append("")
        lines.append(
            f"checks: {len(checks)} ran, {sum(1 for c in checks if _status(c) == 'FAIL')} failed, "
            f"{sum(1 for c in checks if _status(c) == 'WARN')} warned"
            + _not_counted(checks)
            + (
                ""
                if shown is checks or len(failing) == len(checks)
                else f" (showing the {len(failing)} not passing; --ml-summary=all: all)"
                if failing
                else " (--ml-summary=all lists them)"
            )
        )
        status_w = max([4, *(len(_status(c)) for c in shown)])
        name_w = max(len(str(c["name"])) for c in shown) if shown else 4
        rung_w = max(len(str(c.get("rung") or "-")) for c in shown) if shown else 4
        for c in shown:
            figure = f"{fmt_report(c.get('value'))} (threshold {fmt_report(c.get('threshold'))})"
            repeats = int(c.get("count", 1) or 1)
            lines.append(
                f"  {_status(c):{status_w}}  {c.get('rung') or '-'!s:{rung_w}}  "
                f"{c['name']!s:{name_w}}  {figure:28}  {c['nodeid']}"
                + (f"  (x{repeats})" if repeats > 1 else "")
            )
            if verbose > 0 and _status(c) in ("FAIL", "WARN"):
                for text in str(c.get("message", "")).splitlines():
                    lines.append("        " + text)
    ladders = summary.get("ladders") or {}
    if ladders:
        lines.append("")
        lines.append(f"ladders ({len(ladders)}, one per directory):")
        width = max(len(name) for name in ladders)
        for name, entry in ladders.items():
            verdict = "PASS" if entry["failed_rung"] is None else f"FAIL at {entry['failed_rung']}"
            noun = "test " if entry["tests"] == 1 else "tests"
            lines.append(f"  {name:{width}}  {entry['tests']:3d} {noun}  {verdict}")
    lines.append("")
    lines.append(gate_line(summary))
    lines += partial_lines(summary)
    return lines


def _not_counted(checks: list[ReportCheck]) -> str:
    counts = {key: sum(1 for c in checks if status_key(c) == key) for key in NOT_COUNTED}
    parts = [f"{n} {STATUS_LABELS[key]}" for key, n in counts.items() if n]
    return (", not counted: " + ", ".join(parts)) if parts else ""


def partial_lines(summary: AuditReport) -> list[str]:
    """Why the report covers only part of the suite (deselection, --lf, an early stop)."""
    reasons = summary.get("partial_reasons") or []
    return [f"partial report: {reason}" for reason in reasons]


def gate_line(summary: AuditReport) -> str:
    blocked = sum(row["blocked"] for _, row in _rung_rows(summary))
    gate = summary["gate"]
    if gate == "pass":
        return "gate: PASS"
    if gate in ("incomplete", "error"):
        return f"gate: {gate.upper()} - {summary.get('reason') or 'the run did not finish'}"
    parts = ["gate: FAIL"]
    if summary.get("failed_rung"):
        parts.append(f"- lowest failing rung: {summary['failed_rung']}")
    if blocked:
        parts.append(
            f"- {blocked} test{'s' if blocked != 1 else ''} on higher rungs blocked "
            "(fix lower layers first, or --ml-no-block)"
        )
    return " ".join(parts)


def markdown(summary: AuditReport) -> str:
    """A Markdown report for CI job summaries: the ladder, then failures first per rung."""
    icon = GATE_ICONS.get(summary["gate"], "❌")
    out = [f"## {icon} ML audit: gate {summary['gate'].upper()}", ""]
    if summary.get("gate") != "pass" and summary.get("reason"):
        out += [f"**Reason:** {md_escape(summary['reason'])}", ""]
    for line in partial_lines(summary):
        out += [f"> {md_escape(line)}", ""]
    out.append(f"Seed `{summary['seed']}`" + (", strict" if summary.get("strict") else ""))
    out.append("")
    rung_rows = [
        [name + (" ❌" if row["failed"] else (" ⏸" if row["blocked"] else ""))]
        + [str(row[c]) for c in COLUMNS]
        for name, row in _rung_rows(summary)
    ]
    out += md_table(["rung", *COLUMNS], rung_rows, right=tuple(range(1, len(COLUMNS) + 1)))
    out.append("")
    by_rung: dict[str, list[ReportCheck]] = {}
    for check in summary["checks"]:
        by_rung.setdefault(str(check.get("rung") or "unranked"), []).append(check)
    for rung in ("unranked", *RUNGS):
        checks = by_rung.get(rung)
        if not checks:
            continue
        checks = sorted(checks, key=lambda c: {"fail": 0, "warn": 1}.get(status_key(c), 2))
        out.append(f"### {rung}")
        out.append("")
        check_rows = [
            [
                _status(c),
                md_code(c["name"]),
                md_escape(fmt_report(c.get("value"))),
                md_escape(fmt_report(c.get("threshold"))),
                md_code(c["nodeid"]),
            ]
            for c in checks
        ]
        out += md_table(["status", "check", "value", "threshold", "test"], check_rows, right=(2, 3))
        out.append("")
        for c in checks:
            if _status(c) not in ("FAIL", "WARN"):
                continue
            out.append(
                f"<details><summary>{_status(c)} {md_code(c['name'])} in "
                f"{md_code(c['nodeid'])}</summary>"
            )
            out.append("")
            # an HTML block: the escaped message cannot close it, nor open Markdown markup
            out.append(f"<pre>{html.escape(str(c.get('message', '')))}</pre>")
            out.append("")
            out.append("</details>")
            out.append("")
    ladders = summary.get("ladders") or {}
    if ladders:
        out.append("### Ladders (one per directory)")
        out.append("")
        ladder_rows = [
            [
                md_code(name),
                str(entry["tests"]),
                "✅ pass"
                if entry["failed_rung"] is None
                else f"❌ fails at {entry['failed_rung']}",
            ]
            for name, entry in ladders.items()
        ]
        out += md_table(["ladder", "tests", "verdict"], ladder_rows, right=(1,))
        out.append("")
    blocked = [t for t in summary["tests"] if t["outcome"] == "blocked"]
    if blocked:
        noun = "test" if len(blocked) == 1 else "tests"
        out.append(f"<details><summary>{len(blocked)} blocked {noun}</summary>")
        out.append("")
        for t in blocked:
            out.append(
                f"- {md_code(t['nodeid'])} ({md_escape(t['rung'])}, blocked by "
                f"{md_escape(t['blocked_by'])})"
            )
        out.append("</details>")
        out.append("")
    not_finished = [t for t in summary["tests"] if t["outcome"] == "not_finished"]
    if not_finished:
        out.append(f"<details><summary>{len(not_finished)} not finished</summary>")
        out.append("")
        for t in not_finished:
            out.append(f"- {md_code(t['nodeid'])}")
        out.append("</details>")
        out.append("")
    compared = summary.get("compare")
    if compared is not None:
        from pytest_mlchecks._compare import markdown_lines

        out += markdown_lines(compared)
    out.append(md_escape(gate_line(summary)))
    out.append("")
    return "\n".join(out)


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A path that exists and is not a regular file (``/dev/stdout``, a named pipe) is written in
    place: renaming over it would replace the device or pipe with a file.
    """
    if os.path.exists(path) and not os.path.isfile(path):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mlchecks-", dir=directory)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)  # mkstemp creates 0600; reports are for others to read
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def append_text(path: str, text: str) -> None:
    """Append ``text`` to ``path`` (CI step summaries collect several steps' output)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    separator = ""
    if os.path.isfile(path) and os.path.getsize(path) > 0:
        with open(path, "rb") as existing:
            existing.seek(-1, os.SEEK_END)
            separator = "\n" if existing.read(1) == b"\n" else "\n\n"  # a blank line before
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(separator + text)


def to_json(summary: AuditReport) -> str:
    return json.dumps(summary, indent=2, sort_keys=False, allow_nan=False) + "\n"


def schemas_written(summary: AuditReport) -> list[tuple[str, int]]:
    """(path, columns) of every schema snapshot that ``--ml-update-schema`` (or
    ``update=True``) wrote in this run, each path once, in the order they were written."""
    seen: dict[str, int] = {}
    for check in summary.get("checks", []):
        details = check.get("details") or {}
        path = details.get("schema_written")
        if isinstance(path, str) and path not in seen:
            seen[path] = int(details.get("columns", 0))
    return list(seen.items())
