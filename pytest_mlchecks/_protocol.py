"""Where a check runs: effective settings, the current test's recorder, assert/check twins.

The plugin sets two context variables: the session settings (ini thresholds, strict mode,
seed) at configure time, and a per-test recorder around each test's setup/call/teardown.
Outside pytest both are absent and checks use the built-in defaults and record nothing.
Standard library only.
"""

from __future__ import annotations

import functools
import inspect
import os
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from pytest_mlchecks._registry import CHECKS, THRESHOLDS, CheckSpec
from pytest_mlchecks._result import (
    CheckReport,
    CheckResult,
    MLCheckError,
    MLCheckException,
    MLCheckInternalError,
    MLCheckNoVerdictError,
    MLCheckUsageError,
    MLCheckWarning,
    iter_results,
)

if TYPE_CHECKING:  # the record types cost start-up time: the annotations only name them
    from pytest_mlchecks._records import CheckRecord, ThresholdOrigin, ThresholdProvenance

P = ParamSpec("P")
R = TypeVar("R", CheckResult, CheckReport)


@dataclass(frozen=True)
class Settings:
    """Effective configuration of a session: ini thresholds that were set, strict mode, seed."""

    ini: Mapping[str, float] = field(default_factory=dict)
    #: thresholds the running test's ``@pytest.mark.ml_thresholds`` sets (between the
    #: argument and the ini option)
    marker: Mapping[str, float] = field(default_factory=dict)
    strict: bool = False
    seed: int = 0
    update_schema: bool = False
    report_values: bool = False  # ini ml_report_values: raw cell values allowed in reports
    #: fingerprint what each outermost check received (only the JSON report shows them)
    audit_trail: bool = False


@dataclass
class Recorder:
    """Collects the checks that one test runs (outermost calls only)."""

    nodeid: str
    settings: Settings
    records: list[CheckRecord] = field(default_factory=list)
    depth: int = 0
    enforcing: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        result: CheckResult,
        *,
        enforced: bool,
        user: bool = False,
        informational: bool = False,
        inputs: Mapping[str, Any] | None = None,
    ) -> None:
        """Record a verdict against the test. ``enforced``: the test asserted it; ``user``:
        the test's own figure (``ml_audit.record``), ``informational`` when it was given no
        verdict (recorded with ``passed`` None: shown, never counted as a pass or a failure).
        """
        # the verdict's own keys (CheckDict), then the record's (the cast: to_dict's keys are
        # exactly CheckDict's, none of CheckRecord's optional ones)
        entry = cast("CheckRecord", result.to_dict())
        entry["enforced"] = enforced
        if inputs:
            entry["inputs"] = dict(inputs)
        if not entry["rung"]:
            entry["rung"] = None  # a user figure in a test on no rung
        if informational:
            entry["passed"] = None
        if user:
            entry["user"] = True
        self.records.append(entry)


_SETTINGS: ContextVar[Settings | None] = ContextVar("mlchecks_settings", default=None)
_RECORDER: ContextVar[Recorder | None] = ContextVar("mlchecks_recorder", default=None)


def current_settings() -> Settings:
    recorder = _RECORDER.get()
    if recorder is not None:
        return recorder.settings
    return _SETTINGS.get() or Settings()


def current_recorder() -> Recorder | None:
    return _RECORDER.get()


@contextmanager
def session_settings(settings: Settings) -> Iterator[None]:
    token = _SETTINGS.set(settings)
    try:
        yield
    finally:
        _SETTINGS.reset(token)


def set_session_settings(settings: Settings | None) -> Token[Settings | None]:
    """Set the settings for the rest of this session; returns the token to restore them."""
    return _SETTINGS.set(settings)


def reset_session_settings(token: Token[Settings | None]) -> None:
    _SETTINGS.reset(token)


@contextmanager
def recording(recorder: Recorder) -> Iterator[Recorder]:
    token = _RECORDER.set(recorder)
    try:
        yield recorder
    finally:
        _RECORDER.reset(token)


def _as_threshold(key: str, raw: object, where: str) -> float:
    """``raw`` as a float inside the domain of threshold ``key``, or a usage error naming it."""
    spec = THRESHOLDS[key]
    expected = f"{where} must be {spec.domain} ({spec.help})"
    if isinstance(raw, (bool, str, bytes)) or not hasattr(raw, "__float__"):
        raise MLCheckUsageError(f"{expected}, got {type(raw).__name__} {raw!r}.")
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise MLCheckUsageError(f"{expected}, got {raw!r}.") from None
    if not spec.accepts(value):
        raise MLCheckUsageError(f"{expected}, got {raw!r}.")
    return value


def threshold_label(key: str, source: str) -> str:
    """How a threshold is named in messages: the argument, or the ini option."""
    spec = THRESHOLDS[key]
    if source == "argument":
        return f"argument {spec.arg or key} (ini {spec.ini})"
    if source == "ini":
        return f"ini option {spec.ini}"
    if source == "marker":
        return f"marker ml_thresholds({key}=...)"
    return f"default of {spec.ini}"


