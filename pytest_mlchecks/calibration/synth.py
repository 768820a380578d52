"""Generated split datasets with a known ground truth, optionally with one failure injected.

Vectorised numpy; used by the calibration suite and (wrapped in hypothesis) by
``pytest_mlchecks.strategies.datasets``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pytest_mlchecks._result import MLCheckUsageError

INJECTIONS = ("row_overlap", "target_leak", "temporal_leak", "contamination", "missing_signal")
TASKS = ("binary", "multiclass", "regression")

# Default strength per failure mode (see make_split): blatant enough to matter, far from trivial.
DEFAULT_STRENGTH = {
    "row_overlap": 0.01,  # fraction of test rows that are copies of train rows
    "target_leak": 0.2,  # noise SD (in target SDs) of the target-derived feature
    "temporal_leak": 0.01,  # fraction of train rows moved after the test start
    "contamination": 1.0,  # share of the test rows included when "fitting the preprocessing"
    "missing_signal": 0.25,  # extra missingness probability for the positive class
}


@dataclass
class SplitDataset:
    """A train/test split with known ground truth (``injected`` is the failure mode or None)."""

    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    injected: str | None
    task: str
    time_column: str = "event_time"
    strength: float | None = None
    X_fit: pd.DataFrame | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def train(self) -> pd.DataFrame:
        """Features and target in one frame (target column ``"target"``)."""
        frame: pd.DataFrame = self.X_train.assign(target=self.y_train.to_numpy())
        return frame

    @property
    def test(self) -> pd.DataFrame:
        frame: pd.DataFrame = self.X_test.assign(target=self.y_test.to_numpy())
        return frame

    def summary(self) -> dict[str, Any]:
        """Shape and mode, never raw rows (for reports)."""
        return {
            "task": self.task,
            "injected": self.injected,
            "strength": self.strength,
            "rows_train": len(self.X_train),
            "rows_test": len(self.X_test),
            "features": int(self.X_train.shape[1]),
        }


def make_split(
    *,
    task: str = "binary",
    n_rows: int = 2000,
    n_features: int = 6,
    imbalance: float | None = None,
    nan_fraction: float = 0.0,
    inject: str | None = None,
    strength: float | None = None,
    test_size: float = 0.25,
    seed: int = 0,
) -> SplitDataset:
    """One generated dataset, time-ordered split (train before test).

    Features: ``n_features`` numeric columns (``x0`` moderately informative, ``x1`` weakly,
    the rest noise; single-feature AUC of ``x0`` about 0.75), a categorical ``segment`` and a
    boolean ``promo``, plus the ``event_time`` column. ``imbalance`` sets the minority share
    of a binary target; ``nan_fraction`` puts missing values completely at random into the
    numeric noise columns. ``inject`` adds one failure at ``strength`` (see DEFAULT_STRENGTH).
    """
    if task not in TASKS:
        raise MLCheckUsageError(f"task must be one of {TASKS}, got {task!r}.")
    if inject is not None and inject not in INJECTIONS:
        raise MLCheckUsageError(f"inject must be one of {INJECTIONS} or None, got {inject!r}.")
    if n_rows < 40:
        raise MLCheckUsageError(f"n_rows must be at least 40, got {n_rows}.")
    if n_features < 2:
        raise MLCheckUsageError(f"n_features must be at least 2, got {n_features}.")
    if not 0 <= nan_fraction < 1:
        raise MLCheckUsageError(f"nan_fraction must be within [0, 1), got {nan_fraction}.")
    if imbalance is not None and not 0 < imbalance < 0.5:
        raise MLCheckUsageError(f"imbalance must be within (0, 0.5), got {imbalance}.")
    rng = np.random.default_rng(seed)
    n = n_rows
    y: np.ndarray
    X = rng.normal(size=(n, n_features))
    signal = 1.3 * X[:, 0] + 0.4 * X[:, 1]
    if task == "binary":
        base = 0.0
        if imbalance is not None:
            # shift the logit so that the positive share is about `imbalance`
            base = float(np.log(imbalance / (1 - imbalance))) - 0.5
        y = (rng.random(n) < 1 / (1 + np.exp(-(signal + base)))).astype(np.int64)
        if y.min() == y.max():
            y[: max(1, n // 20)] = 1 - y[0]
    elif task == "multiclass":
        y = np.digitize(signal + rng.normal(0, 1.0, n), [-0.8, 0.8]).astype(np.int64)
    else:
        y = signal * 2.0 + rng.normal(0, 2.0, n)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(n_features)])
    frame["segment"] = pd.Categorical(rng.choice(["a", "b", "c", "d", "e"], n))
    frame["promo"] = rng.random(n) < 0.3
    start = np.datetime64("2024-01-01T00:00:00")
    steps = np.cumsum(rng.integers(1, 120, n)).astype("timedelta64[m]")
    frame["event_time"] = start + steps
    if nan_fraction > 0:
        for col in [f"x{i}" for i in range(2, n_features)] or ["x1"]:
            frame.loc[rng.random(n) < nan_fraction, col] = np.nan
    info: dict[str, Any] = {}
    used = DEFAULT_STRENGTH.get(inject or "") if strength is None else strength
    y_series = pd.Series(y, name="target")
    if inject == "target_leak":
        scale = float(np.std(y)) or 1.0
        frame["derived"] = y / scale + rng.normal(0, float(used or 0.0), n)
        info["leaked_feature"] = "derived"
    if inject == "missing_signal":
        positive = y > np.median(y) if task == "regression" else y == y.max()
        p = 0.05 + float(used or 0.0) * positive
        frame["lab_value"] = rng.normal(size=n)
        frame.loc[rng.random(n) < p, "lab_value"] = np.nan
        info["missing_column"] = "lab_value"
    cut = round(n * (1 - test_size))
    X_train, X_test = (
        frame.iloc[:cut].reset_index(drop=True),
        frame.iloc[cut:].reset_index(drop=True),
    )
    y_train = y_series.iloc[:cut].reset_index(drop=True)
    y_test = y_series.iloc[cut:].reset_index(drop=True)
    X_fit = None
    if inject == "row_overlap":
        k = max(1, round(float(used or 0.0) * len(X_test)))
        src = rng.choice(len(X_train), k, replace=False)
        dst = rng.choice(len(X_test), k, replace=False)
        X_test = X_test.copy()
        y_test = y_test.copy()
        X_test.iloc[dst] = X_train.iloc[src].to_numpy()
        y_test.iloc[dst] = y_train.iloc[src].to_numpy()
        X_test = X_test.astype(X_train.dtypes.to_dict())
        info["copied_rows"] = int(k)
    if inject == "temporal_leak":
        k = max(1, round(float(used or 0.0) * len(X_train)))
        rows = rng.choice(len(X_train), k, replace=False)
        X_train = X_train.copy()
        late = X_test["event_time"].min() + np.timedelta64(1, "h")
        X_train.loc[rows, "event_time"] = late
        info["late_train_rows"] = int(k)
    if inject == "contamination":
        share = float(used or 0.0)
        k = max(1, round(share * len(X_test)))
        X_fit = pd.concat([X_train, X_test.iloc[:k]], ignore_index=True)
        info["fit_rows"] = len(X_fit)
    else:
        X_fit = X_train
    return SplitDataset(
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        injected=inject,
        task=task,
        strength=used,
        X_fit=X_fit,
        info=info,
    )


BATCH_INJECTIONS = ("shift", "unit_change", "null_spike", "new_category")


def make_batch(n_rows: int, seed: int, *, inject: str | None = None) -> pd.DataFrame:
    """One production-like batch: skewed, clipped, discrete and categorical features.

    ``inject``: ``"shift"`` moves ``age`` by 0.5 standard deviations; ``"unit_change"``
    multiplies ``income`` by 1000 on 5% of rows; ``"null_spike"`` blanks ``age`` on 5% of rows;
    ``"new_category"`` puts an unseen ``plan`` on 5% of rows.
    """
    if inject is not None and inject not in BATCH_INJECTIONS:
        raise MLCheckUsageError(f"inject must be one of {BATCH_INJECTIONS}, got {inject!r}.")
    rng = np.random.default_rng(seed)
    n = n_rows
    frame = pd.DataFrame(
        {
            "age": rng.normal(40.0, 10.0, n),
            "income": rng.lognormal(10.0, 1.0, n),
            "wait_minutes": rng.exponential(5.0, n),
            "score": np.clip(rng.normal(0.5, 0.3, n), 0.0, 1.0),
            "visits": rng.poisson(3.0, n),
            "plan": rng.choice(["free", "pro", "team"], n, p=[0.7, 0.25, 0.05]),
        }
    )
    k = max(1, n // 20)
    if inject == "shift":
        frame["age"] += 5.0
    elif inject == "unit_change":
        frame.loc[: k - 1, "income"] *= 1000.0
    elif inject == "null_spike":
        frame.loc[: k - 1, "age"] = np.nan
    elif inject == "new_category":
        frame.loc[: k - 1, "plan"] = "enterprise"
    batch: pd.DataFrame = frame
    return batch
