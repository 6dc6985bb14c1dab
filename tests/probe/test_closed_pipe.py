"""``streamprobe ... | head -1``: every command, run as a subprocess against a real loopback server with
its stdout a pipe the reader has closed, ends quietly (exit 141, as a Unix tool; nothing on stderr)."""

from __future__ import annotations

import pytest

from tests.probe.test_cli import STREAMPROBE
from tests.support.pipes import assert_quiet_end, run_into_closed_pipe
from tests.support.servers import RunningServer

FAST = "/api/streamcheck?events=3&interval_ms=20"


@pytest.mark.parametrize(
    "args",
    [
        ["{url}"],
        ["{url}", "--json"],
        ["probe", "{url}", "--json", "--http1"],
        ["{url}", "--repeat", "2"],
        ["doctor", "{url}"],
        ["doctor", "{url}", "--json"],
        ["trace", "app={url}", "edge={url}"],
        ["trace", "app={url}", "--json"],
        ["--version"],
        ["trace", "--version"],
    ],
    ids=" ".join,
)
def test_a_closed_stdout_ends_every_command_quietly(h1_server: RunningServer, args: list[str]) -> None:
    proc = run_into_closed_pipe([STREAMPROBE, *(a.format(url=h1_server.url(FAST)) for a in args)])
    assert_quiet_end(proc)


def test_help_into_a_closed_pipe_is_quiet() -> None:
    # argparse itself ignores a failed write of the help (and exits 0): still no traceback.
    assert_quiet_end(run_into_closed_pipe([STREAMPROBE, "--help"]), status=0)
    assert_quiet_end(run_into_closed_pipe([STREAMPROBE, "doctor", "--help"]), status=0)


def test_a_usage_error_still_reaches_stderr_when_stdout_is_closed() -> None:
    proc = run_into_closed_pipe([STREAMPROBE, "ftp://127.0.0.1/"])
    assert proc.returncode == 2 and "error: URL must start with http://" in proc.stderr
    assert "Traceback" not in proc.stderr
