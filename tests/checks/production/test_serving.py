"""environment_matches and inference_budget (production rung, #16): real artefacts made in the
test (pickle, joblib, torch.save), both ways; timing with generous limits and injected sleeps."""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckError, MLCheckUsageError
from pytest_mlchecks._protocol import Recorder, Settings, recording

from ...conftest import needs_sklearn, needs_torch

OLD = "1.0.2"


def _pipeline() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, X[:, 0] > 0)


def _save(model: Any, path: Path, how: str, version: str | None = None) -> Path:
    """Save ``model`` as scikit-learn ``version`` would have (its recorded version patched)."""
    import joblib
    import sklearn.base

    real = sklearn.base.__version__
    if version is not None:
        sklearn.base.__version__ = version  # what BaseEstimator.__getstate__ records
    try:
        if how == "pickle":
            path.write_bytes(pickle.dumps(model))
        elif how == "joblib":
            joblib.dump(model, path)
        else:
            joblib.dump(model, path, compress=3)
    finally:
        sklearn.base.__version__ = real
    return path


# --------------------------------------------------------------------------- environment


@needs_sklearn
@pytest.mark.parametrize("how", ["pickle", "joblib", "joblib-compressed"])
def test_artefact_saved_under_the_serving_version_passes(tmp_path: Path, how: str) -> None:
    import sklearn

    path = _save(_pipeline(), tmp_path / f"model.{how}", how)
    outcome = mlc.assert_environment_matches(path)
    assert outcome.passed and outcome.value == 0
    (row,) = [r for r in outcome.details["packages"] if r["package"] == "scikit-learn"]
    assert row["recorded"] == row["serving"] == sklearn.__version__
    assert outcome.details["read"] == ("scan" if how == "pickle" else "load")


@needs_sklearn
@pytest.mark.parametrize("how", ["pickle", "joblib", "joblib-compressed"])
def test_artefact_saved_under_another_version_fails_naming_both(tmp_path: Path, how: str) -> None:
    import sklearn

    path = _save(_pipeline(), tmp_path / f"model.{how}", how, version=OLD)
    outcome = mlc.check_environment_matches(path)
    assert not outcome.passed and outcome.severity == "error" and outcome.value == 1
    assert "scikit-learn" in outcome.message
    assert OLD in outcome.message and sklearn.__version__ in outcome.message
    assert "Why it matters" in outcome.message and "How to fix" in outcome.message
    with pytest.raises(MLCheckError, match=r"scikit-learn: recorded 1\.0\.2"):
        mlc.assert_environment_matches(path)


@needs_sklearn
def test_the_scan_reads_nested_estimators_without_unpickling(tmp_path: Path) -> None:
    from pytest_mlchecks.checks.production.serving import scan_pickle

    pipe = _pipeline()
    data = _save(pipe, tmp_path / "m.pkl", "pickle", version=OLD).read_bytes()
    scan = scan_pickle(data)
    assert scan.complete and scan.sklearn_versions == {OLD: 3}  # Pipeline + 2 steps
    assert {"Pipeline", "StandardScaler", "LogisticRegression"} <= set(scan.sklearn_classes)
    # one step saved under another version than the rest: both versions found
    pipe.steps[0][1].__class__.__getstate__ = lambda self: dict(  # type: ignore[method-assign]
        self.__dict__, _sklearn_version="0.24.2"
    )
    try:
        mixed = scan_pickle(pickle.dumps(pipe))
    finally:
        del pipe.steps[0][1].__class__.__getstate__
    assert set(mixed.sklearn_versions) == {"0.24.2", mlc_sklearn_version()}
    outcome = mlc.check_environment_matches(tmp_path / "m.pkl", load=False)
    assert outcome.details["read"] == "scan" and not outcome.passed


def mlc_sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)


@needs_sklearn
def test_load_false_never_unpickles_a_joblib_file(tmp_path: Path) -> None:
    path = _save(_pipeline(), tmp_path / "m.joblib", "joblib-compressed", version=OLD)
    with pytest.raises(MLCheckUsageError, match="load=False"):
        mlc.check_environment_matches(path, load=False)


