"""pytest-mlchecks: a pytest plugin that turns a project's tests into its ML debugging ladder.

Every public name is importable from here; the modules behind them (and numpy, pandas,
scikit-learn, torch) load only when a name is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._registry import CHECKS, EXTRA_PUBLIC
from ._result import (
    RUNGS,
    CheckReport,
    CheckResult,
    MLCheckError,
    MLCheckInternalError,
    MLCheckUsageError,
    MLCheckWarning,
)

__version__ = "0.1.0.dev0"

_LAZY: dict[str, str] = {}
for _spec in CHECKS.values():
    _LAZY[_spec.assert_name] = _spec.module
    _LAZY[_spec.check_name] = _spec.module
_LAZY.update(EXTRA_PUBLIC)

__all__ = [
    "RUNGS",
    "CheckReport",
    "CheckResult",
    "MLCheckError",
    "MLCheckInternalError",
    "MLCheckUsageError",
    "MLCheckWarning",
    *sorted(_LAZY),
]

if TYPE_CHECKING:
    from .checks.data import (
        assert_aligned as assert_aligned,
    )
    from .checks.data import (
        assert_class_balance as assert_class_balance,
    )
    from .checks.data import (
        assert_finite as assert_finite,
    )
    from .checks.data import (
        assert_missingness_not_predictive as assert_missingness_not_predictive,
    )
    from .checks.data import (
        assert_time_grid_valid as assert_time_grid_valid,
    )
    from .checks.data import (
        check_aligned as check_aligned,
    )
    from .checks.data import (
        check_class_balance as check_class_balance,
    )
    from .checks.data import (
        check_finite as check_finite,
    )
    from .checks.data import (
        check_missingness_not_predictive as check_missingness_not_predictive,
    )
    from .checks.data import (
        check_time_grid_valid as check_time_grid_valid,
    )
    from .checks.deep import GradNormTracker as GradNormTracker
    from .checks.deep import (
        assert_can_overfit_batch as assert_can_overfit_batch,
    )
    from .checks.deep import (
        assert_eval_deterministic as assert_eval_deterministic,
    )
    from .checks.deep import (
        assert_grad_norm_healthy as assert_grad_norm_healthy,
    )
    from .checks.deep import (
        assert_params_update as assert_params_update,
    )
    from .checks.deep import (
        check_can_overfit_batch as check_can_overfit_batch,
    )
    from .checks.deep import (
        check_eval_deterministic as check_eval_deterministic,
    )
    from .checks.deep import (
        check_grad_norm_healthy as check_grad_norm_healthy,
    )
    from .checks.deep import (
        check_params_update as check_params_update,
    )
    from .checks.evaluation import (
        assert_fair as assert_fair,
    )
    from .checks.evaluation import (
        assert_no_overfitting as assert_no_overfitting,
    )
    from .checks.evaluation import (
        assert_not_suspiciously_good as assert_not_suspiciously_good,
    )
    from .checks.evaluation import (
        assert_slices_perform as assert_slices_perform,
    )
    from .checks.evaluation import (
        assert_stable_across_folds as assert_stable_across_folds,
    )
    from .checks.evaluation import (
        check_fair as check_fair,
    )
    from .checks.evaluation import (
        check_no_overfitting as check_no_overfitting,
    )
    from .checks.evaluation import (
        check_not_suspiciously_good as check_not_suspiciously_good,
    )
    from .checks.evaluation import (
        check_slices_perform as check_slices_perform,
    )
    from .checks.evaluation import (
        check_stable_across_folds as check_stable_across_folds,
    )
    from .checks.leakage import (
        assert_no_duplicates as assert_no_duplicates,
    )
    from .checks.leakage import (
        assert_no_entity_overlap as assert_no_entity_overlap,
    )
    from .checks.leakage import (
        assert_no_leakage as assert_no_leakage,
    )
    from .checks.leakage import (
        assert_no_row_overlap as assert_no_row_overlap,
    )
    from .checks.leakage import (
        assert_no_target_leakage as assert_no_target_leakage,
    )
    from .checks.leakage import (
        assert_no_temporal_leakage as assert_no_temporal_leakage,
    )
    from .checks.leakage import (
        check_no_duplicates as check_no_duplicates,
    )
    from .checks.leakage import (
        check_no_entity_overlap as check_no_entity_overlap,
    )
    from .checks.leakage import (
        check_no_leakage as check_no_leakage,
    )
    from .checks.leakage import (
        check_no_row_overlap as check_no_row_overlap,
    )
    from .checks.leakage import (
        check_no_target_leakage as check_no_target_leakage,
    )
    from .checks.leakage import (
        check_no_temporal_leakage as check_no_temporal_leakage,
    )
    from .checks.model import (
        assert_beats_baselines as assert_beats_baselines,
    )
    from .checks.model import (
        assert_beats_dummy as assert_beats_dummy,
    )
    from .checks.model import (
        check_beats_baselines as check_beats_baselines,
    )
    from .checks.model import (
        check_beats_dummy as check_beats_dummy,
    )
    from .checks.nlp import (
        assert_attention_mask_respected as assert_attention_mask_respected,
    )
    from .checks.nlp import (
        assert_no_truncation as assert_no_truncation,
    )
    from .checks.nlp import (
        check_attention_mask_respected as check_attention_mask_respected,
    )
    from .checks.nlp import (
        check_no_truncation as check_no_truncation,
    )
    from .checks.pipeline import (
        assert_fit_on_train_only as assert_fit_on_train_only,
    )
    from .checks.pipeline import (
        assert_roundtrip_consistent as assert_roundtrip_consistent,
    )
    from .checks.pipeline import (
        assert_same_features as assert_same_features,
    )
    from .checks.pipeline import (
        check_fit_on_train_only as check_fit_on_train_only,
    )
    from .checks.pipeline import (
        check_roundtrip_consistent as check_roundtrip_consistent,
    )
    from .checks.pipeline import (
        check_same_features as check_same_features,
    )
    from .checks.production import (
        assert_in_distribution as assert_in_distribution,
    )
    from .checks.production import (
        assert_no_drift as assert_no_drift,
    )
    from .checks.production import (
        assert_schema_matches as assert_schema_matches,
    )
    from .checks.production import (
        check_in_distribution as check_in_distribution,
    )
    from .checks.production import (
        check_no_drift as check_no_drift,
    )
    from .checks.production import (
        check_schema_matches as check_schema_matches,
    )
    from .checks.properties import (
        assert_handles_missing as assert_handles_missing,
    )
    from .checks.properties import (
        assert_handles_unseen_categories as assert_handles_unseen_categories,
    )
    from .checks.properties import (
        assert_invariant_to_row_order as assert_invariant_to_row_order,
    )
    from .checks.properties import (
        check_handles_missing as check_handles_missing,
    )
    from .checks.properties import (
        check_handles_unseen_categories as check_handles_unseen_categories,
    )
    from .checks.properties import (
        check_invariant_to_row_order as check_invariant_to_row_order,
    )
    from .schema import ColumnSchema as ColumnSchema
    from .schema import Schema as Schema
    from .schema import infer_schema as infer_schema


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_mlchecks' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
