"""Tests of the checks in pytest_mlchecks/checks/pipeline/consistency.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import (
    MLCheckError,
    MLCheckUsageError,
    assert_fit_on_train_only,
    assert_same_features,
    check_fit_on_train_only,
    check_roundtrip_consistent,
    check_same_features,
)

from ...conftest import needs_sklearn, needs_torch


def _data(n: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.lognormal(10, 1, n),
            "city": rng.choice(["a", "b", "c", "d"], n),
        }
    )
    X.loc[rng.random(n) < 0.1, "age"] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(-(X["income"].rank(pct=True) - 0.5) * 4))).astype(int)
    return X, y.to_numpy()


@needs_sklearn
def test_scaler_fitted_on_train_passes() -> None:
    from sklearn.preprocessing import StandardScaler

    X, _ = _data()
    train = X[["age", "income"]].iloc[:800]
    scaler = StandardScaler().fit(train)
    result = check_fit_on_train_only(scaler, train)
    assert result.passed and result.value == 0.0


@needs_sklearn
def test_scaler_fitted_before_split_fails_and_says_rows_seen() -> None:
    from sklearn.preprocessing import StandardScaler

    X, _ = _data()
    num = X[["age", "income"]]
    scaler = StandardScaler().fit(num)  # the bug: fitted on everything
    result = check_fit_on_train_only(scaler, num.iloc[:800])
    assert not result.passed
    assert result.details["n_samples_seen"] == 1000
    assert "It has seen 1,000 rows; X_train has 800" in result.message
    attrs = {d["attribute"] for d in result.details["differences"]}
    assert "StandardScaler.mean_" in attrs
    with pytest.raises(MLCheckError, match="fit_on_train_only"):
        assert_fit_on_train_only(scaler, num.iloc[:800])


@needs_sklearn
def test_pipeline_with_column_transformer() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = _data()
    pre = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                ["age", "income"],
            ),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
        ]
    )
    clean = make_pipeline(pre, LogisticRegression(max_iter=500)).fit(X.iloc[:800], y[:800])
    assert check_fit_on_train_only(clean, X.iloc[:800], y[:800]).passed
    dirty = make_pipeline(pre, LogisticRegression(max_iter=500)).fit(X, y)
    result = check_fit_on_train_only(dirty, X.iloc[:800], y[:800])
    assert not result.passed
    assert any(
        "['simpleimputer'].statistics_" in d["attribute"] for d in result.details["differences"]
    )


@needs_sklearn
def test_target_encoder_needs_and_uses_y_train() -> None:
    from sklearn.preprocessing import TargetEncoder

    X, y = _data()
    cities = X[["city"]]
    enc = TargetEncoder(random_state=0).fit(cities, y)  # fitted before the split
    with pytest.raises(MLCheckUsageError, match="pass y_train"):
        check_fit_on_train_only(enc, cities.iloc[:800])
    assert not check_fit_on_train_only(enc, cities.iloc[:800], y[:800]).passed
    good = TargetEncoder(random_state=0).fit(cities.iloc[:800], y[:800])
    assert check_fit_on_train_only(good, cities.iloc[:800], y[:800]).passed


@needs_sklearn
def test_never_refits_the_users_object() -> None:
    from sklearn.preprocessing import StandardScaler

    X, _ = _data()
    num = X[["age", "income"]]
    scaler = StandardScaler().fit(num)
    mean = scaler.mean_.copy()
    check_fit_on_train_only(scaler, num.iloc[:800])
    np.testing.assert_array_equal(scaler.mean_, mean)
    assert scaler.n_samples_seen_.max() == 1000


@needs_sklearn
def test_usage_errors() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y = _data()
    with pytest.raises(MLCheckUsageError, match="not fitted"):
        check_fit_on_train_only(StandardScaler(), X[["age"]])
    with pytest.raises(MLCheckUsageError, match="expected a fitted scikit-learn"):
        check_fit_on_train_only(object(), X[["age"]])
    fitted = StandardScaler().fit(X[["age"]])
    with pytest.raises(MLCheckUsageError, match="X_train is empty"):
        check_fit_on_train_only(fitted, X[["age"]].iloc[:0])
    with pytest.raises(MLCheckUsageError, match="X_train has 10 rows but y_train has 9"):
        check_fit_on_train_only(
            LogisticRegression().fit(X[["income"]], y), X[["income"]].iloc[:10], y[:9]
        )


@needs_sklearn
def test_unseeded_random_estimator_cannot_be_decided() -> None:
    from sklearn.ensemble import RandomForestClassifier

    X, y = _data()
    num = X[["income"]]
    forest = RandomForestClassifier(n_estimators=5).fit(num.iloc[:800], y[:800])
    with pytest.raises(MLCheckUsageError, match="random_state"):
        check_fit_on_train_only(forest, num.iloc[:800], y[:800])
    seeded = RandomForestClassifier(n_estimators=5, random_state=0).fit(num.iloc[:800], y[:800])
    assert check_fit_on_train_only(seeded, num.iloc[:800], y[:800]).passed


@needs_sklearn
def test_sparse_outputs_are_compared_without_densifying() -> None:
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"c": rng.choice(list("xyz"), 400), "d": rng.choice(list("pq"), 400)})
    train = frame.iloc[:300]
    ok = check_fit_on_train_only(OneHotEncoder().fit(train), train)
    assert ok.passed, ok.message
    rare = frame.copy()
    rare.loc[350, "c"] = "w"  # a category only the full data has
    leaky = check_fit_on_train_only(OneHotEncoder().fit(rare), train)
    assert not leaky.passed
    encoder = OneHotEncoder().fit(train)
    assert check_roundtrip_consistent(encoder, frame).passed
    with pytest.raises(MLCheckUsageError, match="is not fitted"):
        check_roundtrip_consistent(OneHotEncoder(), frame)


@needs_sklearn
@needs_torch
def test_torch_roundtrip_compares_every_output_of_a_mapping() -> None:
    import torch

    class TwoHeads(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Linear(3, 2)
            self.b = torch.nn.Linear(3, 1)

        def forward(self, x):
            return {"logits": self.a(x), "value": self.b(x)}

    model = TwoHeads()
    result = check_roundtrip_consistent(model, torch.randn(8, 3))
    assert result.passed and result.details["outputs"] == ["forward", "forward[1]"]


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


@needs_sklearn
def test_roundtrip_passes_for_plain_models_and_pipelines() -> None:
    X = np.random.default_rng(0).normal(size=(50, 2))
    result = check_roundtrip_consistent(Model(), X)
    assert result.passed and result.details["method"] == "pickle"
    import sklearn

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


@needs_sklearn
def test_same_features_with_a_fitted_pipeline() -> None:
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
