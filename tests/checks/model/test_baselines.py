"""Model and evaluation rungs, both ways, on generated data."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from packaging.version import Version

pytest.importorskip("sklearn")

import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from pytest_mlchecks import (
    MLCheckError,
    MLCheckUsageError,
    assert_beats_dummy,
    check_beats_baselines,
    check_beats_dummy,
    check_fair,
    check_no_overfitting,
    check_not_suspiciously_good,
    check_slices_perform,
    check_stable_across_folds,
)


def _clf_data(n=2000, seed=0, minority=None, interaction=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    logit = 1.5 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2] * X[:, 3]
    if interaction:  # mostly an interaction: trees find it, a linear model cannot
        logit = 3.0 * X[:, 0] * X[:, 1] + 0.8 * X[:, 2]
    if minority is not None:
        logit = logit + np.log(minority / (1 - minority)) - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    cut = n * 3 // 4
    return X[:cut], y[:cut], X[cut:], y[cut:]


def _reg_data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = 3 * X[:, 0] + np.sin(2 * X[:, 1]) + rng.normal(0, 1, n)
    cut = n * 3 // 4
    return X[:cut], y[:cut], X[cut:], y[cut:]


# ------------------------------------------------------------------------ beats dummy


def test_useful_model_beats_dummy_with_roc_auc() -> None:
    Xtr, ytr, Xte, yte = _clf_data()
    result = check_beats_dummy(LogisticRegression(), Xtr, ytr, Xte, yte)
    assert result.passed and result.details["metric"] == "roc_auc"
    assert result.details["dummy_score"] == pytest.approx(0.5)
    assert result.details["fitted_a_clone"] is True


def test_model_trained_on_shuffled_labels_fails() -> None:
    Xtr, ytr, Xte, yte = _clf_data()
    rng = np.random.default_rng(1)
    shuffled, shuffled_test = rng.permutation(ytr), rng.permutation(yte)  # labels carry no signal
    model = LogisticRegression().fit(Xtr, shuffled)
    result = check_beats_dummy(model, Xtr, shuffled, Xte, shuffled_test)
    assert not result.passed
    assert "Why it matters" in result.message
    with pytest.raises(MLCheckError, match="beats_dummy"):
        assert_beats_dummy(model, Xtr, shuffled, Xte, shuffled_test)


def test_imbalanced_default_is_pr_auc_and_accuracy_trap_is_explained() -> None:
    Xtr, ytr, Xte, yte = _clf_data(4000, minority=0.05)
    assert ytr.mean() < 0.1
    result = check_beats_dummy(LogisticRegression(), Xtr, ytr, Xte, yte)
    assert result.details["metric"] == "average_precision"
    acc = check_beats_dummy(
        DecisionTreeClassifier(max_depth=1), Xtr, ytr, Xte, yte, metric="accuracy"
    )
    assert "Accuracy misleads here" in acc.message
    assert acc.details["dummy_score"] > 0.9


def test_regression_and_cv_form() -> None:
    Xtr, ytr, Xte, yte = _reg_data()
    result = check_beats_dummy(LinearRegression(), Xtr, ytr, Xte, yte)
    assert result.passed and result.details["metric"] == "r2"
    cv = check_beats_dummy(LinearRegression(), Xtr, ytr, cv=5)
    assert cv.passed and len(cv.details["model_folds"]) == 5
    again = check_beats_dummy(LinearRegression(), Xtr, ytr, cv=5)
    assert again.details["model_folds"] == cv.details["model_folds"]  # seeded folds


def test_custom_metric_callable_and_name() -> None:
    from sklearn.metrics import balanced_accuracy_score

    Xtr, ytr, Xte, yte = _clf_data()
    by_fn = check_beats_dummy(
        LogisticRegression(), Xtr, ytr, Xte, yte, metric=balanced_accuracy_score
    )
    by_name = check_beats_dummy(
        LogisticRegression(), Xtr, ytr, Xte, yte, metric="balanced_accuracy"
    )
    assert by_fn.value == pytest.approx(by_name.value)


def test_never_refits_a_fitted_model() -> None:
    Xtr, ytr, Xte, yte = _clf_data()
    model = LogisticRegression().fit(Xtr[:100], ytr[:100])
    before = pickle.dumps(model)
    result = check_beats_dummy(model, Xtr, ytr, Xte, yte)
    assert result.details["fitted_a_clone"] is False
    assert pickle.dumps(model) == before


def test_model_usage_errors() -> None:
    Xtr, ytr, Xte, yte = _clf_data()
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
    Xtr, ytr, Xte, yte = _clf_data()
    result = check_beats_dummy(_NoScores(), Xtr, ytr, Xte, yte)
    assert result.details["metric"] == "balanced_accuracy" and result.passed


# ------------------------------------------------------------------------ baselines


def test_baselines_ladder_diagnoses_the_stalled_rung() -> None:
    Xtr, ytr, Xte, yte = _clf_data(interaction=True)
    forest = RandomForestClassifier(n_estimators=200, random_state=0)
    good = check_beats_baselines(forest, Xtr, ytr, Xte, yte)
    assert good.passed, good.message
    Xtr, ytr, Xte, yte = _clf_data()
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

    Xtr, ytr, Xte, yte = _clf_data()
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


# ------------------------------------------------------------------------ evaluation


def test_unpruned_tree_overfits_and_shallow_tree_does_not() -> None:
    Xtr, ytr, Xte, yte = _clf_data()
    deep = check_no_overfitting(DecisionTreeClassifier(random_state=0), Xtr, ytr, Xte, yte)
    assert not deep.passed and deep.details["train_score"] == pytest.approx(1.0)
    shallow = check_no_overfitting(
        DecisionTreeClassifier(max_depth=3, random_state=0), Xtr, ytr, Xte, yte
    )
    assert shallow.passed


def test_suspiciously_good_catches_a_leaked_feature() -> None:
    Xtr, ytr, Xte, yte = _clf_data()
    assert check_not_suspiciously_good(LogisticRegression(), Xtr, ytr, Xte, yte).passed
    leak_tr = np.column_stack([Xtr, ytr + np.random.default_rng(0).normal(0, 0.01, len(ytr))])
    leak_te = np.column_stack([Xte, yte + np.random.default_rng(1).normal(0, 0.01, len(yte))])
    result = check_not_suspiciously_good(LogisticRegression(), leak_tr, ytr, leak_te, yte)
    assert not result.passed and "near-perfect" in result.message


def test_stability_across_folds() -> None:
    Xtr, ytr, _, _ = _reg_data(3000)
    stable = check_stable_across_folds(LinearRegression(), Xtr, ytr, cv=5)
    assert stable.passed and len(stable.details["folds"]) == 5
    tiny_X, tiny_y = Xtr[:60], ytr[:60]
    shaky = check_stable_across_folds(DecisionTreeRegressor(random_state=0), tiny_X, tiny_y, cv=5)
    assert not shaky.passed, shaky.message
    groups = np.repeat(np.arange(30), 100)[: len(Xtr)]
    grouped = check_stable_across_folds(LinearRegression(), Xtr, ytr, cv=5, groups=groups)
    assert grouped.details["grouped"] is True


def test_fair_predictor_passes_and_biased_one_fails() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    group = rng.choice(["a", "b"], n)
    y = (rng.random(n) < 0.4).astype(int)
    fair_pred = np.where(rng.random(n) < 0.85, y, 1 - y)
    fair = check_fair(y, fair_pred, group)
    assert fair.passed, fair.message
    biased_pred = np.where(group == "b", fair_pred * (rng.random(n) < 0.5), fair_pred)
    biased = check_fair(y, biased_pred, group)
    assert not biased.passed
    assert biased.value < 0.8 and "four-fifths" in biased.message
    assert {g["group"] for g in biased.details["groups"]} == {"a", "b"}


def test_fair_small_groups_warn_instead_of_dividing_by_zero() -> None:
    y = np.array([1, 0] * 50 + [1, 0])
    pred = y.copy()
    group = np.array(["big"] * 100 + ["tiny"] * 2)
    result = check_fair(y, pred, group)
    assert not result.passed and result.severity == "warning"
    assert result.details["too_small"] == ["tiny"]
    with pytest.raises(MLCheckUsageError, match="holds scores"):
        check_fair(y, np.linspace(0, 1, len(y)), group)


def test_fair_with_named_labels_needs_the_favourable_one() -> None:
    """String labels used to be compared with pos_label=1, matched nothing and passed."""
    rng = np.random.default_rng(1)
    n = 4000
    group = rng.choice(["F", "M"], n)
    y = np.where(rng.random(n) < 0.4, "approved", "denied")
    pred = np.where((group == "F") & (rng.random(n) < 0.6), "denied", y)
    with pytest.raises(MLCheckUsageError, match=r"pass pos_label= the positive"):
        check_fair(y, pred, group)
    with pytest.raises(MLCheckUsageError, match=r"pos_label 'yes' never occurs"):
        check_fair(y, pred, group, pos_label="yes")
    biased = check_fair(y, pred, group, pos_label="approved")
    assert not biased.passed and biased.value < 0.8
    assert check_fair(y, y, group, pos_label="approved").passed
    as_bool = check_fair(y == "approved", pred == "approved", group)
    assert as_bool.value == pytest.approx(biased.value)


def test_slices_with_named_labels_score_the_named_positive_class() -> None:
    """f1 on string labels used to compare them with 1, score 0 everywhere and pass."""
    rng = np.random.default_rng(2)
    n = 3000
    region = rng.choice(["north", "south"], n)
    y = np.where(rng.random(n) < 0.4, "fraud", "ok")
    pred = np.where(rng.random(n) < 0.9, y, np.where(y == "fraud", "ok", "fraud"))
    pred = np.where((region == "south") & (y == "fraud") & (rng.random(n) < 0.5), "ok", pred)
    with pytest.raises(MLCheckUsageError, match="pos_label"):
        check_slices_perform(y, pred, region, metric="f1")
    result = check_slices_perform(y, pred, region, metric="recall", pos_label="fraud")
    assert not result.passed and result.details["slices"][0]["slice"] == "south"
    assert check_slices_perform(y, pred, region, metric="accuracy").details["overall"] > 0.7
    with pytest.raises(MLCheckUsageError, match="needs numeric"):
        check_slices_perform(y, pred, region, metric="mae")


def test_slices_report_the_weakest_with_sizes() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    region = rng.choice(["north", "south", "east"], n)
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.9, y, 1 - y)
    ok = check_slices_perform(y, pred, region, metric="accuracy")
    assert ok.passed
    worse = np.where((region == "east") & (rng.random(n) < 0.4), 1 - y, pred)
    result = check_slices_perform(y, worse, pd.DataFrame({"region": region}), metric="accuracy")
    assert not result.passed
    assert result.details["slices"][0]["slice"] == "region=east"
    assert result.details["slices"][0]["size"] == int((region == "east").sum())
    err = check_slices_perform(
        y.astype(float), worse.astype(float), {"east": region == "east"}, metric="mae"
    )
    assert err.details["slices"][0]["shortfall"] > 0


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
