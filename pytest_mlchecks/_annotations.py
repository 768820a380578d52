"""Check figures where other tools look: JUnit XML properties, GitHub workflow annotations,
and pytest's own short summary line.

- ``junit_properties``: each check's rung, figure, threshold and verdict as ``(name, value)``
  pairs for the test item's ``user_properties``, which ``--junitxml`` writes as
  ``<property>`` elements of the test's ``<testcase>`` (like ``record_property``).
- ``github_lines``: ``::error`` / ``::warning`` workflow commands (``--ml-github-annotations``)
  for every check that failed or warned, at its test's file and line, escaped by GitHub's
  workflow-command rules.
- ``crash_headline``: the first line of the failed checks' messages, which pytest's
  ``FAILED ... - <message>`` line (and JUnit's failure ``message``) shows instead of the
  exception's qualified class name.

Standard library only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pytest_mlchecks._report import status_key

if TYPE_CHECKING:
    from pytest_mlchecks._records import AuditReport, CheckRecord

#: prefix of the JUnit property names: ``mlchecks.<check>.<field>``
PROPERTY_PREFIX = "mlchecks"


def _figure(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)


def verdict(record: CheckRecord, *, test_failed: bool) -> str:
    """pass / fail / warn / info, or "not enforced" for an unasserted failing check twin."""
    passed = record.get("passed")
    if passed is None:
        return "info"
    if passed:
        return "pass"
    if record.get("severity") == "warning":
        return "warn"
    if not record.get("enforced") and not record.get("user") and not test_failed:
        return "not enforced"
    return "fail"


def junit_properties(
    records: list[CheckRecord], seen: dict[str, int], *, test_failed: bool
) -> list[tuple[str, str]]:
    """``(name, value)`` properties of the records; ``seen`` counts each check's records in
    the test so far (a second record of the same check gets the suffix ``#2``)."""
    out: list[tuple[str, str]] = []
    for record in records:
        name = str(record.get("name"))
        seen[name] = seen.get(name, 0) + 1
        key = f"{PROPERTY_PREFIX}.{name}" + (f"#{seen[name]}" if seen[name] > 1 else "")
        out += [
            (f"{key}.rung", str(record.get("rung") or "")),
            (f"{key}.value", _figure(record.get("value"))),
            (f"{key}.threshold", _figure(record.get("threshold"))),
            (f"{key}.verdict", verdict(record, test_failed=test_failed)),
        ]
    return out


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, carriage returns and newlines encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as data, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _relative_to_workspace(path: str, rootpath: str) -> str:
    """The test file relative to the checkout (``GITHUB_WORKSPACE``) when it is inside it,
    else relative to pytest's rootdir (what GitHub resolves from the repository root)."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    absolute = os.path.normpath(os.path.join(rootpath, path))
    if workspace:
        relative = os.path.relpath(absolute, workspace)
        if not relative.startswith(os.pardir):
            return relative.replace(os.sep, "/")
    return path.replace(os.sep, "/")


def github_lines(
    summary: AuditReport,
    locations: Mapping[str, tuple[str, int | None]],
    rootpath: str,
) -> list[str]:
    """One ``::error`` (failed check) or ``::warning`` (warned) command per finding."""
    lines: list[str] = []
    for check in summary["checks"]:
        status = status_key(check)
        if status not in ("fail", "warn"):
            continue
        nodeid = str(check["nodeid"])
        path, line = locations.get(nodeid, (nodeid.split("::", 1)[0], None))
        props = [f"file={escape_property(_relative_to_workspace(path, rootpath))}"]
        if line is not None:
            props.append(f"line={line + 1}")
        verb = "failed" if status == "fail" else "warned"
        title = f"mlchecks: {check['name']} {verb} ({check.get('rung') or 'no rung'})"
        props.append(f"title={escape_property(title)}")
        message = f"{nodeid}\n{check.get('message', '')}".rstrip()
        command = "error" if status == "fail" else "warning"
        lines.append(f"::{command} {','.join(props)}::{escape_data(message)}")
    return lines


def crash_headline(messages: list[str]) -> str | None:
    """The first failed check's headline (its message's first line), for pytest's short
    summary; ``(+N more)`` when several checks failed in one assertion."""
    heads = [m.strip().splitlines()[0] for m in messages if m.strip()]
    if not heads:
        return None
    more = len(heads) - 1
    return heads[0] + (f" (+{more} more failed check{'s' if more > 1 else ''})" if more else "")
