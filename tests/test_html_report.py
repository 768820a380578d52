"""The HTML report: self-contained, renders in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

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
        "amount: share of rows per bin",  # drifted batch example
        "Model vs dummy baseline",  # accuracy trap example
    ):
        assert title in text
    assert text.count("<svg") >= 3 and "bin 1" not in text  # bins named by their ranges
    assert _html.render(summary) == text  # the report is a pure function of the JSON summary


def test_plot_helpers_stay_quiet_without_figures() -> None:
    assert _html.plot_for({"name": "finite", "details": {}}) == ""
    assert _html._bars([], []) == ""


def _chromium_flags(profile: Path, size: str = "1200,1800") -> list[str]:
    """Headless, offline, a fresh profile: nothing leaves the machine, nothing is reused."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={size}",
    ]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(report: tuple[Path, dict], tmp_path: Path) -> None:
    html_path, _ = report
    shot = tmp_path / "report.png"
    flags = _chromium_flags(tmp_path / "profile")
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


# ------------------------------------------- a report with every kind of chart, in a browser

SHOWCASE = Path(__file__).resolve().parent / "report_project" / "showcase.py"

#: appended to a copy of the report (the report itself has no script): the page's width
#: against the viewport's, and every chart's right edge, written into the DOM
PROBE = """<script>
const root = document.documentElement;
const charts = [...document.querySelectorAll("svg.chart")];
const out = document.createElement("pre");
out.id = "probe";
out.textContent = JSON.stringify({
  scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
  charts: charts.length,
  chartsOutside: charts.filter(c => c.getBoundingClientRect().right > root.clientWidth + 1).length,
  emptyCharts: charts.filter(c => c.getBoundingClientRect().width < 100).length,
});
document.body.appendChild(out);
</script>"""


def render_showcase(out: Path) -> tuple[Path, dict[str, Any]]:
    """Run the showcase project under --ml-audit (blocking off, so every rung runs) and
    return its HTML report's path and JSON summary."""
    project = out / "project"
    project.mkdir()
    (project / "test_showcase.py").write_text(SHOWCASE.read_text())
    (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    html_path, json_path = out / "showcase.html", out / "showcase.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "--ml-audit",
            "--ml-no-block",
            f"--ml-audit-html={html_path}",
            f"--ml-audit-json={json_path}",
        ],
        capture_output=True,
        text=True,
        cwd=project,
        check=False,
        timeout=600,
    )
    assert json_path.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    return html_path, json.loads(json_path.read_text())


@pytest.fixture(scope="module")
def showcase(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    pytest.importorskip("sklearn")
    return render_showcase(tmp_path_factory.mktemp("showcase"))


def test_showcase_fails_and_passes_checks_of_every_kind(
    showcase: tuple[Path, dict[str, Any]],
) -> None:
    html_path, summary = showcase
    status = {c["name"]: c["passed"] for c in summary["checks"]}
    assert status == {
        "no_drift": False,
        "calibrated": False,
        "learning_curve_healthy": True,
        "beats_baselines": True,
        "no_weak_segments": False,
        "performance_holds": False,
        "fair": True,
        "no_target_leakage": False,
    }
    text = html_path.read_text()
    assert _html.render(summary) == text
    assert "<script" not in text and "https://" not in text
    # drift: value ranges, one bar per integer value (no empty bins between), escaped names
    assert "(-\u221e" not in text and "\u2264 " in text
    assert (
        ">0</text>" in text
        and ">1</text>" in text
        and "none" not in text.split("children")[1][:3000]
    )
    assert "R&amp;D &lt;&quot;lab&quot;&gt;" in text and 'R&D <"lab">' not in text
    # the calibration curve and the learning curve are lines with axes, the ladder dots zoomed
    assert "Reliability of class 1" in text and "y = x" in text
    assert "Learning curve (roc_auc" in text and "training rows" in text
    assert "axis zoomed to" in text and "The baseline ladder" in text
    assert "drop line" in text and "Held-out ROC-AUC of each feature alone" in text
    assert "of the weakest segments" in text and "(n=" in text
    assert text.count("<polyline") >= 4


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [1200, 820])
def test_showcase_renders_without_overflow_in_headless_chromium(
    showcase: tuple[Path, dict[str, Any]], tmp_path: Path, width: int
) -> None:
    html_path, _ = showcase
    assert CHROMIUM is not None
    probed = tmp_path / "probed.html"
    probed.write_text(html_path.read_text().replace("</body>", PROBE + "</body>"))
    flags = _chromium_flags(tmp_path / "profile", f"{width},2400")
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", probed.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom)
    assert found is not None, dom[-2000:]
    probe = json.loads(html.unescape(found.group(1)))
    assert probe["scrollWidth"] <= probe["clientWidth"], probe  # no horizontal scrolling
    assert probe["chartsOutside"] == 0 and probe["emptyCharts"] == 0, probe
    assert probe["charts"] == html_path.read_text().count(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart"'
    )
    for name in ("no_drift", "calibrated", "no_weak_segments", "beats_baselines"):
        assert name in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", html_path.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    shot_width, shot_height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (shot_width, shot_height) == (width, 2400)
    assert len(data) > 60_000  # charts and text, not a blank page
