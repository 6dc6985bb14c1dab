"""``streamprobe exporter`` and ``streamprobe URL --format openmetrics`` as a user runs them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest

from lab.procs import free_port
from tests.support.servers import RunningServer

from .support import STREAM, assert_lint_clean, get, samples, scrape


def streamprobe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamprobe", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_help_lists_the_exporter() -> None:
    top = streamprobe("--help")
    assert top.returncode == 0 and "exporter" in top.stdout
    own = streamprobe("exporter", "--help")
    assert own.returncode == 0 and "--allow-target" in own.stdout and "--max-concurrent" in own.stdout


def test_listen_is_required() -> None:
    proc = streamprobe("exporter")
    assert proc.returncode == 2 and "--listen" in proc.stderr and proc.stdout == ""


def test_the_command_serves_until_sigterm(h1_server: RunningServer) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "streamprobe", "exporter", f"--listen=127.0.0.1:{port}"]
    argv += ["--allow-target", f"http://127.0.0.1:{h1_server.port}/api/*"]
    with subprocess.Popen(argv, stderr=subprocess.PIPE, text=True) as proc:
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if get(f"http://127.0.0.1:{port}/", timeout=1).status == 200:
                        break
                except OSError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "the exporter did not start"
                time.sleep(0.1)
            target = quote(h1_server.url(STREAM), safe="")
            reply = scrape(f"http://127.0.0.1:{port}/probe?target={target}")
            assert samples(reply.body)['streamprobe_verdict{verdict="streaming"}'] == 1
            refused = get(
                f"http://127.0.0.1:{port}/probe?target=" + quote("http://u:Sekret-77@127.0.0.1/", safe="")
            )
            assert refused.status == 403
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "listening on" in stderr and "verdict=streaming" in stderr and "refused (credentials)" in stderr
    assert "Sekret" not in stderr


def test_one_shot_openmetrics(h1_server: RunningServer) -> None:
    proc = streamprobe(h1_server.url(STREAM), "--name", "pod", "--format", "openmetrics")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("# EOF\n")
    assert_lint_clean(proc.stdout)
    target = h1_server.url(STREAM)
    values = samples(proc.stdout.replace("# EOF\n", ""))
    assert values[f'streamprobe_verdict{{name="pod",target="{target}",verdict="streaming"}}'] == 1


def test_one_shot_exit_status_is_the_verdicts(buffering_nginx: RunningServer) -> None:
    proc = streamprobe(buffering_nginx.url(STREAM), "--format", "openmetrics")
    assert proc.returncode == 1, proc.stderr
    assert 'verdict="buffered"} 1.0' in proc.stdout


@pytest.mark.parametrize("extra", [["--json"], ["--repeat", "2"]])
def test_one_shot_is_one_probe(h1_server: RunningServer, extra: list[str]) -> None:
    proc = streamprobe(h1_server.url(STREAM), "--format", "openmetrics", *extra)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "--format openmetrics prints one probe" in proc.stderr
