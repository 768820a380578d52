"""The audit trail in the JSON report: environment versions, git commit and dirty state, the
seed, and a fingerprint (hash, shape, dtypes; never values) of every table and model a check
received (#16)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from .conftest import needs_sklearn, needs_xdist

SENTINEL = 987654.125  # a raw value that must never reach the report

SUITE = f"""
import numpy as np
import pandas as pd
from pytest_mlchecks import assert_finite, assert_aligned

def _frame():
    frame = pd.DataFrame({{"a": np.arange(50, dtype=float), "b": list("xy") * 25}})
    frame.loc[3, "a"] = {SENTINEL}
    return frame

def test_frame():
    assert_finite(_frame())

def test_arrays():
    X = np.full((40, 2), {SENTINEL})
    assert_aligned(X, np.zeros(40))
"""


def _report(pytester: pytest.Pytester, *args: str) -> tuple[dict[str, Any], str]:
    result = pytester.runpytest("--ml-audit-json=report.json", "--ml-seed=7", *args)
    assert result.ret == 0, result.stdout.str()
    text = (pytester.path / "report.json").read_text()
    return json.loads(text), text


def _git(path: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        cwd=path,
        check=True,
        capture_output=True,
    )


def test_report_records_environment_seed_and_input_fingerprints(pytester: pytest.Pytester) -> None:
    import pandas as pd

    pytester.makepyfile(test_trail=SUITE)
    report, text = _report(pytester)
    env = report["environment"]
    assert env["python"].count(".") == 2
    assert env["packages"]["pytest"] == pytest.__version__
    assert env["packages"]["numpy"] == np.__version__
    assert env["packages"]["pandas"] == pd.__version__
    assert set(env["packages"]) >= {"scikit-learn", "torch", "hypothesis", "pytest-mlchecks"}
    assert report["seed"] == 7
    assert report["git"] is None  # pytester's folder is no repository
    by_test = {c["nodeid"].split("::")[1]: c for c in report["checks"]}
    frame = by_test["test_frame"]["inputs"]["X"]
    assert frame["type"] == "DataFrame" and frame["shape"] == [50, 2]
    assert frame["dtypes"] == {"a": "float64", "b": "object"} or frame["dtypes"]["b"] in (
        "str",
        "string",
    )
    assert len(frame["hash"]) == 32
    arrays = by_test["test_arrays"]["inputs"]
    assert arrays["X"]["shape"] == [40, 2] and arrays["X"]["dtypes"] == "float64"
    assert arrays["y"]["shape"] == [40]
    assert str(SENTINEL) not in text and "987654" not in text  # no raw values


def test_same_data_same_fingerprint_other_data_another(pytester: pytest.Pytester) -> None:
    from pytest_mlchecks._audit_trail import fingerprint

    a = np.arange(12.0).reshape(6, 2)
    assert fingerprint(a) == fingerprint(a.copy())
    b = a.copy()
    b[5, 1] += 1
    assert fingerprint(a)["hash"] != fingerprint(b)["hash"]  # type: ignore[index]
    assert fingerprint(3.0) is None and fingerprint("x") is None and fingerprint(None) is None


def test_large_tables_are_hashed_on_a_sample() -> None:
    import pandas as pd

    from pytest_mlchecks._audit_trail import SAMPLE_ROWS, fingerprint

    frame = pd.DataFrame({"a": np.arange(SAMPLE_ROWS * 3, dtype=float)})
    print_ = fingerprint(frame)
    assert print_ is not None and print_.get("sampled") is True
    assert print_["shape"] == [SAMPLE_ROWS * 3, 1]
    assert "sampled" not in (fingerprint(frame.iloc[:100]) or {})


@needs_sklearn
def test_models_are_fingerprinted_by_their_fitted_state() -> None:
    from sklearn.linear_model import LogisticRegression

    from pytest_mlchecks._audit_trail import fingerprint

    X = np.random.default_rng(0).normal(size=(40, 2))
    one = LogisticRegression().fit(X, X[:, 0] > 0)
    other = LogisticRegression().fit(X, X[:, 1] > 0)
    assert fingerprint(one)["type"] == "LogisticRegression"  # type: ignore[index]
    assert fingerprint(one) != fingerprint(other)


def test_torch_modules_are_fingerprinted_by_their_parameters() -> None:
    torch = pytest.importorskip("torch")
    from pytest_mlchecks._audit_trail import fingerprint

    model = torch.nn.Linear(3, 2)
    first = fingerprint(model)
    assert first is not None and first["parameters"] == 8
    with torch.no_grad():
        model.bias.add_(1.0)
    assert fingerprint(model)["hash"] != first["hash"]  # type: ignore[index]
    tensor = fingerprint(torch.zeros(4, 3))
    assert tensor is not None and tensor["shape"] == [4, 3]


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_commit_and_dirty_state(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_trail=SUITE)
    _git(pytester.path, "init", "-q")
    _git(pytester.path, "add", "test_trail.py")
    _git(pytester.path, "commit", "-q", "-m", "suite")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=pytester.path, capture_output=True, text=True
    ).stdout.strip()
    report, _ = _report(pytester)
    assert report["git"] == {"commit": head, "dirty": False}
    (pytester.path / "test_trail.py").write_text(SUITE + "\n# changed\n")
    report, _ = _report(pytester)
    assert report["git"] == {"commit": head, "dirty": True}


@needs_xdist
def test_fingerprints_travel_from_xdist_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_trail=SUITE)
    serial, _ = _report(pytester)
    parallel, _ = _report(pytester, "-n", "2")
    inputs = sorted(json.dumps(c["inputs"], sort_keys=True) for c in serial["checks"])
    assert inputs == sorted(json.dumps(c["inputs"], sort_keys=True) for c in parallel["checks"])
    assert parallel["environment"] == serial["environment"]


def test_fingerprints_only_when_a_json_report_is_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing what a check received costs time on large tables: only the JSON report shows
    it, so without --ml-audit-json nothing is fingerprinted."""
    import pytest_mlchecks._audit_trail as trail

    # the inner runs replace it in this process: put the original back afterwards
    monkeypatch.setattr(trail, "fingerprints", trail.fingerprints)
    pytester.makeconftest(
        """
        import pytest_mlchecks._audit_trail as trail

        CALLS = []
        _original = trail.fingerprints

        def counting(arguments):
            CALLS.append(sorted(arguments))
            return _original(arguments)

        trail.fingerprints = counting

        def pytest_sessionfinish(session):
            print(f"fingerprint calls: {len(CALLS)}")
        """
    )
    pytester.makepyfile(test_trail=SUITE)
    plain = pytester.runpytest("--ml-audit", "-s")
    assert plain.ret == 0, plain.stdout.str()
    plain.stdout.fnmatch_lines(["*fingerprint calls: 0*"])
    with_json = pytester.runpytest("--ml-audit", "--ml-audit-json=report.json", "-s")
    assert with_json.ret == 0, with_json.stdout.str()
    with_json.stdout.fnmatch_lines(["*fingerprint calls: 2*"])
