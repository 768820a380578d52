"""The README's main job: an audit of examples/ catches each intended failure, and only those."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="the examples use scikit-learn"
)


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("audit") / "audit.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--ml-audit", str(EXAMPLES), f"--ml-audit-json={out}"],
        capture_output=True,
        text=True,
        cwd=EXAMPLES.parent,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ML audit ladder" in proc.stdout
    return json.loads(out.read_text())


def _outcomes(audit: dict, example: str) -> dict[str, str]:
    return {
        t["nodeid"].split("::")[-1]: t["outcome"]
        for t in audit["tests"]
        if t["nodeid"].startswith(example + "/")
    }


def test_clean_example_passes_every_rung(audit: dict) -> None:
    outcomes = _outcomes(audit, "clean_tabular")
    assert len(outcomes) == 8 and set(outcomes.values()) == {"passed"}
    rungs = {t["rung"] for t in audit["tests"] if t["nodeid"].startswith("clean_tabular/")}
    assert rungs == {"data", "pipeline", "model", "evaluation", "production"}


def test_nan_example_fails_data_and_blocks_the_model(audit: dict) -> None:
    assert _outcomes(audit, "nan_only_trees_tolerate") == {
        "test_readings_are_finite": "failed",
        "test_tree_model_scores_well": "blocked",
    }


def test_misaligned_example_is_caught(audit: dict) -> None:
    assert _outcomes(audit, "misaligned_labels") == {
        "test_features_and_prices_line_up": "failed",
        "test_price_model_fits": "blocked",
    }


def test_imbalance_example_warns_then_fails_on_accuracy(audit: dict) -> None:
    assert _outcomes(audit, "imbalance_95_5") == {
        "test_label_balance": "passed",
        "test_fraud_model_beats_dummy_on_accuracy": "failed",
    }
    found = {
        (c["name"], c["passed"], c["severity"])
        for c in audit["checks"]
        if c["nodeid"].startswith("imbalance_95_5/")
    }
    assert found == {("class_balance", False, "warning"), ("beats_dummy", False, "error")}
    trap = next(
        c
        for c in audit["checks"]
        if c["name"] == "beats_dummy" and c["nodeid"].startswith("imbalance_95_5/")
    )
    assert "Accuracy misleads here" in trap["message"]


@pytest.mark.parametrize(
    ("example", "test", "check"),
    [
        ("salary_survey_leaks", "test_splits_do_not_leak", "no_row_overlap"),
        ("salary_survey_leaks", "test_splits_do_not_leak", "no_target_leakage"),
        ("scaler_before_split", "test_scaler_saw_only_training_rows", "fit_on_train_only"),
        ("vanishing_gradients", "test_sigmoid_net_gradients_are_healthy", "grad_norm_healthy"),
        ("serving_skew", "test_serving_features_match_training", "same_features"),
        ("drifted_batch", "test_batch_has_not_drifted", "no_drift"),
        ("drifted_batch", "test_batch_matches_the_training_schema", "schema_matches"),
    ],
)
def test_each_intended_failure_is_caught(audit: dict, example: str, test: str, check: str) -> None:
    assert _outcomes(audit, example)[test] == "failed"
    failing = [
        c["name"]
        for c in audit["checks"]
        if c["nodeid"].startswith(f"{example}/")
        and c["nodeid"].endswith(f"::{test}")
        and not c["passed"]
    ]
    assert check in failing


def test_audit_gate_fails_on_the_broken_examples(audit: dict) -> None:
    assert audit["gate"] == "fail"
    assert audit["failed_rungs_by_scope"] == {
        "drifted_batch": "production",
        "imbalance_95_5": "model",
        "misaligned_labels": "data",
        "nan_only_trees_tolerate": "data",
        "salary_survey_leaks": "data",
        "scaler_before_split": "pipeline",
        "serving_skew": "pipeline",
        "vanishing_gradients": "model",
    }
