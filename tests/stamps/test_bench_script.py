"""The stamped-accuracy benchmark still runs (a smoke run; its numbers are not asserted: not a timed test)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timing  # starts its own servers and judges verdicts by timing

ROOT = Path(__file__).resolve().parents[2]


def test_stamped_accuracy_quick_run_prints_the_table() -> None:
    assert shutil.which("curl"), "the benchmark compares with curl: apt-get install curl (make bootstrap)"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "stamped_accuracy.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("machine: ")
    rows = [line for line in lines if line.startswith("| ") and "ms |" in line]
    assert len(rows) == 6  # 3 paths x (same stream, concurrent reads)
    assert any(line.startswith("goal: block-proxy, same stream") for line in lines)
    summary = json.loads(lines[-1])
    assert summary["block-proxy / same stream"]["verdicts"] == ["partial"]
    assert summary["direct / same stream"]["verdicts"] == ["streaming"]
    assert summary["buffering-nginx / concurrent reads"]["verdicts"] == ["buffered"]
