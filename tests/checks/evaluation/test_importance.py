"""no_dominant_feature: fires on a leaked feature (target plus a little noise) and on a leak
held by the training split only; quiet on several informative features and on real tables
with strong peers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckError, MLCheckUsageError
from pytest_mlchecks._protocol import Recorder, Settings, recording

from ...conftest import needs_sklearn

pytestmark = needs_sklearn


def _data(n: int = 600, seed: int = 0, leak: str = "") -> tuple[pd.DataFrame, ...]:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n, n_features=6, n_informative=4, n_redundant=0, random_state=seed
    )
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    rng = np.random.default_rng(seed)
    cut = int(0.7 * n)
    if leak:
        frame["leak"] = y + rng.normal(0.0, 0.1, n)
        if leak == "train-only":
            frame.loc[cut:, "leak"] = rng.permutation(frame["leak"].to_numpy()[cut:])
    return frame.iloc[:cut], pd.Series(y[:cut]), frame.iloc[cut:], pd.Series(y[cut:])


def _lr() -> object:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression())


def test_a_leaked_feature_fails_and_is_named() -> None:
    with pytest.raises(MLCheckError) as info:
        mlc.assert_no_dominant_feature(_lr(), *_data(leak="both"))
    d = info.value.results[0].details
    assert d["test_top"]["feature"] == "leak" and d["share_lower"] > d["max_share"] == 0.75
    assert d["features"][0]["feature"] == "leak" and d["fitted_a_clone"]
    assert info.value.results[0].value == d["share_lower"]
    message = str(info.value)
    assert "'leak' carries" in message and "assert_no_target_leakage" in message


def test_a_leak_in_the_training_split_only_fails_on_train() -> None:
    outcome = mlc.check_no_dominant_feature(_lr(), *_data(leak="train-only"))
    d = outcome.details
    assert not outcome.passed
    assert d["train_top"]["feature"] == "leak" and d["train_top"]["share_lower"] > 0.75
    assert d["test_top"] is None or d["test_top"]["share_lower"] < 0.75
    assert "of the permutation importance on the training rows" in outcome.message
    assert "memorised" in outcome.message


def test_several_informative_features_pass() -> None:
    outcome = mlc.assert_no_dominant_feature(_lr(), *_data())
    d = outcome.details
    assert d["skill"] > 0.1 and d["n_features"] == 6 and len(d["features"]) == 6
    assert d["share_lower"] < d["max_share"]
    assert "no feature dominates" in outcome.message


@pytest.mark.parametrize("loader", ["load_breast_cancer", "load_iris", "load_wine"])
def test_strong_features_among_strong_peers_pass(loader: str) -> None:
    from sklearn import datasets
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    X, y = getattr(datasets, loader)(return_X_y=True, as_frame=True)
    splits = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    X_train, X_test, y_train, y_test = splits
    for model in (_lr(), RandomForestClassifier(30, random_state=0)):
        mlc.assert_no_dominant_feature(model, X_train, y_train, X_test, y_test)


def test_thresholds_from_argument_and_ini() -> None:
    splits = _data(leak="both")
    assert mlc.check_no_dominant_feature(_lr(), *splits, max_share=1.0).passed
    with recording(Recorder("t", Settings(ini={"dominant_feature_max_share": 1.0}))):
        assert mlc.check_no_dominant_feature(_lr(), *splits).passed
    with pytest.raises(MLCheckUsageError, match="max_share"):
        mlc.check_no_dominant_feature(_lr(), *splits, max_share=0.0)


def test_a_fitted_model_is_used_as_is_and_nothing_is_mutated() -> None:
    X_train, y_train, X_test, y_test = _data()
    model = _lr().fit(X_train, y_train)  # type: ignore[attr-defined]
    coef = model[-1].coef_.copy()
    before = X_test.copy()
    first = mlc.check_no_dominant_feature(model, X_train, y_train, X_test, y_test)
    second = mlc.check_no_dominant_feature(model, X_train, y_train, X_test, y_test)
    assert not first.details["fitted_a_clone"]
    assert first.to_dict() == second.to_dict()  # seeded: same figures
    assert np.array_equal(model[-1].coef_, coef)
    pd.testing.assert_frame_equal(X_test, before)
    other = mlc.check_no_dominant_feature(model, *_data(), random_state=7)
    assert other.details["features"] != first.details["features"]


def test_regression_and_numpy_inputs() -> None:
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = X @ np.array([1.0, 1.0, 1.0, 1.0]) + rng.normal(0, 0.5, 400)
    peers = mlc.assert_no_dominant_feature(Ridge(), X[:300], y[:300], X[300:], y[300:])
    assert peers.details["metric"] == "r2" and peers.details["features"][0]["feature"][0] == "x"
    leaky = np.column_stack([X, y + rng.normal(0, 0.05, 400)])
    one = mlc.check_no_dominant_feature(Ridge(), leaky[:300], y[:300], leaky[300:], y[300:])
    assert not one.passed and one.details["test_top"]["feature"] == "x4"


def test_a_model_without_skill_passes_and_says_so() -> None:
    from sklearn.dummy import DummyClassifier

    outcome = mlc.check_no_dominant_feature(DummyClassifier(), *_data())
    assert outcome.passed and outcome.details["test_top"] is None
    assert "no held-out skill" in outcome.message


def test_bad_input_is_a_usage_error_naming_the_argument() -> None:
    X_train, y_train, X_test, y_test = _data(200)
    with pytest.raises(MLCheckUsageError, match="n_repeats"):
        mlc.check_no_dominant_feature(_lr(), X_train, y_train, X_test, y_test, n_repeats=1)
    with pytest.raises(MLCheckUsageError, match="y_test"):
        mlc.check_no_dominant_feature(_lr(), X_train, y_train, X_test, y_test[:5])
    with pytest.raises(MLCheckUsageError, match="model"):
        mlc.check_no_dominant_feature(object(), X_train, y_train, X_test, y_test)
    with pytest.raises(MLCheckUsageError, match="columns"):
        mlc.check_no_dominant_feature(_lr(), X_train, y_train, X_test.iloc[:, :3], y_test)


def test_html_chart_shows_test_and_train_shares() -> None:
    from pytest_mlchecks._charts import chart_for

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = mlc.check_no_dominant_feature(_lr(), *_data(leak="both"))
    build = chart_for("no_dominant_feature")
    assert build is not None
    (drawn,) = build(outcome.to_dict()["details"])
    assert drawn.labels[0] == "leak"
    assert [s.name for s in drawn.series] == ["test", "train"]
    assert "<svg" in drawn.svg() and build({}) == []