@needs_sklearn
def test_patch_difference_is_a_warning_and_level_decides(tmp_path: Path) -> None:
    import sklearn

    major, minor, *_ = sklearn.__version__.split(".")
    patch_only = f"{major}.{minor}.99"
    path = _save(_pipeline(), tmp_path / "m.pkl", "pickle", version=patch_only)
    outcome = mlc.check_environment_matches(path)
    assert not outcome.passed and outcome.severity == "warning"
    assert "below the minor level" in outcome.message
    exact = mlc.check_environment_matches(path, level="exact")
    assert not exact.passed and exact.severity == "error"
    other_minor = _save(_pipeline(), tmp_path / "o.pkl", "pickle", version=f"{major}.0.0")
    assert mlc.check_environment_matches(other_minor, level="major").severity == "warning"
    with pytest.raises(MLCheckUsageError, match="level"):
        mlc.check_environment_matches(path, level="patch")  # type: ignore[arg-type]


@needs_sklearn
def test_expected_mapping_and_lock_files(tmp_path: Path) -> None:
    import sklearn

    here = {"scikit-learn": sklearn.__version__, "numpy": np.__version__}
    assert mlc.check_environment_matches(_pipeline(), expected=here).passed
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        f"# pinned at training time\nnumpy=={np.__version__}\nscikit-learn[extra]==0.24.2 ; "
        'python_version > "3"\n-e .\n'
    )
    outcome = mlc.check_environment_matches(_pipeline(), expected=lock)
    assert not outcome.passed and "scikit-learn: recorded 0.24.2 (expected)" in outcome.message
    as_json = tmp_path / "versions.json"
    as_json.write_text(json.dumps({"packages": {"no-such-package-xyz": "1.0"}}))
    missing = mlc.check_environment_matches(_pipeline(), expected=as_json)
    assert not missing.passed and "no-such-package-xyz 1.0 (expected) is not installed" in (
        missing.message
    )


def test_usage_errors_name_the_argument(tmp_path: Path) -> None:
    with pytest.raises(MLCheckUsageError, match="does not record the versions"):
        mlc.check_environment_matches(lambda X: X)
    with pytest.raises(MLCheckUsageError, match="expected a fitted model"):
        mlc.check_environment_matches(np.zeros((3, 2)), expected={"numpy": np.__version__})
    with pytest.raises(MLCheckUsageError, match="is not a file"):
        mlc.check_environment_matches(tmp_path / "nothing.pkl")
    with pytest.raises(MLCheckUsageError, match="expected"):
        mlc.check_environment_matches(object(), expected={"numpy": 2})  # type: ignore[dict-item]
    with pytest.raises(MLCheckUsageError, match="expected"):
        mlc.check_environment_matches(object(), expected=42)  # type: ignore[arg-type]
    empty = tmp_path / "empty.txt"
    empty.write_text("numpy\n")
    with pytest.raises(MLCheckUsageError, match="name==version"):
        mlc.check_environment_matches(object(), expected=empty)
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(MLCheckUsageError, match="records no library version"):
        mlc.check_environment_matches(plain)
    with pytest.raises(MLCheckUsageError, match="model_or_path is None"):
        mlc.check_environment_matches(None)


@needs_torch
def test_torch_archives_record_no_torch_version(tmp_path: Path) -> None:
    import torch

    model = torch.nn.Linear(3, 2)
    for what in (model, model.state_dict()):
        path = tmp_path / "m.pt"
        torch.save(what, path)
        with pytest.raises(MLCheckUsageError, match="not the torch version"):
            mlc.check_environment_matches(path)
        same = mlc.check_environment_matches(path, expected={"torch": torch.__version__})
        assert same.passed and same.details["torch_format_version"]
        old = mlc.check_environment_matches(path, expected={"torch": "1.13.1"})
        assert not old.passed and "torch: recorded 1.13.1 (expected)" in old.message


def test_a_package_the_pickle_imports_must_be_installed(tmp_path: Path) -> None:
    path = tmp_path / "foreign.pkl"
    path.write_bytes(b"\x80\x02cnosuchpkg_xyz.models\nThing\nq\x00)\x81q\x01.")
    outcome = mlc.check_environment_matches(path, load=False)
    assert not outcome.passed and outcome.details["needs"] == ["nosuchpkg_xyz"]
    assert "nosuchpkg_xyz needed (modules the artefact imports) is not installed" in (
        outcome.message
    )


