"""The one result type, the umbrella report and the exception hierarchy (``MLCheckException``).

Standard library only: the plugin imports this module at start-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the record types cost start-up time: the annotations only name them
    from pytest_mlchecks._records import CheckDict, ThresholdProvenance, UmbrellaDict

RUNGS: tuple[str, ...] = ("data", "pipeline", "model", "evaluation", "production")
SEVERITIES: tuple[str, ...] = ("error", "warning")


class MLCheckException(Exception):
    """Base of every exception pytest-mlchecks raises.

    Two kinds: a check that failed its verdict (``MLCheckError``, an ``AssertionError``), and
    a check that gives no verdict (``MLCheckNoVerdictError``, a ``ValueError``): either the
    caller misused it (``MLCheckUsageError``) or it crashed in its own code, a bug in
    pytest-mlchecks (``MLCheckInternalError``)::

        try:
            assert_no_leakage(train, test)
        except MLCheckError: ...  # the data leaks: the verdict is "fail"
        except MLCheckInternalError: ...  # our bug: please report it
        except MLCheckUsageError: ...  # fix the call: arguments, inputs, your model
    """


class MLCheckError(MLCheckException, AssertionError):
    """Raised by every ``assert_*`` helper that fails; ``.results`` holds the evidence."""

    def __init__(self, results: Sequence[CheckResult]) -> None:
        self.results: list[CheckResult] = list(results)
        super().__init__(self._text())

    def _text(self) -> str:
        failed = [r for r in self.results if not r.passed]
        shown = failed or self.results
        return "\n\n".join(r.message for r in shown)

    def __str__(self) -> str:
        return self._text()


class MLCheckNoVerdictError(MLCheckException, ValueError):
    """The check gives no verdict (never a silent pass): a usage error or an internal error.

    Catch this to handle both; catch ``MLCheckInternalError`` first to tell a bug in
    pytest-mlchecks from the caller's misuse.
    """


class MLCheckUsageError(MLCheckNoVerdictError):
    """Bad arguments or unusable input: names the argument and what was expected.

    Also raised when code the caller passed in (their model's ``fit``, their step function)
    fails inside a check: the check could not run on it.
    """


class MLCheckInternalError(MLCheckUsageError):
    """A check crashed in its own code: a bug in pytest-mlchecks, not the caller's misuse.

    Still an ``MLCheckUsageError`` (the public contract: a check that could not run raises
    one), so code catching usage errors keeps working; catch ``MLCheckInternalError`` first to
    tell it apart. The message asks for a bug report.
    """


class MLCheckWarning(UserWarning):
    """Issued when a ``severity="warning"`` check does not pass (and ``--ml-strict`` is off)."""


def _clean_number(value: Any) -> float | None:
    """A JSON-safe float (``None`` for missing, NaN and infinities kept as strings elsewhere)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


@dataclass
class CheckResult:
    """The verdict of one check.

    ``value`` is the headline figure, ``threshold`` the limit it was held to, ``message`` says
    what is wrong, the figure, why it matters and how to fix it, ``details`` holds
    JSON-serialisable aggregates (never raw rows unless the user opts in), ``provenance``
    each threshold's value in force and its source (argument, ini option or default).
    """

    name: str
    rung: str
    passed: bool
    severity: str = "error"
    value: float | None = None
    threshold: float | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, ThresholdProvenance] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise MLCheckUsageError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        self.passed = bool(self.passed)
        self.value = _clean_number(self.value)
        self.threshold = _clean_number(self.threshold)

    @property
    def failed(self) -> bool:
        return not self.passed

    def to_dict(self) -> CheckDict:
        """A JSON-serialisable dict (non-finite floats become strings such as ``"inf"``)."""
        return {
            "name": self.name,
            "rung": self.rung,
            "passed": self.passed,
            "severity": self.severity,
            "value": _json_float(self.value),
            "threshold": _json_float(self.threshold),
            "message": self.message,
            "details": jsonable(self.details),
            "thresholds": jsonable(self.provenance),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """The result back from ``to_dict()`` data (or a check record of the JSON report)."""
        return cls(
            name=str(data["name"]),
            rung=str(data["rung"]),
            passed=bool(data["passed"]),
            severity=str(data.get("severity", "error")),
            value=_from_json_float(data.get("value")),
            threshold=_from_json_float(data.get("threshold")),
            message=str(data.get("message", "")),
            details=dict(data.get("details") or {}),
            provenance=dict(data.get("thresholds") or {}),
        )

    def __bool__(self) -> bool:
        return self.passed


@dataclass
class CheckReport:
    """The verdict of an umbrella check: passed when every error-severity result passed."""

    name: str
    rung: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results if r.severity == "error")

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    @property
    def message(self) -> str:
        bad = self.failures
        if not bad:
            names = ", ".join(r.name for r in self.results) or "nothing applicable"
            return f"{self.name}: all checks passed ({names})."
        return "\n\n".join(r.message for r in bad)

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __bool__(self) -> bool:
        return self.passed

    def to_dict(self) -> UmbrellaDict:
        return {
            "name": self.name,
            "rung": self.rung,
            "passed": self.passed,
            "results": [r.to_dict() for r in self.results],
        }


def _json_float(value: float | None) -> float | str | None:
    if value is None:
        return None
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def jsonable(obj: Any) -> Any:
    """Plain JSON data from check details (numpy scalars, tuples, non-finite floats)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return _json_float(obj)
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    tolist = getattr(obj, "tolist", None)  # numpy / torch scalars and arrays
    if callable(tolist):
        try:
            return jsonable(tolist())
        except (TypeError, ValueError):
            pass
    return str(obj)


def _from_json_float(value: Any) -> float | None:
    if value is None:
        return None
    return float(value)


def iter_results(outcome: CheckResult | CheckReport | Iterable[CheckResult]) -> list[CheckResult]:
    """Flatten a result or report into a list of results."""
    if isinstance(outcome, CheckResult):
        return [outcome]
    if isinstance(outcome, CheckReport):
        return list(outcome.results)
    return list(outcome)


for _cls in (
    CheckResult,
    CheckReport,
    MLCheckException,
    MLCheckError,
    MLCheckNoVerdictError,
    MLCheckUsageError,
    MLCheckInternalError,
    MLCheckWarning,
):
    _cls.__module__ = "pytest_mlchecks"
