"""performance_holds: fires on a real fall of the metric per window, quiet on windows like the
baseline, warns when a drop is likely but not established, names windows it cannot judge.
no_concept_drift: fires on a changed relation, quiet on covariate shift alone."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckError, MLCheckUsageError
from pytest_mlchecks._protocol import Recorder, Settings, recording

from ...conftest import needs_sklearn


def _scores(n: int, auc: float, seed: int, prevalence: float = 0.5) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    d = NormalDist().inv_cdf(auc) * math.sqrt(2.0)
    y = (rng.random(n) < prevalence).astype(int)
    return y, rng.normal(size=n) + d * y


def _stream(sizes: list[tuple[int, float]], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    parts = [_scores(n, auc, seed + i) for i, (n, auc) in enumerate(sizes)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# ----------------------------------------------------------------------- performance_holds


def test_a_real_drop_fails_with_the_windows_named() -> None:
    y, s = _stream([(1000, 0.85)] * 3 + [(1000, 0.72)] * 2)
    with pytest.raises(MLCheckError) as info:
        mlc.assert_performance_holds(y, s, baseline=0.85, window=1000)
    outcome = info.value.results[0]
    d = outcome.details
    assert d["drops"] == 2 and d["judged"] == 5 and d["undecided"] == 0
    assert [w["verdict"] for w in d["windows"]] == ["ok", "ok", "ok", "drop", "drop"]
    assert d["windows"][3]["start"] == 3000 and d["windows"][3]["end"] == 3999
    assert outcome.value == pytest.approx(d["worst_drop"]) and outcome.value > 0.1
    assert outcome.threshold == 0.05
    message = str(info.value)
    assert "fell more than max_drop 0.05 below the baseline 0.85" in message
    assert "3000..3999" in message and "How to fix" in message


def test_windows_like_the_baseline_pass() -> None:
    y, s = _stream([(1000, 0.85)] * 5)
    outcome = mlc.assert_performance_holds(y, s, baseline=0.85, window=1000)
    assert outcome.passed and outcome.severity == "error"
    assert outcome.details["judged"] == 5 and outcome.value < 0.05
    assert "stayed within max_drop" in outcome.message


def test_one_window_by_default_and_a_drop_within_noise_is_a_warning() -> None:
    y, s = _stream([(1000, 0.85)])
    assert mlc.check_performance_holds(y, s, baseline=0.85).details["windows_total"] == 1
    y, s = _scores(60, 0.78, 1)  # a fall past 0.05 well within the noise of 60 labels
    assert mlc.check_performance_holds(y, s, baseline=0.85).passed
    y, s = _scores(100, 0.78, 1)  # beyond noise at 5%, not at 1%: a warning
    outcome = mlc.check_performance_holds(y, s, baseline=0.85)
    w = outcome.details["windows"][0]
    assert 1.645 * w["se"] < outcome.details["worst_drop"] < outcome.details["z"] * w["se"]
    assert not outcome.passed and outcome.severity == "warning"
    assert "beyond noise at 5% but not at 1%" in outcome.message
    with pytest.warns(mlc.MLCheckWarning):
        mlc.assert_performance_holds(y, s, baseline=0.85)


def test_time_windows_with_delayed_labels() -> None:
    y, s = _stream([(700, 0.85)] * 4)
    labels = y.astype(float)
    labels[-200:] = np.nan  # labels of the last days have not arrived
    stamps = pd.Series(pd.date_range("2024-01-01", periods=len(y), freq="h"))
    outcome = mlc.check_performance_holds(
        labels, s, baseline=0.85, timestamps=stamps, window="7D", min_labels=100
    )
    d = outcome.details
    assert d["labelled"] == len(y) - 200 and d["rows"] == len(y)
    assert d["windows"][0]["start"] == "2024-01-01T00:00:00"
    assert d["windows"][0]["end"] == "2024-01-08T00:00:00" and d["windows"][0]["rows"] == 168
    undecided = [w for w in d["windows"] if w["verdict"] == "undecided"]
    assert undecided and "min_labels" in undecided[-1]["reason"]
    assert "not judged (too few labels)" in outcome.message
    # shuffled rows give the same windows: they are cut on the sorted time stamps
    order = np.random.default_rng(0).permutation(len(y))
    again = mlc.check_performance_holds(
        labels[order],
        s[order],
        baseline=0.85,
        timestamps=stamps[order],
        window="7D",
        min_labels=100,
    )
    assert again.details["windows"] == d["windows"]


def test_error_metrics_and_label_metrics_are_direction_aware() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(size=2000)
    pred = truth + rng.normal(scale=0.5, size=2000)
    ok = mlc.check_performance_holds(truth, pred, baseline=0.4, metric="mae", window=500)
    assert ok.passed and not ok.details["greater_is_better"]
    worse = truth + rng.normal(scale=1.0, size=2000)
    bad = mlc.check_performance_holds(truth, worse, baseline=0.4, metric="mae", window=500)
    assert not bad.passed and bad.details["worst_drop"] > 0.3
    labels = np.array(["spam", "ham"] * 500)
    predicted = np.where(rng.random(1000) < 0.9, labels, np.where(labels == "spam", "ham", "spam"))
    acc = mlc.check_performance_holds(labels, predicted, baseline=0.9, metric="accuracy")
    assert acc.passed
    f1 = mlc.check_performance_holds(
        labels, predicted, baseline={"f1": 0.9, "se": 0.01}, metric="f1", pos_label="spam"
    )
    assert f1.passed and f1.details["baseline_se"] == 0.01


def test_threshold_from_argument_and_ini() -> None:
    y, s = _stream([(2000, 0.80)])  # a drop of about 0.05 from 0.85
    loose = mlc.check_performance_holds(y, s, baseline=0.85, max_drop=0.2)
    assert loose.passed and loose.threshold == 0.2
    assert loose.provenance["performance_max_drop"]["source"] == "argument"
    strict = mlc.check_performance_holds(y, s, baseline=0.85, max_drop=0.0)
    assert not strict.passed
    with recording(Recorder("ini", Settings(ini={"performance_max_drop": 0.3}))):
        from_ini = mlc.check_performance_holds(y, s, baseline=0.9)
        assert from_ini.threshold == 0.3 and from_ini.passed
        assert from_ini.provenance["performance_max_drop"]["source"] == "ini"
        # the signature's 0.05, passed on purpose, beats the ini option
        given = mlc.check_performance_holds(y, s, baseline=0.9, max_drop=0.05)
        assert given.threshold == 0.05 and not given.passed
    import inspect

    default = inspect.signature(mlc.check_performance_holds).parameters["max_drop"].default
    assert default == 0.05 and repr(default) == "0.05"


def test_performance_usage_errors_name_the_argument() -> None:
    y, s = _stream([(300, 0.85)])
    cases = [
        (dict(baseline="0.8"), "baseline"),
        (dict(baseline=float("nan")), "baseline"),
        (dict(baseline={"accuracy": 0.8}), "baseline"),
        (dict(baseline=0.8, metric="auc"), "metric"),
        (dict(baseline=0.8, max_drop=-0.1), "max_drop"),
        (dict(baseline=0.8, window=0), "window"),
        (dict(baseline=0.8, window=2.5), "window"),
        (dict(baseline=0.8, window="7D"), "timestamps"),
        (dict(baseline=0.8, window="1M", timestamps=pd.date_range("2024", periods=300)), "window"),
        (dict(baseline=0.8, timestamps=np.arange(10)), "timestamps"),
        (dict(baseline=0.8, min_labels=0), "min_labels"),
        (dict(baseline=0.8, pos_label=7), "pos_label"),
    ]
    for kwargs, name in cases:
        with pytest.raises(MLCheckUsageError, match=name):
            mlc.check_performance_holds(y, s, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(MLCheckUsageError, match="y_score"):
        mlc.check_performance_holds(y, s[:10], baseline=0.8)
    with pytest.raises(MLCheckUsageError, match="y_score"):
        mlc.check_performance_holds(y, np.c_[s, s, s], baseline=0.8)
    with pytest.raises(MLCheckUsageError, match="pos_label"):
        mlc.check_performance_holds(np.where(y == 1, "a", "b"), s, baseline=0.8)
    with pytest.raises(MLCheckUsageError, match="cannot decide"):
        mlc.check_performance_holds(y[:100], s[:100], baseline=0.8, window=10)
    with pytest.raises(MLCheckUsageError, match="no label yet"):
        mlc.check_performance_holds(np.full(50, np.nan), s[:50], baseline=0.8)


def test_performance_inputs_untouched_and_deterministic() -> None:
    y, s = _stream([(500, 0.85)] * 2)
    labels = pd.Series(y.astype(float))
    labels.iloc[:5] = np.nan
    before = (labels.copy(), s.copy())
    first = mlc.check_performance_holds(labels, s, baseline=0.85, window=250, metric="roc_auc")
    second = mlc.check_performance_holds(labels, s, baseline=0.85, window=250, metric="roc_auc")
    assert first.to_dict() == second.to_dict()
    assert labels.equals(before[0]) and np.array_equal(s, before[1])


def test_performance_chart_draws_each_window_against_the_baseline() -> None:
    from pytest_mlchecks._charts import chart_for

    y, s = _stream([(500, 0.85)] * 3)
    outcome = mlc.check_performance_holds(y, s, baseline=0.85, window=500)
    build = chart_for("performance_holds")
    assert build is not None
    (drawn,) = build(outcome.to_dict()["details"])
    metric = outcome.details["windows"]
    assert drawn.points(drawn.lines[0]) == [(i + 1, w["metric"]) for i, w in enumerate(metric)]
    assert drawn.x_label == "window (0 to 1499)"
    assert [(m.name, m.value) for m in drawn.marks] == [
        ("baseline", 0.85),
        ("drop line", pytest.approx(0.8)),
    ]
    assert drawn.points(drawn.lines[1]) == []  # no window dropped
    assert "<polyline" in drawn.svg() and build({}) == []


# ------------------------------------------------------------------------ no_concept_drift


def _logistic(
    n: int, seed: int, shift: float = 0.0, beta: tuple[float, ...] = (1.0, -1.0, 0.5)
) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) + shift
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ np.array(beta))))).astype(int)
    return pd.DataFrame(X, columns=["a", "b", "c"]), y


@needs_sklearn
def test_a_flipped_relation_fails() -> None:
    Xa, ya = _logistic(1000, 0)
    Xb, yb = _logistic(1000, 1, beta=(-1.0, -1.0, 0.5))
    with pytest.raises(MLCheckError) as info:
        mlc.assert_no_concept_drift(Xa, ya, Xb, yb)
    d = info.value.results[0].details
    assert d["gain"] > d["min_gain"] and d["gain"] > d["z"] * d["gain_se"]
    assert d["skill_cur_model"] > d["skill_ref_model"] + 0.2
    assert d["conditional_moves"][0]["feature"] == "a"  # the flipped coefficient
    assert d["conditional_moves"][0]["bin"] in ("quintile 1", "quintile 5")
    message = str(info.value)
    assert "relation between features and label changed" in message
    assert "assert_no_drift on y_ref vs y_cur" in message


@needs_sklearn
def test_covariate_shift_alone_and_the_same_relation_pass() -> None:
    Xa, ya = _logistic(1000, 0)
    Xb, yb = _logistic(1000, 1, shift=1.0)
    shifted = mlc.assert_no_concept_drift(Xa, ya, Xb, yb)
    assert shifted.passed and "holds" in shifted.message
    assert not mlc.check_no_drift(Xa, Xb).passed  # the inputs did move: no_drift's finding
    Xc, yc = _logistic(1000, 2)
    assert mlc.check_no_concept_drift(Xa, ya, Xc, yc).passed


@needs_sklearn
def test_concept_threshold_override_regression_and_model() -> None:
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(4)
    Xa = pd.DataFrame({"x": rng.normal(size=600), "g": rng.choice(["u", "v"], 600)})
    Xb = pd.DataFrame({"x": rng.normal(size=600), "g": rng.choice(["u", "v"], 600)})
    ya = 2 * Xa["x"].to_numpy() + rng.normal(size=600)
    yb = -2 * Xb["x"].to_numpy() + rng.normal(size=600)
    outcome = mlc.check_no_concept_drift(Xa, ya, Xb, yb)
    assert not outcome.passed and outcome.details["task"] == "regression"
    assert mlc.check_no_concept_drift(Xa, ya, Xb, yb, min_gain=1.0).passed
    with recording(Recorder("ini", Settings(ini={"concept_drift_min_gain": 1.0}))):
        assert mlc.check_no_concept_drift(Xa, ya, Xb, yb).threshold == 1.0
    numeric = Xa[["x"]], Xb[["x"]]
    linear = mlc.check_no_concept_drift(numeric[0], ya, numeric[1], yb, model=LinearRegression())
    assert linear.details["learner"] == "LinearRegression"  # a line cannot use the period...
    assert linear.passed  # ...additively against a flipped slope: a model must be able to


@needs_sklearn
def test_concept_usage_errors_name_the_argument_and_inputs_untouched() -> None:
    Xa, ya = _logistic(300, 0)
    Xb, yb = _logistic(300, 1)
    before = Xa.copy(), ya.copy(), Xb.copy(), yb.copy()
    first = mlc.check_no_concept_drift(Xa, ya, Xb, yb, random_state=1)
    assert first.to_dict() == mlc.check_no_concept_drift(Xa, ya, Xb, yb, random_state=1).to_dict()
    assert Xa.equals(before[0]) and Xb.equals(before[2])
    assert np.array_equal(ya, before[1]) and np.array_equal(yb, before[3])
    with pytest.raises(MLCheckUsageError, match="X_cur"):
        mlc.check_no_concept_drift(Xa, ya, Xb.rename(columns={"a": "z"}), yb)
    with pytest.raises(MLCheckUsageError, match="y_cur"):
        mlc.check_no_concept_drift(Xa, ya, Xb, yb[:100])
    with pytest.raises(MLCheckUsageError, match="X_ref"):
        mlc.check_no_concept_drift(Xa[:50], ya[:50], Xb, yb)
    with pytest.raises(MLCheckUsageError, match="cv"):
        mlc.check_no_concept_drift(Xa, ya, Xb, yb, cv=1)
    with pytest.raises(MLCheckUsageError, match="min_gain"):
        mlc.check_no_concept_drift(Xa, ya, Xb, yb, min_gain=-1)
    with pytest.raises(MLCheckUsageError, match="model"):
        mlc.check_no_concept_drift(Xa, ya, Xb, yb, model=object())
    with pytest.raises(MLCheckUsageError, match="y_cur"):
        mlc.check_no_concept_drift(Xa, ya, Xb, np.zeros(300, dtype=int))


@needs_sklearn
def test_concept_chart_compares_the_relations_on_current_rows() -> None:
    from pytest_mlchecks._charts import chart_for

    Xa, ya = _logistic(400, 0)
    Xb, yb = _logistic(400, 1, beta=(-1.0, -1.0, 0.5))
    outcome = mlc.check_no_concept_drift(Xa, ya, Xb, yb)
    build = chart_for("no_concept_drift")
    assert build is not None
    (drawn,) = build(outcome.to_dict()["details"])
    assert list(drawn.labels) == ["reference relation", "current relation", "period ignored"]
    assert "<svg" in drawn.svg() and build({}) == []


def _autocorrelated(seed: int, flip: bool, n: int = 2000) -> tuple[Any, ...]:
    """Two periods of rows in time order whose label carries a slowly wandering level (AR(1),
    phi 0.995: hours-long weather, a campaign): the same relation to the features in both
    periods unless ``flip`` reverses the first coefficient in the current one."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * n, 3))
    level, steps = np.zeros(2 * n), rng.normal(size=2 * n) * 0.3
    for t in range(1, 2 * n):
        level[t] = 0.995 * level[t - 1] + steps[t]
    coef = np.tile([1.0, -1.0, 0.5], (2 * n, 1))
    if flip:
        coef[n:, 0] = -1.0
    y = (X * coef).sum(axis=1) + level + rng.normal(size=2 * n)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    return frame.iloc[:n], y[:n], frame.iloc[n:].reset_index(drop=True), y[n:]


@needs_sklearn
def test_concept_autocorrelated_rows_judged_by_blocks_not_rows() -> None:
    """Rows in time order with autocorrelated errors: the per-row SE makes a chance level
    difference between the periods look certain; the batch-means SE does not, and a real
    change of the relation is still found."""
    same = mlc.check_no_concept_drift(*_autocorrelated(0, flip=False))
    d = same.details
    assert same.passed, same.message
    assert d["gain"] > 0.01 and d["gain"] > 3.09 * d["row_se"]  # rows alone: a false alarm
    assert d["block_se"] > 3 * d["row_se"] and d["gain_se"] == d["block_se"]
    changed = mlc.check_no_concept_drift(*_autocorrelated(3, flip=True))
    assert not changed.passed and changed.details["gain"] > 3.09 * changed.details["block_se"]
