"""The shapes of the audit's data: a check record, a test entry, the whole JSON report.

One check's verdict travels as plain JSON data: ``CheckResult.to_dict()`` gives a
``CheckDict``; the recorder adds whether the test asserted it (``CheckRecord``); the worker
ships the records of one test phase on its report (``PhasePayload``); the controller's summary
lists every record with its test and how it counts (``ReportCheck``) beside one ``ReportTest``
per test, and the whole summary is an ``AuditReport``: what ``--ml-audit-json`` writes (after
the ``pytest_mlchecks_update_json`` hook) and what the Markdown and HTML reports render.

Standard library only. The modules the plugin loads at start-up name these types in
annotations only (building a dozen TypedDicts costs about a millisecond); the report
renderers and the typed extension points import them.

JSON schema version (``AuditReport["schema_version"]``, an integer, ``_session.SCHEMA_VERSION``):

- 1: gate, rungs, tests, checks, seed.
- 2: ``reason``, ``partial``, ``partial_reasons``, ``run`` (selection and completeness);
  per check ``status``, ``count`` and ``thresholds`` (each threshold's value and source);
  tests that never finished listed with the outcome ``"not_finished"``.
  Added since, without a version change: ``environment``, ``git`` (top level) and per check
  ``inputs`` (the audit trail: versions, commit, input fingerprints).

The version changes when a key is renamed or removed or changes meaning; a key added to an
existing object does not change it (readers ignore keys they do not know), and neither do
keys a ``pytest_mlchecks_update_json`` hook adds.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

#: where a threshold in force came from
ThresholdOrigin = Literal["argument", "marker", "ini", "default"]
#: the audit gate: what CI reads
Gate = Literal["pass", "fail", "incomplete", "error"]
#: how one recorded check counts (``_session.check_status``); the last three are not counted
CheckStatus = Literal["pass", "fail", "warn", "info", "not_enforced", "xfail", "rerun"]
#: a test's outcome in the report
TestOutcome = Literal["passed", "failed", "skipped", "xfailed", "blocked", "not_finished"]
#: a JSON number, or ``"nan"`` / ``"inf"`` / ``"-inf"`` for a non-finite one, or absent
JsonFloat = float | str | None


class ThresholdProvenance(TypedDict):
    """A threshold a check held its figure to: the value in force and where it came from."""

    value: float
    source: ThresholdOrigin


class CheckDict(TypedDict):
    """One verdict as JSON data (``CheckResult.to_dict()``).

    ``passed`` is ``None`` only for a figure recorded with ``ml_audit.record`` without a
    verdict (informational); ``rung`` is ``None`` only for such a figure in a test on no
    rung. ``details`` are the check's JSON-ready aggregates; ``thresholds`` maps each of the
    check's thresholds (registry key) to its value and source.
    """

    name: str
    rung: str | None
    passed: bool | None
    severity: str
    value: JsonFloat
    threshold: JsonFloat
    message: str
    details: dict[str, Any]
    thresholds: dict[str, ThresholdProvenance]


class UmbrellaDict(TypedDict):
    """An umbrella verdict as JSON data (``CheckReport.to_dict()``)."""

    name: str
    rung: str
    passed: bool
    results: list[CheckDict]


class _RecordExtras(TypedDict, total=False):
    #: recorded with ``ml_audit.record`` (the test's own figure, not a library check)
    user: bool
    #: how many identical verdicts this record stands for (benchmark rounds, loops)
    count: int
    #: recorded in an attempt that pytest-rerunfailures discarded
    rerun: bool
    #: the audit trail: a fingerprint (type, shape, dtypes, hash; never values) of each
    #: table or model the check received, by argument name (``_audit_trail.Fingerprint``)
    inputs: dict[str, Any]


class CheckRecord(CheckDict, _RecordExtras):
    """A verdict recorded against the running test (``Recorder.records``).

    ``enforced``: the test asserted it (an ``assert_*`` helper, or ``ml_audit.record`` with a
    verdict); a failing ``check_*`` twin nobody asserted is reported as not enforced.
    """

    enforced: bool


class ReportCheck(CheckRecord):
    """A check in the report: its record, the test that ran it, and how it counts."""

    nodeid: str
    #: the rung of the test (marker, inferred, or the lowest rung of its checks)
    test_rung: str | None
    status: CheckStatus


class _ReportTestExtras(TypedDict, total=False):
    #: discarded attempts (pytest-rerunfailures) before the one that counts
    reruns: int
    #: the last (shrunk) hypothesis draw of a failed property-based test
    falsifying_example: dict[str, Any]


class ReportTest(_ReportTestExtras):
    """One selected test in the report."""

    nodeid: str
    rung: str | None
    outcome: TestOutcome
    #: the lower rung whose failure skipped this test (``--ml-audit`` blocking), else None
    blocked_by: str | None


class PhasePayload(TypedDict, total=False):
    """What one test phase's report carries from a worker (``report.mlchecks``, as JSON)."""

    rung: str | None
    blocked_by: str | None
    checks: list[CheckRecord]
    falsifying: dict[str, Any]
    #: messages of warning-severity verdicts that were raised as the test's failure
    escalated: list[str]
    #: xdist's stand-in report for a test whose worker got a KeyboardInterrupt
    interrupted: bool


