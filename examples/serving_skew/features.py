"""Training imputes the fitted median; the serving rewrite imputes 0."""

from __future__ import annotations

import numpy as np
import pandas as pd

TRAINING_MEDIAN_INCOME = 52_000.0  # what the training pipeline fitted


def raw_requests(n: int = 500, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"income": rng.lognormal(10.8, 0.4, n), "age": rng.integers(18, 80, n)})
    frame.loc[rng.random(n) < 0.15, "income"] = np.nan
    return frame


def training_features(raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {"log_income": np.log(raw["income"].fillna(TRAINING_MEDIAN_INCOME)), "age": raw["age"]}
    )


def serving_features(raw: pd.DataFrame) -> pd.DataFrame:
    income = raw["income"].fillna(0.0)  # the bug: 0 instead of the fitted median
    return pd.DataFrame({"log_income": np.log1p(income), "age": raw["age"]})
