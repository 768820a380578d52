"""Data builders shared by the check tests (tests/checks/<rung>/test_<module>.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def classification_split(n=2000, seed=0, minority=None, interaction=False):
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


def regression_split(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = 3 * X[:, 0] + np.sin(2 * X[:, 1]) + rng.normal(0, 1, n)
    cut = n * 3 // 4
    return X[:cut], y[:cut], X[cut:], y[cut:]


# ------------------------------------------------------------------------ NLP


def whitespace_tokenizer(text: str) -> dict:
    return {"input_ids": [hash(w) % 1000 for w in text.split()]}


def customer_frame(n: int, seed: int, *, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift * 10, 10, n),
            "income": rng.lognormal(10, 1, n),
            "wait": rng.exponential(2.0, n),
            "score": np.clip(rng.normal(0.5, 0.3, n), 0, 1),  # clipped at both ends
            "visits": rng.poisson(3, n),
            "city": pd.Categorical(rng.choice(["north", "south", "east", "west"], n)),
            "plan": rng.choice(["free", "pro", "team"], n, p=[0.7, 0.25, 0.05]),
            "active": rng.random(n) < 0.6,
        }
    )
