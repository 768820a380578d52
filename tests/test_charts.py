"""The report's drawing primitives (``pytest_mlchecks._charts``): axes, bin labels, lines,
histograms, escaping, and quiet handling of empty and non-finite figures."""

from __future__ import annotations

import math
import re

import pytest

from pytest_mlchecks._charts import (
    BarChart,
    Histogram,
    Line,
    LineChart,
    Mark,
    Series,
    bars,
    nice_ticks,
    range_labels,
)

NASTY = 'R&D <"lab">'


def _texts(svg: str) -> list[str]:
    return re.findall(r">([^<>]+)</text>", svg)


# ---------------------------------------------------------------------------- ticks


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (0.0, 1.0, [0.0, 0.25, 0.5, 0.75, 1.0]),
        (0.89, 0.91, [0.89, 0.895, 0.9, 0.905, 0.91]),
        (0.0, 0.37, [0.0, 0.1, 0.2, 0.3, 0.4]),
        (120.0, 980.0, [0.0, 250.0, 500.0, 750.0, 1000.0]),
    ],
)
def test_ticks_are_round_and_cover_the_range(lo: float, hi: float, expected: list[float]) -> None:
    ticks = nice_ticks(lo, hi)
    assert ticks == pytest.approx(expected)
    assert ticks[0] <= lo and ticks[-1] >= hi


def test_ticks_of_a_single_value_or_non_finite_bounds_still_make_an_axis() -> None:
    ticks = nice_ticks(3.0, 3.0)
    assert ticks[0] < 3.0 < ticks[-1]
    assert nice_ticks(math.nan, 1.0) == [0.0, 1.0]


def test_zoomed_bars_keep_close_scores_apart_with_labelled_ticks() -> None:
    svg = BarChart(
        "ladder", ["dummy", "linear", "model"], [Series("auc", [0.89, 0.905, 0.91])], zoom=True
    ).svg()
    assert "axis zoomed to" in svg and svg.count("<rect") == 1  # the legend's swatch only
    assert svg.count("<circle") == 3  # dots, not bars from a hidden origin
    cx = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    assert cx[2] - cx[0] > 150  # 0.02 apart spans half the 380 px plot
    ticks = [t for t in _texts(svg) if re.fullmatch(r"0\.\d+", t)]
    assert "0.90" in ticks and not {"0", "0.0", "0.000"} & set(_texts(svg))  # not from 0


def test_bars_from_zero_show_ticks_and_marks() -> None:
    svg = BarChart(
        "rates", ["a", "b"], [Series("rate", [0.2, 0.8])], marks=[Mark("limit", 0.5)]
    ).svg()
    assert {"0.0", "0.2", "0.4", "0.6", "0.8"} <= set(_texts(svg))
    assert svg.count("<rect") == 2 + 1  # two bars, one legend swatch
    assert "stroke-dasharray" in svg and "limit" in svg


def test_series_that_never_share_a_label_share_one_slot() -> None:
    one = BarChart(
        "x", ["a", "b"], [Series("bad", [0.9, None], "bad"), Series("ok", [None, 0.6])]
    ).svg()
    two = BarChart("x", ["a", "b"], [Series("s", [0.9, 0.8]), Series("t", [0.6, 0.5])]).svg()
    assert int(re.search(r'height="(\d+)"', one).group(1)) < int(
        re.search(r'height="(\d+)"', two).group(1)
    )


# ---------------------------------------------------------------------------- lines


def test_line_chart_points_axes_and_diagonal() -> None:
    chart = LineChart(
        "reliability",
        [Line("observed", [0.1, 0.5, math.nan, 0.9], [0.05, 0.55, 0.7, None])],
        x_label="mean predicted",
        y_label="observed rate",
        diagonal=True,
        x_range=(0.0, 1.0),
    )
    assert chart.points(chart.lines[0]) == [(0.1, 0.05), (0.5, 0.55)]  # NaN, None left out
    svg = chart.svg()
    (points,) = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(points.split()) == 2
    assert "y = x" in svg and "mean predicted" in svg and "observed rate" in svg
    assert {"0.00", "0.25", "0.50", "0.75", "1.00"} <= set(_texts(svg))
    # the first point sits left of and below the second (y grows downwards in SVG)
    (x1, y1), (x2, y2) = [tuple(map(float, p.split(","))) for p in points.split()]
    assert x1 < x2 and y1 > y2