def validate_threshold(key: str, value: object, *, source: str = "argument") -> float:
    """Check ``value`` against the domain of threshold ``key`` (``source``: argument or ini).

    Raises ``MLCheckUsageError`` naming the argument or ini option and the expected domain;
    NaN and infinities are never accepted.
    """
    return _as_threshold(key, value, threshold_label(key, source))


def resolve_threshold(key: str, argument: float | None) -> float:
    """Effective threshold: the argument if given, else the test's ``ml_thresholds`` marker,
    else the ini option, else the default.

    Every source is validated against the threshold's domain in the registry, so a NaN, a
    negative norm or a fraction above 1 is a usage error naming where it came from.
    """
    if argument is not None:
        return validate_threshold(key, argument, source="argument")
    settings = current_settings()
    if key in settings.marker:
        return validate_threshold(key, settings.marker[key], source="marker")
    ini = settings.ini
    if key in ini:
        return validate_threshold(key, ini[key], source="ini")
    return THRESHOLDS[key].default


def threshold_source(key: str, argument: float | None = None) -> ThresholdOrigin:
    if argument is not None:
        return "argument"
    if key in current_settings().marker:
        return "marker"
    if key in current_settings().ini:
        return "ini"
    return "default"


def current_seed(random_state: int | None = None) -> int:
    """The seed for internal sampling: the argument, else ``--ml-seed`` / ini ``ml_seed``."""
    if random_state is not None:
        return int(random_state)
    return current_settings().seed


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# Libraries a check computes with: an exception raised in them, called straight from a check,
# is the check's own failure to handle the input (a bug), not the caller's code failing.
_COMPUTE_LIBRARIES = frozenset({"numpy", "pandas", "scipy"})
_STDLIB_DIR = os.path.dirname(os.path.abspath(os.__file__))


def _origin(filename: str) -> str:
    """Who owns a traceback frame: ``"ours"``, ``"stdlib"``, a top-level package, or ``"user"``."""
    path = os.path.abspath(filename)
    if path.startswith(_PACKAGE_DIR + os.sep):
        return "ours"
    parts = path.split(os.sep)
    for marker in ("site-packages", "dist-packages"):
        if marker in parts[:-1]:
            return parts[parts.index(marker) + 1].split(".")[0]
    if path.startswith(_STDLIB_DIR + os.sep) or filename.startswith("<frozen"):
        return "stdlib"
    return "user"


def blame(exc: BaseException) -> tuple[str, str]:
    """``("internal", where)`` when ``exc`` comes from the check's own code (or from numpy /
    pandas / scipy / the standard library called straight from it), else ``("caller",
    where)``: it was raised inside code the caller handed in (a model, a function, a library
    the model wraps)."""
    frames = traceback.extract_tb(exc.__traceback__)
    owners = [_origin(f.filename) for f in frames]
    ours = [i for i, owner in enumerate(owners) if owner == "ours"]
    if not ours:
        return "caller", owners[-1] if owners else "unknown"
    callee = owners[ours[-1] + 1 :]
    if not callee:
        return "internal", "pytest_mlchecks"
    first = callee[0]
    if first in _COMPUTE_LIBRARIES or first == "stdlib":
        return "internal", first
    return "caller", first


def _no_verdict(name: str, exc: Exception) -> MLCheckNoVerdictError:
    """The error a check raises when it crashed: internal bug or the caller's code failing."""
    kind, where = blame(exc)
    what = f"{type(exc).__name__}: {exc}"
    if kind == "internal":
        return MLCheckInternalError(
            f"{name} crashed inside pytest-mlchecks ({what}), so it gives no verdict. This is a "
            "bug in pytest-mlchecks, not in your code: please report it with the traceback and "
            "the input's type, shape and dtypes."
        )
    source = "your code" if where == "user" else where
    return MLCheckUsageError(
        f"{name} could not run, so it cannot give a verdict: {what} (raised inside {source}, "
        "called with the model, function or data you passed: check that they work together)."
    )


def result(
    passed: bool,
    severity: str = "error",
    value: float | None = None,
    threshold: float | None = None,
    message: str = "",
    details: dict[str, Any] | None = None,
) -> CheckResult:
    """A verdict inside a check body: ``@check`` stamps the check's name and rung on it."""
    return CheckResult("", "", passed, severity, value, threshold, message, dict(details or {}))


def report(results: list[CheckResult]) -> CheckReport:
    """An umbrella verdict inside a check body: ``@check`` stamps the name and rung on it."""
    return CheckReport("", "", list(results))


