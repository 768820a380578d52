"""Pipeline rung: save/load round trip and training-serving skew, both ways."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import (
    MLCheckError,
    MLCheckUsageError,
    assert_same_features,
    check_roundtrip_consistent,
    check_same_features,
)

from ...conftest import needs_torch


def _raw(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.normal(40, 10, n), "income": rng.lognormal(10, 1, n)})
    frame.loc[rng.random(n) < 0.2, "age"] = np.nan
    return frame


class Model:
    """A tiny predictor with its state in attributes (round-trips fine)."""

    def __init__(self) -> None:
        self.w = np.array([0.5, -0.25])

    def predict(self, X):
        return np.asarray(X, dtype=float) @ self.w


class ForgetfulModel(Model):
    """Loses its calibration on pickling: a custom __getstate__ drops an attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = 3.0

    def __getstate__(self):
        state = dict(self.__dict__)
        state["offset"] = 0.0
        return state

    def predict(self, X):
        return super().predict(X) + self.offset


def test_roundtrip_passes_for_plain_models_and_pipelines() -> None:
    X = np.random.default_rng(0).normal(size=(50, 2))
    result = check_roundtrip_consistent(Model(), X)
    assert result.passed and result.details["method"] == "pickle"
    sklearn = pytest.importorskip("sklearn")
    del sklearn
    from sklearn.ensemble import RandomForestClassifier

    y = (X[:, 0] > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    for method in ("pickle", "joblib"):
        out = check_roundtrip_consistent(forest, X, method=method)
        assert out.passed and set(out.details["outputs"]) >= {"predict", "predict_proba"}


def test_roundtrip_catches_lost_state() -> None:
    X = np.ones((10, 2))
    result = check_roundtrip_consistent(ForgetfulModel(), X)
    assert not result.passed and result.value == pytest.approx(3.0)
    assert result.details["differing"]["predict"]["rows"] == 10


def test_roundtrip_unpicklable_model_fails_with_reason() -> None:
    model = Model()
    model.hook = lambda x: x  # lambdas do not pickle
    result = check_roundtrip_consistent(model, np.ones((3, 2)))
    assert not result.passed and "cannot be serialised with pickle" in result.message


def test_roundtrip_usage_errors() -> None:
    with pytest.raises(MLCheckUsageError, match="method must be"):
        check_roundtrip_consistent(Model(), np.ones((3, 2)), method="yaml")
    with pytest.raises(MLCheckUsageError, match="has no predict"):
        check_roundtrip_consistent(object(), np.ones((3, 2)))
    with pytest.raises(MLCheckUsageError, match="X is empty"):
        check_roundtrip_consistent(Model(), np.ones((0, 2)))


@needs_torch
def test_roundtrip_torch_state_dict_keeps_the_callers_mode() -> None:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1))
    net.train()
    X = torch.randn(16, 3)
    result = check_roundtrip_consistent(net, X)
    assert result.passed and result.details["method"] == "torch"
    assert net.training  # the caller's mode is untouched


# ------------------------------------------------------------------------ same features


def _train_features(frame: pd.DataFrame) -> pd.DataFrame:
    median = 40.0  # the fitted median, as training used it
    return pd.DataFrame({"age": frame["age"].fillna(median), "log_income": np.log(frame["income"])})


def test_same_features_passes_for_identical_code() -> None:
    assert check_same_features(_train_features, _train_features, _raw()).passed


def test_fillna_zero_at_serving_is_caught_with_counts() -> None:
    def serve(frame):
        return pd.DataFrame({"age": frame["age"].fillna(0), "log_income": np.log(frame["income"])})

    raw = _raw()
    result = check_same_features(_train_features, serve, raw)
    assert not result.passed
    assert set(result.details["columns"]) == {"age"}
    assert result.details["columns"]["age"]["cells"] == int(raw["age"].isna().sum())
    assert result.details["columns"]["age"]["max_abs_diff"] == pytest.approx(40.0)
    with pytest.raises(MLCheckError, match="1 column with different values"):
        assert_same_features(_train_features, serve, raw)


def test_reordered_renamed_and_rounded_features() -> None:
    def serve(frame):
        out = _train_features(frame)
        out["log_income"] = out["log_income"].round(2)
        return out[["log_income", "age"]].rename(columns={"age": "age_years"})

    result = check_same_features(_train_features, serve, _raw())
    assert not result.passed
    assert result.details["only_training"] == ["age"]
    assert result.details["only_serving"] == ["age_years"]
    assert "log_income" in result.details["columns"]


def test_same_features_with_a_fitted_pipeline() -> None:
    pytest.importorskip("sklearn")
    from sklearn.impute import SimpleImputer

    raw = _raw()
    imputer = SimpleImputer(strategy="median").set_output(transform="pandas").fit(raw)
    median = float(raw["age"].median())

    def serve(frame):
        return frame.assign(age=frame["age"].fillna(median))

    assert check_same_features(imputer, serve, raw).passed
    assert not check_same_features(imputer, lambda f: f.fillna(0), raw).passed


def test_same_features_usage_errors() -> None:
    with pytest.raises(MLCheckUsageError, match="expected a fitted transformer"):
        check_same_features(42, _train_features, _raw())


def test_same_features_compares_arrays_by_position() -> None:
    raw = _raw()

    def as_array(frame):
        return _train_features(frame).to_numpy()

    assert check_same_features(as_array, _train_features, raw).passed

    def serve(frame):
        return pd.DataFrame({"age": frame["age"].fillna(0), "log_income": np.log(frame["income"])})

    result = check_same_features(as_array, serve, raw)
    assert not result.passed and set(result.details["columns"]) == {"age"}
