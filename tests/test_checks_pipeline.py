"""fit_on_train_only: contamination of fitted preprocessing, caught both ways."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder  # noqa: E402

from pytest_mlchecks import (  # noqa: E402
    MLCheckError,
    MLCheckUsageError,
    assert_fit_on_train_only,
    check_fit_on_train_only,
    check_roundtrip_consistent,
)


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


def test_scaler_fitted_on_train_passes() -> None:
    X, _ = _data()
    train = X[["age", "income"]].iloc[:800]
    scaler = StandardScaler().fit(train)
    result = check_fit_on_train_only(scaler, train)
    assert result.passed and result.value == 0.0


def test_scaler_fitted_before_split_fails_and_says_rows_seen() -> None:
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


def test_pipeline_with_column_transformer() -> None:
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


def test_target_encoder_needs_and_uses_y_train() -> None:
    X, y = _data()
    cities = X[["city"]]
    enc = TargetEncoder(random_state=0).fit(cities, y)  # fitted before the split
    with pytest.raises(MLCheckUsageError, match="pass y_train"):
        check_fit_on_train_only(enc, cities.iloc[:800])
    assert not check_fit_on_train_only(enc, cities.iloc[:800], y[:800]).passed
    good = TargetEncoder(random_state=0).fit(cities.iloc[:800], y[:800])
    assert check_fit_on_train_only(good, cities.iloc[:800], y[:800]).passed


def test_never_refits_the_users_object() -> None:
    X, _ = _data()
    num = X[["age", "income"]]
    scaler = StandardScaler().fit(num)
    mean = scaler.mean_.copy()
    check_fit_on_train_only(scaler, num.iloc[:800])
    np.testing.assert_array_equal(scaler.mean_, mean)
    assert scaler.n_samples_seen_.max() == 1000


def test_usage_errors() -> None:
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


def test_unseeded_random_estimator_cannot_be_decided() -> None:
    from sklearn.ensemble import RandomForestClassifier

    X, y = _data()
    num = X[["income"]]
    forest = RandomForestClassifier(n_estimators=5).fit(num.iloc[:800], y[:800])
    with pytest.raises(MLCheckUsageError, match="random_state"):
        check_fit_on_train_only(forest, num.iloc[:800], y[:800])
    seeded = RandomForestClassifier(n_estimators=5, random_state=0).fit(num.iloc[:800], y[:800])
    assert check_fit_on_train_only(seeded, num.iloc[:800], y[:800]).passed


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


def test_torch_roundtrip_compares_every_output_of_a_mapping() -> None:
    torch = pytest.importorskip("torch")

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
