"""The audit session: collects per-test check records from test reports and builds the summary.

Per-test data rides on each test report as a JSON string (``report.mlchecks``), so the same
code aggregates a serial run and an xdist controller's view of every worker. Standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from ._registry import lowest_rung, rung_index
from ._result import RUNGS
from ._runtime import Recorder

REPORT_ATTR = "mlchecks"
RUNG_KEY = pytest.StashKey[str | None]()
BLOCKED_KEY = pytest.StashKey[str | None]()
RECORDER_KEY = pytest.StashKey[Recorder]()
SENT_KEY = pytest.StashKey[int]()
SCHEMA_VERSION = 1
BLOCK_REASON = (
    "blocked: rung '{rung}' failed below this test's rung '{own}' "
    "(fix lower layers first; --ml-no-block runs it anyway)"
)


@dataclass(frozen=True)
class Options:
    audit: bool = False
    block: bool = True
    strict: bool = False
    seed: int = 0
    json_path: str | None = None
    md_path: str | None = None
    html_path: str | None = None
    scope: str = "session"


SCOPES = ("session", "directory")


def ladder_scope(nodeid: str, scope: str) -> str:
    """The ladder a test belongs to: one per session, or one per directory of test files."""
    if scope != "directory":
        return ""
    path = nodeid.split("::", 1)[0]
    return path.rsplit("/", 1)[0] if "/" in path else "."


@dataclass
class TestRecord:
    nodeid: str
    declared_rung: str | None = None
    outcome: str = "passed"
    blocked_by: str | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    falsifying: dict[str, Any] | None = None

    @property
    def rung(self) -> str | None:
        """Marker (or inferred) rung, else the lowest rung of the checks it ran."""
        if self.declared_rung is not None:
            return self.declared_rung
        return lowest_rung([str(c.get("rung")) for c in self.checks if c.get("rung")])


class AuditSession:
    """All the audit state of one pytest process (stored in ``config.stash``)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.tests: dict[str, TestRecord] = {}
        self._live_failed: dict[str, set[str]] = {}
        self.summary: dict[str, Any] | None = None
        self.written: list[str] = []

    # ------------------------------------------------------------------ collecting
    def add_report(self, report: Any) -> None:
        """Fold one phase's test report (setup, call or teardown) into the records."""
        payload = getattr(report, REPORT_ATTR, None)
        nodeid = str(report.nodeid)
        record = self.tests.get(nodeid)
        if payload is None and record is None:
            if report.when == "call" or report.outcome != "passed":
                record = self.tests[nodeid] = TestRecord(nodeid)
            else:
                return
        if record is None:
            record = self.tests[nodeid] = TestRecord(nodeid)
        if payload is not None:
            data = json.loads(payload)
            if data.get("rung"):
                record.declared_rung = str(data["rung"])
            if data.get("blocked_by"):
                record.blocked_by = str(data["blocked_by"])
            record.checks.extend(data.get("checks", []))
            if data.get("falsifying"):
                record.falsifying = data["falsifying"]
        if report.outcome == "failed":
            record.outcome = "failed"
        elif report.outcome == "skipped" and record.outcome != "failed":
            record.outcome = "skipped"
        if record.outcome == "failed" and record.rung is not None:
            scope = ladder_scope(nodeid, self.options.scope)
            self._live_failed.setdefault(scope, set()).add(record.rung)

    def live_blocker(self, nodeid: str, rung: str | None) -> str | None:
        """The lowest failed rung below ``rung`` seen so far in this process and ladder."""
        failed = self._live_failed.get(ladder_scope(nodeid, self.options.scope))
        if rung is None or not failed:
            return None
        below = [r for r in failed if rung_index(r) < rung_index(rung)]
        return lowest_rung(below)

    # ------------------------------------------------------------------ summarising
    def build_summary(self) -> dict[str, Any]:
        """The audit summary: identical for a serial run and an xdist run of one suite."""
        records = sorted(self.tests.values(), key=lambda r: (rung_index(r.rung), r.nodeid))
        scope_of = {r.nodeid: ladder_scope(r.nodeid, self.options.scope) for r in records}
        failed_by_scope: dict[str, list[str]] = {}
        for r in records:
            if r.outcome == "failed" and r.rung is not None:
                failed_by_scope.setdefault(scope_of[r.nodeid], []).append(r.rung)
        lowest_failed = {scope: str(lowest_rung(rungs)) for scope, rungs in failed_by_scope.items()}
        first_failed = lowest_rung(list(lowest_failed.values()))
        block = self.options.audit and self.options.block
        rows: dict[str, dict[str, int]] = {
            rung: {"tests": 0, "passed": 0, "failed": 0, "skipped": 0, "blocked": 0}
            for rung in RUNGS
        }
        unranked = {"tests": 0, "passed": 0, "failed": 0, "skipped": 0, "blocked": 0}
        tests_out: list[dict[str, Any]] = []
        checks_out: list[dict[str, Any]] = []
        any_failed = False
        user_failed = False
        for record in records:
            rung = record.rung
            row = rows[rung] if rung is not None else unranked
            row["tests"] += 1
            blocker = lowest_failed.get(scope_of[record.nodeid])
            blocked = (
                block
                and rung is not None
                and blocker is not None
                and rung_index(rung) > rung_index(blocker)
            )
            status = "blocked" if blocked else record.outcome
            row[status] += 1
            if status == "failed":
                any_failed = True
            entry: dict[str, Any] = {
                "nodeid": record.nodeid,
                "rung": rung,
                "outcome": status,
                "blocked_by": blocker if blocked else None,
            }
            if record.falsifying is not None and status == "failed":
                entry["falsifying_example"] = record.falsifying
            tests_out.append(entry)
            if blocked:
                continue
            for position, entry in enumerate(record.checks):
                item = {"nodeid": record.nodeid, "test_rung": rung, "index": position}
                item.update(entry)
                if entry.get("user") and entry.get("passed") is False:
                    user_failed = True
                checks_out.append(item)
        checks_out.sort(key=lambda c: (rung_index(c.get("rung")), c["nodeid"], c["index"]))
        for item in checks_out:
            del item["index"]
        gate = "fail" if (any_failed or user_failed) else "pass"
        rungs: dict[str, dict[str, int]] = dict(rows)
        if unranked["tests"]:
            rungs["unranked"] = unranked
        self.summary = {
            "schema_version": SCHEMA_VERSION,
            "gate": gate,
            "seed": self.options.seed,
            "strict": self.options.strict,
            "audit": self.options.audit,
            "blocking": self.options.block,
            "failed_rung": first_failed,
            "ladder_scope": self.options.scope,
            "failed_rungs_by_scope": lowest_failed if self.options.scope != "session" else {},
            "ladders": self._ladders(records, scope_of, lowest_failed),
            "rungs": rungs,
            "tests": tests_out,
            "checks": checks_out,
        }
        return self.summary

    def _ladders(
        self,
        records: list[TestRecord],
        scope_of: dict[str, str],
        lowest_failed: dict[str, str],
    ) -> dict[str, dict[str, Any]]:
        """Per-ladder verdicts when each directory has its own ladder."""
        if self.options.scope == "session":
            return {}
        ladders: dict[str, dict[str, Any]] = {}
        for record in records:
            scope = scope_of[record.nodeid]
            entry = ladders.setdefault(scope, {"tests": 0, "failed_rung": None})
            entry["tests"] += 1
            entry["failed_rung"] = lowest_failed.get(scope)
        return dict(sorted(ladders.items()))

    def has_ml_failures(self) -> bool:
        """Whether a test that ran ML checks failed (prints the summary outside audit mode)."""
        return any(r.outcome == "failed" and r.checks for r in self.tests.values())
