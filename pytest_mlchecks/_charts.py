"""Charts of the HTML report, declared beside the checks they picture.

A check module declares the picture of its figures once, at its end::

    @chart("no_drift")
    def _chart_no_drift(details: dict[str, Any]) -> list[Chart]:
        ...

A chart function reads the check's JSON ``details`` (as recorded in the report) and returns
the charts to draw (an empty list: nothing worth a picture). ``chart_for(name)`` finds it,
importing the check's module (``CHECKS[name].module``) only when a report is rendered.

Three drawing primitives turn a chart into inline SVG (no plotting library, no network, no
external files; standard library only), each with a value axis that has ticks and labels:

- ``BarChart``: grouped horizontal bars from 0 (shares, rates, counts; ``log`` for orders of
  magnitude). With ``zoom=True`` the axis spans the values only (0.89 vs 0.91 stays visibly
  apart) and the figures are drawn as dots, not bars: a bar from a non-zero origin would
  make its length lie about the ratio of two figures.
- ``LineChart``: numeric x and y axes, several series of points joined by lines, an optional
  diagonal ``y = x`` (reliability and ROC curves) and horizontal reference lines (a baseline,
  a limit).
- ``Histogram``: the shares of two samples (reference, current) side by side per bin, each
  bin labelled with its value range (``range_labels``) or its category name.

Every text is HTML-escaped; missing and non-finite values are left out, never drawn as 0.
"""

from __future__ import annotations

import html
import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeGuard, TypeVar

from pytest_mlchecks._messages import fmt_report
from pytest_mlchecks._registry import CHECKS

__all__ = [
    "COLORS",
    "BarChart",
    "Chart",
    "ChartBuilder",
    "Color",
    "Histogram",
    "Line",
    "LineChart",
    "Mark",
    "Series",
    "bars",
    "chart",
    "chart_for",
    "fmt_report",
    "nice_ticks",
    "range_labels",
]

