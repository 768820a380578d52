"""Seeders: what the ``ml_seed`` fixture calls to seed each library from the run's seed.

A seeder is a callable ``seed(seed: int) -> None``. They come from the entry-point group
``pytest_mlchecks.seeders``, so a package can seed its own library::

    # the package's pyproject.toml
    [project.entry-points."pytest_mlchecks.seeders"]
    jax = "my_package.testing:seed_jax"

The built-in ones (``random``, ``numpy``, ``torch``; each does nothing when its library is
not installed) are entry points of that group too, declared here in code so that they work
however pytest-mlchecks was installed; an installed entry point with the same name replaces
a built-in one. A conftest.py can use the ``pytest_mlchecks_seed`` hook instead
(``pytest_mlchecks.hookspec``). Nothing is imported or looked up until a test first asks
for ``ml_seed``. Standard library only.
"""

from __future__ import annotations

import functools
import importlib.util
import random
import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from pytest_mlchecks._result import MLCheckUsageError

GROUP = "pytest_mlchecks.seeders"
Seeder = Callable[[int], None]

BUILTIN: tuple[EntryPoint, ...] = tuple(
    EntryPoint(name=name, value=f"pytest_mlchecks._seeding:seed_{name}", group=GROUP)
    for name in ("random", "numpy", "torch")
)


def seed_random(seed: int) -> None:
    random.seed(seed)


def seed_numpy(seed: int) -> None:
    """numpy's global RandomState (seeds above 2**32 - 1 wrap)."""
    if importlib.util.find_spec("numpy") is None:
        return
    import numpy as np

    np.random.seed(seed % (2**32))


def seed_torch(seed: int) -> None:
    """torch's default generators (every device), when torch is installed."""
    if "torch" not in sys.modules and importlib.util.find_spec("torch") is None:
        return
    import torch

    torch.manual_seed(seed)


@functools.cache
def seeders() -> tuple[tuple[str, Seeder], ...]:
    """Every seeder, once per process: the built-in ones, then the installed entry points
    (sorted by name; one with a built-in's name takes its place)."""
    chosen: dict[str, EntryPoint] = {point.name: point for point in BUILTIN}
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        chosen[point.name] = point
    return tuple((name, _load(point)) for name, point in chosen.items())


def _where(point: EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    owner = f" of {dist.name}" if dist is not None else ""
    return f"seeder {point.name!r} ({point.value}, entry point group {GROUP}{owner})"


def _load(point: EntryPoint) -> Seeder:
    try:
        loaded = point.load()
    except Exception as exc:
        raise MLCheckUsageError(
            f"{_where(point)} cannot be loaded: {type(exc).__name__}: {exc}"
        ) from exc
    if not callable(loaded):
        raise MLCheckUsageError(
            f"{_where(point)} is {type(loaded).__name__}, expected a callable seed(seed: int)"
        )
    seeder: Seeder = loaded
    return seeder


def seed_everything(seed: int) -> list[str]:
    """Call every seeder with ``seed``; returns their names, in the order called."""
    names = []
    for name, seeder in seeders():
        try:
            seeder(seed)
        except Exception as exc:
            raise MLCheckUsageError(
                f"seeder {name!r} failed with seed {seed}: {type(exc).__name__}: {exc}"
            ) from exc
        names.append(name)
    return names