class RungRow(TypedDict):
    """Test counts of one rung (each test counts once, in one column besides ``tests``)."""

    tests: int
    passed: int
    failed: int
    skipped: int
    blocked: int


class RunInfo(TypedDict):
    """What the run selected and how much of it finished."""

    selected: int | None
    deselected: int
    finished: int
    not_finished: list[str]
    collection_errors: list[str]
    exitstatus: int
    last_failed_only: bool


class LadderEntry(TypedDict):
    """One directory's ladder (ini ``ml_ladder_scope = directory``)."""

    tests: int
    failed_rung: str | None


class GitInfo(TypedDict):
    """The commit checked out at the rootdir and whether tracked files had changes."""

    commit: str
    dirty: bool


class _AuditTrail(TypedDict, total=False):
    """The audit trail of the JSON report (added when ``--ml-audit-json`` writes it)."""

    #: Python and the installed versions of pytest, numpy, pandas, scikit-learn, torch,
    #: hypothesis and pytest-mlchecks (None: not installed); read from package metadata
    environment: dict[str, Any]
    #: ``{"commit": sha, "dirty": bool}`` of the rootdir's repository, None without git
    git: GitInfo | None


class CompareEntry(TypedDict):
    """One check of ``--ml-compare``: identified by test, check name and occurrence."""

    nodeid: str
    name: str
    #: 0 for the check's first record in the test, 1 for the second, ...
    occurrence: int
    rung: str | None
    then: JsonFloat
    now: JsonFloat
    status_then: CheckStatus | None
    status_now: CheckStatus | None
    #: the direction in which the figure gets worse (None: unknown, e.g. a user figure)
    worse: Literal["higher", "lower"] | None
    #: "worse", "better", "same", or "n/a" (no comparable figure)
    change: str
    #: (now - then) / |then| (None when then is 0 or a figure is missing)
    relative: float | None
    #: worse beyond the tolerance
    regression: bool


class CompareSection(TypedDict):
    """``--ml-compare PATH``: this run's figures against an earlier JSON report."""

    baseline: str
    baseline_gate: str | None
    tolerance: float
    fail_on_regression: bool
    #: every check found in both runs (figure then and now)
    checks: list[CompareEntry]
    #: checks that fail now and did not fail (or did not exist) then
    new_failures: list[CompareEntry]
    #: checks of the earlier report that this run did not record
    vanished: list[CompareEntry]
    #: checks this run recorded that the earlier report did not have
    new: list[CompareEntry]
    #: figures that got worse beyond the tolerance
    regressions: int


class _AuditReportExtras(_AuditTrail, total=False):
    #: ``--ml-compare``: what changed since an earlier report
    compare: CompareSection


class AuditReport(_AuditReportExtras):
    """The audit summary: the JSON report (``--ml-audit-json``), also rendered as Markdown,
    HTML and the terminal summary. Identical for a serial run and an xdist run."""

    schema_version: int
    gate: Gate
    #: why the gate is not "pass" (None when it is)
    reason: str | None
    partial: bool
    #: why the report covers only part of the suite (deselection, --lf, an early stop)
    partial_reasons: list[str]
    run: RunInfo
    seed: int
    strict: bool
    audit: bool
    blocking: bool
    #: the lowest rung with a failed test (across ladders), or None
    failed_rung: str | None
    ladder_scope: str
    failed_rungs_by_scope: dict[str, str]
    ladders: dict[str, LadderEntry]
    #: one row per rung, plus "unranked" when tests on no rung ran
    rungs: dict[str, RungRow]
    tests: list[ReportTest]
    checks: list[ReportCheck]