#: the palette, by role: reference vs current data, bad vs good, a neutral reference line
COLORS: dict[str, str] = {
    "ref": "#6b8fbf",
    "cur": "#e07b39",
    "bad": "#c0392b",
    "ok": "#2e8b57",
    "muted": "#888888",
}
Color = Literal["ref", "cur", "bad", "ok", "muted"]
FONT = 'font-family="system-ui,sans-serif"'


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _finite(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ----------------------------------------------------------------------------- axes


def nice_ticks(lo: float, hi: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """About ``count`` round tick values (steps of 1, 2, 2.5 or 5 times a power of ten)
    covering ``[lo, hi]``: the first tick at or below ``lo``, the last at or above ``hi``.
    ``integer``: whole steps only (window numbers, row counts)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.05 or 0.5
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    steps = [m * power for m in (1, 2, 2.5, 5, 10)]
    if integer:
        steps = [max(1.0, st) for st in steps if st >= 1 and st == int(st)] or [1.0]
    step = next((st for st in steps if st >= raw * 0.999), steps[-1])
    start = math.floor(lo / step + 1e-9) * step
    ticks: list[float] = []
    value = start
    while value < hi + step * 0.999 and len(ticks) < 4 * count:
        ticks.append(round(value, 12))
        if value >= hi - step * 1e-9:
            break
        value += step
    return ticks


def _tick_text(value: float, ticks: Sequence[float]) -> str:
    """A tick label with just enough decimals to show the tick step."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    if abs(value) >= 1e6 or 0 < step < 1e-4:
        return f"{value:.3g}"
    decimals = 0
    while decimals < 6 and abs(round(step, decimals) - step) > step * 1e-6:
        decimals += 1
    return f"{value:.{decimals}f}"


@dataclass(frozen=True)
class _Axis:
    """A linear map from ``[lo, hi]`` (the first and last tick unless given) onto pixels
    ``[start, end]``, with its ticks (those inside the range)."""

    ticks: list[float]
    start: float
    end: float
    domain: tuple[float, float] | None = None

    @property
    def lo(self) -> float:
        return self.domain[0] if self.domain else self.ticks[0]

    @property
    def hi(self) -> float:
        return self.domain[1] if self.domain else self.ticks[-1]

    def at(self, value: float) -> float:
        span = (self.hi - self.lo) or 1.0
        return self.start + (value - self.lo) / span * (self.end - self.start)

    def labels(self) -> list[str]:
        return [_tick_text(t, self.ticks) for t in self.ticks]


def _zoomed_axis(lo: float, hi: float, start: float, end: float, *, integer: bool = False) -> _Axis:
    """An axis over exactly ``[lo, hi]`` (widened when they are equal) with the round ticks
    that fall inside it."""
    if hi <= lo:
        widened = nice_ticks(lo, hi)
        lo, hi = widened[0], widened[-1]
    ticks = [t for t in nice_ticks(lo, hi, 7, integer=integer) if lo - 1e-12 <= t <= hi + 1e-12]
    return _Axis(ticks or [lo, hi], start, end, (lo, hi))


def _axis(values: Sequence[float], start: float, end: float, *, zero: bool) -> _Axis:
    lo, hi = min(values), max(values)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    return _Axis(nice_ticks(lo, hi), start, end)


def _svg_open(width: float, height: float, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{_esc(title)}" {FONT}>',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{_esc(_cut(title, 110))}</text>',
    ]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _legend(items: Sequence[tuple[str, str, bool]], x: float, y: float) -> list[str]:
    """Swatches with names, left to right: (name, color, drawn as a line)."""
    parts = []
    for name, color, line in items:
        if line:
            parts.append(
                f'<line x1="{x:.0f}" y1="{y - 4}" x2="{x + 14:.0f}" y2="{y - 4}" '
                f'stroke="{color}" stroke-width="2"/>'
            )
        else:
            parts.append(f'<rect x="{x:.0f}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
        label = _cut(name, 48)
        parts.append(f'<text x="{x + 18:.0f}" y="{y}" font-size="11">{_esc(label)}</text>')
        x += 30 + 6.2 * len(label)
    return parts


def _legend_width(names: Sequence[str]) -> float:
    return sum(30 + 6.2 * len(_cut(n, 48)) for n in names)


# ---------------------------------------------------------------------------- series


@dataclass(frozen=True)
class Series:
    """One bar per label: ``values[i]`` belongs to ``labels[i]`` (None: no bar)."""

    name: str
    values: Sequence[float | None]
    color: Color = "ref"


@dataclass(frozen=True)
class Mark:
    """A reference line across a chart at ``value`` (a baseline, a limit), named in the
    legend."""

    name: str
    value: float
    color: Color = "bad"


class Chart(Protocol):
    """What a chart function returns: something with a title that draws itself as SVG."""

    @property
    def title(self) -> str: ...

    def svg(self) -> str: ...


# ------------------------------------------------------------------------------ bars


@dataclass(frozen=True)
class BarChart:
    """A grouped horizontal bar chart (values >= 0 from a 0 origin; ``log`` for orders of
    magnitude; ``zoom`` for figures close together: a dot plot on an axis spanning the
    values only), with vertical reference lines ``marks``."""

    title: str
    labels: Sequence[str]
    series: Sequence[Series]
    log: bool = False
    zoom: bool = False
    marks: Sequence[Mark] = ()
    value_text: Callable[[float], str] = fmt_report  # the figure printed beside a bar

    def svg(self) -> str:
        return bars(
            list(self.labels),
            [(s.name, list(s.values), COLORS[s.color]) for s in self.series],
            log=self.log,
            zoom=self.zoom,
            title=self.title,
            marks=[(m.name, m.value, COLORS[m.color]) for m in self.marks],
            value_text=self.value_text,
        )


def _zoom_range(values: Sequence[float]) -> tuple[float, float]:
    """The zoomed axis range: the values with a margin of a tenth of their spread (and of
    a percent of their size, so equal values still get an axis)."""
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.1, abs(hi) * 0.01, 1e-9)
    return lo - pad, hi + pad


def bars(
    labels: list[str],
    series: list[tuple[str, Sequence[float | None], str]],
    *,
    log: bool = False,
    zoom: bool = False,
    title: str = "",
    marks: Sequence[tuple[str, float, str]] = (),
    value_text: Callable[[float], str] = fmt_report,
) -> str:
    """Grouped horizontal bar chart as SVG with a tick-labelled value axis (see
    ``BarChart``)."""
    if not labels or not series:
        return ""
    values = [float(v) for _, vs, _ in series for v in vs if _finite(v)]
    if log:
        values = [v for v in values if v > 0]
    if not values:
        return ""
    mark_values = [float(v) for _, v, _ in marks if _finite(v) and (v > 0 or not log)]
    rows = len(labels)
    # series that never share a label (leaking / not leaking) share one slot per row
    shared = all(
        sum(_finite(vs[i]) for _, vs, _ in series if i < len(vs)) <= 1 for i in range(rows)
    )
    group = 1 if shared else len(series)
    bar_h = 14 if group == 1 else max(6, 16 // group + 2)
    row_h = max(20, group * bar_h + 8)
    label_w = min(290, 12 + 6.2 * max(len(_cut(str(lab), 46)) for lab in labels))
    left, plot_w = label_w + 8, 380
    top = 28
    plot_h = rows * row_h
    legend = [(name, color, False) for name, _, color in series]
    legend += [(name, color, True) for name, value, color in marks if _finite(value)]
    width = max(left + plot_w + 70, _legend_width([n for n, _, _ in legend]) + left, 8 * len(title))
    height = top + plot_h + 24 + 22 + (12 if zoom else 0)
    everything = values + mark_values
    if log:
        lo_exp = math.floor(math.log10(min(everything)))
        hi_exp = math.ceil(math.log10(max(everything)))
        hi_exp = max(hi_exp, lo_exp + 1)
        step = max(1, math.ceil((hi_exp - lo_exp) / 6))
        exps = list(range(lo_exp, hi_exp + 1, step))
        if exps[-1] < hi_exp:
            exps.append(exps[-1] + step)
        axis = _Axis([float(e) for e in exps], left, left + plot_w)

        def pos(v: float) -> float:
            return axis.at(math.log10(v)) if v > 0 else left

        tick_labels = [f"1e{e}" if not 0 <= e <= 3 else f"{10**e:g}" for e in exps]
    else:
        if zoom:
            axis = _zoomed_axis(*_zoom_range(everything), left, left + plot_w)
        else:
            axis = _axis(everything, left, left + plot_w, zero=True)

        def pos(v: float) -> float:
            return axis.at(v)

        tick_labels = axis.labels()
    parts = _svg_open(width, height, title)
    base_y = top + plot_h
    for tick, text in zip(axis.ticks, tick_labels, strict=True):
        x = axis.at(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{base_y}" stroke="#e3e3e3"/>'
            f'<text x="{x:.1f}" y="{base_y + 14}" font-size="10" text-anchor="middle" '
            f'fill="#555">{_esc(text)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{base_y}" x2="{left + plot_w}" y2="{base_y}" stroke="#999"/>'
    )
    if zoom:
        parts.append(
            f'<text x="{left + plot_w}" y="{base_y + 27}" font-size="10" text-anchor="end" '
            'fill="#777">axis zoomed to the figures (not from 0)</text>'
        )
    origin = pos(0.0) if not log and not zoom else left
    for i, label in enumerate(labels):
        y = top + i * row_h + 4
        parts.append(
            f'<text x="{left - 6:.0f}" y="{y + min(row_h - 8, group * bar_h) / 2 + 4:.0f}" '
            f'font-size="11" text-anchor="end">{_esc(_cut(str(label), 46))}</text>'
        )
        for j, (name, vs, color) in enumerate(series):
            v = vs[i] if i < len(vs) else None
            if not _finite(v) or (log and float(v) <= 0):
                continue
            value = float(v)
            x = pos(value)
            y_bar = y + (0 if shared else j) * bar_h
            tip = f"<title>{_esc(label)} \u00b7 {_esc(name)}: {fmt_report(value)}</title>"
            if zoom:
                cy = y_bar + (bar_h - 1) / 2
                parts.append(
                    f'<line x1="{left}" y1="{cy:.1f}" x2="{left + plot_w}" y2="{cy:.1f}" '
                    'stroke="#eee"/>'
                    f'<circle cx="{x:.1f}" cy="{cy:.1f}" r="{min(5, bar_h / 2):.1f}" '
                    f'fill="{color}">{tip}</circle>'
                )
            else:
                x0, x1 = sorted((origin, x))
                parts.append(
                    f'<rect x="{x0:.1f}" y="{y_bar}" width="{max(x1 - x0, 0.5):.1f}" '
                    f'height="{bar_h - 1}" fill="{color}">{tip}</rect>'
                )
            parts.append(
                f'<text x="{max(x, origin) + 6:.1f}" y="{y_bar + bar_h - 3}" font-size="10" '
                f'fill="#333">{_esc(value_text(value))}</text>'
            )
    for name, value, color in marks:
        if not _finite(value) or (log and value <= 0):
            continue
        x = pos(float(value))
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{base_y}" stroke="{color}" '
            f'stroke-width="2" stroke-dasharray="5 3"><title>{_esc(name)}: '
            f"{fmt_report(value)}</title></line>"
        )
    parts += _legend(legend, left, height - 6)
    parts.append("</svg>")
    return "".join(parts)


# ----------------------------------------------------------------------------- lines


@dataclass(frozen=True)
class Line:
    """One series of a line chart: points ``(xs[i], ys[i])`` (non-finite ones left out)."""

    name: str
    xs: Sequence[float | None]
    ys: Sequence[float | None]
    color: Color = "cur"
    dashed: bool = False
    points_only: bool = False  # dots, no line (e.g. the windows that dropped)


@dataclass(frozen=True)
class LineChart:
    """Numeric x and y axes with ticks, several lines, the diagonal ``y = x`` when
    ``diagonal`` (reliability and ROC curves), horizontal reference lines ``marks``, and
    axis ranges that include ``x_range`` / ``y_range`` when given (e.g. ``(0, 1)``)."""

    title: str
    lines: Sequence[Line]
    x_label: str = ""
    y_label: str = ""
    diagonal: bool = False
    marks: Sequence[Mark] = ()
    x_range: tuple[float, float] | None = None
    y_range: tuple[float, float] | None = None
    x_ticks: Sequence[tuple[float, str]] = field(default=())

    def points(self, line: Line) -> list[tuple[float, float]]:
        """The finite points of ``line``, in order."""
        return [
            (float(x), float(y))
            for x, y in zip(line.xs, line.ys, strict=False)
            if _finite(x) and _finite(y)
        ]

    def svg(self) -> str:
        drawn = [(line, self.points(line)) for line in self.lines]
        drawn = [(line, pts) for line, pts in drawn if pts]
        if not drawn:
            return ""
        xs = [x for _, pts in drawn for x, _ in pts]
        ys = [y for _, pts in drawn for _, y in pts]
        ys += [m.value for m in self.marks if _finite(m.value)]
        if self.x_range:
            xs += list(self.x_range)
        if self.y_range:
            ys += list(self.y_range)
        if self.diagonal:
            xs, ys = xs + ys, ys + xs  # one square-ish range shared by both axes
        left, top, plot_w, plot_h = 58, 30, 400, 220
        whole = all(x == int(x) for x in xs)
        x_axis = _zoomed_axis(min(xs), max(xs), left, left + plot_w, integer=whole)
        y_axis = _Axis(nice_ticks(min(ys), max(ys)), top + plot_h, top)
        legend = [(line.name, COLORS[line.color], not line.points_only) for line, _ in drawn]
        legend += [(m.name, COLORS[m.color], True) for m in self.marks if _finite(m.value)]
        if self.diagonal:
            legend.append(("y = x", COLORS["muted"], True))
        width = max(left + plot_w + 24, _legend_width([n for n, _, _ in legend]) + 12)
        width = max(width, 8 * len(_cut(self.title, 110)))
        height = top + plot_h + 40 + 20
        parts = _svg_open(width, height, self.title)
        base_y = top + plot_h
        x_ticks = list(self.x_ticks) or list(zip(x_axis.ticks, x_axis.labels(), strict=True))
        for value, text in x_ticks:
            x = x_axis.at(value)
            parts.append(
                f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{base_y}" stroke="#eee"/>'
                f'<text x="{x:.1f}" y="{base_y + 14}" font-size="10" text-anchor="middle" '
                f'fill="#555">{_esc(text)}</text>'
            )
        for value, text in zip(y_axis.ticks, y_axis.labels(), strict=True):
            y = y_axis.at(value)
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                f'stroke="#eee"/><text x="{left - 5}" y="{y + 3:.1f}" font-size="10" '
                f'text-anchor="end" fill="#555">{_esc(text)}</text>'
            )
        parts.append(
            f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
            'stroke="#999"/>'
        )
        if self.x_label:
            parts.append(
                f'<text x="{left + plot_w / 2:.0f}" y="{base_y + 30}" font-size="11" '
                f'text-anchor="middle">{_esc(_cut(self.x_label, 70))}</text>'
            )
        if self.y_label:
            parts.append(
                f'<text x="12" y="{top + plot_h / 2:.0f}" font-size="11" text-anchor="middle" '
                f'transform="rotate(-90 12 {top + plot_h / 2:.0f})">'
                f"{_esc(_cut(self.y_label, 40))}</text>"
            )
        if self.diagonal:
            lo = max(x_axis.lo, y_axis.lo)
            hi = min(x_axis.hi, y_axis.hi)
            parts.append(
                f'<line x1="{x_axis.at(lo):.1f}" y1="{y_axis.at(lo):.1f}" '
                f'x2="{x_axis.at(hi):.1f}" y2="{y_axis.at(hi):.1f}" stroke="{COLORS["muted"]}" '
                'stroke-dasharray="4 3"/>'
            )
        for mark in self.marks:
            if not _finite(mark.value):
                continue
            y = y_axis.at(mark.value)
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                f'stroke="{COLORS[mark.color]}" stroke-width="1.5" stroke-dasharray="6 3">'
                f"<title>{_esc(mark.name)}: {fmt_report(mark.value)}</title></line>"
            )
        for line, pts in drawn:
            color = COLORS[line.color]
            coords = " ".join(f"{x_axis.at(x):.1f},{y_axis.at(y):.1f}" for x, y in pts)
            dash = ' stroke-dasharray="5 3"' if line.dashed else ""
            if not line.points_only:
                parts.append(
                    f'<polyline points="{coords}" fill="none" stroke="{color}" '
                    f'stroke-width="2"{dash}/>'
                )
            if len(pts) <= 60 or line.points_only:
                parts += [
                    f'<circle cx="{x_axis.at(x):.1f}" cy="{y_axis.at(y):.1f}" r="3" '
                    f'fill="{color}"><title>{_esc(line.name)}: ({fmt_report(x)}, '
                    f"{fmt_report(y)})</title></circle>"
                    for x, y in pts
                ]
        parts += _legend(legend, left, height - 6)
        parts.append("</svg>")
        return "".join(parts)


