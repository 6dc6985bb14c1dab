"""A port chosen free can be taken before the component binds it: the lab must notice and choose again."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lab import topology
from lab.procs import ManagedProcess, PortConflict, free_ports
from lab.topology import Lab

pytestmark = pytest.mark.lab


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another process (this test) listens on: it accepts connections, but it is not ours."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def test_a_foreign_listener_is_not_taken_for_the_component(taken_port: int, tmp_path: Path) -> None:
    # A child that never listens: the port accepts connections only because someone else holds it.
    argv = [sys.executable, "-c", "import time; time.sleep(30)"]
    proc = ManagedProcess("sleeper", argv, log_path=tmp_path / "log", ports=[taken_port])
    try:
        proc.launch()
        with pytest.raises(PortConflict, match="another process listens"):
            proc.wait_ready(timeout=1.0)
    finally:
        proc.stop(grace=2)


def test_lab_chooses_fresh_ports_when_one_was_taken(taken_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[int]] = []

    def racing_free_ports(count: int) -> list[int]:
        ports = free_ports(count)
        if not calls:
            ports[0] = taken_port  # the app's port, taken between choosing and binding
        calls.append(ports)
        return ports

    monkeypatch.setattr(topology, "free_ports", racing_free_ports)
    with Lab() as lab:
        assert len(calls) == 2
        direct = lab.paths["direct"].base_url
        assert f":{taken_port}/" not in direct + "/"
        with httpx.Client(timeout=10) as client:
            response = client.get(f"{lab.paths['seed-nginx'].base_url}/streamcheck?events=1&interval_ms=0")
        assert response.status_code == 200 and b"event: done" in response.content
        workdir = lab.workdir
    assert not workdir.exists()
