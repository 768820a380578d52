"""Evaluation rung: curves that diagnose a model: reliability (calibration) and learning curve.

``calibrated`` bins the predicted probabilities in equal-mass bins and compares each bin's
mean prediction with the rate observed in it (expected calibration error, ECE). A perfectly
calibrated model still shows an ECE above zero from sampling alone, so the check subtracts an
analytic allowance for that noise (binomial, under the hypothesis that the probabilities are
right) before holding the excess to ``max_ece``.

``learning_curve_healthy`` fits clones of the model on growing shares of seeded
cross-validation folds and reads one diagnosis off the curve: overfitting, underfitting,
validation above train, or (informational) "more data would still help".
"""

from __future__ import annotations

import math
from typing import Any, TypedDict

import numpy as np

from pytest_mlchecks._charts import Chart, Line, LineChart, Mark, chart
from pytest_mlchecks._messages import compose
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks._stats import chi2_isf
from pytest_mlchecks.inputs.models import (
    Scorer,
    Task,
    choose_metric,
    cross_validated,
    dummy_for,
    fold_inputs,
    fold_spread,
    scorer_for,
    sklearn_for,
    splitter,
    task_of,
)
from pytest_mlchecks.inputs.probabilities import scored_labels
from pytest_mlchecks.inputs.tables import (
    Metric,
    TableLike,
    VectorLike,
    fmt,
    label_vector,
)

__all__ = ["check_calibrated", "check_learning_curve_healthy"]

# ---------------------------------------------------------------------------- calibration

FALSE_ALARM = 0.01  # one-sided level of the noise allowance (split over the classes judged)
MAX_BINS = 20
MIN_BIN_ROWS = 30  # fewer rows per bin and a bin's observed rate is mostly noise

CALIBRATED_WHY = (
    "a probability is a promise: of the rows given 0.8, about 80% should be positive. "
    "Miscalibrated probabilities mislead every decision taken on them (expected costs, "
    "thresholds, risk scores shown to people), even when the ranking (ROC-AUC) is good."
)
CALIBRATED_FIX = (
    "recalibrate on held-out data (scikit-learn's CalibratedClassifierCV with "
    "method='sigmoid' for small data, 'isotonic' for large), or fix the cause: naive Bayes "
    "and boosted / few-tree ensembles are overconfident or pushed away from 0 and 1, strong "
    "regularisation and class re-weighting shift the probabilities."
)


class ReliabilityBins(TypedDict):
    """The reliability curve of one class: per equal-mass bin of predicted probability."""

    predicted: list[float]  # mean predicted probability in the bin
    observed: list[float]  # observed rate of the class in the bin
    rows: list[int]


class CalibrationDetails(TypedDict):
    """What ``calibrated`` measured (the record's ``details``)."""

    rows: int
    bins: int  # equal-mass bins: min(20, round(n ** (1/3)), n // 30), at least 1
    classes: list[str]  # the classes judged (binary: the positive class alone)
    ece: list[float]  # per class judged
    allowance: list[float]  # per class: ECE that sampling alone reaches (1% level overall)
    excess: list[float]  # per class: ECE minus its allowance
    worst_class: str
    worst_ece: float
    worst_excess: float
    max_ece: float
    curve: ReliabilityBins  # of the worst class


