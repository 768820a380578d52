"""pytest hooks of pytest-mlchecks: options, markers, ladder ordering, blocking, reporting.

This module only wires hooks; the work lives in ``_session`` (aggregation), ``_report``
(rendering), ``_runtime`` (settings, recording) and ``checks/``. It imports the standard
library and pytest only: no ML library is loaded unless a test calls a check.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import re
import tempfile
from collections.abc import Generator, Iterable
from contextvars import Token
from dataclasses import replace
from types import CodeType
from typing import TYPE_CHECKING, Any

import pytest

from pytest_mlchecks import _annotations, _fixtures, _html_extra, _markers, _report, hookspec
from pytest_mlchecks._protocol import (
    Recorder,
    Settings,
    recording,
    reset_session_settings,
    set_session_settings,
    validate_threshold,
)
from pytest_mlchecks._registry import CHECKS, HELPER_TO_CHECK, THRESHOLDS, lowest_rung, rung_index
from pytest_mlchecks._result import RUNGS, MLCheckError, MLCheckUsageError, MLCheckWarning
from pytest_mlchecks._session import (
    BLOCK_REASON,
    BLOCKED_KEY,
    RECORDER_KEY,
    REPORT_ATTR,
    RUNG_KEY,
    SCOPES,
    SENT_KEY,
    AuditSession,
    Options,
    merge_repeats,
)

if TYPE_CHECKING:  # the record types cost start-up time: the annotations only name them
    from pytest_mlchecks._compare import Comparison
    from pytest_mlchecks._records import AuditReport, CheckRecord, PhasePayload

LADDER_KEY = pytest.StashKey["Ladder"]()
#: check records already turned into JUnit properties, per check name (``#2`` suffixes)
JUNIT_SEEN_KEY = pytest.StashKey[dict[str, int]]()
SUMMARY_MODES = ("all", "failures", "none")
TOKEN_KEY = pytest.StashKey[Token[Settings | None]]()
MARKERS = {f"ml_{rung}": rung for rung in RUNGS}


def _summary_mode(text: str) -> str:
    if text not in SUMMARY_MODES:
        raise pytest.UsageError(
            f"--ml-summary must be one of {', '.join(SUMMARY_MODES)}, got {text!r}"
        )
    return text


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise pytest.UsageError(f"--ml-seed / ml_seed must be an integer, got {text!r}") from None
    if value < 0:
        raise pytest.UsageError(f"--ml-seed / ml_seed must be >= 0, got {value}")
    return value


REPORT_OPTIONS = (
    ("--ml-audit-json", "ml_audit_json"),
    ("--ml-audit-md", "ml_audit_md"),
    ("--ml-audit-html", "ml_audit_html"),
)


def _check_report_path(option: str, path: str, *, append: bool = False) -> None:
    """A usage error now, naming the option, rather than a traceback when the run ends."""
    if not path.strip():
        raise pytest.UsageError(f"{option}: empty path")
    target = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(target) or path.endswith(("/", os.sep)):
        raise pytest.UsageError(
            f"{option}={path}: is a directory; give a file name, e.g. "
            f"{os.path.join(path, 'mlchecks-report')}"
        )
    ancestor = os.path.dirname(target)
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise pytest.UsageError(
            f"{option}={path}: {ancestor} is a file, so the report cannot be written under it"
        )
    if os.path.exists(target):
        if not os.access(target, os.W_OK):
            raise pytest.UsageError(f"{option}={path}: the file is not writable")
        if append or not os.path.isfile(target):
            return  # appended to, or written in place (/dev/stdout, a named pipe)
    try:  # the only reliable test (root, read-only mounts, ACLs): create a file there
        with tempfile.TemporaryFile(prefix=".mlchecks-probe-", dir=ancestor):
            pass
    except OSError as exc:
        raise pytest.UsageError(
            f"{option}={path}: cannot write in {ancestor} ({exc.strerror or exc})"
        ) from None


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """The hooks a conftest.py can implement (``pytest_mlchecks.hookspec``)."""
    pluginmanager.add_hookspecs(hookspec)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlchecks", "ML checks (pytest-mlchecks)")
    group.addoption(
        "--ml-audit",
        action="store_true",
        dest="ml_audit",
        default=False,
        help="run tests rung by rung (data, pipeline, model, evaluation, production), skip "
        "higher rungs once a rung fails, print the ladder summary.",
    )
    group.addoption(
        "--ml-audit-json",
        dest="ml_audit_json",
        metavar="PATH",
        default=None,
        help="write the machine-readable audit report (JSON) to PATH.",
    )
    group.addoption(
        "--ml-audit-md",
        dest="ml_audit_md",
        metavar="PATH",
        default=None,
        help="append a Markdown audit report (for CI job summaries, e.g. "
        "$GITHUB_STEP_SUMMARY) to PATH.",
    )
    group.addoption(
        "--ml-audit-html",
        dest="ml_audit_html",
        metavar="PATH",
        default=None,
        help="write a self-contained HTML audit report (ladder, findings, plots) to PATH.",
    )
    group.addoption(
        "--ml-strict",
        action="store_true",
        dest="ml_strict",
        default=None,
        help="checks with severity 'warning' fail tests too (ini: ml_strict).",
    )
    group.addoption(
        "--ml-seed",
        dest="ml_seed",
        metavar="N",
        type=_seed,
        default=None,
        help="seed for ml_seed and every check's internal sampling (ini: ml_seed; default 0).",
    )
    group.addoption(
        "--ml-update-schema",
        action="store_true",
        dest="ml_update_schema",
        default=False,
        help="assert_schema_matches(df, 'path.json') rewrites the schema file from df "
        "(refresh a schema snapshot on purpose).",
    )
    group.addoption(
        "--ml-no-block",
        action="store_false",
        dest="ml_block",
        default=True,
        help="under --ml-audit, run higher rungs even when a lower rung failed.",
    )
    group.addoption(
        "--ml-compare",
        dest="ml_compare",
        metavar="PATH",
        default=None,
        help="compare this run's check figures with an earlier --ml-audit-json report (e.g. "
        "main's): figures then and now, new failures, vanished and new checks.",
    )
    group.addoption(
        "--ml-compare-fail",
        action="store_true",
        dest="ml_compare_fail",
        default=False,
        help="with --ml-compare: a figure worse than the earlier report's beyond ini "
        "ml_compare_tolerance (relative, default 0.05) fails the gate and the run.",
    )
    group.addoption(
        "--ml-github-annotations",
        action="store_true",
        dest="ml_github_annotations",
        default=False,
        help="print GitHub Actions ::error / ::warning annotations for failed and warned "
        "checks at their test's file and line.",
    )
    group.addoption(
        "--ml-summary",
        dest="ml_summary",
        metavar="all|failures|none",
        type=_summary_mode,
        default="failures",
        help="checks listed in the terminal summary: every check, only those that failed or "
        "warned (default; with the counts), or no ML summary at all.",
    )
    parser.addini(
        "ml_compare_tolerance",
        "--ml-compare-fail: relative change in the worse direction tolerated before a figure "
        "counts as a regression (default 0.05: 5%)",
        default="",
    )
    parser.addini("ml_strict", "warnings from checks fail tests", type="bool", default=False)
    parser.addini("ml_seed", "seed for ml_seed and internal sampling (default 0)", default="0")
    parser.addini(
        "ml_report_values",
        "allow raw cell values (e.g. unseen categories) in check details and reports; "
        "default false: counts and short hashes only",
        type="bool",
        default=False,
    )
    parser.addini(
        "ml_ladder_scope",
        "'session' (default): one ladder for the whole run; 'directory': one ladder per "
        "directory of test files, so one project's failure does not block another's tests",
        default="session",
    )
    for spec in THRESHOLDS.values():
        parser.addini(
            spec.ini, f"{spec.help} (default {spec.default:g})", type="string", default=""
        )


def _absolute(path: str | None) -> str | None:
    return os.path.abspath(os.path.expanduser(path)) if path else path


def _settings(config: pytest.Config) -> tuple[Settings, Options]:
    ini: dict[str, float] = {}
    for key, spec in THRESHOLDS.items():
        raw = str(config.getini(spec.ini) or "").strip()
        if not raw:
            continue
        try:
            ini[key] = float(raw)
        except ValueError:
            raise pytest.UsageError(
                f"ini option {spec.ini} must be a number, got {raw!r}"
            ) from None
        try:  # at start-up, before any test runs: a bad limit never reaches a verdict
            validate_threshold(key, ini[key], source="ini")
        except MLCheckUsageError as exc:
            raise pytest.UsageError(str(exc)) from None
    strict_opt = config.getoption("ml_strict")
    strict = bool(strict_opt) if strict_opt is not None else bool(config.getini("ml_strict"))
    seed_opt = config.getoption("ml_seed")
    seed = seed_opt if seed_opt is not None else _seed(str(config.getini("ml_seed")))
    settings = Settings(
        ini=ini,
        strict=strict,
        seed=seed,
        update_schema=bool(config.getoption("ml_update_schema")),
        report_values=bool(config.getini("ml_report_values")),
        audit_trail=bool(config.getoption("ml_audit_json")),
    )
    scope = str(config.getini("ml_ladder_scope") or "session").strip()
    if scope not in SCOPES:
        raise pytest.UsageError(
            f"ini option ml_ladder_scope must be one of {SCOPES}, got {scope!r}"
        )
    options = Options(
        audit=bool(config.getoption("ml_audit")),
        block=bool(config.getoption("ml_block")),
        strict=strict,
        seed=seed,
        # absolute now: a test that changes the working directory cannot move the reports
        json_path=_absolute(config.getoption("ml_audit_json")),
        md_path=_absolute(config.getoption("ml_audit_md")),
        html_path=_absolute(config.getoption("ml_audit_html")),
        scope=scope,
    )
    return settings, options


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker, rung in MARKERS.items():
        config.addinivalue_line(
            "markers", f"{marker}: put this test on the '{rung}' rung of the ML ladder."
        )
    config.addinivalue_line(
        "markers",
        f"{_markers.MARKER}(**thresholds): thresholds for the checks of this test, class, "
        "module or (pytestmark in a conftest.py) directory, e.g. fair_min_di=0.7 "
        "(argument > marker > ini > default).",
    )
    config.addinivalue_line(
        "markers", f"{_markers.UMBRELLA}: set by pytest-mlchecks on every test on a rung (-m ml)."
    )
    settings, options = _settings(config)
    compare_path = config.getoption("ml_compare")
    if config.getoption("ml_compare_fail") and not compare_path:
        raise pytest.UsageError("--ml-compare-fail needs --ml-compare PATH (the earlier report)")
    if not _is_worker(config):
        for flag, dest in REPORT_OPTIONS:
            value = config.getoption(dest)
            if value is not None:
                _check_report_path(flag, str(value), append=dest == "ml_audit_md")
    if options.audit and not _is_worker(config):
        from pytest_mlchecks._autoaudit import read_config

        read_config(config.rootpath)  # a bad [tool.mlchecks] stops the run before it starts
    explicit = config.getoption("ml_seed") is not None
    if (explicit or options.audit) and getattr(config.option, "hypothesis_seed", "-") is None:
        # one seed for the run: hypothesis (if its plugin is loaded; tryfirst puts us before
        # it) follows --ml-seed, and every audit is reproducible from the seed it prints
        config.option.hypothesis_seed = settings.seed
    config.stash[TOKEN_KEY] = set_session_settings(settings)
    ladder = Ladder(config, settings, AuditSession(options))
    if compare_path and not _is_worker(config):
        from pytest_mlchecks import _compare

        ladder.compare = _compare.Comparison(
            _compare.load_baseline(str(compare_path)),
            _compare.tolerance_from_ini(config.getini("ml_compare_tolerance")),
            bool(config.getoption("ml_compare_fail")),
        )
    config.stash[LADDER_KEY] = ladder
    config.pluginmanager.register(ladder, "mlchecks-ladder")
    if not config.pluginmanager.is_registered(_fixtures):
        config.pluginmanager.register(_fixtures, "mlchecks-fixtures")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Under --ml-audit, add the items generated from pyproject.toml's [tool.mlchecks]."""
    ladder = config.stash.get(LADDER_KEY, None)
    if ladder is None:
        return
    if ladder.options.audit:
        from pytest_mlchecks._autoaudit import generated_items

        items.extend(generated_items(session))
    # before -m deselects: every test on a rung carries the umbrella marker "ml"
    markexpr = str(config.getoption("markexpr", "") or "")
    infer = ladder.options.audit or re.search(rf"\b{_markers.UMBRELLA}\b", markexpr) is not None
    _markers.add_umbrella(
        items, lambda item: _marker_rung(item) or (_inferred_rung(item) if infer else None)
    )


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, object, object]:
    """``@pytest.mark.ml_thresholds`` validated as each test is collected."""
    result = yield
    _markers.collected(result, collector)
    return result