# ------------------------------------------------------------------------ histograms


def _number(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, without exponents between 1e-4 and 1e9
    (thousands grouped: ``23,300``)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    if not -4 <= magnitude < 9:
        return f"{value:.{digits}g}"
    decimals = digits - 1 - magnitude
    rounded = round(value, decimals)
    text = f"{rounded:,.{max(decimals, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _edge_texts(edges: Sequence[float], integral: bool) -> list[str]:
    """Edges as text with the fewest significant digits (3 to 12) that keep them apart."""
    if integral:
        return [str(int(e)) for e in edges]
    texts: list[str] = []
    for digits in range(3, 13):
        texts = [_number(e, digits) for e in edges]
        if len(set(texts)) == len(set(edges)):
            break
    return texts


def range_labels(
    edges: Sequence[float], *, integral: bool = False, missing_bin: bool = True
) -> list[str]:
    """Labels of the bins that sorted ``edges`` cut, as ``drift.bin_counts`` counts them:
    ``<= e0``, ``(e0, e1]``, ..., ``> e_last``, then ``missing`` (``missing_bin``). A bin no
    wider than rounding (a point bin ``(v - 1e-9, v]``) is labelled ``v``, the bins beside it
    ``< v`` or ``(u, v)``. For an
    ``integral`` column each bin is the integers it holds: ``3``, ``4-7``, ``<= 2``, ``>= 9``
    (an empty range: ``none``)."""
    if integral:
        lows = [-math.inf, *(math.floor(e) + 1 for e in edges)]
        highs = [*(math.floor(e) for e in edges), math.inf]
        labels = []
        for lo, hi in zip(lows, highs, strict=True):
            if lo == -math.inf:
                labels.append(f"\u2264 {hi}" if hi != math.inf else "any")
            elif hi == math.inf:
                labels.append(f"\u2265 {lo}")
            elif hi < lo:
                labels.append("none")
            elif hi == lo:
                labels.append(str(lo))
            else:
                labels.append(f"{lo}\u2013{hi}")
        return labels + (["missing"] if missing_bin else [])
    if not edges:
        return ["all"] + (["missing"] if missing_bin else [])
    point = [
        i + 1 < len(edges) and edges[i + 1] - e <= 1e-8 * (1 + abs(e)) for i, e in enumerate(edges)
    ]
    # a point bin's lower edge shows as its value, with an open bracket on the bin below it
    shown = [edges[i + 1] if point[i] else e for i, e in enumerate(edges)]
    texts = _edge_texts(shown, False)
    labels = [f"< {texts[0]}" if point[0] else f"\u2264 {texts[0]}"]
    for i in range(1, len(edges)):
        if point[i - 1]:
            labels.append(texts[i])
        else:
            close = ")" if point[i] else "]"
            labels.append(f"({texts[i - 1]}, {texts[i]}{close}")
    labels.append(f"> {texts[-1]}")
    return labels + (["missing"] if missing_bin else [])


@dataclass(frozen=True)
class Histogram:
    """Shares of rows per bin, reference and current side by side (vertical columns), each
    bin labelled by ``labels`` (value ranges or category names). Bins empty in both samples
    are left out (the points between integer values, say)."""

    title: str
    labels: Sequence[str]
    reference: Sequence[float | None]
    current: Sequence[float | None]
    names: tuple[str, str] = ("reference", "current")

    def bins(self) -> list[tuple[str, float | None, float | None]]:
        """The drawn bins: (label, reference share, current share), empty ones left out."""
        out = []
        for i, label in enumerate(self.labels):
            r = self.reference[i] if i < len(self.reference) else None
            c = self.current[i] if i < len(self.current) else None
            ref = float(r) if _finite(r) else None
            cur = float(c) if _finite(c) else None
            if not ref and not cur:
                continue
            out.append((str(label), ref, cur))
        return out

    def svg(self) -> str:
        shown = self.bins()
        if not shown:
            return ""
        values = [v for _, r, c in shown for v in (r, c) if v is not None]
        n = len(shown)
        col_w = max(9.0, min(22.0, 560 / (2 * n)))
        group_w = 2 * col_w + 8
        longest = max(len(_cut(label, 24)) for label, _, _ in shown)
        slanted = longest * 6.0 > group_w
        label_h = (min(longest, 24) * 5.2 + 12) if slanted else 18
        left, top, plot_h = 52, 30, 180
        plot_w = n * group_w
        width = max(left + plot_w + 30, 8 * len(_cut(self.title, 110)), 320)
        height = top + plot_h + label_h + 24
        axis = _Axis(nice_ticks(0.0, max(values)), top + plot_h, top)
        parts = _svg_open(width, height, self.title)
        for value, text in zip(axis.ticks, axis.labels(), strict=True):
            y = axis.at(value)
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                f'stroke="#eee"/><text x="{left - 5}" y="{y + 3:.1f}" font-size="10" '
                f'text-anchor="end" fill="#555">{_esc(text)}</text>'
            )
        base = top + plot_h
        parts.append(
            f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#999"/>'
        )
        colors = (COLORS["ref"], COLORS["cur"])
        for i, (label, r, c) in enumerate(shown):
            x = left + i * group_w + 4
            for j, share in enumerate((r, c)):
                if not share:  # none, or no rows: an empty slot
                    continue
                y = axis.at(share)
                tip = f"{_esc(label)} \u00b7 {_esc(self.names[j])}: {fmt_report(share)}"
                parts.append(
                    f'<rect x="{x + j * col_w:.1f}" y="{y:.1f}" width="{col_w - 1:.1f}" '
                    f'height="{max(base - y, 0.5):.1f}" fill="{colors[j]}"><title>{tip}'
                    "</title></rect>"
                )
            cx = x + col_w
            text = _esc(_cut(label, 24))
            if slanted:
                parts.append(
                    f'<text x="{cx:.1f}" y="{base + 12}" font-size="10" text-anchor="end" '
                    f'transform="rotate(-40 {cx:.1f} {base + 12})">{text}</text>'
                )
            else:
                parts.append(
                    f'<text x="{cx:.1f}" y="{base + 13}" font-size="10" '
                    f'text-anchor="middle">{text}</text>'
                )
        legend = [(self.names[0], colors[0], False), (self.names[1], colors[1], False)]
        parts += _legend(legend, left, height - 6)
        parts.append("</svg>")
        return "".join(parts)


# -------------------------------------------------------------------------- registry

#: the report's picture of one check's details
ChartBuilder = Callable[[dict[str, Any]], Sequence[Chart]]
F = TypeVar("F", bound=ChartBuilder)
CHARTS: dict[str, ChartBuilder] = {}


def chart(*names: str) -> Callable[[F], F]:
    """Declare the HTML report's chart of the checks ``names`` (registry names)."""
    unknown = [name for name in names if name not in CHECKS]
    if unknown or not names:
        raise KeyError(f"chart() takes registered check names, got {unknown or names!r}")

    def register(func: F) -> F:
        for name in names:
            CHARTS[name] = func
        return func

    return register


def chart_for(name: str) -> ChartBuilder | None:
    """The chart function of check ``name`` (its module imported now if need be), or None
    for a check without one, a figure recorded by a test (``ml_audit.record``) under a name
    no check has, or a check whose module cannot be imported here."""
    spec = CHECKS.get(name)
    if spec is None:
        return None
    if name not in CHARTS:
        try:
            importlib.import_module(spec.module)
        except ImportError:
            return None
    return CHARTS.get(name)
