"""Fixtures: ``ml_seed``, ``ml_audit``, ``ml_thresholds`` and one per ``assert_*`` helper.

Registered by the plugin at configure time. Imports only the standard library and pytest;
the helpers' modules load when a fixture is first requested.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from pytest_mlchecks._protocol import (
    current_recorder,
    current_settings,
    resolve_threshold,
    threshold_source,
)
from pytest_mlchecks._registry import ASSERT_HELPERS, THRESHOLDS
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks._session import RUNG_KEY


class EffectiveThresholds(Mapping[str, float]):
    """Effective thresholds (argument > ini > default), keyed by ini name (``ml_...``).

    Short keys without the ``ml_`` prefix work too; ``source(key)`` says where a value came from.
    """

    def _key(self, key: str) -> str:
        short = key[3:] if key.startswith("ml_") else key
        if short not in THRESHOLDS:
            raise KeyError(key)
        return short

    def __getitem__(self, key: str) -> float:
        return resolve_threshold(self._key(key), None)

    def __iter__(self) -> Iterator[str]:
        return iter(spec.ini for spec in THRESHOLDS.values())

    def __len__(self) -> int:
        return len(THRESHOLDS)

    def source(self, key: str) -> str:
        return threshold_source(self._key(key))

    def __repr__(self) -> str:
        return f"EffectiveThresholds({dict(self)!r})"


class AuditRecorder:
    """``ml_audit``: record the test's own figures in the audit summary and report."""

    def __init__(self, rung: str | None) -> None:
        self._rung = rung

    def record(
        self,
        name: str,
        value: float | None,
        *,
        threshold: float | None = None,
        passed: bool | None = None,
    ) -> None:
        """Record a figure. ``passed=False`` makes the audit gate fail (not the test itself).

        The figure becomes a check record like any check's (a ``CheckResult`` marked as the
        test's own, ``user``); without ``passed`` it is informational (``passed`` None).
        """
        if not isinstance(name, str) or not name:
            raise MLCheckUsageError(f"name must be a non-empty string, got {name!r}.")
        figure, limit = _number("value", value), _number("threshold", threshold)
        recorder = current_recorder()
        if recorder is None:
            return
        verdict = "" if passed is None else (" (passed)" if passed else " (FAILED)")
        result = CheckResult(
            name,
            self._rung or "",
            passed=passed is not False,
            value=figure,
            threshold=limit,
            message=f"{name} = {value}"
            + ("" if threshold is None else f" (threshold {threshold})")
            + verdict,
        )
        recorder.add(result, enforced=passed is not None, user=True, informational=passed is None)


def _number(argument: str, raw: float | None) -> float | None:
    """``raw`` as a float (None stays None), or a usage error naming the argument."""
    if raw is None:
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise MLCheckUsageError(
            f"ml_audit.record: {argument} must be a number or None, got {raw!r}."
        ) from None


SEEDED_NOTE = "seeded"  # the running test's recorder note: the plugin seeded before it


def seed_libraries(config: pytest.Config, *, again: bool = False) -> int:
    """Seed ``random``, numpy, torch, the entry-point seeders and the ``pytest_mlchecks_seed``
    hook from the run's seed, once per test attempt (``again``: a new attempt's setup);
    returns the seed."""
    from pytest_mlchecks._seeding import seed_everything

    seed = current_settings().seed
    recorder = current_recorder()
    if recorder is not None and recorder.notes.get(SEEDED_NOTE) and not again:
        return seed  # this test's setup seeded already
    seed_everything(seed)
    config.hook.pytest_mlchecks_seed(seed=seed)
    if recorder is not None:
        recorder.notes[SEEDED_NOTE] = True
    return seed


@pytest.fixture(scope="session")
def ml_seed(request: pytest.FixtureRequest) -> int:
    """Seed ``random``, numpy and torch (if installed) from ``--ml-seed`` / ini ``ml_seed``.

    Then every seeder of the entry-point group ``pytest_mlchecks.seeders`` (installed
    packages seeding their library) and the ``pytest_mlchecks_seed(seed)`` hook (a
    conftest.py seeding one more library) run with the same seed.

    Session-scoped, so fixtures of any scope can use it; the plugin seeds again before each
    test that needs it (directly or through its fixtures), so every such test starts from
    the same state whatever ran before it.
    """
    return seed_libraries(request.config)


@pytest.fixture
def ml_audit(request: pytest.FixtureRequest) -> AuditRecorder:
    """Record your own figures in the audit: ``ml_audit.record(name, value, threshold=..)``."""
    return AuditRecorder(request.node.stash.get(RUNG_KEY, None))


@pytest.fixture
def ml_thresholds() -> EffectiveThresholds:
    """The effective thresholds of this session (ini > default), keyed by ini name."""
    return EffectiveThresholds()


@pytest.fixture
def ml_grad_tracker() -> Iterator[Callable[..., Any]]:
    """A factory of ``GradNormTracker``s; unchecked trackers are checked (and recorded in the
    audit, without failing the test) at teardown."""
    trackers: list[Any] = []

    def make(model: Any, **kwargs: Any) -> Any:
        from pytest_mlchecks.checks.model.training import GradNormTracker

        tracker = GradNormTracker(model, **kwargs)
        trackers.append(tracker)
        return tracker

    yield make
    for tracker in trackers:
        if not tracker.checked and tracker.steps:
            tracker.check()


def _helper_fixture(name: str) -> Callable[[], Any]:
    def fixture() -> Any:
        return getattr(importlib.import_module("pytest_mlchecks"), name)

    fixture.__name__ = name
    fixture.__doc__ = f"The ``{name}`` helper, without an import."
    return pytest.fixture(name=name)(fixture)


for _name in ASSERT_HELPERS:
    globals()[f"_fixture_{_name}"] = _helper_fixture(_name)