def pytest_unconfigure(config: pytest.Config) -> None:
    token = config.stash.get(TOKEN_KEY, None)
    if token is not None:
        try:
            reset_session_settings(token)
        except ValueError:  # configured in another context (should not happen)
            set_session_settings(None)


# ---------------------------------------------------------------------------- rungs


def _marker_rung(item: pytest.Item) -> str | None:
    """The closest rung marker; validates that rung markers take no arguments."""
    for marker in item.iter_markers():
        rung = MARKERS.get(marker.name)
        if rung is None:
            continue
        if marker.args or marker.kwargs:
            raise pytest.UsageError(
                f"{item.nodeid}: marker {marker.name} takes no arguments, got "
                f"args={marker.args!r} kwargs={marker.kwargs!r}"
            )
        return rung
    return None


def _code_names(code: CodeType) -> Iterable[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _code_names(const)


def _inferred_rung(item: pytest.Item) -> str | None:
    """Lowest rung among the check helpers a test requests as fixtures or names in its code."""
    names: set[str] = set(getattr(item, "fixturenames", ()))
    function = getattr(item, "obj", None)
    code = getattr(inspect.unwrap(function), "__code__", None) if callable(function) else None
    if isinstance(code, CodeType):
        names.update(_code_names(code))
    rungs = [CHECKS[HELPER_TO_CHECK[n]].rung for n in names if n in HELPER_TO_CHECK]
    return lowest_rung(rungs)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class Ladder:
    """Per-session hooks: ladder order, blocking, recording, summary and reports."""

    def __init__(self, config: pytest.Config, settings: Settings, session: AuditSession) -> None:
        self.config = config
        self.settings = settings
        self.session = session
        self._workers_down: set[int] = set()  # xdist worker nodes seen going down (by id)
        self.compare: Comparison | None = None  # --ml-compare (controller only)
        self.compare_failed = False
        #: each test's file (relative to the rootdir) and 0-based line, from its reports
        self.locations: dict[str, tuple[str, int | None]] = {}
        self._interrupted_workers: set[int] = set()  # ... on a KeyboardInterrupt

    @property
    def options(self) -> Options:
        return self.session.options

    def pytest_report_header(self) -> str | None:
        if not self.options.audit:
            return None
        opts = self.options
        return (
            f"mlchecks: audit on, seed {opts.seed}, strict {'on' if opts.strict else 'off'}, "
            f"blocking {'on' if opts.block else 'off'}"
        )

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # registered now, after every plugin's pytest_configure: its wrapper then runs outside
        # the cache plugin's (--ff, --nf, --lf reorder items after the inner hooks)
        if not self.config.pluginmanager.has_plugin("mlchecks-order"):
            self.config.pluginmanager.register(LadderOrder(self), "mlchecks-order")
        lf = self.config.pluginmanager.get_plugin("lfplugin")
        if self.config.getoption("lf", False) and lf is not None:
            self.session.run.last_failed = len(getattr(lf, "lastfailed", {}) or {})
        self.session.run.collect_only = bool(self.config.getoption("collectonly", False))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and report.nodeid not in self.session.run.collection_errors:
            self.session.run.collection_errors.append(report.nodeid or ".")

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.session.run.deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.session.run.selected = len(session.items)
        lf = self.config.pluginmanager.get_plugin("lfplugin")
        if self.session.run.last_failed and lf is not None:
            # how many of the selected tests --lf picked (None: none of them had failed)
            count = getattr(lf, "_previously_failed_count", self.session.run.last_failed)
            self.session.run.last_failed = int(count or 0)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self.session.run.selected is None:
            self.session.run.selected = len(ids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        if error == "keyboard-interrupt":
            self._interrupted_workers.add(id(node))
        if id(node) in self._workers_down:  # xdist calls this twice for an interrupted worker
            return
        self._workers_down.add(id(node))
        output = getattr(node, "workeroutput", None) or {}
        run = output.get("mlchecks_run")
        if isinstance(run, dict):
            state = self.session.run
            state.deselected = max(state.deselected, int(run.get("deselected", 0)))
            if "last_failed" in run:  # the workers collected; the controller only guessed
                state.last_failed = int(run["last_failed"])
            for nodeid in run.get("collection_errors", []):
                if nodeid not in state.collection_errors:
                    state.collection_errors.append(str(nodeid))
            for nodeid, checks in (run.get("unreported") or {}).items():
                self.session.add_unreported(str(nodeid), list(checks))

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport) -> None:
        """xdist reports the test a worker was running when it went down as failed ("worker
        crashed"); when the worker went down on a KeyboardInterrupt the test did not finish."""
        if id(getattr(report, "node", None)) in self._interrupted_workers:
            interrupted: PhasePayload = {"interrupted": True}
            setattr(report, REPORT_ATTR, json.dumps(interrupted))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        marked = item.stash.get(_markers.THRESHOLDS_KEY, None)
        settings = replace(self.settings, marker=marked) if marked else self.settings
        recorder = Recorder(item.nodeid, settings)
        item.stash[RECORDER_KEY] = recorder
        item.stash[SENT_KEY] = 0
        with recording(recorder):
            try:
                return (yield)
            except BaseException:  # Ctrl-C mid-test: no report comes, keep what it recorded
                unsent = recorder.records[item.stash.get(SENT_KEY, 0) :]
                self.session.add_unreported(item.nodeid, merge_repeats(unsent))
                raise

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        reason = None
        if self.options.audit and self.options.block:
            rung = item.stash.get(RUNG_KEY, None)
            blocker = self.session.live_blocker(item.nodeid, rung)
            if blocker is not None:
                item.stash[BLOCKED_KEY] = blocker
                reason = BLOCK_REASON.format(rung=blocker, own=rung)
                # pytest's skipping plugin turns the mark into a skip reported at the test's
                # own location, before any fixture is set up.
                item.add_marker(pytest.mark.skip(reason=reason))
        seed_error: Exception | None = None
        if reason is None and "ml_seed" in getattr(item, "fixturenames", ()):
            # ml_seed is session-scoped (usable from any fixture): each test that needs it
            # starts from the seeded state, whatever ran before it
            try:
                _fixtures.seed_libraries(self.config, again=True)
            except Exception as exc:  # a broken seeder: raised after the inner setup ran
                seed_error = exc
        result = yield
        if seed_error is not None:  # (the fixture usually raised it already)
            raise seed_error
        if reason is not None:  # the skipping plugin is disabled: skip here
            pytest.skip(reason)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        recorder = item.stash.get(RECORDER_KEY, None)
        rung = item.stash.get(RUNG_KEY, None)
        blocked = item.stash.get(BLOCKED_KEY, None)
        new: list[CheckRecord] = []
        if recorder is not None:
            sent = item.stash.get(SENT_KEY, 0)
            new = merge_repeats(recorder.records[sent:])
            item.stash[SENT_KEY] = len(recorder.records)
        falsifying = None
        if recorder is not None and report.failed and "last_draw" in recorder.notes:
            falsifying = recorder.notes["last_draw"]  # the last (shrunk) hypothesis draw
        # warning-severity verdicts raised as the test's failure: --ml-strict, or a warnings
        # filter (filterwarnings = error) turning MLCheckWarning into an exception
        escalated = _raised_warnings(call) if report.failed else []
        if new:
            seen = item.stash.setdefault(JUNIT_SEEN_KEY, {})
            properties = _annotations.junit_properties(new, seen, test_failed=report.failed)
            item.user_properties.extend(properties)  # the later phases' reports copy them
            if report.user_properties is not item.user_properties:
                report.user_properties.extend(properties)
            if _html_extra.active(item.config):
                _html_extra.attach(report, new)
        if report.failed and call.excinfo is not None:
            _show_headline(report, call)
        if rung is not None or new or blocked is not None or falsifying is not None or escalated:
            payload: PhasePayload = {"rung": rung, "blocked_by": blocked, "checks": new}
            if falsifying is not None:
                payload["falsifying"] = falsifying
            if escalated:
                payload["escalated"] = escalated
            setattr(report, REPORT_ATTR, json.dumps(payload))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.session.add_report(report)
        location = getattr(report, "location", None)
        if location and report.nodeid not in self.locations:
            self.locations[report.nodeid] = (str(location[0]), location[1])

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        run = self.session.run
        if _is_worker(self.config):
            output = getattr(self.config, "workeroutput", None)
            if isinstance(output, dict):
                output["mlchecks_run"] = {
                    "deselected": run.deselected,
                    "last_failed": run.last_failed,
                    "collection_errors": list(run.collection_errors),
                    "unreported": self.session.unreported,
                }
            return
        if run.collect_only:
            return  # --co proves nothing: never write (or overwrite) a report
        run.exitstatus = int(exitstatus)
        run.stop_reason = _stop_reason(self.config, session)
        summary = self.session.build_summary()
        if self.compare is not None:
            self.compare_failed = self.compare.apply(summary)
        opts = self.options
        if opts.json_path:
            self._write_json(opts.json_path, summary)
        self._write(opts.md_path, lambda: _report.markdown(summary), append=True)
        if opts.html_path:
            from pytest_mlchecks import _html

            self._write(opts.html_path, lambda: _html.render(summary))
        gate = summary["gate"]
        # under --ml-audit the exit code follows the gate (pytest's own non-zero codes are
        # kept); a plain run keeps pytest's exit code, its reports still say the gate
        if opts.audit and gate != "pass" and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = (
                pytest.ExitCode.TESTS_FAILED if gate == "fail" else pytest.ExitCode.INTERRUPTED
            )
        if self.compare_failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # --ml-compare-fail

    def _write_json(self, path: str, summary: AuditReport) -> None:
        """The JSON report, after ``pytest_mlchecks_update_json`` changed a copy of it."""
        report = copy.deepcopy(summary)
        from pytest_mlchecks import _audit_trail

        report["environment"] = _audit_trail.environment()
        report["git"] = _audit_trail.git_state(self.config.rootpath)
        try:
            self.config.hook.pytest_mlchecks_update_json(config=self.config, report=report)
            text = _report.to_json(report)
        except Exception as exc:  # a conftest's hook: say so, keep the other reports
            self.session.write_errors.append(
                f"{path} not written: pytest_mlchecks_update_json failed or left data that is "
                f"not JSON ({type(exc).__name__}: {exc})"
            )
            return
        self._write(path, lambda: text)

    def _write(self, path: str | None, render: Any, *, append: bool = False) -> None:
        if not path:
            return
        try:
            if append:
                _report.append_text(path, render())
            else:
                _report.write_atomic(path, render())
        except OSError as exc:  # checked at start-up; the disk can still fill up meanwhile
            self.session.write_errors.append(f"could not write {path}: {exc}")
        else:
            self.session.written.append(path)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if _is_worker(self.config):
            return
        summary = self.session.summary
        if summary is None:
            return
        for error in self.session.write_errors:
            terminalreporter.write_line(f"mlchecks: {error}", red=True)
        for path, columns in _report.schemas_written(summary):
            terminalreporter.write_line(f"mlchecks: schema written: {path} ({columns} columns)")
        if self.config.getoption("ml_github_annotations"):
            locations = self.locations
            root = str(self.config.rootpath)
            for line in _annotations.github_lines(summary, locations, root):
                terminalreporter.write_line(line)
        mode = str(self.config.getoption("ml_summary") or "failures")
        if mode == "none":
            return
        unusual = summary["gate"] in ("incomplete", "error") and bool(self.session.written)
        findings = (
            any(_report.status_key(c) in ("fail", "warn") for c in summary["checks"])
            or self.session.has_ml_failures()
        )
        shown = mode == "all" and bool(summary["checks"])
        compared = summary.get("compare")
        if not (self.options.audit or findings or unusual or shown or compared is not None):
            return
        terminalreporter.write_sep("=", "ML audit ladder" if self.options.audit else "ML checks")
        verbose = int(self.config.getoption("verbose") or 0)
        lines = _report.terminal_lines(summary, verbose=verbose, every_check=mode == "all")
        for line in lines:
            terminalreporter.write_line(line)
        if compared is not None:
            from pytest_mlchecks._compare import terminal_lines

            terminalreporter.write_line("")
            for line in terminal_lines(compared, verbose=verbose):
                terminalreporter.write_line(line)
        for path in self.session.written:
            terminalreporter.write_line(f"report written: {path}")


def _show_headline(report: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
    """pytest's short summary line (``FAILED id - <message>``) shows the failed check's
    headline rather than the exception's qualified class name (``reprcrash``'s message, also
    JUnit's failure message; it travels to the xdist controller with the report)."""
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, MLCheckError):
        messages = [r.message for r in error.results if not r.passed] or [str(error)]
    elif isinstance(error, MLCheckWarning):
        messages = [str(error)]
    else:
        return
    headline = _annotations.crash_headline(messages)
    crash = getattr(report.longrepr, "reprcrash", None)
    if headline is not None and crash is not None and hasattr(crash, "message"):
        crash.message = headline


def _raised_warnings(call: pytest.CallInfo[None]) -> list[str]:
    """Messages of the warning-severity check results that the test's exception carries."""
    if call.excinfo is None:
        return []
    error = call.excinfo.value
    if isinstance(error, MLCheckWarning):
        return [str(error)]
    if isinstance(error, MLCheckError):
        return [r.message for r in error.results if r.severity == "warning" and not r.passed]
    return []


def _stop_reason(config: pytest.Config, session: pytest.Session) -> str | None:
    """Why the run stopped before its end (-x, --maxfail, a worker's Ctrl-C), if it did."""
    holders = [session, config.pluginmanager.get_plugin("dsession")]
    for holder in holders:
        for attr in ("shouldfail", "shouldstop"):
            value = getattr(holder, attr, None)
            if not value:
                continue
            if not isinstance(value, str):
                return "the run was stopped"
            # xdist: "<WorkerController gw0> received keyboard-interrupt"
            worker = re.fullmatch(r"<WorkerController (\S+)> received keyboard-interrupt", value)
            if worker:
                return f"interrupted (keyboard-interrupt in worker {worker.group(1)})"
            return value
    return None


class LadderOrder:
    """Sorts items bottom rung first, after every other plugin reordered them.

    Registered at session start, after the cache plugin, so this wrapper runs outside its
    ``--ff``/``--nf``/``--lf`` wrappers: failed-first order is kept within a rung (a stable
    sort), as is any shuffling within a rung (pytest-randomly).
    """

    def __init__(self, ladder: Ladder) -> None:
        self.ladder = ladder

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_modifyitems(
        self, items: list[pytest.Item]
    ) -> Generator[None, None, None]:
        result = yield
        audit = self.ladder.options.audit
        for item in items:
            rung = _marker_rung(item)
            if rung is None and audit:
                rung = _inferred_rung(item)
            item.stash[RUNG_KEY] = rung
        if audit:
            items.sort(key=lambda item: rung_index(item.stash[RUNG_KEY]))
        return result