def test_line_chart_marks_and_points_only_series() -> None:
    chart = LineChart(
        "per window",
        [
            Line("auc", [1, 2, 3], [0.9, 0.8, 0.7]),
            Line("dropped", [1, 2, 3], [None, None, 0.7], "bad", points_only=True),
        ],
        marks=[Mark("baseline", 0.88, "ref"), Mark("drop line", 0.83)],
    )
    svg = chart.svg()
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 4
    assert "baseline" in svg and "drop line" in svg


# ------------------------------------------------------------------------ histograms


def test_bin_labels_are_value_ranges() -> None:
    assert range_labels([0.5, 1.2, 3.0]) == [
        "\u2264 0.5",
        "(0.5, 1.2]",
        "(1.2, 3]",
        "> 3",
        "missing",
    ]
    assert range_labels([1_250.0, 23_312.3], missing_bin=False) == [
        "\u2264 1,250",
        "(1,250, 23,300]",
        "> 23,300",
    ]
    # just enough digits to keep close edges apart
    assert range_labels([0.12344, 0.12346], missing_bin=False)[1] == "(0.1234, 0.1235]"


def test_point_bins_are_labelled_with_their_value() -> None:
    edges = [0.1 - 1e-9, 0.1, 0.25 - 1e-9, 0.25]
    assert range_labels(edges) == ["< 0.1", "0.1", "(0.1, 0.25)", "0.25", "> 0.25", "missing"]


def test_integer_bins_are_integers_and_ranges() -> None:
    points = [v + d for v in (1.0, 2.0, 3.0) for d in (-2e-9, 0.0)]
    assert range_labels(points, integral=True) == [
        "\u2264 0",
        "1",
        "none",
        "2",
        "none",
        "3",
        "\u2265 4",
        "missing",
    ]
    quantiles = [20.5, 27.0, 35.25]
    assert range_labels(quantiles, integral=True, missing_bin=False) == [
        "\u2264 20",
        "21\u201327",
        "28\u201335",
        "\u2265 36",
    ]


def test_histogram_leaves_out_bins_empty_on_both_sides() -> None:
    labels = ["\u2264 0", "1", "none", "2", "none", "3", "\u2265 4", "missing"]
    chart = Histogram(
        "children", labels, [0, 0.5, 0, 0.3, 0, 0.2, 0, 0], [0, 0.3, 0, 0.3, 0.1, 0.3, 0, 0]
    )
    assert [label for label, _, _ in chart.bins()] == ["1", "2", "none", "3"]
    svg = chart.svg()
    assert (
        svg.count("<rect") == 2 * 3 + 1 + 2
    )  # reference and current bars, the current-only bin, legend


def test_names_are_escaped_everywhere() -> None:
    svgs = [
        Histogram(NASTY, [NASTY, "b"], [0.5, 0.5], [0.2, 0.8], names=(NASTY, "now")).svg(),
        BarChart(NASTY, [NASTY], [Series(NASTY, [1.0])], marks=[Mark(NASTY, 0.5)]).svg(),
        LineChart(
            NASTY,
            [Line(NASTY, [0, 1], [0, 1])],
            x_label=NASTY,
            y_label=NASTY,
            marks=[Mark(NASTY, 0.5)],
        ).svg(),
    ]
    for svg in svgs:
        assert NASTY not in svg and "R&amp;D &lt;&quot;lab&quot;&gt;" in svg
        assert svg.count("<svg") == 1 and svg.endswith("</svg>")


@pytest.mark.parametrize("bad", [[], [None, None], [math.nan, math.inf]])
def test_empty_and_non_finite_figures_draw_nothing_without_crashing(
    bad: list[float | None],
) -> None:
    labels = [f"l{i}" for i in range(len(bad))]
    assert BarChart("t", labels, [Series("s", bad)]).svg() == ""
    assert BarChart("t", labels, [Series("s", bad)], zoom=True).svg() == ""
    assert BarChart("t", labels, [Series("s", bad)], log=True).svg() == ""
    assert LineChart("t", [Line("s", list(range(len(bad))), bad)]).svg() == ""
    assert Histogram("t", labels, bad, bad).svg() == ""
    assert bars([], []) == ""


def test_a_single_finite_value_among_nan_still_draws() -> None:
    assert "<circle" in BarChart("t", ["a", "b"], [Series("s", [math.nan, 0.7])], zoom=True).svg()
    assert "<polyline" in LineChart("t", [Line("s", [0, 1], [math.nan, 0.7])]).svg()
    assert "<rect" in Histogram("t", ["a", "b"], [math.nan, 0.7], [None, 0.3]).svg()
    assert "<rect" in BarChart("t", ["a", "b"], [Series("s", [0.0, 1e-6])], log=True).svg()


