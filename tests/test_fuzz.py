"""Bad input over every public check: no raw exception, no silent pass, no mutation, no flakiness.

Each public ``check_*`` helper (read from the registry and ``__all__``) is called with every
input family below in its data slot (the other arguments are valid). The contract:

- the outcome is a ``CheckResult`` / ``CheckReport``, or an ``MLCheckUsageError`` naming what is
  wrong; never another exception, and never an ``MLCheckInternalError`` (a crash in our code);
- on garbage (nothing to decide on) the check never passes;
- the inputs are unchanged afterwards (compared with deep copies);
- a second call gives the same verdict and figure (or the same error).

Cases that fail today in checks owned by other helpers are marked ``xfail(strict=True)`` with
the owner and the reason, so that they flip to failures once fixed. A hypothesis test adds
drawn mixed-dtype frames with NaN holes to the fixed families.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import CheckReport, CheckResult, MLCheckUsageError
from pytest_mlchecks._registry import CHECKS
from pytest_mlchecks._result import MLCheckInternalError

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None
HAS_SCIPY = importlib.util.find_spec("scipy") is not None
HAS_HYPOTHESIS = importlib.util.find_spec("hypothesis") is not None

N = 40
COLS = ["a", "b", "c"]


def _labels(n: int = N) -> np.ndarray:
    return np.array([0, 1] * (n // 2) + [0] * (n % 2))


def _clean(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(n, 3)), columns=COLS)


# ------------------------------------------------------------------------------- families


@dataclass
class Family:
    """One kind of bad input: ``make()`` returns (X, y); ``garbage``: nothing to decide on."""

    name: str
    make: Callable[[], tuple[Any, Any]]
    garbage: bool
    needs: str | None = None


def _structured() -> np.ndarray:
    arr = np.zeros(N, dtype=[("a", "f8"), ("b", "i4"), ("c", "f8")])
    rng = np.random.default_rng(1)
    arr["a"], arr["b"], arr["c"] = rng.normal(size=N), rng.integers(0, 5, N), rng.normal(size=N)
    return arr


def _mixed() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    return pd.DataFrame(
        {
            "a": rng.normal(size=N),
            "b": pd.Series([1, "x", None, 2.5] * (N // 4), dtype=object),
            "c": pd.Categorical(rng.choice(["u", "v"], N)),
            "d": rng.random(N) > 0.5,
            "e": pd.date_range("2024-01-01", periods=N, freq="D"),
        }
    )


def _nullable() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "a": pd.array([1, None, 3, 4] * (N // 4), dtype="Int64"),
            "b": pd.array([True, None, False, True] * (N // 4), dtype="boolean"),
            "c": pd.array(["x", None, "y", "z"] * (N // 4), dtype="string"),
            "d": pd.Series(rng.normal(size=N), dtype="Float64"),
            "e": pd.date_range("2024-01-01", periods=N, freq="h", tz="Europe/Paris"),
        }
    )


def _multi() -> pd.DataFrame:
    frame = _clean()
    frame.columns = pd.MultiIndex.from_tuples([("g", "a"), ("g", "b"), ("h", "c")])
    return frame


def _torch(kind: str) -> tuple[Any, Any]:
    import torch

    gen = torch.Generator().manual_seed(0)
    X = torch.randn(N, 3, generator=gen)
    y = torch.tensor(_labels())
    if kind == "bf16":
        return X.bfloat16(), y
    if kind == "requires_grad":
        return X.requires_grad_(True), y
    if kind == "empty":
        return torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)
    return torch.empty(N, 3, device="meta"), y


def _sparse() -> tuple[Any, Any]:
    import scipy.sparse as sp

    return sp.random(N, 3, density=0.6, format="csr", random_state=0), _labels()


FAMILIES: list[Family] = [
    Family("empty", lambda: (np.empty((0, 3)), np.array([], dtype=int)), True),
    Family(
        "zero_rows",
        lambda: (pd.DataFrame({c: pd.Series([], dtype=float) for c in COLS}), pd.Series([])),
        True,
    ),
    Family("zero_cols", lambda: (pd.DataFrame(index=range(N)), _labels()), True),
    Family("one_row", lambda: (_clean(1), np.array([1])), False),
    Family(
        "all_nan", lambda: (pd.DataFrame(np.nan, index=range(N), columns=COLS), _labels()), True
    ),
    Family("mixed_dtypes", lambda: (_mixed(), _labels()), False),
    Family("structured", lambda: (_structured(), _labels()), False),
    Family("list_of_dicts", lambda: (_clean().to_dict("records"), list(_labels())), False),
    Family("wrong_length", lambda: (_clean(), _labels(25)), True),
    Family("bfloat16", lambda: _torch("bf16"), False, "torch"),
    Family("requires_grad", lambda: _torch("requires_grad"), False, "torch"),
    Family("meta_tensor", lambda: _torch("meta"), True, "torch"),
    Family("empty_tensor", lambda: _torch("empty"), True, "torch"),
    Family("scipy_sparse", _sparse, False, "scipy"),
    Family("nullable_dtypes", lambda: (_nullable(), _labels()), False),
    Family("huge_values", lambda: (_clean() * 1e307, _labels()), False),
    Family(
        "duplicated_columns", lambda: (_clean().set_axis(["a", "a", "b"], axis=1), _labels()), True
    ),
    Family("int_column_names", lambda: (_clean().set_axis([0, 1, 2], axis=1), _labels()), False),
    Family("multiindex_columns", lambda: (_multi(), _labels()), False),
    Family("none", lambda: (None, _labels()), True),
    Family("string", lambda: ("data.csv", _labels()), True),
    Family("polars", lambda: (_polars(), _labels()), False, "polars"),
]


def _polars() -> Any:
    import polars as pl

    return pl.DataFrame({c: _clean()[c].to_numpy() for c in COLS})


# ---------------------------------------------------------------------------------- calls


def _sk_model() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=200)


def _fitted_pipeline() -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(SimpleImputer(), LogisticRegression()).fit(_clean().to_numpy(), _labels())


def _fitted_scaler() -> Any:
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit(_clean().to_numpy())


def _features(X: Any) -> Any:
    return X


def _torch_model() -> Any:
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))


def _schema() -> Any:
    return mlc.infer_schema(_clean())


def _tokenize(text: str) -> list[str]:
    return str(text).split()


def _timing_verdict(outcome: Any) -> Any:
    """A timing's figure differs from run to run by nature: only its verdict must repeat."""
    outcome.value = None
    return outcome


