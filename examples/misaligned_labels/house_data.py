"""House prices where the labels were sorted for a plot and never put back."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_houses(n: int = 2000, seed: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    area = rng.normal(120.0, 30.0, n)
    rooms = rng.integers(1, 7, n)
    price = 2500 * area + 10000 * rooms + rng.normal(0, 20000, n)
    X = pd.DataFrame({"area_m2": area, "rooms": rooms})
    y = pd.Series(price, name="price").sort_values()  # the bug: sorted in place of a copy
    return X, y
