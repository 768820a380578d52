"""Loading the plugin must not import heavy libraries; a whole session proves it end to end."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "sklearn", "torch", "hypothesis", "scipy", "matplotlib")


def test_plugin_import_pulls_in_no_heavy_library() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pytest_mlchecks.plugin"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = set(re.findall(r"\|\s+([\w.]+)\s*$", proc.stderr, flags=re.MULTILINE))
    top = {name.split(".")[0] for name in imported}
    assert "pytest_mlchecks" in top  # the measurement itself works
    assert not top & set(HEAVY), f"heavy imports at plugin load: {sorted(top & set(HEAVY))}"


def test_package_import_is_light_too() -> None:
    code = (
        "import sys, pytest_mlchecks as m; m.CheckResult; m.MLCheckError; "
        f"print(sorted(n for n in {HEAVY!r} if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


SPY = """
import json, sys

HEAVY = {heavy!r}

def pytest_unconfigure(config):
    # runs after the terminal summary and the reports
    with open("modules.json", "w") as fh:
        json.dump(sorted(n for n in HEAVY if n in sys.modules), fh)
"""


PLAIN_SUITE = """
import pytest

@pytest.mark.ml_data
def test_marked_but_no_checks(ml_thresholds, ml_audit):
    ml_audit.record("rows", 10)
    assert ml_thresholds["ml_finite_max_fraction"] == 0.0

def test_plain():
    assert True
"""


def _heavy_loaded(pytester: pytest.Pytester, *args: str) -> tuple[set[str], pytest.RunResult]:
    modules = pytester.path / "modules.json"
    if modules.exists():
        modules.unlink()
    # hypothesis's own pytest plugin imports hypothesis in its summary hook: leave it out so
    # that only our plugin is measured (the baseline run covers any other plugin).
    result = pytester.runpytest_subprocess("-p", "no:hypothesispytest", "-p", "spy_plugin", *args)
    assert modules.exists(), result.stdout.str()[-2000:]
    loaded: list[str] = json.loads(modules.read_text())
    return set(loaded), result


def test_whole_audit_session_without_ml_checks_stays_light(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(spy_plugin=SPY.format(heavy=HEAVY), test_plain=PLAIN_SUITE)
    pytester.syspathinsert()
    # Baseline: the same session without our plugin. Whatever other installed plugins import
    # (a plugin that imports numpy at start-up, say) is theirs, not ours.
    baseline, _ = _heavy_loaded(pytester, "-p", "no:mlchecks", "-k", "test_plain")
    ours, result = _heavy_loaded(
        pytester, "--ml-audit", "--ml-audit-json=r.json", "--ml-audit-md=r.md", "-rA"
    )
    assert result.ret == 0
    assert "ML audit ladder" in result.stdout.str()
    assert (pytester.path / "r.json").exists()
    assert not ours - baseline, f"heavy imports due to pytest-mlchecks: {sorted(ours - baseline)}"


NUMPY_PLUGIN = """
import numpy  # a third-party plugin that imports numpy at start-up

def pytest_configure(config):
    pass
"""


def test_laziness_check_is_robust_to_other_plugins_importing_numpy(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        spy_plugin=SPY.format(heavy=HEAVY), numpy_plugin=NUMPY_PLUGIN, test_plain=PLAIN_SUITE
    )
    pytester.syspathinsert()
    baseline, _ = _heavy_loaded(
        pytester, "-p", "numpy_plugin", "-p", "no:mlchecks", "-k", "test_plain"
    )
    ours, _ = _heavy_loaded(pytester, "-p", "numpy_plugin", "--ml-audit", "--ml-audit-json=r.json")
    assert "numpy" in baseline  # the other plugin's import is seen ...
    assert not ours - baseline  # ... and not blamed on ours
