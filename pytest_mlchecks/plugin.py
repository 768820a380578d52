"""pytest hooks of pytest-mlchecks: options, markers, ladder ordering, blocking, reporting.

This module only wires hooks; the work lives in ``_session`` (aggregation), ``_report``
(rendering), ``_runtime`` (settings, recording) and ``checks/``. It imports the standard
library and pytest only: no ML library is loaded unless a test calls a check.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Generator, Iterable
from contextvars import Token
from types import CodeType
from typing import Any

import pytest

from . import _fixtures, _report
from ._registry import CHECKS, HELPER_TO_CHECK, THRESHOLDS, lowest_rung, rung_index
from ._result import RUNGS
from ._runtime import (
    Recorder,
    Settings,
    recording,
    reset_session_settings,
    set_session_settings,
)
from ._session import (
    BLOCK_REASON,
    BLOCKED_KEY,
    RECORDER_KEY,
    REPORT_ATTR,
    RUNG_KEY,
    SCOPES,
    SENT_KEY,
    AuditSession,
    Options,
)

LADDER_KEY = pytest.StashKey["Ladder"]()
TOKEN_KEY = pytest.StashKey[Token[Settings | None]]()
MARKERS = {f"ml_{rung}": rung for rung in RUNGS}


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise pytest.UsageError(f"--ml-seed / ml_seed must be an integer, got {text!r}") from None
    if value < 0:
        raise pytest.UsageError(f"--ml-seed / ml_seed must be >= 0, got {value}")
    return value


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
        help="write a Markdown audit report (for CI job summaries) to PATH.",
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
        json_path=config.getoption("ml_audit_json"),
        md_path=config.getoption("ml_audit_md"),
        html_path=config.getoption("ml_audit_html"),
        scope=scope,
    )
    return settings, options


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker, rung in MARKERS.items():
        config.addinivalue_line(
            "markers", f"{marker}: put this test on the '{rung}' rung of the ML ladder."
        )
    settings, options = _settings(config)
    explicit = config.getoption("ml_seed") is not None
    if (explicit or options.audit) and getattr(config.option, "hypothesis_seed", "-") is None:
        # one seed for the run: hypothesis (if its plugin is loaded; tryfirst puts us before
        # it) follows --ml-seed, and every audit is reproducible from the seed it prints
        config.option.hypothesis_seed = settings.seed
    config.stash[TOKEN_KEY] = set_session_settings(settings)
    ladder = Ladder(config, settings, AuditSession(options))
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
    if ladder is None or not ladder.options.audit:
        return
    from ._autoaudit import generated_items

    items.extend(generated_items(session))


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

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            rung = _marker_rung(item)
            if rung is None and self.options.audit:
                rung = _inferred_rung(item)
            item.stash[RUNG_KEY] = rung
        if self.options.audit:
            items.sort(key=lambda item: rung_index(item.stash[RUNG_KEY]))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        recorder = Recorder(item.nodeid, self.settings)
        item.stash[RECORDER_KEY] = recorder
        item.stash[SENT_KEY] = 0
        with recording(recorder):
            return (yield)

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
        result = yield
        if reason is not None:  # the skipping plugin is disabled: skip here
            pytest.skip(reason)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        recorder = item.stash.get(RECORDER_KEY, None)
        rung = item.stash.get(RUNG_KEY, None)
        blocked = item.stash.get(BLOCKED_KEY, None)
        new: list[dict[str, object]] = []
        if recorder is not None:
            sent = item.stash.get(SENT_KEY, 0)
            new = recorder.records[sent:]
            item.stash[SENT_KEY] = len(recorder.records)
        falsifying = None
        if recorder is not None and report.failed and "last_draw" in recorder.notes:
            falsifying = recorder.notes["last_draw"]  # the last (shrunk) hypothesis draw
        if rung is not None or new or blocked is not None or falsifying is not None:
            payload: dict[str, object] = {"rung": rung, "blocked_by": blocked, "checks": new}
            if falsifying is not None:
                payload["falsifying"] = falsifying
            setattr(report, REPORT_ATTR, json.dumps(payload))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.session.add_report(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if _is_worker(self.config):
            return
        summary = self.session.build_summary()
        opts = self.options
        if opts.json_path:
            _report.write_atomic(opts.json_path, _report.to_json(summary))
            self.session.written.append(opts.json_path)
        if opts.md_path:
            _report.write_atomic(opts.md_path, _report.markdown(summary))
            self.session.written.append(opts.md_path)
        if opts.html_path:
            from . import _html

            _report.write_atomic(opts.html_path, _html.render(summary))
            self.session.written.append(opts.html_path)
        if opts.audit and summary["gate"] == "fail" and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if _is_worker(self.config):
            return
        summary = self.session.summary
        if summary is None:
            return
        if not (self.options.audit or self.session.has_ml_failures()):
            return
        terminalreporter.write_sep("=", "ML audit ladder" if self.options.audit else "ML checks")
        verbose = int(self.config.getoption("verbose") or 0)
        for line in _report.terminal_lines(summary, verbose=verbose):
            terminalreporter.write_line(line)
        for path in self.session.written:
            terminalreporter.write_line(f"report written: {path}")