# check name -> (what it needs, how to call it with the family's (X, y))
CALLS: dict[str, tuple[tuple[str, ...], Callable[[Any, Any], Any]]] = {
    "finite": ((), lambda X, y: mlc.check_finite(X)),
    "aligned": ((), lambda X, y: mlc.check_aligned(X, y)),
    "class_balance": ((), lambda X, y: mlc.check_class_balance(X)),
    "no_duplicates": ((), lambda X, y: mlc.check_no_duplicates(X)),
    "no_conflicting_labels": ((), lambda X, y: mlc.check_no_conflicting_labels(X, y)),
    "no_row_overlap": ((), lambda X, y: mlc.check_no_row_overlap(X, X)),
    "no_target_leakage": (("sklearn",), lambda X, y: mlc.check_no_target_leakage(X, X, "a")),
    "no_temporal_leakage": ((), lambda X, y: mlc.check_no_temporal_leakage(X, X, "a")),
    # added by the leakage branch: fuzzed as soon as it is public
    "no_entity_overlap": ((), lambda X, y: mlc.check_no_entity_overlap(X, X, "a")),
    "no_leakage": ((), lambda X, y: mlc.check_no_leakage(X, X)),
    "missingness_not_predictive": ((), lambda X, y: mlc.check_missingness_not_predictive(X, y)),
    "time_grid_valid": ((), lambda X, y: mlc.check_time_grid_valid(X)),
    "beats_dummy": (
        ("sklearn",),
        lambda X, y: mlc.check_beats_dummy(_sk_model(), X, y, X, y),
    ),
    "beats_baselines": (
        ("sklearn",),
        lambda X, y: mlc.check_beats_baselines(_sk_model(), X, y, X, y),
    ),
    "decision_threshold_tuned": (
        ("sklearn",),
        lambda X, y: mlc.check_decision_threshold_tuned(_fitted_pipeline(), X, y),
    ),
    "calibrated": ((), lambda X, y: mlc.check_calibrated(_labels(), X)),
    "learning_curve_healthy": (
        ("sklearn",),
        lambda X, y: mlc.check_learning_curve_healthy(_sk_model(), X, y, cv=2),
    ),
    "environment_matches": (
        (),
        lambda X, y: mlc.check_environment_matches(X, expected={"numpy": np.__version__}),
    ),
    "inference_budget": (
        ("sklearn",),
        lambda X, y: _timing_verdict(
            mlc.check_inference_budget(_fitted_pipeline(), X, p95_ms=1e9, time_budget_s=0.001)
        ),
    ),
    "predictions_not_collapsed": (
        ("sklearn",),
        lambda X, y: mlc.check_predictions_not_collapsed(_fitted_pipeline(), X, y=y),
    ),
    "no_overfitting": (
        ("sklearn",),
        lambda X, y: mlc.check_no_overfitting(_sk_model(), X, y, X, y),
    ),
    "not_suspiciously_good": (
        ("sklearn",),
        lambda X, y: mlc.check_not_suspiciously_good(_sk_model(), X, y, X, y),
    ),
    "no_dominant_feature": (
        ("sklearn",),
        lambda X, y: mlc.check_no_dominant_feature(_sk_model(), X, y, X, y),
    ),
    "stable_across_folds": (
        ("sklearn",),
        lambda X, y: mlc.check_stable_across_folds(_sk_model(), X, y, cv=2),
    ),
    "fair": ((), lambda X, y: mlc.check_fair(X, _labels(), _labels())),
    "slices_perform": (
        (),
        lambda X, y: mlc.check_slices_perform(X, _labels(), _labels(), metric="accuracy"),
    ),
    "groups_represented": ((), lambda X, y: mlc.check_groups_represented(X)),
    "scores_equitable": (
        (),
        lambda X, y: mlc.check_scores_equitable(X, _labels(), _labels(), min_group_size=5),
    ),
    "no_weak_segments": (
        (),
        lambda X, y: mlc.check_no_weak_segments(
            _labels(), _labels(), X, metric="accuracy", min_size=5
        ),
    ),
    "grad_norm_healthy": (("torch",), lambda X, y: _grad_norm(X)),
    "params_update": (("torch",), lambda X, y: _params_update(X)),
    "can_overfit_batch": (("torch",), lambda X, y: _overfit(X, y)),
    "eval_deterministic": (
        ("torch",),
        lambda X, y: mlc.check_eval_deterministic(_torch_model(), X),
    ),
    "no_truncation": ((), lambda X, y: mlc.check_no_truncation(X, _tokenize, max_length=4)),
    "attention_mask_respected": (("torch",), lambda X, y: _attention(X)),
    "invariant_to_row_order": (
        ("sklearn",),
        lambda X, y: mlc.check_invariant_to_row_order(_fitted_pipeline(), X),
    ),
    "handles_missing": (
        ("sklearn",),
        lambda X, y: mlc.check_handles_missing(_fitted_pipeline(), X),
    ),
    "handles_unseen_categories": (
        ("sklearn",),
        lambda X, y: mlc.check_handles_unseen_categories(_fitted_pipeline(), X),
    ),
    "schema_matches": ((), lambda X, y: mlc.check_schema_matches(X, _schema())),
    "no_drift": ((), lambda X, y: mlc.check_no_drift(X, X)),
    "in_distribution": ((), lambda X, y: mlc.check_in_distribution(X, X)),
    "performance_holds": ((), lambda X, y: mlc.check_performance_holds(y, X, baseline=0.8)),
    "no_concept_drift": (("sklearn",), lambda X, y: mlc.check_no_concept_drift(X, y, X, y)),
    "fit_on_train_only": (
        ("sklearn",),
        lambda X, y: mlc.check_fit_on_train_only(_fitted_scaler(), X),
    ),
    "roundtrip_consistent": (
        ("sklearn",),
        lambda X, y: mlc.check_roundtrip_consistent(_fitted_pipeline(), X),
    ),
    "same_features": ((), lambda X, y: mlc.check_same_features(_features, _features, X)),
}


