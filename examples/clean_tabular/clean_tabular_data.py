"""A clean churn-style dataset: every check on the ladder should pass."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_churn(n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 12.0, n)
    monthly = rng.normal(60.0, 15.0, n)
    tickets = rng.poisson(1.5, n)
    logit = -1.0 - 0.04 * tenure + 0.02 * (monthly - 60) + 0.5 * tickets
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    X = pd.DataFrame({"tenure_months": tenure, "monthly_fee": monthly, "tickets": tickets})
    return X, pd.Series(churn.astype(int), name="churned")
