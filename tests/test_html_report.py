"""The HTML report: self-contained, renders in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_mlchecks import _html

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    pytest.importorskip("sklearn")
    out = tmp_path_factory.mktemp("html")
    html_path, json_path = out / "audit.html", out / "audit.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--ml-audit",
            str(EXAMPLES),
            "-q",
            f"--ml-audit-html={html_path}",
            f"--ml-audit-json={json_path}",
        ],
        capture_output=True,
        text=True,
        cwd=EXAMPLES.parent,
        check=False,
    )
    return html_path, json.loads(json_path.read_text())


def test_report_is_self_contained_with_plots(report: tuple[Path, dict]) -> None:
    html_path, summary = report
    text = html_path.read_text()
    assert text.startswith("<!doctype html>")
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text and "<script" not in text and "<link" not in text
    assert "gate FAIL" in text and "Ladders, one per directory" in text
    for title in (
        "Gradient RMS per layer",  # vanishing gradients example
        "share of rows per reference bin",  # drifted batch example
        "Model vs dummy baseline",  # accuracy trap example
    ):
        assert title in text
    assert text.count("<svg") >= 3
    assert _html.render(summary) == text  # the report is a pure function of the JSON summary


def test_plot_helpers_stay_quiet_without_figures() -> None:
    assert _html.plot_for({"name": "finite", "details": {}}) == ""
    assert _html._bars([], []) == ""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(report: tuple[Path, dict], tmp_path: Path) -> None:
    html_path, _ = report
    shot = tmp_path / "report.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,1800",
    ]
    assert CHROMIUM is not None
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", html_path.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "gate FAIL" in dom and "<svg" in dom and "no_row_overlap" in dom
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", html_path.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a real, non-blank page