def _grad_norm(X: Any) -> Any:
    model = _torch_model()
    if X is not None and hasattr(X, "dtype") and hasattr(X, "requires_grad"):
        model = model.to(dtype=X.dtype) if X.dtype.is_floating_point else model
        if X.device.type == "meta":
            model = model.to("meta")
        model(X).sum().backward()
    return mlc.check_grad_norm_healthy(model)


def _params_update(X: Any) -> Any:
    import torch

    model = _torch_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step() -> None:
        opt.zero_grad()
        model(X).sum().backward()
        opt.step()

    return mlc.check_params_update(model, step, optimizer=opt)


def _overfit(X: Any, y: Any) -> Any:
    import torch

    def loss_fn(out: Any, target: Any) -> Any:
        return torch.nn.functional.mse_loss(out.squeeze(-1), target.float())

    return mlc.check_can_overfit_batch(_torch_model(), (X, y), loss_fn, steps=20)


def _attention(X: Any) -> Any:
    import torch

    class Pool(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(50, 4)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            mask = attention_mask.unsqueeze(-1).float()
            return (self.emb(input_ids) * mask).sum(1) / mask.sum(1).clamp(min=1)

    torch.manual_seed(0)
    mask = torch.ones(N, 3, dtype=torch.long)
    mask[:, -1] = 0
    return mlc.check_attention_mask_respected(Pool(), {"input_ids": X, "attention_mask": mask})


# Checks whose call pairs X with y: only there is a length mismatch garbage.
USES_Y = {
    "aligned",
    "missingness_not_predictive",
    "beats_dummy",
    "beats_baselines",
    "no_overfitting",
    "not_suspiciously_good",
    "stable_across_folds",
    "can_overfit_batch",
    "no_conflicting_labels",
    "no_dominant_feature",
    "performance_holds",
    "no_concept_drift",
    "calibrated",
    "learning_curve_healthy",
}

# Where passing is a correct verdict even for a "garbage" family (the check decides something
# the family does not take away): aligned only compares lengths and indexes; a model's
# predictions on all-missing rows can still be compared with themselves.
MAY_PASS: dict[str, set[str]] = {
    "aligned": {"zero_cols", "all_nan", "meta_tensor", "duplicated_columns"},
    "invariant_to_row_order": {"all_nan"},
    "roundtrip_consistent": {"all_nan"},
    "same_features": {"all_nan"},
    "no_duplicates": {"all_nan"},  # one all-missing row repeats nothing
    "inference_budget": {"all_nan"},  # the time a model takes does not need meaningful values
}


def is_garbage(check: str, family: Family) -> bool:
    """Whether ``family`` leaves ``check`` nothing to decide on (so it must never pass)."""
    if family.name == "wrong_length":
        return check in USES_Y
    return family.garbage and family.name not in MAY_PASS.get(check, set())


# Cases that fail today in checks owned by other helpers: (check, family) -> reason.
KNOWN: dict[tuple[str, str], str] = {}


def _owner(check: str) -> str:
    module = CHECKS[check].module.rsplit(".", 1)[-1]
    return {
        "leakage": "leakage",
        "evaluation": "prod",
        "production": "prod",
        "deep": "grads",
        "nlp": "grads",
    }.get(module, "fuzz")


# ------------------------------------------------------------------------------ comparison


def _snapshot(obj: Any) -> Any:
    try:
        return copy.deepcopy(obj)
    except Exception:  # meta tensors and the like: compare what can be compared
        return obj


def _same(a: Any, b: Any) -> bool:
    """Whether ``a`` (the input after the call) equals ``b`` (a deep copy from before)."""
    if a is None or isinstance(a, (str, bytes, int, float)):
        return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))
    if isinstance(a, pd.DataFrame):
        return (
            isinstance(b, pd.DataFrame)
            and a.shape == b.shape
            and list(a.columns) == list(b.columns)
            and a.dtypes.equals(b.dtypes)
            and a.index.equals(b.index)
            and a.equals(b)
            and a.attrs == b.attrs
        )
    if isinstance(a, pd.Series):
        return isinstance(b, pd.Series) and a.dtype == b.dtype and a.equals(b)
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.names or a.dtype.kind == "O":
            return bool(np.all(a == b)) if a.size else True
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if HAS_TORCH:
        import torch

        if isinstance(a, torch.Tensor):
            if (a.dtype, a.shape, a.device, a.requires_grad) != (
                b.dtype,
                b.shape,
                b.device,
                b.requires_grad,
            ):
                return False
            if a.device.type == "meta":
                return True
            return bool(torch.equal(a.detach(), b.detach()))
    if hasattr(a, "tocsr") and hasattr(a, "nnz"):
        return a.shape == b.shape and (a != b).nnz == 0 and a.dtype == b.dtype
    return True


