"""Charts of the HTML report, declared beside the checks they picture.

A check module declares the picture of its figures once, at its end::

    @chart("no_drift")
    def _chart_no_drift(details: dict[str, Any]) -> list[BarChart]:
        ...

A chart function reads the check's JSON ``details`` (as recorded in the report) and returns
the charts to draw (an empty list: nothing worth a picture). ``chart_for(name)`` finds it,
importing the check's module (``CHECKS[name].module``) only when a report is rendered. The
drawing primitive ``bars`` turns a chart into inline SVG: no plotting library, no network,
no external files. Standard library only.
"""

from __future__ import annotations

import html
import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pytest_mlchecks._messages import fmt_report
from pytest_mlchecks._registry import CHECKS

__all__ = [
    "COLORS",
    "BarChart",
    "ChartBuilder",
    "Series",
    "bars",
    "chart",
    "chart_for",
    "fmt_report",
]

#: the palette, by role: reference vs current data, bad vs good
COLORS: dict[str, str] = {"ref": "#6b8fbf", "cur": "#e07b39", "bad": "#c0392b", "ok": "#2e8b57"}
Color = Literal["ref", "cur", "bad", "ok"]


@dataclass(frozen=True)
class Series:
    """One bar per label: ``values[i]`` belongs to ``labels[i]`` (None: no bar)."""

    name: str
    values: Sequence[float | None]
    color: Color = "ref"


@dataclass(frozen=True)
class BarChart:
    """A grouped horizontal bar chart (values >= 0; ``log`` for orders of magnitude)."""

    title: str
    labels: Sequence[str]
    series: Sequence[Series]
    log: bool = False

    def svg(self) -> str:
        return bars(
            list(self.labels),
            [(s.name, list(s.values), COLORS[s.color]) for s in self.series],
            log=self.log,
            title=self.title,
        )


#: the report's picture of one check's details
ChartBuilder = Callable[[dict[str, Any]], list[BarChart]]
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


def _esc(value: Any) -> str:
    return html.escape(str(value))


def bars(
    labels: list[str],
    series: list[tuple[str, Sequence[float | None], str]],
    *,
    log: bool = False,
    title: str = "",
) -> str:
    """Grouped horizontal bar chart as SVG (values >= 0; ``log`` for orders of magnitude)."""
    if not labels or not series:
        return ""
    row_h, bar_h, left, width = 22, 8, 170, 420
    height = 30 + len(labels) * row_h + 20
    values = [v for _, vs, _ in series for v in vs if v is not None and math.isfinite(v)]
    if not values:
        return ""
    if log:
        positive = [v for v in values if v > 0] or [1.0]
        lo, hi = math.log10(min(positive)), math.log10(max(positive))
        span = (hi - lo) or 1.0

        def scale(v: float) -> float:
            return 0.0 if v <= 0 else (math.log10(v) - lo) / span * (width - 10) + 10
    else:
        top = max(values) or 1.0

        def scale(v: float) -> float:
            return max(v, 0.0) / top * width

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" height="{height}" '
        f'role="img" aria-label="{_esc(title)}">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{_esc(title)}</text>',
    ]
    for i, label in enumerate(labels):
        y = 30 + i * row_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" font-size="11" text-anchor="end">'
            f"{_esc(label[:28])}</text>"
        )
        for j, (_, vs, color) in enumerate(series):
            v = vs[i] if i < len(vs) else None
            if v is None or not math.isfinite(v):
                continue
            w = scale(v)
            parts.append(
                f'<rect x="{left}" y="{y + j * bar_h}" width="{w:.1f}" height="{bar_h - 1}" '
                f'fill="{color}"><title>{_esc(label)}: {fmt_report(v)}</title></rect>'
            )
            if j == len(series) - 1 or len(series) == 1:
                figure = fmt_report(v)
                parts.append(
                    f'<text x="{left + w + 4:.1f}" y="{y + 12}" font-size="10">{figure}</text>'
                )
    legend_y = height - 6
    x = left
    for name, _, color in series:
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{x + 14}" y="{legend_y}" font-size="11">{_esc(name)}</text>')
        x += 20 + 8 * len(name)
    parts.append("</svg>")
    return "".join(parts)
