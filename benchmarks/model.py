"""Overhead of check_beats_dummy on 200,000 rows next to the user model's own fit + predict.

The user model is scikit-learn's HistGradientBoostingClassifier (20 features, 150k train /
50k test). Prints the model's own fit + predict time, the time of check_beats_dummy with the
unfitted model (it fits a clone) and with the fitted model, and our overhead as a share of the
model's own time (goal: < 10%).

Run: python benchmarks/model.py [--rows 200000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    opts = parser.parse_args()
    from sklearn.ensemble import HistGradientBoostingClassifier

    from pytest_mlchecks import check_beats_dummy

    rng = np.random.default_rng(0)
    X = rng.normal(size=(opts.rows, 20))
    logit = X[:, 0] * X[:, 1] + X[:, 2] - 0.5 * X[:, 3]
    y = (rng.random(opts.rows) < 1 / (1 + np.exp(-logit))).astype(int)
    cut = opts.rows * 3 // 4
    Xtr, ytr, Xte, yte = X[:cut], y[:cut], X[cut:], y[cut:]
    check_beats_dummy(
        HistGradientBoostingClassifier(max_iter=5), Xtr[:2000], ytr[:2000], Xte[:500], yte[:500]
    )  # warm-up

    start = time.perf_counter()
    model = HistGradientBoostingClassifier(random_state=0).fit(Xtr, ytr)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    model.predict_proba(Xte)
    predict_time = time.perf_counter() - start

    start = time.perf_counter()
    check_beats_dummy(HistGradientBoostingClassifier(random_state=0), Xtr, ytr, Xte, yte)
    unfitted = time.perf_counter() - start
    start = time.perf_counter()
    check_beats_dummy(model, Xtr, ytr, Xte, yte)
    fitted = time.perf_counter() - start

    own = fit_time + predict_time
    overhead_unfitted = unfitted - own
    overhead_fitted = fitted - predict_time
    print(f"rows: {opts.rows:,} (train {cut:,} / test {opts.rows - cut:,}), 20 features")
    print(
        f"model fit + predict_proba         : {own:6.3f} s (fit {fit_time:.3f}, "
        f"predict {predict_time:.3f})"
    )
    print(
        f"check_beats_dummy, unfitted model : {unfitted:6.3f} s -> overhead "
        f"{overhead_unfitted:+.3f} s = {100 * overhead_unfitted / own:+.1f}% of the model's "
        "own time (goal < 10%)"
    )
    print(
        f"check_beats_dummy, fitted model   : {fitted:6.3f} s -> overhead "
        f"{overhead_fitted:+.3f} s = {100 * overhead_fitted / own:+.1f}%"
    )


if __name__ == "__main__":
    main()
