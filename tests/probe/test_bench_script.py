"""The probe's benchmarks still run (smoke runs; their numbers are not asserted: not timed tests)."""

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


def test_probe_cold_start_runs_whole_processes_and_prints_medians() -> None:
    assert shutil.which("curl"), "the benchmark compares with curl: apt-get install curl (make bootstrap)"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "probe_cold_start.py"), "--pairs", "7"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("machine: ") and "one probe per process" in lines[0]
    assert any(line.startswith("| connect |") for line in lines)
    assert any(line.startswith("| ttfb    |") for line in lines)
    assert "median of 7 pairs" in proc.stdout
    summary = json.loads(lines[-1])
    probe_keys = {"probe_connect_ms", "curl_connect_ms", "probe_ttfb_ms", "curl_ttfb_ms"}
    assert set(summary) == probe_keys | {"connect_diff_ms", "ttfb_diff_ms"}
    assert all(summary[k] > 0 for k in probe_keys)


def test_probe_cold_start_refuses_fewer_than_seven_pairs() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "probe_cold_start.py"), "--pairs", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "at least 7" in proc.stderr


def test_event_cost_bench_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "event_cost.py")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("probe's own work per event: best "), done.stdout
