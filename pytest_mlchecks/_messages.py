"""Failure text in one shape: what is wrong (with the figure), why it matters, how to fix it."""

from __future__ import annotations

import math
from typing import Any, Literal

from pytest_mlchecks._result import CheckResult

#: How figures read: ``message`` in check messages (thousands separators, ``digits`` significant
#: figures), ``report`` in the session summaries (terminal, Markdown, HTML: no separators, 3
#: significant figures for very large or small values, 4 decimals otherwise).
FigureStyle = Literal["message", "report"]
#: per style: thousands separator, the magnitude below which whole numbers print as integers,
#: digits in scientific (``g``) and fixed (``f``) notation (None: the ``digits`` argument)
_STYLES: dict[str, tuple[str, float, int | None, int | None]] = {
    "message": (",", 1e15, None, None),
    "report": ("", 1e12, 3, 4),
}


def compose(headline: str, *, body: str = "", why: str = "", fix: str = "") -> str:
    parts = [headline]
    if body:
        parts.append(body)
    if why:
        parts.append(f"Why it matters: {why}")
    if fix:
        parts.append(f"How to fix: {fix}")
    return "\n".join(parts)


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    if count == 1:
        return f"{count:,} {word}"
    return f"{count:,} {plural_word or word + 's'}"


def percent(fraction: float) -> str:
    value = 100.0 * fraction
    if value == 0:
        return "0%"
    if value < 0.01:
        return f"{value:.2g}%"
    return f"{value:.2f}%".replace(".00%", "%")


def fmt(value: float | str | None, digits: int = 3, *, style: FigureStyle = "message") -> str:
    """A figure as people read it: whole numbers as integers, very large or small values in
    scientific notation, others with ``digits`` decimals (trailing zeros dropped); NaN and
    infinities spelled out, ``None`` as ``-``, strings as they are. ``style`` picks the
    message or the report conventions (see ``FigureStyle``)."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    number = float(value)
    if number != number:  # NaN
        return "nan"
    if number in (math.inf, -math.inf):
        return str(number)
    separator, whole_below, g_digits, f_digits = _STYLES[style]
    if number == int(number) and abs(number) < whole_below:
        return f"{int(number):{separator}}"
    if abs(number) >= 1e4 or abs(number) < 1e-3:
        return f"{number:.{g_digits or digits}g}"
    return f"{number:.{f_digits or digits}f}".rstrip("0").rstrip(".")


def fmt_report(value: float | str | None) -> str:
    """``fmt`` in the report style: the figures of the session summaries."""
    return fmt(value, style="report")


def md_table(
    headers: list[str], rows: list[list[str]], *, right: tuple[int, ...] = ()
) -> list[str]:
    """The lines of a Markdown table (columns whose index is in ``right`` align right)."""
    rule = "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|"
    lines = ["| " + " | ".join(headers) + " |", rule]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def explain(passed: bool, head: str, *, why: str, fix: str, body: str = "") -> str:
    """A check's message: ``head`` alone when it passes; head, body, why and fix when it
    fails."""
    return head if passed else compose(head, body=body, why=why, fix=fix)


def verdict(
    passed: bool,
    value: float | None,
    threshold: float | None,
    head: str,
    details: dict[str, Any],
    *,
    why: str,
    fix: str,
    body: str = "",
    severity: str = "error",
) -> CheckResult:
    """A check's result (named by its ``@check``) whose message is ``head`` alone when it
    passes and head, body, why and fix when it fails."""
    message = explain(passed, head, body=body, why=why, fix=fix)
    return CheckResult("", "", passed, severity, value, threshold, message, details)
