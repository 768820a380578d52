"""The extension points: the hooks of ``pytest_mlchecks.hookspec`` and the seeders' entry points.

Each case runs in a real pytest session (pytester), serially and under ``-n 2`` where the
hook's place (controller or worker) matters.
"""

from __future__ import annotations

import textwrap

import pytest

from pytest_mlchecks._seeding import BUILTIN, GROUP, seeders

from .test_gate import MODES, _json, _run

# the same two ways as the gate tests: serial and under -n 2


SUITE = """
import pytest
from pytest_mlchecks import check_finite

@pytest.mark.ml_data
def test_one():
    check_finite([1.0, 2.0])

@pytest.mark.ml_model
def test_two(): pass
"""

UPDATE_JSON = """
import os

def pytest_mlchecks_update_json(config, report):
    with open(config.rootpath / "calls.txt", "a") as fh:
        fh.write(("worker" if hasattr(config, "workerinput") else "controller") + "\\n")
    report["ci"] = {"build": "42"}
    report["run"]["note"] = "from the conftest"
    for check in report["checks"]:
        check["details"]["owner"] = "data team"
    report["seed"] = "altered"
"""


@pytest.mark.parametrize("mode", MODES)
def test_update_json_shapes_the_json_report_on_the_controller(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(test_s=SUITE)
    pytester.makeconftest(UPDATE_JSON)
    result = _run(pytester, mode, "--ml-audit", "--ml-audit-json=r.json", "--ml-audit-md=r.md")
    assert result.ret == pytest.ExitCode.OK
    # called once, by the process that writes the report (never by an xdist worker)
    assert (pytester.path / "calls.txt").read_text().split() == ["controller"]
    report = _json(pytester)
    assert report["ci"] == {"build": "42"} and report["run"]["note"] == "from the conftest"
    assert report["checks"][0]["details"]["owner"] == "data team"
    assert report["seed"] == "altered" and report["gate"] == "pass"
    # the other reports and the terminal summary keep the plugin's own summary
    assert "Seed `0`" in (pytester.path / "r.md").read_text()
    assert "owner" not in (pytester.path / "r.md").read_text()
    result.stdout.fnmatch_lines(["gate: PASS"])


def test_update_json_is_not_called_without_a_json_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_s=SUITE)
    pytester.makeconftest(UPDATE_JSON)
    result = pytester.runpytest("--ml-audit", "--ml-audit-md=r.md")
    assert result.ret == pytest.ExitCode.OK
    assert not (pytester.path / "calls.txt").exists()


def test_a_failing_update_json_hook_is_reported_and_the_other_reports_written(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_s=SUITE)
    pytester.makeconftest(
        """
        def pytest_mlchecks_update_json(config, report):
            report["when"] = object()  # not JSON
        """
    )
    result = pytester.runpytest("--ml-audit", "--ml-audit-json=r.json", "--ml-audit-md=r.md")
    assert result.ret == pytest.ExitCode.OK  # the gate passed; the missing file says the rest
    assert not (pytester.path / "r.json").exists()
    assert (pytester.path / "r.md").exists()
    result.stdout.fnmatch_lines(
        ["mlchecks: *r.json not written: pytest_mlchecks_update_json failed or left data*"]
    )


SEEDED = """
import random

def test_seeded(ml_seed):
    assert ml_seed == 7
    assert random.random() == random.Random(7).random()
"""

SEED_HOOK = """
def pytest_mlchecks_seed(seed):
    with open("seeds.txt", "a") as fh:
        fh.write(f"{seed}\\n")
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_conftest_seeds_its_own_library_through_the_hook(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(test_seed=SEEDED)
    pytester.makeconftest(SEED_HOOK)
    result = _run(pytester, mode, "--ml-seed=7")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "seeds.txt").read_text().split() == ["7"]


def test_the_built_in_seeders_are_entry_points_of_the_group() -> None:
    assert [point.group for point in BUILTIN] == [GROUP] * 3
    names = [name for name, _ in seeders()]
    assert names[:3] == ["random", "numpy", "torch"]


def _install_fake_seeders(pytester: pytest.Pytester, entry_points: str) -> None:
    """A distribution on sys.path (the subprocess's working directory) with seeders."""
    info = pytester.path / "fake_seeders-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-seeders\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    pytester.makepyfile(
        fake_seeders="""
        import os

        def seed_lib(seed):
            os.environ["FAKE_LIB_SEED"] = str(seed)

        def seed_random(seed):  # replaces the built-in 'random' seeder
            os.environ["FAKE_RANDOM_SEED"] = str(seed)

        def broken(seed):
            raise RuntimeError("no device")

        NOT_CALLABLE = 3
        """
    )


def test_an_installed_package_seeds_its_library_through_the_entry_point(
    pytester: pytest.Pytester,
) -> None:
    _install_fake_seeders(
        pytester,
        f"""
        [{GROUP}]
        lib = fake_seeders:seed_lib
        random = fake_seeders:seed_random
        """,
    )
    pytester.makepyfile(
        test_ep="""
        import os
        import random

        def test_unseeded():
            assert "FAKE_LIB_SEED" not in os.environ  # nothing runs without ml_seed

        def test_seeded(ml_seed):
            assert os.environ["FAKE_LIB_SEED"] == "5" == os.environ["FAKE_RANDOM_SEED"]
            # the package's 'random' seeder took the built-in one's place
            assert random.random() != random.Random(5).random()
        """
    )
    result = pytester.runpytest_subprocess("--ml-seed=5", "-p", "no:randomly", "-p", "no:xdist")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("fake_seeders:broken", "*seeder 'bad' failed with seed 0: RuntimeError: no device*"),
        ("fake_seeders:NOT_CALLABLE", "*seeder 'bad' (fake_seeders:NOT_CALLABLE, * is int*"),
        ("no_such_module:seed", "*seeder 'bad' * cannot be loaded: ModuleNotFoundError*"),
    ],
)
def test_a_broken_seeder_is_an_error_naming_it(
    pytester: pytest.Pytester, target: str, expected: str
) -> None:
    _install_fake_seeders(pytester, f"[{GROUP}]\nbad = {target}\n")
    pytester.makepyfile(test_ep="def test_seeded(ml_seed): pass\n")
    result = pytester.runpytest_subprocess("-p", "no:xdist")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([expected])
