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
    assert len(outcomes) == 4 and set(outcomes.values()) == {"passed"}


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


def test_imbalance_example_warns_without_failing(audit: dict) -> None:
    assert _outcomes(audit, "imbalance_95_5") == {"test_label_balance": "passed"}
    warn = [c for c in audit["checks"] if c["nodeid"].startswith("imbalance_95_5/")]
    assert [(c["name"], c["passed"], c["severity"]) for c in warn] == [
        ("class_balance", False, "warning")
    ]


def test_audit_gate_fails_on_the_broken_examples(audit: dict) -> None:
    assert audit["gate"] == "fail"
    assert audit["failed_rungs_by_scope"] == {
        "misaligned_labels": "data",
        "nan_only_trees_tolerate": "data",
    }