def _outcome(run: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", (passed, value)) or ("usage", message) or ("internal"/"raw", description)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = run()
        except MLCheckInternalError as exc:
            return "internal", str(exc)
        except MLCheckUsageError as exc:
            return "usage", str(exc)
        except Exception as exc:
            return "raw", f"{type(exc).__name__}: {exc}"
    if not isinstance(result, (CheckResult, CheckReport)):
        return "raw", f"returned {type(result).__name__}"
    value = getattr(result, "value", None)
    return "ok", (bool(result.passed), value)


def _figure_equal(a: Any, b: Any) -> bool:
    if a == b:
        return True
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def run_case(check: str, family: Family) -> list[str]:
    """The contract violations of one (check, family) call, as readable strings."""
    X, y = family.make()
    before = (_snapshot(X), _snapshot(y))
    _, call = CALLS[check]
    first = _outcome(lambda: call(X, y))
    problems: list[str] = []
    kind, info = first
    if kind in ("raw", "internal"):
        problems.append(f"{kind} error: {str(info)[:300]}")
    if kind == "ok" and info[0] and is_garbage(check, family):
        problems.append(f"silent pass on garbage (value {info[1]})")
    if not (_same(X, before[0]) and _same(y, before[1])):
        problems.append("mutated its input")
    second = _outcome(lambda: call(*family.make()))
    if second[0] != kind or (
        kind == "ok" and (second[1][0] != info[0] or not _figure_equal(second[1][1], info[1]))
    ):
        problems.append(f"not deterministic: {first} then {second}")
    return problems


def _cases() -> list[Any]:
    params = []
    for check in sorted(c for c in CALLS if hasattr(mlc, f"check_{c}")):
        for family in FAMILIES:
            marks = []
            needs = set(CALLS[check][0]) | ({family.needs} if family.needs else set())
            missing = sorted(m for m in needs if importlib.util.find_spec(m) is None)
            if missing:
                marks.append(pytest.mark.skip(reason=f"needs {', '.join(missing)}"))
            elif (check, family.name) in KNOWN:
                marks.append(
                    pytest.mark.xfail(
                        strict=True,
                        reason=f"owned by {_owner(check)}: {KNOWN[(check, family.name)]}",
                    )
                )
            params.append(pytest.param(check, family, id=f"{check}-{family.name}", marks=marks))
    return params


def test_every_public_check_is_fuzzed() -> None:
    public = {n[len("check_") :] for n in mlc.__all__ if n.startswith("check_")}
    helpers = {name for name, spec in CHECKS.items() if spec.helpers}
    assert helpers <= public, sorted(helpers - public)
    assert set(CALLS) >= helpers, sorted(helpers - set(CALLS))
    assert public <= set(CALLS), sorted(public - set(CALLS))


@pytest.mark.parametrize(("check", "family"), _cases())
def test_bad_input(check: str, family: Family) -> None:
    problems = run_case(check, family)
    assert not problems, f"{check} on {family.name}: " + "; ".join(problems)


# ------------------------------------------------------------------- drawn (hypothesis) tables

# checks that read one table (X) plus, where needed, y of the same length
TABLE_CHECKS = (
    "finite",
    "no_duplicates",
    "no_row_overlap",
    "missingness_not_predictive",
    "no_drift",
    "in_distribution",
    "schema_matches",
    "handles_missing",
    "invariant_to_row_order",
    "same_features",
    "class_balance",
    "aligned",
)

if HAS_HYPOTHESIS:
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import pandas as hpd

    _CELLS = {
        "float": st.floats(allow_nan=True, allow_infinity=True, width=64),
        "int": st.integers(-(2**40), 2**40),
        "text": st.sampled_from(["x", "y", "", "ñ", "1"]),
        "mixed": st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["a", "b"])),
        "bool": st.booleans(),
    }

    @st.composite
    def drawn_tables(draw: Any) -> pd.DataFrame:
        kinds = draw(st.lists(st.sampled_from(sorted(_CELLS)), min_size=0, max_size=4))
        columns = [
            hpd.column(
                f"{kind}_{i}",
                elements=_CELLS[kind],
                dtype=object
                if kind
                in (
                    "mixed",
                    "text",
                )
                else None,
            )
            for i, kind in enumerate(kinds)
        ]
        return draw(hpd.data_frames(columns=columns, index=hpd.range_indexes(0, 12)))

    def _nothing_to_decide(check: str, frame: pd.DataFrame) -> bool:
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            return check != "aligned"
        return bool(frame.isna().all().all()) and check not in MAY_PASS

    DRAWN_KNOWN: dict[str, str] = {}

    @pytest.mark.skipif(not HAS_SKLEARN, reason="needs scikit-learn")
    @pytest.mark.parametrize(
        "check",
        [
            pytest.param(
                c,
                marks=[pytest.mark.xfail(strict=True, reason=DRAWN_KNOWN[c])]
                if c in DRAWN_KNOWN
                else [],
            )
            for c in TABLE_CHECKS
        ],
    )
    def test_drawn_tables_keep_the_contract(check: str) -> None:
        @settings(
            max_examples=15,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(frame=drawn_tables())
        @example(frame=pd.DataFrame({"mixed_0": pd.Series([None], dtype=object)}))
        @example(frame=pd.DataFrame(index=range(3)))
        @example(frame=pd.DataFrame({"float_0": [np.nan, np.inf, -np.inf, 0.0]}))
        def run(frame: pd.DataFrame) -> None:
            y = _labels(len(frame))
            before, y_before = frame.copy(deep=True), y.copy()
            _, call = CALLS[check]
            kind, info = _outcome(lambda: call(frame, y))
            assert kind in ("ok", "usage"), f"{check}: {kind} {info}"
            assert _same(frame, before) and _same(y, y_before), f"{check} mutated its input"
            if kind == "ok" and info[0]:
                assert not _nothing_to_decide(check, frame), (
                    f"{check} passed on {frame.shape} garbage"
                )
            again = _outcome(lambda: call(frame.copy(deep=True), y.copy()))
            assert again[0] == kind, (kind, info, again)
            if kind == "ok":
                assert again[1][0] == info[0] and _figure_equal(again[1][1], info[1])

        run()


# ------------------------------------------------------------------ fixes, one by one


def test_internal_crash_is_told_apart_from_the_callers_code_failing() -> None:
    # a check whose code lives in the package (compiled under a file name inside it)
    import os

    from pytest_mlchecks._protocol import check

    namespace: dict[str, Any] = {}
    source = "def check_buggy(x):\n    return {}['missing']\n"
    fake = os.path.join(os.path.dirname(mlc.__file__), "checks", "_fuzz_fake.py")
    exec(compile(source, fake, "exec"), namespace)
    check_buggy = check("finite")(namespace["check_buggy"])

    @check("finite")
    def check_calls_user(fn: Callable[[], Any]) -> CheckResult:
        fn()
        return CheckResult("x", "data", True)

    with pytest.raises(MLCheckInternalError, match=r"bug in pytest-mlchecks.*please report"):
        check_buggy(1)

    def broken_model() -> None:
        raise RuntimeError("the user's model is broken")

    with pytest.raises(MLCheckUsageError, match="raised inside your code") as info:
        check_calls_user(broken_model)
    assert not isinstance(info.value, MLCheckInternalError)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_structured_arrays_and_records_are_read_as_tables() -> None:
    arr = _structured()
    shifted = arr.copy()
    shifted["a"] += 3.0
    assert mlc.check_finite(arr).passed
    assert not mlc.check_no_drift(np.concatenate([arr] * 10), np.concatenate([shifted] * 10)).passed
    records = _clean().to_dict("records")
    assert mlc.check_no_duplicates(records).passed
    assert not mlc.check_no_duplicates(records + records[:1]).passed
    with pytest.raises(MLCheckUsageError, match="y holds dict values"):
        mlc.check_class_balance(np.array(records, dtype=object))


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
def test_meta_and_bfloat16_tensors() -> None:
    import torch

    with pytest.raises(MLCheckUsageError, match="X is a meta tensor"):
        mlc.check_finite(torch.empty(4, 2, device="meta"))
    X = torch.randn(40, 3).bfloat16()
    X[0, 0] = float("nan")
    assert not mlc.check_finite(X).passed
    y = torch.tensor(_labels())
    assert mlc.check_class_balance(y.bfloat16()).passed
    leaf = torch.randn(40, 3, requires_grad=True)
    assert mlc.check_no_duplicates(leaf).passed
    assert leaf.grad is None and leaf.requires_grad


@pytest.mark.skipif(not (HAS_SKLEARN and HAS_SCIPY), reason="needs scikit-learn and scipy")
def test_sparse_X_is_accepted_where_scikit_learn_reads_it() -> None:
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    dense = rng.normal(size=(400, 20))
    dense[dense < 0.5] = 0.0
    y = (dense[:, 0] + dense[:, 1] > 0.6).astype(int)
    X = sp.csr_matrix(dense)
    before = X.copy()
    good = mlc.check_beats_dummy(LogisticRegression(), X[:300], y[:300], X[300:], y[300:])
    assert good.passed and good.value > 0.3
    noise = rng.permutation(y)
    bad = mlc.check_beats_dummy(LogisticRegression(), X[:300], noise[:300], X[300:], noise[300:])
    assert not bad.passed
    ladder = mlc.check_beats_baselines(LogisticRegression(), X[:300], y[:300], X[300:], y[300:])
    assert set(ladder.details["scores"]) == {"dummy", "linear", "model"}
    assert mlc.check_no_overfitting(LogisticRegression(), X[:300], y[:300], X[300:], y[300:])
    assert (before != X).nnz == 0
    with pytest.raises(MLCheckUsageError, match="both be sparse or both dense"):
        mlc.check_beats_dummy(LogisticRegression(), X[:300], y[:300], dense[300:], y[300:])
    with pytest.raises(MLCheckUsageError, match="scipy sparse"):
        mlc.check_finite(X)


@pytest.mark.filterwarnings("ignore:X has feature names")
def test_missingness_and_handles_missing_refuse_tables_with_nothing_to_test() -> None:
    y = _labels()
    for X in (pd.DataFrame(index=range(N)), pd.DataFrame(np.nan, index=range(N), columns=COLS)):
        with pytest.raises(MLCheckUsageError, match="X "):
            mlc.check_missingness_not_predictive(X, y)
    if HAS_SKLEARN:
        pipe = _fitted_pipeline()
        for X in (pd.DataFrame(index=range(N)), pd.DataFrame(np.nan, index=range(N), columns=COLS)):
            with pytest.raises(MLCheckUsageError, match=r"X |every probed column"):
                mlc.check_handles_missing(pipe, X)
        with pytest.raises(MLCheckUsageError, match="does not have"):
            mlc.check_handles_missing(pipe, _clean(), columns=["nope"])
        # still fires on a pipeline that cannot take a missing value, quiet on one that can
        from sklearn.linear_model import LogisticRegression

        bare = LogisticRegression().fit(_clean().to_numpy(), y)
        assert not mlc.check_handles_missing(bare, _clean().to_numpy()).passed
        assert mlc.check_handles_missing(pipe, _clean().to_numpy()).passed
        with pytest.raises(MLCheckUsageError, match="fails on X as given"):
            mlc.check_handles_missing(bare, _clean(5).assign(d=1.0).to_numpy())


def test_same_features_refuses_empty_features() -> None:
    with pytest.raises(MLCheckUsageError, match="no columns"):
        mlc.check_same_features(_features, _features, pd.DataFrame(index=range(N)))
    assert mlc.check_same_features(_features, _features, _clean()).passed
    assert not mlc.check_same_features(_features, lambda X: X * 2, _clean()).passed


# ------------------------------------------- known bad-input bugs in other helpers' checks


def _xfail(owner: str, reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"owned by {owner}: {reason}")


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
def test_params_update_with_nothing_to_update_does_not_pass() -> None:
    import torch

    outcome = _outcome(lambda: mlc.check_params_update(torch.nn.ReLU(), lambda: None))
    assert outcome[0] == "usage" or (outcome[0] == "ok" and not outcome[1][0])


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
def test_params_update_restores_the_global_torch_rng() -> None:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Dropout(0.5))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step() -> None:
        opt.zero_grad()
        model(torch.ones(4, 3)).sum().backward()
        opt.step()

    torch.manual_seed(0)
    state = torch.get_rng_state().clone()
    mlc.check_params_update(model, step, optimizer=opt)
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
def test_grad_norm_tracker_refuses_an_empty_window() -> None:
    import torch

    with pytest.raises(MLCheckUsageError, match="window"):
        mlc.GradNormTracker(torch.nn.Linear(2, 1), window=0)


