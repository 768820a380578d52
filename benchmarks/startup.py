"""Start-up cost of the plugin: `pytest --collect-only -q` on a 200-test folder.

Prints the best-of-N wall time with the plugin and with `-p no:mlchecks`, and their ratio
(goal: <= 1.05). Run: python benchmarks/startup.py [--runs 15] [--tests 200]

Byte code is written (a first untimed run of each command), as ``pip install`` does for an
installed package: with PYTHONDONTWRITEBYTECODE=1 (an editable install in such an
environment) every run would compile the plugin's sources again, ~3x its import time, while
pytest's own modules load from the byte code pip wrote.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_suite(folder: Path, n_tests: int) -> None:
    per_file = 20
    for f in range(n_tests // per_file):
        lines = ["import pytest", ""]
        for t in range(per_file):
            mark = "@pytest.mark.ml_data\n" if t % 2 else ""
            lines.append(f"{mark}def test_{f}_{t}():\n    assert {t} == {t}\n")
        (folder / f"test_mod{f}.py").write_text("\n".join(lines))


def best_time(args: list[str], cwd: Path, runs: int) -> float:
    best = float("inf")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        best = min(best, elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tests", type=int, default=200)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text("[pytest]\n")
        make_suite(folder, opts.tests)
        base = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        best_time(base, folder, 1)  # writes the byte code, as an install would
        best_time([*base, "-p", "no:mlchecks"], folder, 1)
        # interleave the two so that machine noise hits both alike
        with_plugin = without = float("inf")
        for _ in range(opts.runs):
            with_plugin = min(with_plugin, best_time(base, folder, 1))
            without = min(without, best_time([*base, "-p", "no:mlchecks"], folder, 1))
        audit = best_time([*base, "--ml-audit"], folder, max(3, opts.runs // 3))
    print(f"tests collected          : {opts.tests}")
    print(f"with plugin (best of {opts.runs:2d}) : {with_plugin * 1000:8.1f} ms")
    print(f"-p no:mlchecks           : {without * 1000:8.1f} ms")
    print(f"with --ml-audit          : {audit * 1000:8.1f} ms")
    print(f"ratio plugin / baseline  : {with_plugin / without:8.3f}  (goal <= 1.05)")


if __name__ == "__main__":
    main()