# ------------------------------------------------------------- no_drift's histograms


def _drift_charts(reference: object, current: object) -> list[Histogram]:
    import pytest_mlchecks as mlc
    from pytest_mlchecks._charts import chart_for

    build = chart_for("no_drift")
    assert build is not None
    details = mlc.check_no_drift(reference, current).to_dict()["details"]
    return [c for c in build(details) if isinstance(c, Histogram)]


def test_drift_histogram_of_an_integer_column_has_one_bar_per_value() -> None:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    for cast in (int, float):  # counts stored as floats (e.g. after a NaN) read the same
        reference = pd.DataFrame({"kids": rng.poisson(1.2, 3000).astype(cast)})
        current = pd.DataFrame({"kids": rng.poisson(2.2, 3000).astype(cast)})
        (chart,) = _drift_charts(reference, current)
        shown = [label for label, _, _ in chart.bins()]
        seen = sorted(set(reference["kids"]))  # the reference's values: one bin each
        assert shown[: len(seen)] == [str(int(v)) for v in seen]  # and no empty bins between
        assert shown[len(seen) :] == [f"\u2265 {int(seen[-1]) + 1}"]  # current's larger counts
        assert "none" not in shown and "missing" not in shown


def test_drift_histogram_labels_ranges_and_escaped_categories() -> None:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    reference = pd.DataFrame(
        {"x": rng.normal(size=3000), "city": rng.choice([NASTY, "Lyon"], 3000, p=[0.2, 0.8])}
    )
    current = pd.DataFrame(
        {"x": rng.normal(1.0, size=3000), "city": rng.choice([NASTY, "Lyon"], 3000, p=[0.6, 0.4])}
    )
    charts = {c.title.split(":")[0]: c for c in _drift_charts(reference, current)}
    x_labels = [label for label, _, _ in charts["x"].bins()]
    assert x_labels[0].startswith("\u2264 ") and x_labels[-1].startswith("> ")
    assert all(re.fullmatch(r"\(-?[\d.]+, -?[\d.]+\]", label) for label in x_labels[1:-1])
    assert sorted(label for label, _, _ in charts["city"].bins()) == sorted([NASTY, "Lyon"])
    assert (
        NASTY not in charts["city"].svg()
        and "R&amp;D &lt;&quot;lab&quot;&gt;" in charts["city"].svg()
    )


# --------------------------------------------------------------- the comparison chart


def _entry(name: str, then: float, now: float, worse: str | None) -> dict[str, object]:
    relative = (now - then) / abs(then) if then else None
    moved = relative is not None and relative != 0
    worse_now = moved and (relative > 0) == (worse == "higher")  # type: ignore[operator]
    return {
        "nodeid": f"t.py::test_{name}",
        "name": name,
        "occurrence": 0,
        "rung": "evaluation",
        "then": then,
        "now": now,
        "status_then": "pass",
        "status_now": "pass",
        "worse": worse,
        "change": ("worse" if worse_now else "better") if moved else "same",
        "relative": relative,
        "regression": bool(worse_now and abs(relative) > 0.05),  # type: ignore[arg-type]
    }


def test_comparison_chart_puts_worse_right_and_better_left_in_percent() -> None:
    from pytest_mlchecks._compare import change_chart

    section = {
        "tolerance": 0.05,
        "checks": [
            _entry("calibrated", 0.02, 0.03, "higher"),  # ECE up 50%: worse
            _entry("beats_dummy", 0.10, 0.12, "lower"),  # gap up 20%: better
            _entry("no_drift", 0.2, 0.2, "higher"),  # same: not drawn
            _entry("user_figure", 1.0, 2.0, None),  # direction unknown: not drawn
        ],
    }
    svg = change_chart(section)  # type: ignore[arg-type]
    texts = _texts(svg)
    assert "+50.0%" in texts and "-20.0%" in texts
    assert not any("no_drift" in t or "user_figure" in t for t in texts)
    worse = re.search(r'<rect x="([\d.]+)"[^>]*fill="#c0392b"><title>calibrated', svg)
    better = re.search(r'<rect x="([\d.]+)"[^>]*width="([\d.]+)"[^>]*fill="#2e8b57"', svg)
    assert worse is not None and better is not None
    # the better bar ends where the worse one starts: at 0
    assert float(better.group(1)) + float(better.group(2)) == pytest.approx(
        float(worse.group(1)), abs=0.2
    )
    assert "tolerance 5%" in texts
    assert change_chart({"tolerance": 0.05, "checks": [_entry("x", 0.0, 1.0, "higher")]}) == ""  # type: ignore[arg-type]
