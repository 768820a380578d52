"""A reference (training) batch and this week's production batch, whose 'amount' moved after
the upstream service switched from euros to cents on part of the traffic."""

from __future__ import annotations

import numpy as np
import pandas as pd


def reference_batch(n: int = 8000, seed: int = 21) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.lognormal(3.0, 0.8, n),
            "items": rng.poisson(2.0, n),
            "channel": rng.choice(["web", "app", "store"], n, p=[0.5, 0.4, 0.1]),
        }
    )


def production_batch(n: int = 8000, seed: int = 22) -> pd.DataFrame:
    batch = reference_batch(n, seed)
    cents = np.random.default_rng(seed).random(n) < 0.3
    batch.loc[cents, "amount"] *= 100
    return batch