def test_no_truncation_refuses_texts_that_are_not_strings() -> None:
    outcome = _outcome(lambda: mlc.check_no_truncation([{"a": 1}] * 5, _tokenize, max_length=3))
    assert outcome[0] == "usage", outcome


@pytest.mark.skipif(not HAS_SKLEARN, reason="needs scikit-learn")
def test_row_order_needs_two_rows_and_always_moves_them() -> None:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(_clean().to_numpy(), _labels())
    with pytest.raises(MLCheckUsageError, match="1 row"):
        mlc.check_invariant_to_row_order(model, _clean(1).to_numpy())
    for seed in range(6):  # two rows: half of all seeded shuffles would be the identity
        result = mlc.check_invariant_to_row_order(model, _clean(2).to_numpy(), random_state=seed)
        assert result.passed

    class FirstRowLeaks:
        def predict(self, X: Any) -> Any:
            return np.full(len(X), np.asarray(X)[0, 0])

    for seed in range(6):
        leaky = mlc.check_invariant_to_row_order(
            FirstRowLeaks(), _clean(2).to_numpy(), random_state=seed
        )
        assert not leaky.passed


def test_polars_without_pyarrow_says_what_to_install() -> None:
    class FakePolarsFrame:
        def to_pandas(self) -> Any:
            raise ModuleNotFoundError("No module named 'pyarrow'", name="pyarrow")

    FakePolarsFrame.__module__ = "polars.dataframe.frame"
    with pytest.raises(MLCheckUsageError, match="pip install pyarrow"):
        mlc.check_finite(FakePolarsFrame())


