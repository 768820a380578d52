"""A churn model whose StandardScaler was fitted on the whole table before the split."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler


def make_data(n: int = 2000, seed: int = 11) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"tenure": rng.gamma(2.0, 10.0, n), "monthly_fee": rng.normal(55, 12, n)})
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(0.05 * X["tenure"] - 1))).astype(int))
    return X, y


def fitted_scaler_and_split():
    X, y = make_data()
    scaler = StandardScaler().fit(X)  # the bug: fitted before splitting
    cut = int(len(X) * 0.75)
    return scaler, X.iloc[:cut], y.iloc[:cut], X.iloc[cut:], y.iloc[cut:]