def bin_count(rows: int) -> int:
    """Equal-mass bins for ``rows`` predictions: the cube-root rule, at most 20 bins and at
    least 30 rows per bin (one bin below 60 rows)."""
    return int(max(1, min(MAX_BINS, round(rows ** (1 / 3)), rows // MIN_BIN_ROWS)))


def _normal_quantile(level: float) -> float:
    """The z with P(Z > z) == ``level`` (through the chi-square with one degree of freedom)."""
    return math.sqrt(chi2_isf(2 * level, 1))


def _ece_of(
    prob: np.ndarray, hit: np.ndarray, bins: int, z: float
) -> tuple[float, float, ReliabilityBins]:
    """ECE of one class over equal-mass bins, its noise allowance and the curve.

    Under the calibrated hypothesis each bin's observed minus predicted rate has mean 0 and
    variance sum p(1 - p) / n_b^2; the ECE (rows-weighted mean of the absolute differences)
    then has mean sum w_b sqrt(2 v_b / pi) and variance sum w_b^2 v_b (1 - 2 / pi) (normal
    approximation); the allowance is that mean plus ``z`` standard deviations."""
    order = np.argsort(prob, kind="stable")
    n = len(prob)
    ece = mean = var = 0.0
    curve: ReliabilityBins = {"predicted": [], "observed": [], "rows": []}
    for part in np.array_split(order, bins):
        p, y = prob[part], hit[part]
        w = len(part) / n
        predicted, observed = float(p.mean()), float(y.mean())
        v = float((p * (1 - p)).sum()) / len(part) ** 2
        ece += w * abs(observed - predicted)
        mean += w * math.sqrt(2 * v / math.pi)
        var += w * w * v * (1 - 2 / math.pi)
        curve["predicted"].append(predicted)
        curve["observed"].append(observed)
        curve["rows"].append(len(part))
    return ece, mean + z * math.sqrt(var), curve


def _calibration_inputs(
    y_true: VectorLike, y_prob: Any, classes: Any
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Validated (probabilities (n, k), the class index of each row, class names)."""
    truth = label_vector(y_true, "y_true")
    return scored_labels(truth, truth, y_prob, classes, ("y_true", "y_prob"))


def _measure_calibrated(
    prob: np.ndarray, index: np.ndarray, names: list[Any], limit: float
) -> CalibrationDetails:
    """ECE, noise allowance and excess per class (binary: the positive class only)."""
    n, width = prob.shape
    judged = [1] if width == 2 else list(range(width))
    bins = bin_count(n)
    z = _normal_quantile(FALSE_ALARM / len(judged))
    eces, allowances, curves = [], [], []
    for c in judged:
        ece, allowance, curve = _ece_of(prob[:, c], index == c, bins, z)
        eces.append(ece)
        allowances.append(allowance)
        curves.append(curve)
    excess = [e - a for e, a in zip(eces, allowances, strict=True)]
    worst = int(np.argmax(excess))
    return {
        "rows": n,
        "bins": bins,
        "classes": [str(names[c]) for c in judged],
        "ece": eces,
        "allowance": allowances,
        "excess": excess,
        "worst_class": str(names[judged[worst]]),
        "worst_ece": eces[worst],
        "worst_excess": excess[worst],
        "max_ece": limit,
        "curve": curves[worst],
    }


def _explain_calibrated(details: CalibrationDetails, failed: bool) -> str:
    d = details
    which = "" if len(d["classes"]) == 1 else f"worst class {d['worst_class']!r}: "
    head = (
        f"calibrated: {which}expected calibration error {fmt(d['worst_ece'], 4)} over "
        f"{d['bins']} equal-mass bins of {d['rows']:,} rows; sampling noise explains up to "
        f"{fmt(d['worst_ece'] - d['worst_excess'], 4)}, leaving {fmt(d['worst_excess'], 4)} "
        f"(limit {fmt(d['max_ece'], 4)})"
    )
    if not failed:
        return head + "."
    c = d["curve"]
    gaps = [o - p for p, o in zip(c["predicted"], c["observed"], strict=True)]
    far = int(np.argmax(np.abs(gaps)))
    body = (
        f"Largest gap: rows given {fmt(c['predicted'][far], 3)} on average were positive "
        f"{fmt(c['observed'][far], 3)} of the time "
        f"(probabilities too {'low' if gaps[far] > 0 else 'high'} there)."
    )
    if len(d["classes"]) > 1:
        per = ", ".join(f"{k}: {fmt(e, 3)}" for k, e in zip(d["classes"], d["ece"], strict=True))
        body += f" ECE per class: {per}."
    return compose(head + ".", body=body, why=CALIBRATED_WHY, fix=CALIBRATED_FIX)


@check("calibrated")
def check_calibrated(
    y_true: VectorLike,
    y_prob: Any,
    *,
    max_ece: float | None = None,
    classes: Any = None,
) -> CheckResult:
    """Detect miscalibrated probabilities: expected calibration error beyond sampling noise.

    ``y_prob``: positive-class probabilities (binary; labels 0/1, False/True, or two labels of
    which the greater is positive) or an (n, k) ``predict_proba`` matrix (columns in the
    order of ``classes``, default the sorted labels, or 0..k-1 for integer labels). The rows
    are cut into equal-mass bins of predicted probability (``min(20, round(n ** (1/3)),
    n // 30)`` bins); ECE is the rows-weighted mean of |observed rate - mean prediction|.
    Figure: ECE minus the ECE that sampling alone reaches at the 1% level under the
    calibrated hypothesis (per class, one-vs-rest, for multiclass: the worst class, the level
    split over the classes), held to ``max_ece`` (ini ``ml_calibration_max_ece``).
    """
    limit = resolve_threshold("calibration_max_ece", max_ece)
    prob, index, names = _calibration_inputs(y_true, y_prob, classes)
    details = _measure_calibrated(prob, index, names, limit)
    failed = details["worst_excess"] > limit
    message = _explain_calibrated(details, failed)
    return result(not failed, "error", details["worst_excess"], limit, message, dict(details))


# ---------------------------------------------------------------------------- learning curve

DEFAULT_TRAIN_SIZES = (0.1, 0.325, 0.55, 0.775, 1.0)
Z_FOLDS = 2.326  # one-sided 1%: a fold-averaged difference must clear this many SEs

LEARNING_WHY = {
    "overfitting": (
        "the model fits its training rows far better than rows it has not seen: the "
        "training score flatters it, and its predictions move with the sample it was fitted on."
    ),
    "underfitting": (
        "even on the rows it was fitted on the model barely beats a constant prediction: it "
        "cannot represent the relationship (too simple, too regularised, missing features) "
        "or X holds no signal about y."
    ),
    "validation_above_train": (
        "a model cannot, on average, do better on rows it never saw than on the rows it was "
        "fitted on; validation consistently above train means the validation rows are easier "
        "(information about the target that only they carry, rows shared across folds with "
        "a model that scores training rows differently, or a scorer that differs)."
    ),
}
LEARNING_FIX = {
    "overfitting": (
        "regularise (max_depth / min_samples_leaf for trees, alpha / C for linear models), "
        "use fewer or less noisy features, or get more data; tune on validation folds."
    ),
    "underfitting": (
        "use a more flexible model or features that expose the relationship (interactions, "
        "non-linear terms), weaken the regularisation, and check that X and y are aligned."
    ),
    "validation_above_train": (
        "look for features built on the full data (target encodings, aggregates, imputations "
        "fitted before the split), duplicated rows, and training-only noise or weighting; "
        "run assert_no_leakage and assert_fit_on_train_only."
    ),
}


class LearningCurveDetails(TypedDict):
    """What ``learning_curve_healthy`` measured (the record's ``details``)."""

    metric: str
    folds: int
    train_sizes: list[int]  # training rows at each point of the curve
    train_mean: list[float]
    validation_mean: list[float]
    train_std: list[float]  # across folds
    validation_std: list[float]
    dummy: float  # cross-validated score of the matching Dummy baseline
    gap: float  # train - validation at the largest size
    gap_se: float  # its fold standard error
    train_gain: float  # train - dummy at the largest size
    last_rise: float  # validation gain between the last two sizes
    last_rise_se: float
    diagnosis: str  # healthy, overfitting, underfitting, validation_above_train
    more_data_helps: bool  # validation still rising beyond fold noise at the largest size
    max_gap: float
    min_gain: float
    max_advantage: float


def _fraction_sizes(train_sizes: Any) -> np.ndarray:
    """``train_sizes`` as scikit-learn's learning_curve reads them (fractions in (0, 1] or
    row counts), at least two points, or a usage error naming it."""
    if train_sizes is None:
        return np.asarray(DEFAULT_TRAIN_SIZES)
    try:
        sizes = np.asarray(train_sizes, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise MLCheckUsageError(
            f"train_sizes must be numbers (fractions or row counts), got {train_sizes!r}."
        ) from exc
    if len(sizes) < 2 or not np.isfinite(sizes).all() or (sizes <= 0).any():
        raise MLCheckUsageError(
            "train_sizes must hold at least two positive numbers (fractions in (0, 1] of the "
            f"training folds, or row counts), got {train_sizes!r}."
        )
    if (sizes <= 1).all():
        return sizes
    if (sizes > 1).all() and np.array_equal(sizes, np.round(sizes)):
        return sizes.astype(int)
    raise MLCheckUsageError(
        f"train_sizes must be all fractions in (0, 1] or all whole row counts, got {train_sizes!r}."
    )


def _curve(
    model: Any, X: Any, y: np.ndarray, scorer: Scorer, split: Any, sizes: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row counts, train and validation scores (sizes x folds) of clones of ``model``."""
    import warnings

    from sklearn.base import clone
    from sklearn.model_selection import learning_curve

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small share without a class: NaN, dropped below
        try:
            counts, train, valid = learning_curve(
                clone(model),
                X,
                y,
                train_sizes=sizes,
                cv=split,
                scoring=scorer,
                shuffle=True,
                random_state=seed,
                error_score=np.nan,
            )
        except ValueError as exc:
            arg = "cv" if "split" in str(exc) or "members" in str(exc) else "train_sizes"
            raise MLCheckUsageError(f"{arg}: {exc}") from exc
    keep = np.isfinite(train).all(axis=1) & np.isfinite(valid).all(axis=1)
    if not keep[-1] or keep.sum() < 2:
        raise MLCheckUsageError(
            "the model could not be fitted and scored on every fold at two or more "
            "train_sizes including the largest (too few rows per fold, or a fold with one "
            "class): pass more rows, larger train_sizes or a smaller cv."
        )
    return np.asarray(counts)[keep], np.asarray(train)[keep], np.asarray(valid)[keep]


def _fold_se(values: np.ndarray) -> float:
    return fold_spread(values) / math.sqrt(len(values))


def _diagnose(
    train: np.ndarray, valid: np.ndarray, dummy: float, limits: tuple[float, float, float]
) -> tuple[str, dict[str, float]]:
    """One diagnosis from the curve's last point (and the one before for "more data")."""
    max_gap, min_gain, max_advantage = limits
    gaps = train[-1] - valid[-1]
    rise = valid[-1] - valid[-2]
    figures = {
        "gap": float(gaps.mean()),
        "gap_se": _fold_se(gaps),
        "train_gain": float(train[-1].mean() - dummy),
        "last_rise": float(rise.mean()),
        "last_rise_se": _fold_se(rise),
    }
    noise = Z_FOLDS * figures["gap_se"]
    if -figures["gap"] - noise > max_advantage:
        return "validation_above_train", figures
    if figures["gap"] - noise > max_gap:
        return "overfitting", figures
    if figures["train_gain"] < min_gain:
        return "underfitting", figures
    return "healthy", figures


def _measure_learning_curve(
    model: Any,
    X: Any,
    y: np.ndarray,
    task: Task,
    metric: Metric | None,
    cv: int,
    sizes: np.ndarray,
    seed: int,
    limits: tuple[float, float, float],
) -> LearningCurveDetails:
    name, _ = choose_metric(metric, task, model)
    scorer, label = scorer_for(name, model, task)
    split = splitter(task, cv, seed)
    counts, train, valid = _curve(model, X, y, scorer, split, sizes, seed)
    dummy = dummy_for(task, name if isinstance(name, str) else "")
    baseline = float(cross_validated(dummy, X, y, scorer, split).mean())
    diagnosis, figures = _diagnose(train, valid, baseline, limits)
    return {
        "metric": label,
        "folds": int(train.shape[1]),
        "train_sizes": [int(c) for c in counts],
        "train_mean": train.mean(axis=1).tolist(),
        "validation_mean": valid.mean(axis=1).tolist(),
        "train_std": [fold_spread(row) for row in train],
        "validation_std": [fold_spread(row) for row in valid],
        "dummy": baseline,
        "gap": figures["gap"],
        "gap_se": figures["gap_se"],
        "train_gain": figures["train_gain"],
        "last_rise": figures["last_rise"],
        "last_rise_se": figures["last_rise_se"],
        "diagnosis": diagnosis,
        "more_data_helps": figures["last_rise"] - Z_FOLDS * figures["last_rise_se"] > 0,
        "max_gap": limits[0],
        "min_gain": limits[1],
        "max_advantage": limits[2],
    }


def _explain_learning_curve(d: LearningCurveDetails) -> str:
    points = ", ".join(
        f"{n:,}: {fmt(t, 3)} / {fmt(v, 3)}"
        for n, t, v in zip(d["train_sizes"], d["train_mean"], d["validation_mean"], strict=True)
    )
    curve = (
        f"{d['metric']} train / validation by training rows: {points}; dummy {fmt(d['dummy'], 3)}"
    )
    gap = f"gap {fmt(d['gap'], 4)} (fold SE {fmt(d['gap_se'], 3)})"
    heads = {
        "healthy": f"learning_curve_healthy: no diagnosis ({gap}, limit {fmt(d['max_gap'], 3)}).",
        "overfitting": (
            f"learning_curve_healthy: overfitting: at {d['train_sizes'][-1]:,} rows train beats "
            f"validation by {gap}, beyond fold noise and the limit {fmt(d['max_gap'], 3)}."
        ),
        "underfitting": (
            "learning_curve_healthy: underfitting: the training score is only "
            f"{fmt(d['train_gain'], 4)} above the dummy baseline (limit "
            f"{fmt(d['min_gain'], 3)}); validation {fmt(d['validation_mean'][-1], 3)}."
        ),
        "validation_above_train": (
            f"learning_curve_healthy: validation above train by {fmt(-d['gap'], 4)} (fold SE "
            f"{fmt(d['gap_se'], 3)}), beyond fold noise and the limit "
            f"{fmt(d['max_advantage'], 3)}: a leakage signature."
        ),
    }
    body = curve + "."
    if d["more_data_helps"]:
        body += (
            f" Validation still rises by {fmt(d['last_rise'], 3)} (fold SE "
            f"{fmt(d['last_rise_se'], 3)}) over the last step: more data would help."
        )
    if d["diagnosis"] == "healthy":
        return heads["healthy"] + "\n" + body
    kind = d["diagnosis"]
    return compose(heads[kind], body=body, why=LEARNING_WHY[kind], fix=LEARNING_FIX[kind])


@check("learning_curve_healthy")
def check_learning_curve_healthy(
    model: Any,
    X: TableLike,
    y: VectorLike,
    *,
    cv: int = 5,
    train_sizes: Any = None,
    metric: Metric | None = None,
    max_gap: float | None = None,
    min_gain: float | None = None,
    max_advantage: float | None = None,
    random_state: int | None = None,
) -> CheckResult:
    """Diagnose a model from its learning curve: one verdict.

    Clones of ``model`` (never the object itself) are fitted on growing shares
    (``train_sizes``, default 10%, 32.5%, 55%, 77.5%, 100%) of the training part of ``cv``
    seeded folds (stratified for classification) and scored with the metric of
    ``beats_dummy`` on the training share and on the validation fold. At the largest size,
    with SE the fold standard error and 2.326 the one-sided 1% normal quantile:
    validation above train by more than ``max_advantage`` + 2.326 SE is a leakage signature;
    train above validation by more than ``max_gap`` + 2.326 SE is overfitting; a training
    score less than ``min_gain`` above the cross-validated Dummy baseline is underfitting
    (ini ``ml_learning_curve_max_gap``, ``ml_learning_curve_min_gain``,
    ``ml_learning_curve_max_advantage``). Validation still rising over the last step beyond
    fold noise is reported ("more data would help") without failing. Figure: the
    train - validation gap at the largest size (the train gain over the dummy when
    underfitting, validation - train for the leakage signature).
    """
    sklearn_for("assert_learning_curve_healthy")
    limits = (
        resolve_threshold("learning_curve_max_gap", max_gap),
        resolve_threshold("learning_curve_min_gain", min_gain),
        resolve_threshold("learning_curve_max_advantage", max_advantage),
    )
    X, labels = fold_inputs(X, y)
    task = task_of(model, labels)
    sizes = _fraction_sizes(train_sizes)
    seed = current_seed(random_state)
    details = _measure_learning_curve(model, X, labels, task, metric, cv, sizes, seed, limits)
    kind = details["diagnosis"]
    value, threshold = {
        "healthy": (details["gap"], limits[0]),
        "overfitting": (details["gap"], limits[0]),
        "underfitting": (details["train_gain"], limits[1]),
        "validation_above_train": (-details["gap"], limits[2]),
    }[kind]
    message = _explain_learning_curve(details)
    return result(kind == "healthy", "error", value, threshold, message, dict(details))


# --------------------------------------------------------------- the HTML report's charts


@chart("calibrated")
def _chart_calibrated(details: dict[str, Any]) -> list[Chart]:
    """The reliability curve of the worst class: observed rate against mean predicted
    probability per bin, with the diagonal of perfect calibration."""
    curve = details.get("curve")
    if not curve or not curve.get("predicted"):
        return []
    ece = details.get("worst_ece")
    title = f"Reliability of class {details.get('worst_class')}"
    if isinstance(ece, (int, float)):
        title += f" (ECE {fmt(ece, 3)})"
    return [
        LineChart(
            title,
            [Line("observed rate per bin", curve["predicted"], curve["observed"], "cur")],
            x_label="mean predicted probability",
            y_label="observed rate",
            diagonal=True,
            x_range=(0.0, 1.0),
            y_range=(0.0, 1.0),
        )
    ]


@chart("learning_curve_healthy")
def _chart_learning_curve(details: dict[str, Any]) -> list[Chart]:
    """The learning curve: mean train and validation score against training rows, and the
    dummy baseline's score."""
    sizes = details.get("train_sizes")
    if not sizes:
        return []
    marks = []
    if isinstance(details.get("dummy"), (int, float)):
        marks.append(Mark("dummy baseline", details["dummy"], "muted"))
    return [
        LineChart(
            f"Learning curve ({details.get('metric', 'score')}, {details.get('diagnosis', '')})",
            [
                Line("train", sizes, details["train_mean"], "ref"),
                Line("validation", sizes, details["validation_mean"], "cur"),
            ],
            x_label="training rows",
            y_label=str(details.get("metric", "score")),
            marks=marks,
        )
    ]
