"""One table of every check: its rung, its thresholds (defaults, ini names, sources).

The plugin (ini options, rung inference, fixtures) and the reports read this table; the check
modules read their defaults from it. Standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from pytest_mlchecks._result import RUNGS

#: the direction in which a figure gets worse
Worse = Literal["higher", "lower"]


@dataclass(frozen=True)
class ThresholdSpec:
    """A tunable limit: argument > ini option ``ml_<key>`` > ``default``.

    ``lo``/``hi`` bound its domain (``None``: unbounded on that side), ``lo_open``/``hi_open``
    make a bound exclusive; whatever the bounds, only finite numbers are valid (NaN never is).
    ``arg`` names the keyword argument of the checks that overrides it; ``allow_inf`` accepts
    +inf as "no limit" (for a threshold whose default is unset). The values live in
    ``DOMAINS`` below.
    """

    key: str
    default: float
    help: str
    source: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    arg: str = ""
    allow_inf: bool = False
    #: which way the figure held to this limit gets worse: "higher" (a maximum) or "lower"
    #: (a minimum); ``--ml-compare`` reads it through ``CheckSpec.worse``
    worse: Worse = "higher"

    @property
    def ini(self) -> str:
        return f"ml_{self.key}"

    @property
    def domain(self) -> str:
        """The valid values in words, e.g. ``"in [0, 1]"`` or ``"a finite number > 0"``."""
        if self.allow_inf:
            return self._bounds() + " (inf: no limit)"
        return self._bounds()

    def _bounds(self) -> str:
        if self.lo is None and self.hi is None:
            return "a finite number"
        if self.hi is None:
            return f"a finite number {'>' if self.lo_open else '>='} {self.lo:g}"
        if self.lo is None:
            return f"a finite number {'<' if self.hi_open else '<='} {self.hi:g}"
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"in {left}{self.lo:g}, {self.hi:g}{right}"

    def accepts(self, value: float) -> bool:
        """Whether ``value`` lies in the domain (NaN never does; +inf only with allow_inf)."""
        if math.isnan(value) or (math.isinf(value) and not (self.allow_inf and value > 0)):
            return False
        if math.isinf(value):
            return True
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        return not (self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi))


@dataclass(frozen=True)
class CheckSpec:
    """A check known to the plugin: ``assert_<name>`` / ``check_<name>`` in ``module``.

    ``worse`` says which way its headline figure gets worse (``--ml-compare``); it matches
    the ``worse`` of the threshold the figure is held to (``tests/test_registry.py``).

    ``summary`` says what it detects (docstring of the assert twin, reports); ``thresholds``
    are its keys in ``THRESHOLDS``; ``helpers`` is False for a check reached through another
    public name (``grad_tracker``: ``GradNormTracker.check()``), with no assert_/check_ pair.
    """

    name: str
    rung: str
    module: str
    summary: str
    thresholds: tuple[str, ...] = ()
    helpers: bool = True
    #: which way the check's headline figure (``CheckResult.value``) gets worse: "lower" for
    #: a figure held to a minimum (a score gap over a baseline, a ratio, a share)
    worse: Worse = "higher"

    @property
    def assert_name(self) -> str:
        return f"assert_{self.name}"

    @property
    def check_name(self) -> str:
        return f"check_{self.name}"


THRESHOLDS: dict[str, ThresholdSpec] = {
    spec.key: spec
    for spec in (
        ThresholdSpec(
            "finite_max_fraction",
            0.0,
            "largest tolerated fraction of non-finite cells in numeric columns",
            "zero tolerance: one NaN is enough to turn a loss or a mean into NaN",
        ),
        ThresholdSpec(
            "class_balance_min_fraction",
            0.1,
            "smallest class share below which class_balance warns",
            "10%: the common cut-off for 'imbalanced' (e.g. imbalanced-learn's examples, "
            "He & Garcia 2009 treat 1:10 as moderate imbalance)",
        ),
        ThresholdSpec(
            "row_overlap_max_fraction",
            0.0,
            "largest tolerated fraction of test rows that are exact copies of train rows",
            "zero tolerance for continuous data: a shared row is a copy, not a coincidence",
        ),
        ThresholdSpec(
            "row_overlap_chance_alpha",
            0.005,
            "tail probability of the chance bound on shared rows when rows repeat naturally "
            "(no column of mostly unique values)",
            "real-data calibration: 1 false alarm in 1,800 random splits of 6 naturally "
            "repetitive tables (carData TitanicSurvival, Arrests, Cowles, Womenlf, AER "
            "DoctorVisits, COUNT titanic; 300 splits each) at 0.005 with the chance rate lifted "
            "1.5 standard errors; the old 3-sigma allowance failed 1 of 30 TitanicSurvival "
            "splits",
        ),
        ThresholdSpec(
            "entity_overlap_max_fraction",
            0.0,
            "largest tolerated fraction of test rows whose entity (id_columns) is also in train",
            "zero tolerance: an entity split (GroupShuffleSplit) puts each id on one side",
        ),
        ThresholdSpec(
            "duplicates_max_fraction",
            0.0,
            "largest tolerated fraction of rows repeating an earlier row in one table",
            "API default: exact duplicates are a data-quality finding",
        ),
        ThresholdSpec(
            "conflicting_labels_max_fraction",
            0.0,
            "largest tolerated fraction of rows in a group of identical feature rows whose "
            "labels differ",
            "API default 0: a policy, not a noise allowance (exact grouping has no chance "
            "matches). Measured (--only labels): 17 of 29 real tables have none; 12 do "
            "(TitanicSurvival 59%, Cowles 65%, Arrests 31%, Womenlf 50%, COUNT titanic 98%, "
            "OJ 2.8%; regression targets compared exactly: Wage 18%, Salaries 27%, "
            "DoctorVisits 16%, CPS1985 6.0%, mpg 2.6%, diamonds 0.74%): coarse features",
        ),
        ThresholdSpec(
            "target_leakage_max_auc",
            0.99,
            "single-feature test ROC-AUC above which a feature is near-perfect and fails "
            "whatever its peers (judged one standard error below the measured AUC)",
            "real-data calibration (python -m pytest_mlchecks.calibration --only real): clean "
            "strong features of breast_cancer, iris, wine reach 0.98-0.995 on small test "
            "splits, within a standard error of 0.99; a perfect score always fails (iris: 1 "
            "of 100 splits, petal width separating all 38 test rows); documented leaks (ISLR "
            "Smarket's Today, AER CreditCard's spending) reach 0.99-1.0",
        ),
        ThresholdSpec(
            "target_leakage_max_r2",
            0.98,
            "single-feature test R^2 (regression) above which a feature is near-perfect and fails "
            "whatever its peers",
            "real-data calibration: the best clean single features of 10 regression tables "
            "stay at or below 0.95 (ggplot2 mpg: cty for hwy); log(wage) for wage (ISLR Wage) "
            "reaches 1.0",
        ),
        ThresholdSpec(
            "target_leakage_max_dominance",
            2.0,
            "largest tolerated ratio of the error left by all other features together to the "
            "error left by one strong feature alone (error: 1 - skill; skill: 2 * AUC - 1, "
            "or R^2), both moved one standard error against the verdict",
            "real-data calibration (--only real, 100 random splits of 24 real tables): 2 "
            "dominance false alarms in 2,400 clean splits (ggplot2 mpg, cty for hwy), while a "
            "93%/4% "
            "outcome flag (AUC about 0.94) is caught in 298 of 300 splits of the three tables "
            "whose other features are weak (carData Arrests, Cowles, AER SwissLabor)",
        ),
        ThresholdSpec(
            "target_leakage_min_skill",
            0.8,
            "single-feature test skill (2 * AUC - 1, or R^2) from which a feature is judged "
            "against all the others together",
            "AUC 0.9 / R^2 0.8: below that a lone good feature over weak peers (a credit "
            "score, an x-ray reading) is ordinary; the leaks this targets reach AUC 0.94+",
        ),
        ThresholdSpec(
            "temporal_leakage_max_fraction",
            0.0,
            "largest tolerated fraction of train rows dated after the first test row",
            "zero tolerance: any such row lets the model see the test period",
        ),
        ThresholdSpec(
            "fit_on_train_rtol",
            1e-6,
            "largest relative difference between the fitted state and a refit on X_train",
            "refitting on identical rows reproduces float state to rounding error (~1e-15); "
            "1e-6 leaves room for BLAS/threading noise while a 5% contamination moves a "
            "scaler's statistics by ~1e-2",
        ),
        ThresholdSpec(
            "missingness_alpha",
            0.005,
            "family-wise significance level (Bonferroni over tested columns)",
            "0.5% family-wise error: under random missingness about 0.5% of data sets get a "
            "false alarm, whatever n and the number of columns (calibrated, see README)",
        ),
        ThresholdSpec(
            "missingness_min_effect",
            0.05,
            "smallest effect reported: class-rate gap, or mean gap in target SDs",
            "5 percentage points of class rate (or 0.05 SD): below that the pattern is too "
            "weak for a model to lean on",
        ),
        ThresholdSpec(
            "drift_psi_threshold",
            0.25,
            "PSI at which a column counts as drifted (error)",
            "industry rule of thumb: PSI > 0.25 is a significant shift, retrain (Siddiqi, "
            "Credit Risk Scorecards, 2006)",
        ),
        ThresholdSpec(
            "drift_psi_warning",
            0.1,
            "PSI at which a column gets a drift warning",
            "same rule of thumb: 0.1-0.25 is a moderate shift worth a look",
        ),
        ThresholdSpec(
            "drift_ks_threshold",
            0.1,
            "KS statistic at which a numeric column counts as drifted (method='ks')",
            "a 0.25 SD mean shift of a normal feature gives KS 0.1",
        ),
        ThresholdSpec(
            "drift_ks_warning",
            0.05,
            "KS statistic at which a numeric column gets a drift warning (method='ks')",
            "half the error level",
        ),
        ThresholdSpec(
            "ood_max_fraction",
            0.01,
            "largest tolerated fraction of rows with a feature outside the training data",
            "1% of traffic: beyond that a fallback path is no longer an exception",
        ),
        ThresholdSpec(
            "ood_margin",
            0.5,
            "how far beyond the training range (in training IQRs) a value counts as out",
            "half an IQR past the extremes: calibrated on skewed and clipped features",
        ),
        ThresholdSpec(
            "beats_dummy_margin",
            0.02,
            "how much the model must beat a baseline by (same metric)",
            "issue default: 2 points of AUC / F1 / R^2 is the smallest gain worth a model",
        ),
        ThresholdSpec(
            "overfitting_max_gap",
            0.10,
            "largest tolerated train-minus-test score",
            "API default 0.10",
        ),
        ThresholdSpec(
            "suspicious_max_score",
            0.99,
            "test score treated as too good to be true",
            "real labels carry noise: 0.99+ held-out AUC / accuracy / R^2 is rare without leakage",
        ),
        ThresholdSpec(
            "suspicious_test_advantage",
            0.05,
            "test score above train score treated as suspicious",
            "5 points: beyond ordinary split noise for a few hundred test rows",
        ),
        ThresholdSpec(
            "dominant_feature_max_share",
            0.75,
            "largest tolerated share of a model's permutation importance carried by one "
            "feature, on test or on train (judged as small as 4 standard errors allow)",
            "measured (--only labels): generated data with 4 comparable informative features "
            "at most 0.53 (logistic regression, 200 draws x 500 rows, 15 x 5,000; random "
            "forest 8 x 500), real tables at most 0.64 (iris, random forest, on train; "
            "breast_cancer, wine <= 0.50); a leaked y + N(0, 0.3) feature >= 0.79 (20 of 20 "
            "draws), train-only leak 1.00 on train, ISLR Smarket Today >= 0.99, ISLR Wage "
            "logwage >= 0.99",
        ),
        ThresholdSpec(
            "folds_max_std",
            0.05,
            "largest tolerated standard deviation of cross-validated scores",
            "5 points of spread across folds makes single-split comparisons unreliable",
        ),
        ThresholdSpec(
            "fair_min_di",
            0.8,
            "lowest tolerated ratio of group selection rates (disparate impact)",
            "four-fifths rule, US EEOC Uniform Guidelines (29 CFR 1607.4(D)); a finding also "
            "needs the rate gap beyond sampling noise (pooled two-proportion z, family-wise "
            "0.5%): random groups of a healthy model fail 0-0.5% of 200 labelings at 300-5,000 "
            "rows (python -m pytest_mlchecks.calibration --only fair)",
        ),
        ThresholdSpec(
            "fair_max_tpr_gap",
            0.1,
            "largest tolerated gap in true-positive rate between groups",
            "equal opportunity (Hardt et al. 2016) with a 10-point tolerance; the gap must also "
            "pass sampling noise over each group's positives",
        ),
        ThresholdSpec(
            "fair_max_fpr_gap",
            0.1,
            "largest tolerated gap in false-positive rate between groups",
            "equalised odds (Hardt et al. 2016) with a 10-point tolerance; the gap must also "
            "pass sampling noise over each group's negatives",
        ),
        ThresholdSpec(
            "slices_max_gap",
            0.1,
            "largest tolerated shortfall of a slice against the overall score",
            "10 points: a slice that much worse is a product problem; it must also pass the "
            "shortfall random slices of its size show (seeded draws, family-wise 0.1%): "
            "0 of 200 clean labelings flagged at 300-5,000 rows (calibration --only fair)",
        ),
        ThresholdSpec(
            "groups_min_ratio",
            0.8,
            "lowest tolerated ratio of a group's share of the rows to its reference share "
            "(and 1 / it the highest)",
            "four-fifths rule (US EEOC, 29 CFR 1607.4(D)) applied to shares, both ways "
            "(0.8-1.25); a finding also needs the share gap beyond sampling noise (binomial / "
            "two-sample z with skew term, family-wise 0.5%): groups drawn from the reference "
            "shares fail 0-1 of 200 at 300-5,000 rows (<= 5 of 1,000 on 10 groups down to 1%); "
            "a 5% group drawn at half its share fails 154 / 200 at 1,000 rows, 200 / 200 at "
            "5,000 (calibration --only groups)",
        ),
        ThresholdSpec(
            "groups_min_fraction",
            0.05,
            "smallest tolerated share of the rows of a group, without a reference",
            "policy: a group of 5% of a 1,000-row test set is 50 rows, about the fewest that "
            "give a per-group rate within +-14 points; judged one-sided beyond noise "
            "(family-wise 0.5%): a group drawn at the floor fails 0-1 of 200 at 300-5,000 rows, "
            "one at half the floor 172 / 200 at 1,000 and 200 / 200 at 5,000 rows "
            "(calibration --only groups)",
        ),
        ThresholdSpec(
            "scores_max_gap",
            0.05,
            "largest tolerated gap between 0.5 and the probability that a member of a group "
            "scores below a member of the rest with the same true label",
            "0.05 = a group below the rest in 55% of same-label pairs, about 0.18 SD between "
            "normal scores (Cohen's small effect is 0.2 SD); a finding also needs the gap beyond "
            "Mann-Whitney noise (family-wise 0.2%): random groups, tied scores, and groups with "
            "base rates 15% vs 45% but label-conditional equal scores fail 0-2 of 200 at "
            "300-5,000 rows; scores 0.5 SD lower fail 200 / 200 from 1,000 rows, 1 SD lower "
            "from 300 (calibration --only groups)",
        ),
        ThresholdSpec(
            "weak_segments_max_gap",
            0.1,
            "largest tolerated gap of a discovered segment against the overall score (held "
            "out; relative for mae / rmse)",
            "10 points, as slices_perform; a finding must also pass the gap random rows of its "
            "size reach on the held-out half (family-wise 0.5%, Bonferroni over <= 10 "
            "candidates). Calibration (--only segments, 10 mixed features, errors spread "
            "uniformly): 0 of 200 clean datasets flagged at 1,000 / 5,000 / 20,000 rows, "
            "for accuracy and for mae; a weak range of one feature (10% of rows, "
            "30% of predictions flipped) found in 20 of 20 at 5,000 and 20,000 rows, 10 of 20 at "
            "1,000; a pair cell (~9% of rows, 30% flipped) 19 / 20 of 20 at 5,000 / 20,000",
        ),
        ThresholdSpec(
            "weak_segments_min_size",
            50,
            "fewest rows a discovered segment must hold to be judged",
            "25 rows per half: the held-out noise bar at 85% accuracy is 0.28 at 25 rows, 0.19 "
            "at 50, 0.13 at 100 (computed); smaller slices could only show gaps larger than "
            "that; at 1,000 rows it still allows 20 quantile bins",
        ),
        ThresholdSpec(
            "grad_vanishing_ratio",
            1e-3,
            "first block's median RMS gradient relative to the largest block's (blocks of the "
            "repeated stack, e.g. encoder.layer.N), below which gradients vanish with depth",
            "issue default (1e-3); measured: a 6-layer sigmoid MLP 4e-6 to 1e-4, the same "
            "depth with ReLU + BatchNorm 0.12 to 0.27; by blocks, stock BERT/DistilBERT/GPT-2/"
            "ResNet/EfficientNet/MobileNet/ViT at init 0.88 or more (30 runs, architecture "
            "table)",
        ),
        ThresholdSpec(
            "grad_max_norm_ratio",
            100.0,
            "total gradient norm relative to the total parameter norm (at least 1) above which "
            "gradients count as exploding",
            "measured at init: healthy nets 0.0001 to 5.7 (stock vision and language models "
            "<= 0.51, a 20-layer He-init ReLU MLP up to 5.7), broken ones 886 to 2.6e5 (loss "
            "x1e6, unnormalised inputs x1000 or 0-255 pixels): 100 sits between them",
        ),
        ThresholdSpec(
            "grad_max_total_norm",
            float("inf"),
            "absolute total gradient norm limit; when set (argument or ini) it replaces the "
            "relative limit grad_max_norm_ratio",
            "not set by default: an absolute norm depends on batch size, classes and loss "
            "reduction (stock efficientnet_b0 reaches 1,087-1,334 at 64 px, batch 4)",
        ),
        ThresholdSpec(
            "tracker_growth_factor",
            4.0,
            "GradNormTracker: how far the median loss (or gradient norm, with a loss that does "
            "not fall) over the last quarter of the run may rise above its start",
            "measured over 10 seeds per case: healthy runs (MLPs, classifier; Adam, SGD) 0.007 "
            "to 0.42x in loss, up to 7.1x in norm with a falling loss; BERT (small config) "
            "under AdamW lr=1.0 7.2 to 15.4x in loss (5 runs)",
        ),
        ThresholdSpec(
            "overfit_target_loss",
            0.05,
            "loss a model must reach on one memorised batch (or 1% of its initial loss)",
            "the classic sanity check (Karpathy, 'A Recipe for Training Neural Networks', 2019)",
        ),
        ThresholdSpec(
            "truncation_max_fraction",
            0.0,
            "largest tolerated share of texts longer than max_length",
            "API default: any silently cut text is reported",
        ),
        ThresholdSpec(
            "decision_threshold_margin",
            0.05,
            "gain of the metric from a tuned threshold (held out, 99% lower bound) above "
            "which the threshold in use fails",
            "calibration (python -m pytest_mlchecks.calibration --only decision --datasets 500, "
            "logistic regression, 50 draws per cell): thresholds tuned on separate rows 0 errors, "
            "1 warning (95% bound) in 400; 0.5 on 3% / 5% positives at 5,000 rows 39 / 35 errors "
            "of 50 (median held-out F1 gain 0.20 / 0.19), at 500 rows 3 / 7 (15-25 positives: "
            "the gain's standard error ~0.09 leaves it undecided)",
        ),
        ThresholdSpec(
            "performance_max_drop",
            0.05,
            "fall of the metric below the training baseline (per window, also beyond the "
            "window's sampling noise) at which performance_holds fails",
            "the retrain trigger 'AUC drop > 0.05'; noise bar calibrated (python -m "
            "pytest_mlchecks.calibration --only performance, binormal scores AUC 0.85, 5 "
            "windows, 200 runs per size): 0 of 200 false alarms at 200 / 1,000 / 5,000 labels "
            "per window (warnings at family-wise 5%: 2 / 0 / 0); AUC 0.85 -> 0.75 in 2 windows "
            "caught in 81 / 194 / 200 of 200, warned in 38 / 5 / 0 more",
        ),
        ThresholdSpec(
            "concept_drift_min_gain",
            0.01,
            "gain in Brier score / share of variance explained that a model told the period "
            "(reference or current) reaches over one that is not, beyond which the relation "
            "between features and label changed",
            "calibration (python -m pytest_mlchecks.calibration --only performance, logistic "
            "labels on 3 normal features, default learner): 0 false alarms in 200 clean pairs at"
            " 500 rows per period and 20 at 5,000, 0 in 60 / 20 pairs with the features shifted "
            "1 SD, 0 in 60 shifted 2 SD (covariate shift only); a flipped coefficient caught "
            "in 60 / 60 (500 rows) and 20 / 20 (5,000), a doubled one in 6 / 60 and 20 / 20 "
            "(median gain 0.014)",
        ),
        ThresholdSpec(
            "calibration_max_ece",
            0.02,
            "expected calibration error beyond sampling noise (its 1% allowance under the "
            "calibrated hypothesis) above which probabilities fail",
            "calibration (python -m pytest_mlchecks.calibration --only curves, 200 draws per "
            "cell): perfectly calibrated probabilities (uniform, Beta(0.5, 0.5), Beta(2, 8), "
            "Beta(1, 30); Dirichlet with 3 and 10 classes) at 300 / 1,000 / 10,000 rows: 0 of "
            "200 false alarms in every cell, figure at most 0.008 (99th percentile); p ** 2 "
            "caught in >= 198 of 200 from 300 rows, temperature 0.5 (logits doubled) in >= 196 "
            "of 200 from 1,000 rows (3% positives and 10 classes: 10,000 rows); breast_cancer "
            "and digits halves: logistic regression 0 of 40 fail, GaussianNB 33 of 40",
        ),
        ThresholdSpec(
            "learning_curve_max_gap",
            0.10,
            "train minus validation score at the largest size of the learning curve (beyond "
            "2.326 fold standard errors) above which the model overfits",
            "calibration (--only curves, cv=5): logistic regression on logistic data and ridge "
            "on linear data: 0 of 400 flagged at 300 rows, 0 of 40 at 1,000 (gap up to 0.107 at "
            "the 99th percentile, inside its fold-noise allowance); an unpruned tree on 30% "
            "flipped labels: 50 of 50 overfitting (gap 0.24 to 0.46); bundled tables: linear "
            "models and random forests healthy on breast_cancer, wine, digits, a random forest "
            "on diabetes overfits (R2 0.92 train vs 0.42 validation)",
        ),
        ThresholdSpec(
            "learning_curve_min_gain",
            0.05,
            "training score above the cross-validated Dummy baseline below which the model "
            "underfits",
            "calibration (--only curves): well-specified models' training score is at least "
            "0.10 above the dummy (1st percentile, 300 rows; 400 datasets); logistic regression on "
            "concentric circles 0.009 to 0.028 above it: 50 of 50 underfitting",
        ),
        ThresholdSpec(
            "learning_curve_max_advantage",
            0.02,
            "validation minus train score (beyond 2.326 fold standard errors) above which "
            "the learning curve shows a leakage signature",
            "calibration (--only curves): no validation-above-train finding on 530 generated "
            "curves (healthy, overfitting, underfitting, leaked feature) nor on 8 bundled-table "
            "curves; a static leaked feature lifts train and validation alike and is not "
            "flagged here (0 of 50): not_suspiciously_good and no_target_leakage cover it",
        ),
        ThresholdSpec(
            "inference_p95_ms",
            float("inf"),
            "p95 latency of one predict call on the rows given, in milliseconds, above which "
            "inference_budget fails",
            "not set by default: a latency budget is the service's own (set it, or pass a "
            "baseline)",
        ),
        ThresholdSpec(
            "inference_max_peak_mb",
            float("inf"),
            "peak memory of one predict call, in MiB, above which inference_budget fails",
            "not set by default: a memory budget is the serving container's own",
        ),
        ThresholdSpec(
            "inference_tolerance",
            1.0,
            "relative slack over a baseline's median latency and peak memory before "
            "inference_budget fails",
            "measured (calibration --only serving, baseline then the same model again, "
            "time_budget_s=0.1, 2-core machine at load average 11-18; the median judged, a "
            "failing latency re-timed twice): identical code failed 0 of 200 (logistic "
            "regression, 20-tree forest) and 1 of 200 (2 ms sleep); 3x slower predict failed 50 "
            "of 50 (logistic), 46 of 50 (forest: median ratio measured 2.65 as load moved) and 49 "
            "of 50 (three 2 ms sleeps). p95 itself swings up to 3.4x between identical runs here, "
            "so it cannot carry a baseline comparison",
        ),
        ThresholdSpec(
            "collapse_max_share",
            1.0,
            "share of rows given the most frequent prediction at which predictions count as "
            "collapsed (1.0: only every row the same)",
            "without labels a rare class is legitimately predicted rarely: only the "
            "unambiguous case fails by default; lower it when the classes are known to be "
            "balanced",
        ),
        ThresholdSpec(
            "collapse_min_spread",
            0.01,
            "smallest range of a class probability across rows (regression with y: std of "
            "predictions / std of y) below which predictions count as collapsed",
            "calibration (python -m pytest_mlchecks.calibration --only collapse, 20 draws x 100 /"
            " 1,000 / 4,000 rows): healthy logistic regression, random forest, boosting and "
            "depth-2 trees spread 0.11 to 1 (none flat; a depth-2 tree that made no split, spread"
            " 0, is flagged), collapsed models (C=1e-6 logistic, one boosting step at lr 1e-4, "
            "prior dummy) 0 to 0.0027 at 100-1,000 rows, C=1e-6 at 4,000 rows up to 0.016 (2 of "
            "20 missed)",
        ),
    )
}

# The domain of each threshold, applied to THRESHOLDS just below: ``lo``/``hi`` bounds
# (``None``: unbounded), ``lo_open``/``hi_open`` exclusive bounds, ``arg`` the keyword argument
# of the checks that overrides it, ``allow_inf`` +inf accepted as "no limit", ``worse="lower"``
# for a minimum (the figure gets worse going down; default "higher"). NaN is never
# valid; a key that is not listed only has to be a finite number.
DOMAINS: dict[str, dict[str, float | bool | str]] = {
    "finite_max_fraction": dict(lo=0.0, hi=1.0, arg="max_fraction"),
    "class_balance_min_fraction": dict(lo=0.0, hi=1.0, arg="min_fraction", worse="lower"),
    "row_overlap_max_fraction": dict(lo=0.0, hi=1.0, arg="max_fraction"),
    "duplicates_max_fraction": dict(lo=0.0, hi=1.0, arg="max_fraction"),
    "conflicting_labels_max_fraction": dict(lo=0.0, hi=1.0, arg="max_fraction"),
    "target_leakage_max_auc": dict(lo=0.5, hi=1.0, arg="max_auc"),
    "target_leakage_max_r2": dict(lo=0.0, hi=1.0, lo_open=True, arg="max_r2"),
    "temporal_leakage_max_fraction": dict(lo=0.0, hi=1.0, arg="max_fraction"),
    "fit_on_train_rtol": dict(lo=0.0, arg="rtol"),
    "missingness_alpha": dict(
        lo=0.0, hi=1.0, lo_open=True, hi_open=True, arg="alpha", worse="lower"
    ),
    "missingness_min_effect": dict(lo=0.0, arg="min_effect"),
    "drift_psi_threshold": dict(lo=0.0, lo_open=True, arg="threshold"),
    "drift_psi_warning": dict(lo=0.0, lo_open=True, arg="warn_threshold"),
    "drift_ks_threshold": dict(lo=0.0, hi=1.0, lo_open=True, arg="threshold"),
    "drift_ks_warning": dict(lo=0.0, hi=1.0, lo_open=True, arg="warn_threshold"),
    "ood_max_fraction": dict(lo=0.0, hi=1.0, hi_open=True, arg="max_fraction"),
    "ood_margin": dict(lo=0.0, arg="margin"),
    "beats_dummy_margin": dict(lo=-1.0, hi=1.0, arg="margin", worse="lower"),
    "overfitting_max_gap": dict(lo=0.0, arg="max_gap"),
    "suspicious_max_score": dict(lo=0.0, hi=1.0, lo_open=True, arg="max_score"),
    "suspicious_test_advantage": dict(lo=0.0, arg="max_test_advantage"),
    "dominant_feature_max_share": dict(lo=0.0, hi=1.0, lo_open=True, arg="max_share"),
    "folds_max_std": dict(lo=0.0, arg="max_std"),
    "fair_min_di": dict(lo=0.0, hi=1.0, lo_open=True, arg="min_disparate_impact", worse="lower"),
    "fair_max_tpr_gap": dict(lo=0.0, hi=1.0, arg="max_tpr_gap"),
    "fair_max_fpr_gap": dict(lo=0.0, hi=1.0, arg="max_fpr_gap"),
    "slices_max_gap": dict(lo=0.0, arg="max_gap"),
    "groups_min_ratio": dict(lo=0.0, hi=1.0, lo_open=True, arg="min_ratio", worse="lower"),
    "groups_min_fraction": dict(lo=0.0, hi=1.0, lo_open=True, arg="min_fraction", worse="lower"),
    "scores_max_gap": dict(lo=0.0, hi=0.5, arg="max_gap"),
    "grad_vanishing_ratio": dict(
        lo=0.0, hi=1.0, lo_open=True, arg="vanishing_ratio", worse="lower"
    ),
    "weak_segments_max_gap": dict(lo=0.0, arg="max_gap"),
    "weak_segments_min_size": dict(lo=2.0, arg="min_size"),
    # inf: no absolute limit (the grads branch makes that the default, with a relative limit
    # taking over); NaN stays refused, so it can no longer switch the check off by accident
    "grad_max_total_norm": dict(lo=0.0, lo_open=True, arg="max_total_norm", allow_inf=True),
    "overfit_target_loss": dict(arg="target_loss"),
    "decision_threshold_margin": dict(lo=0.0, hi=1.0, arg="margin"),
    "performance_max_drop": dict(lo=0.0, arg="max_drop"),
    "concept_drift_min_gain": dict(lo=0.0, hi=1.0, arg="min_gain"),
    "calibration_max_ece": dict(lo=0.0, hi=1.0, arg="max_ece"),
    "learning_curve_max_gap": dict(lo=0.0, arg="max_gap"),
    "learning_curve_min_gain": dict(arg="min_gain"),
    "learning_curve_max_advantage": dict(lo=0.0, arg="max_advantage"),
    "inference_p95_ms": dict(lo=0.0, lo_open=True, arg="p95_ms", allow_inf=True),
    "inference_max_peak_mb": dict(lo=0.0, lo_open=True, arg="max_peak_mb", allow_inf=True),
    "inference_tolerance": dict(lo=0.0, arg="tolerance"),
    "collapse_max_share": dict(lo=0.0, hi=1.0, lo_open=True, arg="max_share"),
    "collapse_min_spread": dict(lo=0.0, hi=1.0, arg="min_spread", worse="lower"),
    "truncation_max_fraction": dict(lo=0.0, hi=1.0, arg="max_fraction"),
    # thresholds that other branches add (applied once they exist)
    "row_overlap_chance_alpha": dict(
        lo=0.0, hi=1.0, lo_open=True, hi_open=True, arg="chance_alpha", worse="lower"
    ),
    "entity_overlap_max_fraction": dict(lo=0.0, hi=1.0, arg="max_fraction"),
    "target_leakage_max_dominance": dict(lo=1.0, arg="max_dominance"),
    "target_leakage_min_skill": dict(lo=0.0, hi=1.0, arg="min_skill"),
    "grad_max_norm_ratio": dict(lo=0.0, lo_open=True, arg="max_norm_ratio"),
    "tracker_growth_factor": dict(lo=1.0, lo_open=True, arg="growth_factor"),
}
THRESHOLDS = {
    key: replace(spec, **DOMAINS.get(key, {}))  # type: ignore[arg-type]
    for key, spec in THRESHOLDS.items()
}

_DATA = "pytest_mlchecks.checks.data.quality"
_DEEP = "pytest_mlchecks.checks.model.training"
_NLP = "pytest_mlchecks.checks.model.text"
_PROPS = "pytest_mlchecks.checks.pipeline.robustness"
_MODEL = "pytest_mlchecks.checks.model.baselines"
_EVAL = "pytest_mlchecks.checks.evaluation.generalisation"
_GROUPS = "pytest_mlchecks.checks.evaluation.groups"
_PROD = "pytest_mlchecks.checks.production.drift"
_CONTRACT = "pytest_mlchecks.checks.production.contract"
_PERF = "pytest_mlchecks.checks.production.performance"
_SERVING = "pytest_mlchecks.checks.production.serving"

# Public names that are not check helpers, and where they live.
EXTRA_PUBLIC: dict[str, str] = {
    "Schema": "pytest_mlchecks.schema",
    "ColumnSchema": "pytest_mlchecks.schema",
    "infer_schema": "pytest_mlchecks.schema",
    "GradNormTracker": "pytest_mlchecks.checks.model.training",
}
_PIPE = "pytest_mlchecks.checks.pipeline.consistency"
_LEAK = "pytest_mlchecks.checks.data.leakage"

CHECKS: dict[str, CheckSpec] = {
    spec.name: spec
    for spec in (
        CheckSpec(
            "finite",
            "data",
            _DATA,
            "NaN/Inf in numeric columns, counted per column",
            ("finite_max_fraction",),
        ),
        CheckSpec("aligned", "data", _DATA, "X and y have the same length and index"),
        CheckSpec(
            "class_balance",
            "data",
            _DATA,
            "rare classes (warning) and the metric to use",
            ("class_balance_min_fraction",),
            worse="lower",
        ),
        CheckSpec(
            "no_duplicates",
            "data",
            _LEAK,
            "exact duplicate rows inside one table",
            ("duplicates_max_fraction",),
        ),
        CheckSpec(
            "no_conflicting_labels",
            "data",
            "pytest_mlchecks.checks.data.labels",
            "identical feature rows with different labels, inside a split or across splits",
            ("conflicting_labels_max_fraction",),
        ),
        CheckSpec(
            "no_row_overlap",
            "data",
            _LEAK,
            "exact rows shared by train and test",
            ("row_overlap_max_fraction", "row_overlap_chance_alpha"),
        ),
        CheckSpec(
            "no_entity_overlap",
            "data",
            _LEAK,
            "entities (id_columns) present in both train and test",
            ("entity_overlap_max_fraction",),
        ),
        CheckSpec(
            "no_target_leakage",
            "data",
            _LEAK,
            "one feature near-perfect alone, or towering over all others, on test",
            (
                "target_leakage_max_auc",
                "target_leakage_max_r2",
                "target_leakage_max_dominance",
                "target_leakage_min_skill",
            ),
        ),
        CheckSpec(
            "no_temporal_leakage",
            "data",
            _LEAK,
            "train rows dated after the first test row",
            ("temporal_leakage_max_fraction",),
        ),
        CheckSpec("no_leakage", "data", _LEAK, "umbrella: row, entity, target, temporal"),
        CheckSpec(
            "missingness_not_predictive",
            "data",
            _DATA,
            "columns whose missingness predicts the target",
            ("missingness_alpha", "missingness_min_effect"),
        ),
        CheckSpec("time_grid_valid", "data", _DATA, "duplicated or non-increasing time stamps"),
        CheckSpec(
            "beats_dummy",
            "model",
            _MODEL,
            "a model no better than a Dummy baseline",
            ("beats_dummy_margin",),
            worse="lower",
        ),
        CheckSpec(
            "beats_baselines",
            "model",
            _MODEL,
            "where the ladder dummy < linear < model stalls",
            ("beats_dummy_margin",),
            worse="lower",
        ),
        CheckSpec(
            "predictions_not_collapsed",
            "model",
            "pytest_mlchecks.checks.model.predictions",
            "one class or one value for every row, or scores that barely move",
            ("collapse_max_share", "collapse_min_spread"),
        ),
        CheckSpec(
            "decision_threshold_tuned",
            "evaluation",
            "pytest_mlchecks.checks.evaluation.decision",
            "a decision threshold (0.5 by default) far from the best one on validation data",
            ("decision_threshold_margin",),
        ),
        CheckSpec(
            "calibrated",
            "evaluation",
            "pytest_mlchecks.checks.evaluation.curves",
            "predicted probabilities that disagree with observed rates, beyond sampling noise",
            ("calibration_max_ece",),
        ),
        CheckSpec(
            "learning_curve_healthy",
            "evaluation",
            "pytest_mlchecks.checks.evaluation.curves",
            "a seeded learning curve diagnosing overfitting, underfitting or validation above "
            "train (leakage)",
            ("learning_curve_max_gap", "learning_curve_min_gain", "learning_curve_max_advantage"),
        ),
        CheckSpec(
            "no_overfitting",
            "evaluation",
            _EVAL,
            "train score far above test score",
            ("overfitting_max_gap",),
        ),
        CheckSpec(
            "not_suspiciously_good",
            "evaluation",
            _EVAL,
            "near-perfect or test > train scores",
            ("suspicious_max_score", "suspicious_test_advantage"),
        ),
        CheckSpec(
            "no_dominant_feature",
            "evaluation",
            "pytest_mlchecks.checks.evaluation.importance",
            "one feature carrying most of the model's permutation importance, on test or on "
            "train only",
            ("dominant_feature_max_share",),
        ),
        CheckSpec(
            "stable_across_folds",
            "evaluation",
            _EVAL,
            "spread of cross-validated scores",
            ("folds_max_std",),
        ),
        CheckSpec(
            "fair",
            "evaluation",
            _GROUPS,
            "selection-rate ratio and error-rate gaps by group, beyond sampling noise",
            ("fair_min_di", "fair_max_tpr_gap", "fair_max_fpr_gap"),
            worse="lower",
        ),
        CheckSpec(
            "slices_perform",
            "evaluation",
            _GROUPS,
            "slices much worse than overall, beyond sampling noise",
            ("slices_max_gap",),
        ),
        CheckSpec(
            "groups_represented",
            "evaluation",
            _GROUPS,
            "groups over- or under-represented against a reference or a floor, beyond noise",
            ("groups_min_ratio", "groups_min_fraction"),
            worse="lower",
        ),
        CheckSpec(
            "scores_equitable",
            "evaluation",
            _GROUPS,
            "a group scored lower than the rest with the same true label, beyond noise",
            ("scores_max_gap",),
        ),
        CheckSpec(
            "no_weak_segments",
            "evaluation",
            "pytest_mlchecks.checks.evaluation.segments",
            "segments found by searching the features (bins and pairs) much worse than "
            "overall, confirmed on held-out rows",
            ("weak_segments_max_gap", "weak_segments_min_size"),
        ),
        CheckSpec(
            "grad_norm_healthy",
            "model",
            _DEEP,
            "NaN, missing, dead, vanishing or exploding gradients",
            ("grad_vanishing_ratio", "grad_max_norm_ratio", "grad_max_total_norm"),
            worse="lower",
        ),
        CheckSpec(
            "grad_tracker",
            "model",
            _DEEP,
            "gradient norms over training steps: NaN, spikes, sustained growth",
            ("tracker_growth_factor",),
            helpers=False,
        ),
        CheckSpec("params_update", "model", _DEEP, "parameters a training step does not move"),
        CheckSpec(
            "can_overfit_batch",
            "model",
            _DEEP,
            "a model that cannot memorise one batch",
            ("overfit_target_loss",),
        ),
        CheckSpec("eval_deterministic", "model", _DEEP, "dropout / batch-norm left in train mode"),
        CheckSpec(
            "no_truncation",
            "model",
            _NLP,
            "texts cut by the tokenizer's max_length",
            ("truncation_max_fraction",),
        ),
        CheckSpec("attention_mask_respected", "model", _NLP, "outputs that depend on padding"),
        CheckSpec(
            "invariant_to_row_order", "pipeline", _PROPS, "predictions that depend on row order"
        ),
        CheckSpec("handles_missing", "pipeline", _PROPS, "crashes or NaN output on missing values"),
        CheckSpec(
            "handles_unseen_categories",
            "pipeline",
            _PROPS,
            "crashes or NaN output on new categories",
        ),
        CheckSpec(
            "schema_matches", "production", _CONTRACT, "every violation of a schema contract"
        ),
        CheckSpec(
            "environment_matches",
            "production",
            _SERVING,
            "a saved model made under other library versions than the serving ones",
        ),
        CheckSpec(
            "inference_budget",
            "production",
            _SERVING,
            "p95 latency or peak memory of predict over a limit or a recorded baseline",
            ("inference_p95_ms", "inference_max_peak_mb", "inference_tolerance"),
        ),
        CheckSpec(
            "no_drift",
            "production",
            _PROD,
            "per-column drift (PSI / KS) beyond effect and noise bars",
            ("drift_psi_threshold", "drift_psi_warning", "drift_ks_threshold", "drift_ks_warning"),
        ),
        CheckSpec(
            "in_distribution",
            "production",
            _PROD,
            "rows with features far outside the training data",
            ("ood_max_fraction", "ood_margin"),
        ),
        CheckSpec(
            "performance_holds",
            "production",
            _PERF,
            "production performance (per window, as labels arrive) fallen below the training "
            "baseline beyond max_drop and sampling noise",
            ("performance_max_drop",),
        ),
        CheckSpec(
            "no_concept_drift",
            "production",
            _PERF,
            "a changed relation between features and label (not input drift): knowing the "
            "period improves the predictions",
            ("concept_drift_min_gain",),
        ),
        CheckSpec(
            "fit_on_train_only",
            "pipeline",
            _PIPE,
            "a transformer fitted on more than the training split",
            ("fit_on_train_rtol",),
        ),
        CheckSpec(
            "roundtrip_consistent",
            "pipeline",
            _PIPE,
            "predictions that change after save and load",
        ),
        CheckSpec(
            "same_features",
            "pipeline",
            _PIPE,
            "training and serving feature code that disagree",
        ),
    )
}

# Every public helper name -> the check it belongs to (for rung inference and fixtures).
HELPER_TO_CHECK: dict[str, str] = {}
for _spec in CHECKS.values():
    if _spec.helpers:
        HELPER_TO_CHECK[_spec.assert_name] = _spec.name
        HELPER_TO_CHECK[_spec.check_name] = _spec.name

ASSERT_HELPERS: tuple[str, ...] = tuple(s.assert_name for s in CHECKS.values() if s.helpers)


def rung_index(rung: str | None) -> int:
    """Position of ``rung`` on the ladder (``-1`` for tests that are on no rung)."""
    if rung is None:
        return -1
    return RUNGS.index(rung)


def lowest_rung(rungs: list[str]) -> str | None:
    known = [r for r in rungs if r in RUNGS]
    if not known:
        return None
    return min(known, key=RUNGS.index)