def test_version_comparison_rule() -> None:
    from pytest_mlchecks.checks.production.serving import compare_versions

    assert compare_versions("1.5.2", "1.5.2", "exact") == "match"
    assert compare_versions("1.5.1", "1.5.2", "minor") == "differs"
    assert compare_versions("1.5.1", "1.5.2", "exact") == "mismatch"
    assert compare_versions("1.4.2", "1.5.2", "minor") == "mismatch"
    assert compare_versions("1.4.2", "1.5.2", "major") == "differs"
    assert compare_versions("2", "2.4.6", "minor") == "match"  # numpy's major, read from modules
    assert compare_versions("2", "1.26.4", "minor") == "mismatch"
    assert compare_versions("2.13.0+cpu", "2.13.0", "minor") == "match"  # same release


# --------------------------------------------------------------------------- inference


class _Sleepy:
    """A model whose predict sleeps: latency set by the test, independent of the CPU load."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, X: Any) -> np.ndarray:
        time.sleep(self.seconds)
        return np.zeros(len(X))


class _Thrice:
    """The wrapped model's predict, three times per call: a real 3x slowdown."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, X: Any) -> Any:
        for _ in range(2):
            self.model.predict(X)
        return self.model.predict(X)


X_SMALL = np.random.default_rng(0).normal(size=(50, 3))


@needs_sklearn
def test_fast_model_within_a_generous_budget_passes() -> None:
    outcome = mlc.assert_inference_budget(
        _pipeline(), X_SMALL, p95_ms=5000, max_peak_mb=500, time_budget_s=0.05
    )
    d = outcome.details
    assert outcome.passed and d["method"] == "predict" and d["rows"] == 50
    assert d["warmup_calls"] == 3 and d["calls"] >= 20
    assert d["p50_ms"] <= d["p95_ms"] <= d["p99_ms"] and d["rows_per_s"] > 0
    assert d["memory_method"] == "tracemalloc" and d["peak_mb"] is not None
    assert outcome.value == d["p95_ms"] and outcome.threshold == 5000


def test_slow_model_over_its_p95_limit_fails() -> None:
    outcome = mlc.check_inference_budget(_Sleepy(0.004), X_SMALL, p95_ms=1, time_budget_s=0.01)
    assert not outcome.passed and outcome.details["findings"] == ["latency"]
    assert "p95 latency" in outcome.message and "over the limit 1 ms" in outcome.message
    assert outcome.details["attempts"] == 3  # re-timed before failing
    with pytest.raises(MLCheckError, match="inference_budget"):
        mlc.assert_inference_budget(_Sleepy(0.004), X_SMALL, p95_ms=1, time_budget_s=0.01)


def test_the_same_model_passes_against_its_own_baseline() -> None:
    base = mlc.check_inference_budget(_Sleepy(0.005), X_SMALL, p95_ms=1e6, time_budget_s=0.01)
    # generous here (the default tolerance's false-alarm rate is calibrated, not unit-tested)
    same = mlc.check_inference_budget(
        _Sleepy(0.005), X_SMALL, baseline=base, tolerance=9, time_budget_s=0.01
    )
    assert same.passed, same.message
    assert same.details["baseline_p50_ms"] == base.details["p50_ms"]


def test_a_3x_slowdown_against_a_recorded_baseline_fails() -> None:
    # a baseline recorded for a 5 ms model; three 5 ms sleeps can never take less than 15 ms
    base = {"rows": 50, "p50_ms": 5.0, "p95_ms": 6.0, "p99_ms": 7.0, "peak_mb": 0.01}
    thrice = _Thrice(_Sleepy(0.005))
    slow = mlc.check_inference_budget(thrice, X_SMALL, baseline=base, time_budget_s=0.01)
    assert not slow.passed and slow.details["findings"] == ["slower_than_baseline"]
    assert "median latency" in slow.message and "Baseline: p50 5 ms" in slow.message
    assert slow.threshold == pytest.approx(10.0) and slow.value >= 15.0
    assert slow.details["attempts"] == 3


