"""Measure each detector's false-alarm rate on clean data and detection rate on injected data.

Run ``python -m pytest_mlchecks.calibration [--datasets 200] [--sizes 300,2000,20000]`` to print
the tables that README shows (``--only grads`` / ``--only training`` for the gradient and
GradNormTracker tables, which need torch; ``--only architectures`` for stock torchvision,
timm and transformers models, which need those libraries).
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

from ._messages import md_table
from ._synth import DEFAULT_STRENGTH, SplitDataset, make_batch, make_split

TASKS = ("binary", "multiclass", "regression")


def _row_overlap(ds: SplitDataset) -> bool:
    from .checks.leakage import check_no_row_overlap

    return check_no_row_overlap(ds.train, ds.test).passed


def _target_leakage(ds: SplitDataset) -> bool:
    from .checks.leakage import check_no_target_leakage

    return check_no_target_leakage(ds.train, ds.test, "target", exclude=[ds.time_column]).passed


def _temporal(ds: SplitDataset) -> bool:
    from .checks.leakage import check_no_temporal_leakage

    return check_no_temporal_leakage(ds.X_train, ds.X_test, ds.time_column).passed


def _missingness(ds: SplitDataset) -> bool:
    from .checks.data import check_missingness_not_predictive

    return check_missingness_not_predictive(ds.X_train, ds.y_train).passed


def _fit_on_train(ds: SplitDataset) -> bool:
    from sklearn.preprocessing import StandardScaler

    from .checks.pipeline import check_fit_on_train_only

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
    from .checks.production import check_no_drift

    return check_no_drift(reference, current).passed


def _schema(reference: Any, current: Any) -> bool:
    from .checks.production import check_schema_matches

    return check_schema_matches(current, reference).passed


def _ood(reference: Any, current: Any) -> bool:
    from .checks.production import check_in_distribution

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
    from . import _arch_cases as a

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
        choices=["splits", "batches", "grads", "training", "architectures"],
        default=None,
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
    torch_tables = importlib.util.find_spec("torch") is not None
    if torch_tables and opts.only in (None, "grads", "training"):
        from . import _grad_cases as g

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


if __name__ == "__main__":
    main()
