"""The audit session: collects per-test check records from test reports and builds the summary.

Per-test data rides on each test report as a JSON string (``report.mlchecks``), so the same
code aggregates a serial run and an xdist controller's view of every worker. Standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import pytest

from pytest_mlchecks._protocol import Recorder
from pytest_mlchecks._registry import lowest_rung, rung_index
from pytest_mlchecks._result import RUNGS

if TYPE_CHECKING:  # the record types cost start-up time: the annotations only name them
    from pytest_mlchecks._records import (
        AuditReport,
        CheckRecord,
        CheckStatus,
        Gate,
        LadderEntry,
        PhasePayload,
        ReportCheck,
        ReportTest,
        RungRow,
        TestOutcome,
    )

REPORT_ATTR = "mlchecks"
RUNG_KEY = pytest.StashKey[str | None]()
BLOCKED_KEY = pytest.StashKey[str | None]()
RECORDER_KEY = pytest.StashKey[Recorder]()
SENT_KEY = pytest.StashKey[int]()
#: the JSON report's "schema_version"; its history is in pytest_mlchecks._records
SCHEMA_VERSION = 2
GATES = ("pass", "fail", "incomplete", "error")
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


@dataclass
class RunState:
    """What the run selected and how it ended (filled by the plugin's hooks)."""

    selected: int | None = None
    deselected: int = 0
    collection_errors: list[str] = field(default_factory=list)
    exitstatus: int = 0
    stop_reason: str | None = None
    last_failed: int = 0
    collect_only: bool = False


def ladder_scope(nodeid: str, scope: str) -> str:
    """The ladder a test belongs to: one per session, or one per directory of test files."""
    if scope != "directory":
        return ""
    path = nodeid.split("::", 1)[0]
    return path.rsplit("/", 1)[0] if "/" in path else "."


#: outcomes of a test that reached a verdict; "pending" means it never did (interrupted)
PENDING: Literal["pending"] = "pending"
if TYPE_CHECKING:
    Outcome = Literal["pending", "passed", "failed", "skipped"]
    #: the columns of a rung row a test counts in, besides "tests"
    Counted = Literal["passed", "failed", "skipped", "blocked"]
#: how a test that did not finish is listed in the report
NOT_FINISHED: Literal["not_finished"] = "not_finished"
#: per-check keys that say "the same verdict again" (benchmark rounds, loops): merged, counted
REPEAT_KEY = (
    "name",
    "rung",
    "passed",
    "severity",
    "value",
    "threshold",
    "message",
    "enforced",
    "user",
)


def merge_repeats(checks: list[CheckRecord]) -> list[CheckRecord]:
    """One entry per distinct figure, in first-seen order, with how often it was recorded.

    pytest-benchmark (or a loop) calls the same check on the same input many times; the
    report keeps the first record and a ``count`` instead of one record per round.
    """
    merged: dict[str, CheckRecord] = {}
    for check in checks:
        key = json.dumps([check.get(k) for k in REPEAT_KEY] + [bool(check.get("rerun"))])
        seen = merged.get(key)
        if seen is None:
            merged[key] = check.copy()
            merged[key]["count"] = int(check.get("count", 1))
        else:
            seen["count"] += int(check.get("count", 1))
    return list(merged.values())


@dataclass
class TestRecord:
    nodeid: str
    declared_rung: str | None = None
    outcome: Outcome = PENDING
    blocked_by: str | None = None
    checks: list[CheckRecord] = field(default_factory=list)
    falsifying: dict[str, Any] | None = None
    xfailed: bool = False
    #: the test failed because a check's verdict was raised (strict mode, or a warnings
    #: filter such as ``filterwarnings = error`` turning MLCheckWarning into an exception)
    escalated: list[str] = field(default_factory=list)
    reruns: int = 0
    _attempt_start: int = 0
    _discarding: bool = False

    @property
    def rung(self) -> str | None:
        """Marker (or inferred) rung, else the lowest rung of the checks it ran."""
        if self.declared_rung is not None:
            return self.declared_rung
        counted = [c for c in self.checks if not c.get("rerun")]
        return lowest_rung([str(c.get("rung")) for c in counted if c.get("rung")])

    def fold(self, report: Any, data: PhasePayload | None) -> None:
        """One phase's report (setup, call, teardown; or a rerun attempt's)."""
        when = getattr(report, "when", None)
        if when == "setup":  # a new attempt (pytest-rerunfailures runs several)
            self._attempt_start = len(self.checks)
            self._discarding = False
            self.outcome = PENDING
            self.xfailed = False
            self.escalated = []
        if data is not None and data.get("interrupted"):
            # xdist's stand-in report for a test whose worker got a KeyboardInterrupt: the
            # test did not finish (no verdict), it did not fail
            self.outcome = PENDING
            return
        if data is not None:
            checks = [c.copy() for c in data.get("checks", [])]
            if self._discarding:
                for check in checks:
                    check["rerun"] = True
            self.checks.extend(checks)
            if data.get("falsifying"):
                self.falsifying = data["falsifying"]
            if data.get("escalated") and not self._discarding:
                self.escalated.extend(str(m) for m in data["escalated"])
        outcome = report.outcome
        if outcome == "rerun":  # a discarded attempt: its checks are kept, marked, not counted
            for check in self.checks[self._attempt_start :]:
                check["rerun"] = True
            self._discarding = True
            self.reruns += 1
            self.outcome = PENDING
            self.escalated = []
            return
        if self._discarding:
            return
        wasxfail = hasattr(report, "wasxfail")
        if outcome == "failed":
            self.outcome = "failed"
        elif outcome == "skipped" and self.outcome != "failed":
            self.outcome = "skipped"
            self.xfailed = wasxfail
        elif outcome == "passed" and when == "call" and self.outcome == PENDING:
            self.outcome = "passed"


class AuditSession:
    """All the audit state of one pytest process (stored in ``config.stash``)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.tests: dict[str, TestRecord] = {}
        self._live_failed: dict[str, set[str]] = {}
        self.summary: AuditReport | None = None
        self.written: list[str] = []
        self.write_errors: list[str] = []
        self.run = RunState()
        #: checks of tests interrupted mid-test, by node id (a worker ships them at its end)
        self.unreported: dict[str, list[CheckRecord]] = {}

    # ------------------------------------------------------------------ collecting
    def add_report(self, report: Any) -> None:
        """Fold one phase's test report (setup, call or teardown) into the records."""
        payload = getattr(report, REPORT_ATTR, None)
        nodeid = str(report.nodeid)
        record = self.tests.get(nodeid)
        if record is None:
            record = self.tests[nodeid] = TestRecord(nodeid)
        data: PhasePayload | None = json.loads(payload) if payload is not None else None
        if data is not None:
            if data.get("rung"):
                record.declared_rung = str(data["rung"])
            if data.get("blocked_by"):
                record.blocked_by = str(data["blocked_by"])
        record.fold(report, data)
        if record.outcome == "failed" and record.rung is not None:
            scope = ladder_scope(nodeid, self.options.scope)
            self._live_failed.setdefault(scope, set()).add(record.rung)

    def add_unreported(self, nodeid: str, checks: list[CheckRecord]) -> None:
        """Checks a test recorded before it was interrupted (no report carries them)."""
        if checks:
            record = self.tests.setdefault(nodeid, TestRecord(nodeid))
            record.checks.extend(checks)
            self.unreported.setdefault(nodeid, []).extend(checks)

    def live_blocker(self, nodeid: str, rung: str | None) -> str | None:
        """The lowest failed rung below ``rung`` seen so far in this process and ladder."""
        failed = self._live_failed.get(ladder_scope(nodeid, self.options.scope))
        if rung is None or not failed:
            return None
        below = [r for r in failed if rung_index(r) < rung_index(rung)]
        return lowest_rung(below)

    # ------------------------------------------------------------------ summarising
    def build_summary(self) -> AuditReport:
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
        rows: dict[str, RungRow] = {
            rung: {"tests": 0, "passed": 0, "failed": 0, "skipped": 0, "blocked": 0}
            for rung in RUNGS
        }
        unranked: RungRow = {"tests": 0, "passed": 0, "failed": 0, "skipped": 0, "blocked": 0}
        tests_out: list[ReportTest] = []
        checks_out: list[tuple[tuple[int, str, int], ReportCheck]] = []
        failed_tests = 0
        user_failed = 0
        not_finished: list[str] = []
        for record in records:
            rung = record.rung
            blocker = lowest_failed.get(scope_of[record.nodeid])
            blocked = (
                block
                and rung is not None
                and blocker is not None
                and rung_index(rung) > rung_index(blocker)
            )
            status: TestOutcome
            if record.outcome == PENDING and not blocked:
                # interrupted mid-test, or set up and never called: no verdict, not counted
                not_finished.append(record.nodeid)
                status = NOT_FINISHED
            else:
                # a test that reached a verdict (PENDING only when blocked)
                counted: Counted = "blocked" if blocked else cast("Counted", record.outcome)
                status = counted
                row = rows[rung] if rung is not None else unranked
                row["tests"] += 1
                row[counted] += 1
            if status == "failed":
                failed_tests += 1
            entry: ReportTest = {
                "nodeid": record.nodeid,
                "rung": rung,
                "outcome": "xfailed" if status == "skipped" and record.xfailed else status,
                "blocked_by": blocker if blocked else None,
            }
            if record.reruns:
                entry["reruns"] = record.reruns
            if record.falsifying is not None and status == "failed":
                entry["falsifying_example"] = record.falsifying
            tests_out.append(entry)
            if blocked:
                continue
            for position, check in enumerate(merge_repeats(record.checks)):
                item = cast("ReportCheck", {"nodeid": record.nodeid, "test_rung": rung, **check})
                item["status"] = check_status(check, record)
                if item["status"] == "fail" and check.get("user"):
                    user_failed += 1
                checks_out.append(((rung_index(check["rung"]), record.nodeid, position), item))
        checks_out.sort(key=lambda keyed: keyed[0])
        passed_tests = sum(row["passed"] for row in (*rows.values(), unranked))
        gate, reason, partial = self._verdict(
            failed_tests, user_failed, len(records) - len(not_finished), not_finished, passed_tests
        )
        rungs: dict[str, RungRow] = dict(rows)
        if unranked["tests"]:
            rungs["unranked"] = unranked
        run = self.run
        self.summary = {
            "schema_version": SCHEMA_VERSION,
            "gate": gate,
            "reason": reason,
            "partial": bool(partial),
            "partial_reasons": partial,
            "run": {
                "selected": run.selected,
                "deselected": run.deselected,
                "finished": len(records) - len(not_finished),
                "not_finished": not_finished,
                "collection_errors": list(run.collection_errors),
                "exitstatus": run.exitstatus,
                "last_failed_only": run.last_failed > 0,
            },
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
            "checks": [item for _, item in checks_out],
        }
        return self.summary

    def _verdict(
        self,
        failed_tests: int,
        user_failed: int,
        finished: int,
        not_finished: list[str],
        passed_tests: int,
    ) -> tuple[Gate, str | None, list[str]]:
        """The gate, why it is not "pass", and why the report covers only part of the suite.

        "error": the suite could not be collected (or pytest stopped on an internal or usage
        error); "fail": a test, or a figure recorded with ``passed=False``, failed;
        "incomplete": nothing failed but the run proved nothing or not everything it selected
        (empty selection, every test skipped, interruption, stopped early); "pass": every
        selected test ran, one passed, and nothing failed. Deselection (-k, -m, split plugins)
        and --lf make a report partial without failing the gate.
        """
        run = self.run
        partial: list[str] = []
        selected = run.selected if run.selected is not None else finished + len(not_finished)
        missing = max(selected - finished, len(not_finished))
        if run.collection_errors:
            partial.append(
                f"{len(run.collection_errors)} collection error"
                f"{'s' if len(run.collection_errors) != 1 else ''}: the tests in "
                + ", ".join(run.collection_errors[:5])
                + (" ..." if len(run.collection_errors) > 5 else "")
                + " never ran"
            )
        if missing:
            why = run.stop_reason or (
                "interrupted" if run.exitstatus == 2 else "the run ended early"
            )
            partial.append(f"{why}: {missing} of {selected} selected tests did not finish")
        if run.last_failed:
            noun = "test" if run.last_failed == 1 else "tests"
            partial.append(
                f"--lf: only the {run.last_failed} {noun} that failed last time were selected"
            )
        if run.deselected:
            partial.append(
                f"{run.deselected} of {selected + run.deselected} collected tests were "
                "deselected (-k, -m, --deselect, --lf or a split plugin)"
            )
        if run.collection_errors:
            return "error", partial[0], partial
        if run.exitstatus in (3, 4):  # pytest's INTERNAL_ERROR, USAGE_ERROR
            return "error", f"pytest stopped with exit status {run.exitstatus}", partial
        if failed_tests or user_failed:
            parts = []
            if failed_tests:
                parts.append(f"{failed_tests} test{'s' if failed_tests != 1 else ''} failed")
            if user_failed:
                parts.append(
                    f"{user_failed} recorded figure{'s' if user_failed != 1 else ''} failed"
                )
            return "fail", ", ".join(parts), partial
        if missing:
            return "incomplete", partial[0], partial
        if finished == 0:
            why = "no tests were selected" if selected == 0 else "no test reached a verdict"
            if run.deselected:
                why += f" ({run.deselected} deselected)"
            return "incomplete", why + ": the run proved nothing", partial
        if passed_tests == 0:
            noun = "test was" if finished == 1 else f"{finished} tests were"
            why = f"no test passed: the {noun} skipped or expected to fail"
            return "incomplete", why + " (the run proved nothing)", partial
        return "pass", None, partial

    def _ladders(
        self,
        records: list[TestRecord],
        scope_of: dict[str, str],
        lowest_failed: dict[str, str],
    ) -> dict[str, LadderEntry]:
        """Per-ladder verdicts when each directory has its own ladder."""
        if self.options.scope == "session":
            return {}
        ladders: dict[str, LadderEntry] = {}
        for record in records:
            scope = scope_of[record.nodeid]
            entry = ladders.setdefault(scope, {"tests": 0, "failed_rung": None})
            entry["tests"] += 1
            entry["failed_rung"] = lowest_failed.get(scope)
        return dict(sorted(ladders.items()))

    def has_ml_failures(self) -> bool:
        """Whether a test that ran ML checks failed (prints the summary outside audit mode)."""
        return any(r.outcome == "failed" and r.checks for r in self.tests.values())


def check_status(check: CheckRecord, record: TestRecord) -> CheckStatus:
    """How one recorded check counts: pass, fail, warn, info, or one of the not-counted states.

    - ``rerun``: recorded in an attempt pytest-rerunfailures discarded;
    - ``xfail``: failed inside a test that was expected to fail (accepted, not a failure);
    - ``not_enforced``: a failing ``check_`` twin whose result the (passing) test never
      asserted;
    - a failing warning-severity check is ``warn``, or ``fail`` when it failed its test
      (``--ml-strict``, or a warnings filter such as ``filterwarnings = error``).
    """
    if check.get("rerun"):
        return "rerun"
    passed = check.get("passed")
    if passed is None:
        return "info"
    if passed:
        return "pass"
    if record.xfailed:
        return "xfail"
    if check.get("severity") == "warning":
        raised = check.get("enforced") and check.get("message") in record.escalated
        return "fail" if raised else "warn"
    if not check.get("enforced") and not check.get("user") and record.outcome != "failed":
        return "not_enforced"
    return "fail"
