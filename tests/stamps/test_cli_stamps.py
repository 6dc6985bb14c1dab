"""The command line on the reference app's chat stream: stamped by default, --no-stamp for generic mode,
and the stream's shape in the human output and the JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.servers import RunningServer

STREAMPROBE = str(Path(sys.executable).parent / "streamprobe")
CHAT = "/api/chat/stream?tokens=40&interval_ms=10"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STREAMPROBE, *args], capture_output=True, text=True, timeout=60, check=False)


def test_stamped_by_default_with_the_shape_in_the_human_output(app_server: RunningServer) -> None:
    proc = cli(app_server.url(CHAT))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("STREAMING: buffering delay ")
    assert "  events     41 (stamped mode)" in lines
    (shape,) = [line for line in lines if line.startswith("  shape      ")]
    assert "gaps p50 " in shape and " p99 " in shape and " max " in shape
    assert "events/s" in shape and "clumping 0%" in shape


def test_no_stamp_is_generic_and_the_json_carries_the_shape(app_server: RunningServer) -> None:
    proc = cli(app_server.url(CHAT), "--no-stamp", "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert (d["mode"], d["verdict"], d["buffering_delay_ms"]) == ("generic", "streaming", None)
    assert set(d["gaps_ms"]) == {"p50", "p99", "max"} and all(v is not None for v in d["gaps_ms"].values())
    assert d["events_per_s"] is not None and d["clumping"] == 0.0
    assert "X-Streampath-Stamp" not in d["header_names"]  # names of the user's own headers only


def test_a_user_header_can_decline_stamps_too(app_server: RunningServer) -> None:
    proc = cli(app_server.url(CHAT), "--header", "X-Streampath-Stamp: 0", "--json")
    assert json.loads(proc.stdout)["mode"] == "generic"
