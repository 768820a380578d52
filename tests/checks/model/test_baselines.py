"""Tests of the checks in pytest_mlchecks/checks/model/baselines.py."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from packaging.version import Version
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from pytest_mlchecks import (
    MLCheckError,
    MLCheckUsageError,
    assert_beats_dummy,
    check_beats_baselines,
    check_beats_dummy,
)

from ...builders import classification_split, regression_split
from ...conftest import needs_sklearn

pytestmark = needs_sklearn


# ------------------------------------------------------------------------ beats dummy


def test_useful_model_beats_dummy_with_roc_auc() -> None:
    Xtr, ytr, Xte, yte = classification_split()
    result = check_beats_dummy(LogisticRegression(), Xtr, ytr, Xte, yte)
    assert result.passed and result.details["metric"] == "roc_auc"
    assert result.details["dummy_score"] == pytest.approx(0.5)
    assert result.details["fitted_a_clone"] is True


def test_model_trained_on_shuffled_labels_fails() -> None:
    Xtr, ytr, Xte, yte = classification_split()
    rng = np.random.default_rng(1)
    shuffled, shuffled_test = rng.permutation(ytr), rng.permutation(yte)  # labels carry no signal
    model = LogisticRegression().fit(Xtr, shuffled)
    result = check_beats_dummy(model, Xtr, shuffled, Xte, shuffled_test)
    assert not result.passed
    assert "Why it matters" in result.message
    with pytest.raises(MLCheckError, match="beats_dummy"):
        assert_beats_dummy(model, Xtr, shuffled, Xte, shuffled_test)


def test_imbalanced_default_is_pr_auc_and_accuracy_trap_is_explained() -> None:
    Xtr, ytr, Xte, yte = classification_split(4000, minority=0.05)
    assert ytr.mean() < 0.1
    result = check_beats_dummy(LogisticRegression(), Xtr, ytr, Xte, yte)
    assert result.details["metric"] == "average_precision"
    acc = check_beats_dummy(
        DecisionTreeClassifier(max_depth=1), Xtr, ytr, Xte, yte, metric="accuracy"
    )
    assert "Accuracy misleads here" in acc.message
    assert acc.details["dummy_score"] > 0.9


def test_regression_and_cv_form() -> None:
    Xtr, ytr, Xte, yte = regression_split()
    result = check_beats_dummy(LinearRegression(), Xtr, ytr, Xte, yte)
    assert result.passed and result.details["metric"] == "r2"
    cv = check_beats_dummy(LinearRegression(), Xtr, ytr, cv=5)
    assert cv.passed and len(cv.details["model_folds"]) == 5
    again = check_beats_dummy(LinearRegression(), Xtr, ytr, cv=5)
    assert again.details["model_folds"] == cv.details["model_folds"]  # seeded folds


def test_custom_metric_callable_and_name() -> None:
    from sklearn.metrics import balanced_accuracy_score

    Xtr, ytr, Xte, yte = classification_split()
    by_fn = check_beats_dummy(
        LogisticRegression(), Xtr, ytr, Xte, yte, metric=balanced_accuracy_score
    )
    by_name = check_beats_dummy(
        LogisticRegression(), Xtr, ytr, Xte, yte, metric="balanced_accuracy"
    )
    assert by_fn.value == pytest.approx(by_name.value)


def test_never_refits_a_fitted_model() -> None:
    Xtr, ytr, Xte, yte = classification_split()
    model = LogisticRegression().fit(Xtr[:100], ytr[:100])
    before = pickle.dumps(model)
    result = check_beats_dummy(model, Xtr, ytr, Xte, yte)
    assert result.details["fitted_a_clone"] is False
    assert pickle.dumps(model) == before


def test_model_usage_errors() -> None:
    Xtr, ytr, Xte, yte = classification_split()
    with pytest.raises(MLCheckUsageError, match="single class"):
        check_beats_dummy(LogisticRegression(), Xtr, np.zeros_like(ytr), Xte, yte)
    with pytest.raises(MLCheckUsageError, match="never seen in y_train"):
        check_beats_dummy(LogisticRegression(), Xtr, ytr, Xte, np.where(yte == 1, 2, 0))
    with pytest.raises(MLCheckUsageError, match="needs predicted scores"):
        check_beats_dummy(_NoScores(), Xtr, ytr, Xte, yte, metric="roc_auc")
    with pytest.raises(MLCheckUsageError, match="X_train has 1,500 rows but y_train has 10"):
        check_beats_dummy(LogisticRegression(), Xtr, ytr[:10], Xte, yte)
    with pytest.raises(MLCheckUsageError, match="not a scikit-learn scorer"):
        check_beats_dummy(LogisticRegression(), Xtr, ytr, Xte, yte, metric="auc_please")


class _NoScores(ClassifierMixin, BaseEstimator):
    """A classifier without predict_proba or decision_function: thresholds the first column."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.cut_ = float(np.median(np.asarray(X)[:, 0]))
        return self

    def predict(self, X):
        return (np.asarray(X)[:, 0] > self.cut_).astype(int)


