"""The registry is the one identity of every check: these tests keep the code equal to it."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks._registry import CHECKS, EXTRA_PUBLIC, THRESHOLDS

from .conftest import needs_sklearn


def _declared(spec_name: str) -> object:
    spec = CHECKS[spec_name]
    module = __import__(spec.module, fromlist=["x"])
    if spec.helpers:
        return getattr(module, spec.check_name)
    return module._tracker_check


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_entry_resolves_to_its_declared_function(name: str) -> None:
    spec = CHECKS[name]
    func = _declared(name)
    # @check("<name>") stamped the entry on the function it declares
    assert getattr(func, "__mlcheck__", None) is spec
    for key in spec.thresholds:
        assert key in THRESHOLDS, (name, key)
    if spec.helpers:
        module = __import__(spec.module, fromlist=["x"])
        assert spec.check_name in module.__all__
        assert getattr(mlc, spec.check_name).__name__ == spec.check_name
        twin = getattr(mlc, spec.assert_name)
        assert twin.__name__ == spec.assert_name
        assert spec.summary in (twin.__doc__ or "")
        assert inspect.signature(twin) == inspect.signature(getattr(mlc, spec.check_name))


def test_every_threshold_belongs_to_a_check() -> None:
    used = {key for spec in CHECKS.values() for key in spec.thresholds}
    assert used == set(THRESHOLDS), sorted(set(THRESHOLDS) ^ used)


def test_type_checking_imports_equal_the_registry() -> None:
    """The static view of the package (TYPE_CHECKING imports) lists exactly the public checks:
    check_x as itself, assert_x as check_x (same signature and return type)."""
    tree = ast.parse(Path(mlc.__file__).read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    seen = {
        (stmt.module, alias.name, alias.asname)
        for stmt in block.body
        if isinstance(stmt, ast.ImportFrom)
        for alias in stmt.names
    }
    twins = {
        (stmt.targets[0].id, stmt.value.id)  # type: ignore[attr-defined]
        for stmt in block.body
        if isinstance(stmt, ast.Assign)
    }
    helpers = [spec for spec in CHECKS.values() if spec.helpers]
    expected = {(spec.module, spec.check_name, spec.check_name) for spec in helpers}
    expected |= {(module, name, name) for name, module in EXTRA_PUBLIC.items()}
    assert seen == expected, sorted(seen ^ expected)
    assert twins == {(spec.assert_name, spec.check_name) for spec in helpers}


def test_public_names_are_the_registry() -> None:
    helpers = [s for s in CHECKS.values() if s.helpers]
    names = {n for s in helpers for n in (s.assert_name, s.check_name)} | set(EXTRA_PUBLIC)
    assert names <= set(mlc.__all__)
    assert {n for n in mlc.__all__ if n.startswith(("assert_", "check_"))} == {
        n for s in helpers for n in (s.assert_name, s.check_name)
    }


def test_no_result_literals_in_check_modules() -> None:
    """A check names itself once, in @check("<name>"): no CheckResult("name", "rung", ...)."""
    root = Path(mlc.__file__).parent / "checks"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
                "CheckResult",
                "CheckReport",
            ):
                raise AssertionError(f"{path.name}:{node.lineno}: build results with result()")
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", "").startswith("assert_") for t in node.targets
            ):
                raise AssertionError(f"{path.name}:{node.lineno}: assert_ twins are generated")


@needs_sklearn
def test_results_carry_identity_and_threshold_provenance() -> None:
    import numpy as np

    X = np.zeros((20, 2))
    default = mlc.check_finite(X)
    assert (default.name, default.rung) == ("finite", "data")
    assert default.provenance == {"finite_max_fraction": {"value": 0.0, "source": "default"}}
    given = mlc.check_finite(X, max_fraction=0.25)
    assert given.provenance["finite_max_fraction"] == {"value": 0.25, "source": "argument"}
    assert given.to_dict()["thresholds"] == given.provenance
    # the umbrella stamps its own name; its parts keep theirs
    train = {"a": [1.0, 2.0, 3.0, 4.0]}
    import pandas as pd

    report = mlc.check_no_leakage(pd.DataFrame(train), pd.DataFrame({"a": [5.0, 6.0]}))
    assert (report.name, report.rung) == ("no_leakage", "data")
    assert [r.name for r in report] == ["no_row_overlap"]