# ------------------------------------------------------------- corrupt schema JSON (public)

_SCHEMA_BASE: dict[str, Any] = {
    "schema_version": 1,
    "n_rows": 10,
    "columns": [
        {"name": "a", "dtype": "float64", "kind": "float", "null_rate": 0.0, "min": 1.0, "max": 2.0}
    ],
}
_CORRUPT: dict[str, Callable[[dict[str, Any]], Any]] = {
    "min_above_max": lambda d: d["columns"][0].update(min=5.0, max=1.0),
    "negative_null_rate": lambda d: d["columns"][0].update(null_rate=-0.5),
    "null_rate_above_1": lambda d: d["columns"][0].update(null_rate=2.0),
    "duplicated_columns": lambda d: d["columns"].append(dict(d["columns"][0])),
    "unknown_kind": lambda d: d["columns"][0].update(kind="blob"),
    "negative_n_rows": lambda d: d.update(n_rows=-3),
    "min_not_a_number": lambda d: d["columns"][0].update(min="x"),
    "nan_min": lambda d: d["columns"][0].update(min=math.nan),
    "missing_name": lambda d: d["columns"][0].pop("name"),
}


@pytest.mark.parametrize("case", list(_CORRUPT))
def test_corrupt_schema_json_is_a_usage_error(case: str) -> None:
    import json

    data = copy.deepcopy(_SCHEMA_BASE)
    _CORRUPT[case](data)
    with pytest.raises(MLCheckUsageError):
        mlc.Schema.from_json(json.dumps(data))


@pytest.mark.parametrize("text", ["{", "[]", "null", '{"schema_version": 99, "columns": []}'])
def test_unreadable_schema_json_is_a_usage_error(text: str) -> None:
    with pytest.raises(MLCheckUsageError):
        mlc.Schema.from_json(text)