def test_model_without_scores_falls_back_to_balanced_accuracy() -> None:
    Xtr, ytr, Xte, yte = classification_split()
    result = check_beats_dummy(_NoScores(), Xtr, ytr, Xte, yte)
    assert result.details["metric"] == "balanced_accuracy" and result.passed


# ------------------------------------------------------------------------ baselines


def test_baselines_ladder_diagnoses_the_stalled_rung() -> None:
    Xtr, ytr, Xte, yte = classification_split(interaction=True)
    forest = RandomForestClassifier(n_estimators=200, random_state=0)
    good = check_beats_baselines(forest, Xtr, ytr, Xte, yte)
    assert good.passed, good.message
    Xtr, ytr, Xte, yte = classification_split()
    stump = check_beats_baselines(DecisionTreeClassifier(max_depth=1), Xtr, ytr, Xte, yte)
    assert not stump.passed and stump.details["failed_rung"] == "linear"
    assert "worse than" in stump.message
    rng = np.random.default_rng(3)
    noise, noise_test = rng.permutation(ytr), rng.permutation(yte)
    bad = check_beats_baselines(LogisticRegression(), Xtr, noise, Xte, noise_test)
    assert not bad.passed and bad.details["failed_rung"] == "dummy"
    assert "check data and labels" in bad.message


def test_a_linear_model_is_its_own_linear_rung() -> None:
    """A logistic regression used to 'stall at the linear rung' against its own kind."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    Xtr, ytr, Xte, yte = classification_split()
    linear = make_pipeline(StandardScaler(), LogisticRegression())
    result = check_beats_baselines(linear, Xtr, ytr, Xte, yte)
    assert result.passed and result.details["linear_rung_skipped"], result.message
    assert "its own linear rung" in result.message
    rng = np.random.default_rng(4)
    noise = check_beats_baselines(linear, Xtr, rng.permutation(ytr), Xte, rng.permutation(yte))
    assert not noise.passed and noise.details["failed_rung"] == "dummy"


@pytest.mark.skipif(
    Version(sklearn.__version__) < Version("1.4"),
    reason="HistGradientBoostingClassifier(categorical_features='from_dtype') is new in "
    f"scikit-learn 1.4 (found {sklearn.__version__}; the floor is 1.3.2)",
)
def test_baselines_handle_mixed_frames() -> None:
    rng = np.random.default_rng(0)
    n = 1500
    X = pd.DataFrame({"x": rng.normal(size=n), "city": rng.choice(["a", "b", "c"], n)})
    X.loc[rng.random(n) < 0.1, "x"] = np.nan
    y = ((X["x"].fillna(0) + (X["city"] == "a") * 1.5 + rng.normal(0, 1, n)) > 0.5).astype(int)
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    Xc = X.astype({"city": "category"})
    result = check_beats_baselines(model, Xc[:1000], y[:1000], Xc[1000:], y[1000:])
    assert set(result.details["scores"]) == {"dummy", "linear", "model"}


def test_named_binary_labels_score_the_minority_class() -> None:
    """'fraud' / 'ok' labels made average precision fail inside scikit-learn (pos_label=1);
    the minority class is the positive one, with the same figures as 0/1 labels."""
    rng = np.random.default_rng(0)
    n = 3000
    X = rng.normal(size=(n, 5))
    fraud = X[:, 0] + rng.normal(0, 1, n) > 2.2
    named = np.where(fraud, "fraud", "ok")
    coded = fraud.astype(int)
    by_name = check_beats_dummy(
        LogisticRegression(), X[:2000], named[:2000], X[2000:], named[2000:]
    )
    by_code = check_beats_dummy(
        LogisticRegression(), X[:2000], coded[:2000], X[2000:], coded[2000:]
    )
    assert by_name.passed and "average_precision of 'fraud'" in by_name.message
    assert by_name.value == pytest.approx(by_code.value)
    noise = rng.normal(size=(n, 5))
    blind = check_beats_dummy(
        LogisticRegression(), noise[:2000], named[:2000], noise[2000:], named[2000:]
    )
    assert not blind.passed