def provenance(spec: CheckSpec, arguments: Mapping[str, Any]) -> dict[str, ThresholdProvenance]:
    """Each threshold of ``spec``: the value in force and where it came from (argument, ini
    option or default), read from the keyword arguments the check was called with."""
    out: dict[str, ThresholdProvenance] = {}
    for key in spec.thresholds:
        arg = THRESHOLDS[key].arg or key
        given = arguments.get(arg)
        if not isinstance(given, (int, float)) or isinstance(given, bool):
            given = None
        source = threshold_source(key, given)
        value = float(given) if given is not None else resolve_threshold(key, None)
        out[key] = {"value": value, "source": source}
    return out


def _stamp(
    outcome: CheckResult | CheckReport, spec: CheckSpec, arguments: Mapping[str, Any]
) -> None:
    """Give an outcome built with ``result()`` / ``report()`` its registry identity."""
    if isinstance(outcome, CheckReport):
        if not outcome.name:
            outcome.name, outcome.rung = spec.name, spec.rung
        return
    if isinstance(outcome, CheckResult) and not outcome.name:
        outcome.name, outcome.rung = spec.name, spec.rung
        if spec.thresholds:
            outcome.provenance = provenance(spec, arguments)


def _bound(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The check's arguments by name (keywords only when they do not bind)."""
    try:
        return signature.bind(*args, **kwargs).arguments
    except TypeError:
        return dict(kwargs)


def _input_fingerprints(arguments: Mapping[str, Any]) -> dict[str, Any] | None:
    """Fingerprints (type, shape, dtypes, hash: no values) of the tables and models a check
    received, by argument name, for the report's audit trail; None when there are none."""
    from pytest_mlchecks._audit_trail import fingerprints

    return fingerprints(arguments) or None


def check(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare ``check_<name>``: its identity (rung, thresholds, summary) is the registry entry
    ``CHECKS[name]``; results built with ``result()`` get its name, rung and threshold
    provenance. The outcome is recorded against the running test.

    Nested calls (an umbrella check calling others) are recorded once, by the outermost call.
    An unexpected exception inside the check never becomes a silent pass: if it was raised by
    the check's own code it is an ``MLCheckInternalError`` (a bug, "please report"); if it was
    raised inside what the caller passed (their model's fit, their step function) it is an
    ``MLCheckUsageError`` saying the check could not decide. Both are
    ``MLCheckNoVerdictError``s; the original is chained.
    """
    spec = CHECKS[name]

    def declare(func: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            __tracebackhide__ = True
            recorder = _RECORDER.get()
            enforced = recorder.enforcing if recorder is not None else False
            inputs = None
            outermost = recorder is not None and recorder.depth == 0
            arguments = _bound(signature, args, kwargs) if outermost or spec.thresholds else {}
            if recorder is not None:
                if outermost and recorder.settings.audit_trail:  # what the check received
                    inputs = _input_fingerprints(arguments)
                recorder.depth += 1
                recorder.enforcing = False
            try:
                outcome = func(*args, **kwargs)
                _stamp(outcome, spec, arguments if spec.thresholds else {})
            except MLCheckException:  # a verdict raised, or no verdict already explained
                raise
            except Exception as exc:
                raise _no_verdict(func.__name__, exc) from exc
            finally:
                if recorder is not None:
                    recorder.depth -= 1
            if recorder is not None and recorder.depth == 0:
                for one in iter_results(outcome):
                    recorder.add(one, enforced=enforced, inputs=inputs)
            return outcome

        wrapper.__mlcheck__ = spec  # type: ignore[attr-defined]
        return wrapper

    return declare


def enforce(outcome: CheckResult | CheckReport) -> None:
    """Raise ``MLCheckError`` for failed errors (and failed warnings under ``--ml-strict``)."""
    __tracebackhide__ = True
    results = iter_results(outcome)
    errors = [r for r in results if not r.passed and r.severity == "error"]
    soft = [r for r in results if not r.passed and r.severity == "warning"]
    if errors or (soft and current_settings().strict):
        raise MLCheckError(errors + soft)
    for result in soft:
        warnings.warn(MLCheckWarning(result.message), stacklevel=3)


def assertion(check_func: Callable[P, R]) -> Callable[P, R]:
    """Build ``assert_x`` from ``check_x``: same arguments, raises ``MLCheckError`` on failure.

    Returns the outcome when it passes, so figures stay at hand.
    """

    @functools.wraps(check_func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        __tracebackhide__ = True
        recorder = _RECORDER.get()
        if recorder is not None and recorder.depth == 0:
            recorder.enforcing = True
        try:
            outcome = check_func(*args, **kwargs)
        finally:
            if recorder is not None:
                recorder.enforcing = False
        enforce(outcome)
        return outcome

    name = check_func.__name__.replace("check_", "assert_", 1)
    wrapper.__name__ = name
    wrapper.__qualname__ = name
    spec = getattr(check_func, "__mlcheck__", None)
    detects = f"Detects: {spec.summary} ({spec.rung} rung).\n\n" if spec is not None else ""
    wrapper.__doc__ = (
        f"Assert form of ``{check_func.__name__}``: raises ``MLCheckError`` when it fails.\n\n"
        + detects
        + (check_func.__doc__ or "")
    )
    return wrapper
