"""bench/probe_accuracy.py still runs (a smoke run; its numbers are not asserted: not a timed test)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_probe_accuracy_quick_run_prints_the_table() -> None:
    assert shutil.which("curl"), "the benchmark compares with curl: apt-get install curl (make bootstrap)"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "probe_accuracy.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("machine: ")
    assert any("TTFB difference streamprobe - curl" in line for line in lines)
    assert any("event arrival error p99" in line for line in lines)
    summary = json.loads(lines[-1])
    assert set(summary) == {"ttfb_diff_ms_median", "event_error_ms_p99"}
