"""Progress on stderr only when it is a terminal (a real pty here), never inside stdout or --json."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.support.servers import RunningServer
from tests.trace.conftest import STREAM, Chain

STREAMPROBE = str(Path(sys.executable).parent / "streamprobe")


def run_with_tty_stderr(*args: str) -> tuple[int, str, str]:
    """(exit status, stdout as piped, what the terminal on stderr showed)."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([STREAMPROBE, *args], stdout=subprocess.PIPE, stderr=follower, text=True)
        os.close(follower)
        follower = -1
        out, _ = proc.communicate(timeout=120)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    return proc.returncode, out, shown.decode(errors="replace")


def test_trace_reports_each_hop_as_it_lands_and_keeps_json_pure(chain: Chain) -> None:
    code, out, shown = run_with_tty_stderr("trace", f"pod={chain.pod}", f"alb={chain.alb}", "--json")
    assert code == 1
    assert json.loads(out)["first_buffering_hop"] == "alb"  # stdout: the JSON object alone
    assert "trace: hop 1/2 pod ..." in shown and "trace: hop 1/2 pod: streaming" in shown
    assert "trace: hop 2/2 alb: buffered" in shown
    assert "asking the doctor about alb" in shown and "trace: alb HTTP/1.1 compressed: buffered" in shown


def test_doctor_reports_each_cell(app: RunningServer) -> None:
    code, out, shown = run_with_tty_stderr("doctor", app.url(STREAM))
    assert code == 0 and out.splitlines()[0].startswith("doctor ")
    for cell in ("HTTP/1.1 identity: streaming", "HTTP/1.1 compressed: streaming", "HTTP/2 identity: error"):
        assert f"doctor: cli {cell}" in shown
    assert "doctor:" not in out


def test_no_progress_when_stderr_is_not_a_terminal(app: RunningServer) -> None:
    proc = subprocess.run(
        [STREAMPROBE, "trace", app.url(STREAM)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0 and proc.stderr == ""
