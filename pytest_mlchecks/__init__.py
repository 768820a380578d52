"""pytest-mlchecks: a pytest plugin that turns a project's tests into its ML debugging ladder.

Every public name is importable from here; the modules behind them (and numpy, pandas,
scikit-learn, torch) load only when a name is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pytest_mlchecks._protocol import assertion
from pytest_mlchecks._registry import CHECKS, EXTRA_PUBLIC
from pytest_mlchecks._result import (
    RUNGS,
    CheckReport,
    CheckResult,
    MLCheckError,
    MLCheckException,
    MLCheckInternalError,
    MLCheckNoVerdictError,
    MLCheckUsageError,
    MLCheckWarning,
)

__version__ = "0.1.0.dev0"

_LAZY: dict[str, str] = {}
_ASSERTS: dict[str, str] = {}  # assert_x -> check_x
for _spec in CHECKS.values():
    if _spec.helpers:
        _LAZY[_spec.assert_name] = _spec.module
        _LAZY[_spec.check_name] = _spec.module
        _ASSERTS[_spec.assert_name] = _spec.check_name
_LAZY.update(EXTRA_PUBLIC)

__all__ = [
    "RUNGS",
    "CheckReport",
    "CheckResult",
    "MLCheckError",
    "MLCheckException",
    "MLCheckInternalError",
    "MLCheckNoVerdictError",
    "MLCheckUsageError",
    "MLCheckWarning",
    *sorted(_LAZY),
]

if TYPE_CHECKING:  # kept equal to the registry by tests/test_registry.py
    from pytest_mlchecks.checks.data.labels import (
        check_no_conflicting_labels as check_no_conflicting_labels,
    )
    from pytest_mlchecks.checks.data.leakage import check_no_duplicates as check_no_duplicates
    from pytest_mlchecks.checks.data.leakage import (
        check_no_entity_overlap as check_no_entity_overlap,
    )
    from pytest_mlchecks.checks.data.leakage import check_no_leakage as check_no_leakage
    from pytest_mlchecks.checks.data.leakage import check_no_row_overlap as check_no_row_overlap
    from pytest_mlchecks.checks.data.leakage import (
        check_no_target_leakage as check_no_target_leakage,
    )
    from pytest_mlchecks.checks.data.leakage import (
        check_no_temporal_leakage as check_no_temporal_leakage,
    )
    from pytest_mlchecks.checks.data.quality import check_aligned as check_aligned
    from pytest_mlchecks.checks.data.quality import check_class_balance as check_class_balance
    from pytest_mlchecks.checks.data.quality import check_finite as check_finite
    from pytest_mlchecks.checks.data.quality import (
        check_missingness_not_predictive as check_missingness_not_predictive,
    )
    from pytest_mlchecks.checks.data.quality import check_time_grid_valid as check_time_grid_valid
    from pytest_mlchecks.checks.evaluation.curves import check_calibrated as check_calibrated
    from pytest_mlchecks.checks.evaluation.curves import (
        check_learning_curve_healthy as check_learning_curve_healthy,
    )
    from pytest_mlchecks.checks.evaluation.decision import (
        check_decision_threshold_tuned as check_decision_threshold_tuned,
    )
    from pytest_mlchecks.checks.evaluation.generalisation import (
        check_no_overfitting as check_no_overfitting,
    )
    from pytest_mlchecks.checks.evaluation.generalisation import (
        check_not_suspiciously_good as check_not_suspiciously_good,
    )
    from pytest_mlchecks.checks.evaluation.generalisation import (
        check_stable_across_folds as check_stable_across_folds,
    )
    from pytest_mlchecks.checks.evaluation.groups import check_fair as check_fair
    from pytest_mlchecks.checks.evaluation.groups import (
        check_groups_represented as check_groups_represented,
    )
    from pytest_mlchecks.checks.evaluation.groups import (
        check_scores_equitable as check_scores_equitable,
    )
    from pytest_mlchecks.checks.evaluation.groups import (
        check_slices_perform as check_slices_perform,
    )
    from pytest_mlchecks.checks.evaluation.importance import (
        check_no_dominant_feature as check_no_dominant_feature,
    )
    from pytest_mlchecks.checks.evaluation.segments import (
        check_no_weak_segments as check_no_weak_segments,
    )
    from pytest_mlchecks.checks.model.baselines import (
        check_beats_baselines as check_beats_baselines,
    )
    from pytest_mlchecks.checks.model.baselines import check_beats_dummy as check_beats_dummy
    from pytest_mlchecks.checks.model.predictions import (
        check_predictions_not_collapsed as check_predictions_not_collapsed,
    )
    from pytest_mlchecks.checks.model.text import (
        check_attention_mask_respected as check_attention_mask_respected,
    )
    from pytest_mlchecks.checks.model.text import check_no_truncation as check_no_truncation
    from pytest_mlchecks.checks.model.training import GradNormTracker as GradNormTracker
    from pytest_mlchecks.checks.model.training import (
        check_can_overfit_batch as check_can_overfit_batch,
    )
    from pytest_mlchecks.checks.model.training import (
        check_eval_deterministic as check_eval_deterministic,
    )
    from pytest_mlchecks.checks.model.training import (
        check_grad_norm_healthy as check_grad_norm_healthy,
    )
    from pytest_mlchecks.checks.model.training import check_params_update as check_params_update
    from pytest_mlchecks.checks.pipeline.consistency import (
        check_fit_on_train_only as check_fit_on_train_only,
    )
    from pytest_mlchecks.checks.pipeline.consistency import (
        check_roundtrip_consistent as check_roundtrip_consistent,
    )
    from pytest_mlchecks.checks.pipeline.consistency import (
        check_same_features as check_same_features,
    )
    from pytest_mlchecks.checks.pipeline.robustness import (
        check_handles_missing as check_handles_missing,
    )
    from pytest_mlchecks.checks.pipeline.robustness import (
        check_handles_unseen_categories as check_handles_unseen_categories,
    )
    from pytest_mlchecks.checks.pipeline.robustness import (
        check_invariant_to_row_order as check_invariant_to_row_order,
    )
    from pytest_mlchecks.checks.production.contract import (
        check_schema_matches as check_schema_matches,
    )
    from pytest_mlchecks.checks.production.drift import (
        check_in_distribution as check_in_distribution,
    )
    from pytest_mlchecks.checks.production.drift import check_no_drift as check_no_drift
    from pytest_mlchecks.checks.production.performance import (
        check_no_concept_drift as check_no_concept_drift,
    )
    from pytest_mlchecks.checks.production.performance import (
        check_performance_holds as check_performance_holds,
    )
    from pytest_mlchecks.checks.production.serving import (
        check_environment_matches as check_environment_matches,
    )
    from pytest_mlchecks.checks.production.serving import (
        check_inference_budget as check_inference_budget,
    )
    from pytest_mlchecks.schema import ColumnSchema as ColumnSchema
    from pytest_mlchecks.schema import Schema as Schema
    from pytest_mlchecks.schema import infer_schema as infer_schema

    # an assert_ twin has its check_'s signature and return type (it raises on failure)
    assert_aligned = check_aligned
    assert_attention_mask_respected = check_attention_mask_respected
    assert_beats_baselines = check_beats_baselines
    assert_beats_dummy = check_beats_dummy
    assert_can_overfit_batch = check_can_overfit_batch
    assert_calibrated = check_calibrated
    assert_learning_curve_healthy = check_learning_curve_healthy
    assert_class_balance = check_class_balance
    assert_environment_matches = check_environment_matches
    assert_eval_deterministic = check_eval_deterministic
    assert_decision_threshold_tuned = check_decision_threshold_tuned
    assert_fair = check_fair
    assert_finite = check_finite
    assert_fit_on_train_only = check_fit_on_train_only
    assert_grad_norm_healthy = check_grad_norm_healthy
    assert_groups_represented = check_groups_represented
    assert_handles_missing = check_handles_missing
    assert_handles_unseen_categories = check_handles_unseen_categories
    assert_in_distribution = check_in_distribution
    assert_inference_budget = check_inference_budget
    assert_invariant_to_row_order = check_invariant_to_row_order
    assert_missingness_not_predictive = check_missingness_not_predictive
    assert_no_drift = check_no_drift
    assert_no_conflicting_labels = check_no_conflicting_labels
    assert_no_concept_drift = check_no_concept_drift
    assert_performance_holds = check_performance_holds
    assert_no_duplicates = check_no_duplicates
    assert_no_dominant_feature = check_no_dominant_feature
    assert_no_entity_overlap = check_no_entity_overlap
    assert_no_leakage = check_no_leakage
    assert_no_overfitting = check_no_overfitting
    assert_no_row_overlap = check_no_row_overlap
    assert_no_target_leakage = check_no_target_leakage
    assert_no_temporal_leakage = check_no_temporal_leakage
    assert_no_truncation = check_no_truncation
    assert_no_weak_segments = check_no_weak_segments
    assert_not_suspiciously_good = check_not_suspiciously_good
    assert_params_update = check_params_update
    assert_predictions_not_collapsed = check_predictions_not_collapsed
    assert_roundtrip_consistent = check_roundtrip_consistent
    assert_same_features = check_same_features
    assert_schema_matches = check_schema_matches
    assert_scores_equitable = check_scores_equitable
    assert_slices_perform = check_slices_perform
    assert_stable_across_folds = check_stable_across_folds
    assert_time_grid_valid = check_time_grid_valid


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_mlchecks' has no attribute {name!r}")
    if name in _ASSERTS:  # assert_x: built once from check_x (same arguments, raises)
        value = assertion(getattr(importlib.import_module(module), _ASSERTS[name]))
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
