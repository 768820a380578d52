"""Failure text in one shape: what is wrong (with the figure), why it matters, how to fix it."""

from __future__ import annotations

from typing import Any

from pytest_mlchecks._result import CheckResult


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


def md_table(
    headers: list[str], rows: list[list[str]], *, right: tuple[int, ...] = ()
) -> list[str]:
    """The lines of a Markdown table (columns whose index is in ``right`` align right)."""
    rule = "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|"
    lines = ["| " + " | ".join(headers) + " |", rule]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


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
    message = head if passed else compose(head, body=body, why=why, fix=fix)
    return CheckResult("", "", passed, severity, value, threshold, message, details)
