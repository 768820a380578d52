"""Per-test and per-directory settings: ``@pytest.mark.ml_thresholds(key=value, ...)``.

The marker works on a test, a class or a module (``pytestmark``), and through ``pytestmark``
in a ``conftest.py`` for every test below that directory (pytest itself ignores
``pytestmark`` in conftest files, so it is read here). The closest setting wins: the test's
own marker, then its class, its module, then the nearest conftest.py up to the farthest.
Keys are the registry's threshold keys (``fair_min_di``; the ini name ``ml_fair_min_di`` is
accepted too); each value is validated against the threshold's domain at collection.
Precedence in a check: argument > marker > ini option > built-in default.

Standard library and pytest only.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pytest_mlchecks._protocol import validate_threshold
from pytest_mlchecks._registry import THRESHOLDS
from pytest_mlchecks._result import MLCheckUsageError

MARKER = "ml_thresholds"
#: the umbrella marker every test on a rung carries: ``-m ml`` selects them all
UMBRELLA = "ml"
THRESHOLDS_KEY = pytest.StashKey[dict[str, float]]()


def _marks_of(module: ModuleType) -> list[pytest.Mark]:
    """The ``ml_thresholds`` marks in a conftest module's ``pytestmark`` (one or a list)."""
    raw = getattr(module, "pytestmark", None)
    if raw is None:
        return []
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    marks: list[pytest.Mark] = []
    for entry in items:
        mark = getattr(entry, "mark", entry)  # a MarkDecorator or a Mark
        if isinstance(mark, pytest.Mark) and mark.name == MARKER:
            marks.append(mark)
    return marks


class ConftestMarks:
    """``ml_thresholds`` marks of the conftest.py modules pytest loaded, by directory."""

    def __init__(self, config: pytest.Config) -> None:
        self._by_dir: dict[Path, list[pytest.Mark]] = {}
        for plugin in config.pluginmanager.get_plugins():
            if not isinstance(plugin, ModuleType):
                continue
            path = getattr(plugin, "__file__", None)
            if not path or os.path.basename(path) != "conftest.py":
                continue
            marks = _marks_of(plugin)
            if marks:
                self._by_dir[Path(path).resolve().parent] = marks

    def for_path(self, path: Path) -> list[tuple[str, pytest.Mark]]:
        """(where, mark) of the conftest files above ``path``, nearest first."""
        if not self._by_dir:
            return []
        out: list[tuple[str, pytest.Mark]] = []
        for directory in Path(path).resolve().parents:
            for mark in self._by_dir.get(directory, []):
                out.append((str(directory / "conftest.py"), mark))
        return out


def _key(raw: str) -> str | None:
    short = raw[3:] if raw.startswith("ml_") else raw
    return short if short in THRESHOLDS else None


def _close_matches(raw: str) -> str:
    import difflib

    near = difflib.get_close_matches(raw, list(THRESHOLDS), n=3)
    return f" (did you mean {', '.join(near)}?)" if near else ""


def item_thresholds(item: pytest.Item, conftests: ConftestMarks) -> dict[str, float]:
    """The validated thresholds the item's markers set, closest first; a usage error names
    the marker's place, the key and what was expected."""
    marks: list[tuple[str, pytest.Mark]] = [
        (item.nodeid, mark) for mark in item.iter_markers(name=MARKER)
    ]
    marks += conftests.for_path(item.path)
    values: dict[str, float] = {}
    for where, mark in marks:
        if mark.args:
            raise pytest.UsageError(
                f"{where}: @pytest.mark.{MARKER} takes keyword arguments only (e.g. "
                f"{MARKER}(fair_min_di=0.7)), got positional {mark.args!r}"
            )
        for raw, value in mark.kwargs.items():
            key = _key(raw)
            if key is None:
                raise pytest.UsageError(
                    f"{where}: @pytest.mark.{MARKER}: unknown threshold {raw!r}"
                    f"{_close_matches(raw)}; the keys are the ini names without 'ml_' "
                    "(see the README's thresholds table)"
                )
            if key in values:
                continue  # a closer marker set it
            try:
                values[key] = validate_threshold(key, value, source="marker")
            except MLCheckUsageError as exc:
                raise pytest.UsageError(f"{where}: {exc}") from None
    return values


_CONFTESTS_KEY = pytest.StashKey[tuple[int, ConftestMarks]]()


def _conftests(config: pytest.Config) -> ConftestMarks:
    """The conftest marks, read again only when pytest registered more plugins (conftest
    files load as collection reaches their directories)."""
    count = len(config.pluginmanager.get_plugins())
    cached = config.stash.get(_CONFTESTS_KEY, None)
    if cached is None or cached[0] != count:
        cached = (count, ConftestMarks(config))
        config.stash[_CONFTESTS_KEY] = cached
    return cached[1]


def collected(result: object, collector: pytest.Collector) -> None:
    """Validate the ``ml_thresholds`` of the test items a collector just made and stash
    them for their recorders; a bad marker is a collection error of that file (serial and
    under xdist alike), naming the test or conftest.py, the key and what was expected."""
    made = result if isinstance(result, list) else [result]
    items = [item for item in made if isinstance(item, pytest.Item)]
    if not items:
        return
    conftests = _conftests(collector.config)
    for item in items:
        try:
            values = item_thresholds(item, conftests)
        except pytest.UsageError as exc:
            raise pytest.Collector.CollectError(str(exc)) from None
        if values:
            item.stash[THRESHOLDS_KEY] = values


def add_umbrella(items: list[pytest.Item], rung_of: Any) -> None:
    """Put the umbrella marker on every item that is on a rung (``rung_of(item)``)."""
    for item in items:
        if rung_of(item) is not None:
            item.add_marker(UMBRELLA)
