"""Sensor readings with gaps: gradient-boosted trees train on them without a complaint,
and learn that 'sensor offline' predicts failure, which will not hold in production."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_sensor_readings(n: int = 3000, seed: int = 1) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    temperature = rng.normal(70.0, 8.0, n)
    vibration = rng.gamma(2.0, 1.5, n)
    failed = (0.05 * (temperature - 70) + 0.4 * vibration + rng.normal(0, 1, n)) > 2.0
    # the logger drops vibration readings more often on machines about to fail
    offline = rng.random(n) < np.where(failed, 0.35, 0.05)
    vibration = np.where(offline, np.nan, vibration)
    X = pd.DataFrame({"temperature": temperature, "vibration": vibration})
    return X, pd.Series(failed.astype(int), name="failed")
