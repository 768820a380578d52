"""Hooks pytest-mlchecks adds to pytest: implement them in a ``conftest.py`` or a plugin.

``pytest_mlchecks_update_json`` shapes the JSON audit report before it is written (like
pytest-benchmark's ``pytest_benchmark_update_json``); ``pytest_mlchecks_seed`` seeds one more
library whenever the ``ml_seed`` fixture seeds ``random``, numpy and torch. Installed packages
can seed their library through the ``pytest_mlchecks.seeders`` entry-point group instead (see
``pytest_mlchecks._seeding``). The plugin registers this module in ``pytest_addhooks``.
Standard library and pytest only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_mlchecks._records import AuditReport


@pytest.hookspec
def pytest_mlchecks_update_json(config: pytest.Config, report: AuditReport) -> None:
    """Add or alter keys of the JSON audit report (``--ml-audit-json``) before it is written.

    ``report`` is a copy of the audit summary (``AuditReport``): change it in place, e.g.
    ``report["ci"] = {"build": os.environ["BUILD_ID"]}``. Only the JSON file sees the changes;
    the terminal summary, the Markdown and HTML reports and the exit code keep the plugin's
    own summary. Called once per run, on the xdist controller (never on a worker), and only
    when a JSON report is written. Keys you add must be JSON-serialisable.
    """


@pytest.hookspec
def pytest_mlchecks_seed(seed: int) -> None:
    """Seed another library from the run's seed (``--ml-seed`` / ini ``ml_seed``).

    Called by the ``ml_seed`` fixture after the built-in and entry-point seeders, e.g.
    ``def pytest_mlchecks_seed(seed): tf.random.set_seed(seed)`` in a conftest.py.
    """
