"""One table of every check: its rung, its thresholds (defaults, ini names, sources).

The plugin (ini options, rung inference, fixtures) and the reports read this table; the check
modules read their defaults from it. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._result import RUNGS


@dataclass(frozen=True)
class ThresholdSpec:
    """A tunable limit: argument > ini option ``ml_<key>`` > ``default``."""

    key: str
    default: float
    help: str
    source: str

    @property
    def ini(self) -> str:
        return f"ml_{self.key}"


@dataclass(frozen=True)
class CheckSpec:
    """A check known to the plugin: ``assert_<name>`` / ``check_<name>`` in ``module``."""

    name: str
    rung: str
    module: str
    summary: str
    thresholds: tuple[str, ...] = ()

    @property
    def assert_name(self) -> str:
        return f"assert_{self.name}"

    @property
    def check_name(self) -> str:
        return f"check_{self.name}"


THRESHOLDS: dict[str, ThresholdSpec] = {
    spec.key: spec
    for spec in (
        ThresholdSpec(
            "finite_max_fraction",
            0.0,
            "largest tolerated fraction of non-finite cells in numeric columns",
            "zero tolerance: one NaN is enough to turn a loss or a mean into NaN",
        ),
        ThresholdSpec(
            "class_balance_min_fraction",
            0.1,
            "smallest class share below which class_balance warns",
            "10%: the common cut-off for 'imbalanced' (e.g. imbalanced-learn's examples, "
            "He & Garcia 2009 treat 1:10 as moderate imbalance)",
        ),
    )
}

_DATA = "pytest_mlchecks.checks.data"

CHECKS: dict[str, CheckSpec] = {
    spec.name: spec
    for spec in (
        CheckSpec(
            "finite",
            "data",
            _DATA,
            "NaN/Inf in numeric columns, counted per column",
            ("finite_max_fraction",),
        ),
        CheckSpec("aligned", "data", _DATA, "X and y have the same length and index"),
        CheckSpec(
            "class_balance",
            "data",
            _DATA,
            "rare classes (warning) and the metric to use",
            ("class_balance_min_fraction",),
        ),
    )
}

# Every public helper name -> the check it belongs to (for rung inference and fixtures).
HELPER_TO_CHECK: dict[str, str] = {}
for _spec in CHECKS.values():
    HELPER_TO_CHECK[_spec.assert_name] = _spec.name
    HELPER_TO_CHECK[_spec.check_name] = _spec.name

ASSERT_HELPERS: tuple[str, ...] = tuple(spec.assert_name for spec in CHECKS.values())


def rung_index(rung: str | None) -> int:
    """Position of ``rung`` on the ladder (``-1`` for tests that are on no rung)."""
    if rung is None:
        return -1
    return RUNGS.index(rung)


def lowest_rung(rungs: list[str]) -> str | None:
    known = [r for r in rungs if r in RUNGS]
    if not known:
        return None
    return min(known, key=RUNGS.index)
