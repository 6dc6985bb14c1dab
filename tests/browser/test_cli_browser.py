"""``streamprobe URL --browser`` and ``streamprobe doctor URL --browser`` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import RunningServer

# 1.8 s: streaming within 180 ms. A 900 ms stream read by a Chromium started cold for each command once
# missed its 90 ms on a fresh machine.
STREAM = "/api/streamcheck?events=10&interval_ms=200"
STREAMPROBE = [sys.executable, "-m", "streamprobe.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STREAMPROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_missing_chromium_exits_2_with_the_install_command() -> None:
    proc = run(
        "http://127.0.0.1:9/api/streamcheck",
        "--browser",
        env={"STREAMPROBE_CHROMIUM": "/usr/bin/chromium-gone"},
    )
    assert proc.returncode == 2
    assert "Chromium not found at /usr/bin/chromium-gone" in proc.stderr
    assert "apt-get install chromium" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.browser
def test_browser_flag_json(chromium: str, h1_server: RunningServer) -> None:
    proc = run(h1_server.url(STREAM), "--browser", "--json", "--name", "local")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert (data["verdict"], data["protocol"], data["path_name"], data["events"]) == (
        "streaming",
        "HTTP/1.1",
        "local",
        11,
    )
    assert any("Chromium" in n for n in data["notes"])


@pytest.mark.browser
def test_browser_flag_with_lab_certificate_needs_insecure(chromium: str, h2_server: RunningServer) -> None:
    refused = run(h2_server.url(STREAM), "--browser", "--json")
    assert refused.returncode == 2 and json.loads(refused.stdout)["error"]["kind"] == "tls"
    accepted = run(h2_server.url(STREAM), "--browser", "--insecure", "--json")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert json.loads(accepted.stdout)["protocol"] == "HTTP/2"


@pytest.mark.browser
def test_doctor_browser_column(chromium: str, h1_server: RunningServer) -> None:
    proc = run("doctor", h1_server.url(STREAM), "--browser", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["browser"]["verdict"] == "streaming"
    assert {c["state"] for c in data["cells"]} <= {"streaming", "not offered"}
