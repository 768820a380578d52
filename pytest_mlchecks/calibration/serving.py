"""Calibration of ``inference_budget``'s baseline tolerance on the machine it runs on.

Pairs of runs: a baseline result, then the same model timed again against it (identical code:
must pass), and against a model 3x slower (its predict repeated 3 times: must fail).
``python -m pytest_mlchecks.calibration --only serving``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pytest_mlchecks._messages import md_table


class _Repeated:
    """A model whose predict runs the wrapped model's predict ``times`` times (real CPU)."""

    def __init__(self, model: Any, times: int) -> None:
        self.model, self.times = model, times

    def predict(self, X: Any) -> Any:
        out = None
        for _ in range(self.times):
            out = self.model.predict(X)
        return out


class _Sleepy:
    """A model whose predict sleeps ``seconds`` (latency without CPU: I/O, a remote call)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, X: Any) -> Any:
        time.sleep(self.seconds)
        return [0] * len(X)


def _cases() -> tuple[Any, dict[str, tuple[Callable[[], Any], Callable[[], Any]]]]:
    """The data, and case name -> (baseline model, current model)."""
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 20))
    y = (X[:, 0] + rng.normal(size=1000) > 0).astype(int)
    logistic = LogisticRegression().fit(X, y)
    forest = RandomForestClassifier(20, random_state=0).fit(X, y)
    return X, {
        "logistic regression, same": (lambda: logistic, lambda: logistic),
        "random forest (20 trees), same": (lambda: forest, lambda: forest),
        "sleep 2 ms, same": (lambda: _Sleepy(0.002), lambda: _Sleepy(0.002)),
        "logistic regression, 3x slower": (lambda: logistic, lambda: _Repeated(logistic, 3)),
        "random forest, 3x slower": (lambda: forest, lambda: _Repeated(forest, 3)),
        # three sleeps, not one three times as long: each sleep carries its own wake-up cost,
        # so the wall time really triples (one 6 ms sleep measured only 2.0x one 2 ms sleep)
        "sleep 2 ms, 3x (3 sleeps)": (
            lambda: _Sleepy(0.002),
            lambda: _Repeated(_Sleepy(0.002), 3),
        ),
    }


def calibrate_inference(
    pairs: int, time_budget_s: float = 0.1, slow_pairs: int | None = None
) -> list[dict[str, Any]]:
    """For each case: how many of ``pairs`` baseline/current pairs failed the check
    (``slow_pairs`` for the 3x slower cases, default ``pairs``)."""
    from pytest_mlchecks.checks.production.serving import check_inference_budget

    X, cases = _cases()
    rows = []
    for name, (make_base, make_current) in cases.items():
        failed = 0
        ratios = []
        count = pairs if "same" in name else (slow_pairs or pairs)
        for _ in range(count):
            base = check_inference_budget(make_base(), X, p95_ms=1e9, time_budget_s=time_budget_s)
            now = check_inference_budget(
                make_current(), X, baseline=base, time_budget_s=time_budget_s
            )
            failed += not now.passed
            ratios.append(now.details["p50_ms"] / base.details["p50_ms"])
        ratios.sort()
        print(f"  {name}: {failed} of {count} failed", flush=True)
        rows.append(
            {
                "case": name,
                "pairs": count,
                "failed": failed,
                "median_ratio": ratios[len(ratios) // 2],
                "max_ratio": ratios[-1],
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    table = [
        [
            r["case"],
            str(r["pairs"]),
            f"{r['failed']} ({100 * r['failed'] / r['pairs']:.1f}%)",
            f"{r['median_ratio']:.2f}",
            f"{r['max_ratio']:.2f}",
        ]
        for r in rows
    ]
    header = ["case", "pairs", "failed", "median p50 ratio", "max p50 ratio (best attempt)"]
    return "\n".join(md_table(header, table, right=(1, 2, 3, 4)))
