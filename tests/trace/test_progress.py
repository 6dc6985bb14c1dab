"""Progress on stderr only when it is a terminal (a real pty here), never inside stdout or --json."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.servers import RunningServer
from tests.trace.conftest import STREAM, Chain

STREAMPROBE = str(Path(sys.executable).parent / "streamprobe")


def run_with_tty_stderr(
    argv: list[str], *, cwd: Path | None = None, timeout: float = 120
) -> tuple[int, str, str]:
    """(exit status, stdout as piped, what the terminal on stderr showed). The terminal is read while
    the command runs (a pty's buffer is small: a writer would block on a full one)."""
    leader, follower = pty.openpty()
    shown = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every writer closed its side
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=follower, text=True, cwd=cwd)
        os.close(follower)
        follower = -1
        reader.start()
        out, _ = proc.communicate(timeout=timeout)
        reader.join(10)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    return proc.returncode, out, shown.decode(errors="replace")


def test_trace_reports_each_hop_as_it_lands_and_keeps_json_pure(chain: Chain) -> None:
    code, out, shown = run_with_tty_stderr(
        [STREAMPROBE, "trace", f"pod={chain.pod}", f"alb={chain.alb}", "--json"]
    )
    assert code == 1
    assert json.loads(out)["first_buffering_hop"] == "alb"  # stdout: the JSON object alone
    assert "trace: hop 1/2 pod ..." in shown and "trace: hop 1/2 pod: streaming" in shown
    assert "trace: hop 2/2 alb: buffered" in shown
    assert "asking the doctor about alb" in shown and "trace: alb HTTP/1.1 compressed: buffered" in shown


def test_doctor_reports_each_cell(app: RunningServer) -> None:
    code, out, shown = run_with_tty_stderr([STREAMPROBE, "doctor", app.url(STREAM)])
    assert code == 0 and out.splitlines()[0].startswith("doctor ")
    for cell in ("HTTP/1.1 identity: streaming", "HTTP/1.1 compressed: streaming", "HTTP/2 identity: error"):
        assert f"doctor: cli {cell}" in shown
    assert "doctor:" not in out


def test_no_progress_when_stderr_is_not_a_terminal(app: RunningServer) -> None:
    proc = subprocess.run(
        [STREAMPROBE, "trace", app.url(STREAM)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0 and proc.stderr == ""
