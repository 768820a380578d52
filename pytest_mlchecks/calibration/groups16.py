"""Calibration of ``groups_represented`` and ``scores_equitable`` on generated data.

groups_represented: group labels drawn from reference shares (clean: must pass) or with one
group drawn at half its reference share (broken: must fail), against the shares as a mapping
and against a reference sample of twice the rows; without a reference, a group drawn right at
the floor (clean) or at half of it (broken). scores_equitable: scores that depend only on the
true label, with random groups or groups of different base rates (clean, judged within the
label), and with one group's scores shifted down (broken). ``python -m
pytest_mlchecks.calibration --only groups``.
"""

from __future__ import annotations

from typing import Any

from pytest_mlchecks._messages import md_table

SIZES = (300, 1000, 5000)
#: reference shares: a binary attribute, and four groups down to 5% (the last is halved)
SHARES = {"2 groups 70/30": (0.7, 0.3), "4 groups 50/30/15/5": (0.5, 0.3, 0.15, 0.05)}
FLOOR_SHARES = (0.6, 0.35, 0.05)  # the last sits at the default floor (5%)
SHIFTS = (0.1, 0.25, 0.5, 1.0)  # the group's scores moved down, in SDs of the score noise


def _halved(shares: tuple[float, ...], which: int) -> list[float]:
    """``shares`` with group ``which`` drawn at half its share, the others scaled up."""
    out = list(shares)
    out[which] /= 2
    rest = sum(out) - out[which]
    scale = (1 - out[which]) / rest
    return [s if i == which else s * scale for i, s in enumerate(out)]


def _draw(rng: Any, shares: list[float] | tuple[float, ...], n: int) -> Any:
    import numpy as np

    names = np.array([f"g{i}" for i in range(len(shares))])
    return names[rng.choice(len(shares), n, p=np.asarray(shares) / sum(shares))]


def _represented_passes(
    rng: Any, drawn: list[float], n: int, against: str, shares: tuple[float, ...]
) -> bool:
    """One draw of ``n`` labels from ``drawn`` shares, judged against ``shares`` as a mapping,
    against a reference sample of ``2n`` rows, or (``floor``) without a reference."""
    import pytest_mlchecks as mlc

    data = _draw(rng, drawn, n)
    if against == "floor":
        return mlc.check_groups_represented(data).passed
    reference: Any = {f"g{i}": s for i, s in enumerate(shares)}
    if against != "shares":
        reference = _draw(rng, shares, 2 * n)
    return mlc.check_groups_represented(data, reference=reference).passed


def calibrate_represented(draws: int, seed: int = 0) -> list[list[str]]:
    """One row per (case, reference, rows): failures out of ``draws``."""
    import numpy as np

    cases: list[tuple[str, str, str, list[float], tuple[float, ...]]] = []
    for name, shares in SHARES.items():
        last = len(shares) - 1
        for against in ("shares", "sample (2n)"):
            cases.append((name, "clean", against, list(shares), shares))
            halved = f"{name}, g{last} at half its share"
            cases.append((halved, "broken", against, _halved(shares, last), shares))
    cases.append(("smallest at the 5% floor", "clean", "floor", list(FLOOR_SHARES), FLOOR_SHARES))
    cases.append(("smallest at 2.5%", "broken", "floor", _halved(FLOOR_SHARES, 2), FLOOR_SHARES))
    rows: list[list[str]] = []
    for n in SIZES:
        for c, (case, kind, against, drawn, shares) in enumerate(cases):
            failed = sum(
                not _represented_passes(
                    np.random.default_rng([seed, n, i, c]), drawn, n, against, shares
                )
                for i in range(draws)
            )
            rows.append([case, kind, against, f"{n:,}", f"{failed} / {draws}"])
    return rows


def _scored(rng: Any, n: int, base: tuple[float, float], shift: float, k: int) -> Any:
    """Labels with base rate ``base[0]`` in group g0 and ``base[1]`` elsewhere, scores that
    depend on the label only (plus ``shift`` down for g0), groups g0..g{k-1} (g0 a quarter)."""
    import numpy as np

    shares = [0.25] + [0.75 / (k - 1)] * (k - 1)
    groups = _draw(rng, shares, n)
    in_g0 = groups == "g0"
    y = (rng.random(n) < np.where(in_g0, base[0], base[1])).astype(int)
    score = 1.5 * y + rng.normal(0.0, 1.0, n) - shift * in_g0
    return 1.0 / (1.0 + np.exp(-score)), groups, y


def calibrate_scores(draws: int, seed: int = 0) -> list[list[str]]:
    """One row per (case, rows): failures out of ``draws`` and the median |gap|."""
    import numpy as np

    import pytest_mlchecks as mlc

    cases: list[tuple[str, str, tuple[float, float], float, int, bool, int | None]] = [
        ("random groups (2)", "clean", (0.3, 0.3), 0.0, 2, True, None),
        ("random groups (4), scores rounded to 0.05", "clean", (0.3, 0.3), 0.0, 4, True, 20),
        ("g0 base rate 15% vs 45%, with y_true", "clean", (0.15, 0.45), 0.0, 2, True, None),
        (
            "g0 base rate 15% vs 45%, no y_true",
            "lower base rate",
            (0.15, 0.45),
            0.0,
            2,
            False,
            None,
        ),
    ]
    cases += [
        (
            f"g0 scores {shift} SD lower",
            "below the limit" if shift < 0.2 else "broken",
            (0.3, 0.3),
            shift,
            2,
            True,
            None,
        )
        for shift in SHIFTS
    ]
    rows: list[list[str]] = []
    for n in SIZES:
        for name, kind, base, shift, k, with_y, rounding in cases:
            failed, gaps = 0, list[float]()
            for i in range(draws):
                rng = np.random.default_rng([seed, n, i, int(100 * shift), k, int(with_y)])
                score, groups, y = _scored(rng, n, base, shift, k)
                if rounding:
                    score = np.round(score * rounding) / rounding
                out = mlc.check_scores_equitable(score, groups, y if with_y else None)
                failed += not out.passed
                gaps.append(float(out.value or 0.0))
            rows.append(
                [name, kind, f"{n:,}", f"{failed} / {draws}", f"{float(np.median(gaps)):.3f}"]
            )
    return rows


def markdown(represented: list[list[str]], scores: list[list[str]]) -> str:
    first = md_table(["case", "kind", "against", "rows", "failed"], represented, right=(3, 4))
    second = md_table(["case", "kind", "rows", "failed", "median gap"], scores, right=(2, 3, 4))
    return "\n".join([*first, "", *second])
