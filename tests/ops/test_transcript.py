"""The README's deploy walkthrough (tests/ops/transcript.py) still runs and tells the same story."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.ops.conftest import clean_environ

ROOT = Path(__file__).resolve().parents[2]


def test_transcript_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.ops.transcript"],
        cwd=ROOT,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    assert "wrote gitops/apps/core-api/targetgroupbinding.yaml (core/core-api-streampath-nlb" in text
    assert "kind: TargetGroupBinding" in text
    assert "1 file changed" in text  # the manifest was committed
    assert "  alb         h2     ok       BUFFERED   44.0" in text
    assert "ALARM  StreamPath-staging-canary-alb-h2-BufferingDelay" in text
    assert "  buffered   alb         h2        yes" in text
    assert "streampath status: no AWS credentials found" in text