def test_baseline_from_details_or_json(tmp_path: Path) -> None:
    base = mlc.check_inference_budget(_Sleepy(0.001), X_SMALL, p95_ms=1e6, time_budget_s=0.01)
    path = tmp_path / "latency.json"
    path.write_text(json.dumps(base.to_dict()))
    for given in (base.details, str(path), path):
        again = mlc.check_inference_budget(
            _Sleepy(0.001), X_SMALL, baseline=given, tolerance=100, time_budget_s=0.01
        )
        assert again.passed and again.details["baseline_p95_ms"] == base.details["p95_ms"]
    with pytest.raises(MLCheckUsageError, match="rows per call"):
        mlc.check_inference_budget(_Sleepy(0.001), X_SMALL[:10], baseline=base)
    with pytest.raises(MLCheckUsageError, match="p95_ms figure"):
        mlc.check_inference_budget(_Sleepy(0.001), X_SMALL, baseline={"x": 1})
    with pytest.raises(MLCheckUsageError, match="not a file"):
        mlc.check_inference_budget(_Sleepy(0.001), X_SMALL, baseline=tmp_path / "none.json")


def test_memory_over_its_limit_fails() -> None:
    class Hungry:
        def predict(self, X: Any) -> np.ndarray:
            block = np.ones((1024, 1024, 4))  # 32 MiB, traced by numpy's allocator hooks
            return block[: len(X), 0, 0]

    outcome = mlc.check_inference_budget(Hungry(), X_SMALL, max_peak_mb=8, time_budget_s=0.01)
    assert not outcome.passed and outcome.details["findings"] == ["memory"]
    assert outcome.details["peak_mb"] >= 30
    assert "peak memory" in outcome.message


def test_without_a_limit_it_names_what_to_pass_and_ini_sets_one() -> None:
    with pytest.raises(MLCheckUsageError, match=r"p95_ms=.*max_peak_mb=.*baseline="):
        mlc.check_inference_budget(_Sleepy(0), X_SMALL)
    with recording(Recorder("ini", Settings(ini={"inference_p95_ms": 1e6}))):
        outcome = mlc.check_inference_budget(_Sleepy(0), X_SMALL, time_budget_s=0.01)
    assert outcome.passed and outcome.threshold == 1e6
    assert outcome.provenance["inference_p95_ms"]["source"] == "ini"
    with pytest.raises(MLCheckUsageError, match="p95_ms"):
        mlc.check_inference_budget(_Sleepy(0), X_SMALL, p95_ms=-1)
    with pytest.raises(MLCheckUsageError, match="time_budget_s"):
        mlc.check_inference_budget(_Sleepy(0), X_SMALL, p95_ms=1, time_budget_s=0)
    with pytest.raises(MLCheckUsageError, match="has no"):
        mlc.check_inference_budget(object(), X_SMALL, p95_ms=1)


@needs_torch
def test_torch_module_is_timed_in_eval_mode_and_its_mode_restored() -> None:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.5))
    model.train()
    seen: list[bool] = []
    model.register_forward_hook(lambda m, i, o: seen.append(m.training))
    batch = torch.rand(16, 3)
    outcome = mlc.check_inference_budget(model, batch, p95_ms=5000, time_budget_s=0.01)
    assert outcome.passed and model.training and not any(seen)
    assert outcome.details["rows"] == 16 and outcome.details["method"].startswith("forward")
    assert outcome.details["memory_method"] in ("rss", "not measured")


@needs_sklearn
def test_inputs_not_mutated_and_chart_renders() -> None:
    from pytest_mlchecks._charts import chart_for

    X = X_SMALL.copy()
    outcome = mlc.check_inference_budget(_pipeline(), X, p95_ms=5000, time_budget_s=0.01)
    assert np.array_equal(X, X_SMALL)
    build = chart_for("inference_budget")
    assert build is not None
    (drawn,) = build(outcome.to_dict()["details"])
    assert list(drawn.labels) == ["p50", "p95", "p99"]
    assert [(m.name, m.value) for m in drawn.marks] == [("p95 limit", 5000)]
    assert "<svg" in drawn.svg() and build({}) == []
