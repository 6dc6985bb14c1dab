"""bench/h3_vs_h2.py still runs (a smoke run with few probes; its numbers are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timing  # starts its own servers and judges verdicts by timing

ROOT = Path(__file__).resolve().parents[2]


def test_h3_vs_h2_prints_the_table_and_a_summary() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "h3_vs_h2.py"), "--probes", "3", "--events", "5"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("HTTP/3 ") for line in lines) and any(
        line.startswith("HTTP/2 ") for line in lines
    )
    summary = json.loads(lines[-1])
    assert set(summary) == {"h2", "h3"}
    for row in summary.values():
        assert row["probes"] == 3 and row["failed"] == 0, row
        assert row["ttfb_ms_p50"] > 0 and row["cpu_ms_per_probe"] > 0
