"""``streamprobe load --http3``: the streams share ``--connections`` QUIC connections, counted from the
server's side (hypercorn over HTTP/3 in a process of its own lists the client UDP addresses it served:
one per QUIC connection) and from the client's (``connections`` in the summary).

Timing-sensitive (every stream must be judged streaming on a shared, busy machine): ``serial``."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from streamprobe.load import LoadPlan, run_load
from streamprobe.options import ProbeOptions

from tests.load.conftest import requests_seen
from tests.support.tls import TLSFiles

pytestmark = pytest.mark.timing


def quic_clients(seen: list[dict[str, Any]]) -> set[str]:
    """The client UDP addresses of the HTTP/3 requests: one per QUIC connection (its own socket)."""
    return {r["client"] for r in seen if r["http_version"] == "3"}


def stream_url(port: int, events: int = 3, interval_ms: int = 500) -> str:
    return f"https://127.0.0.1:{port}/api/streamcheck?events={events}&interval_ms={interval_ms}"


@pytest.mark.parametrize("connections", [1, 3])
def test_http3_streams_share_the_connections_asked_for(h3_port: int, tls: TLSFiles, connections: int) -> None:
    before = len(requests_seen(h3_port, tls))
    options = ProbeOptions(http="h3", verify=tls.ca_pem)
    plan = LoadPlan(concurrency=20, streams=40, connections=connections)
    summary = run_load(stream_url(h3_port), options, plan)
    seen = requests_seen(h3_port, tls)[before:]
    assert sum(r["http_version"] == "3" for r in seen) == 40
    assert len(quic_clients(seen)) == connections == summary.connections
    assert summary.used_protocol() == "HTTP/3" and summary.connection_reuse == "shared"
    assert summary.verdicts["streaming"] == 40, summary.to_dict()


def test_the_cli_says_how_many_quic_connections_it_used(h3_port: int, tls: TLSFiles) -> None:
    before = len(requests_seen(h3_port, tls))
    argv = [sys.executable, "-m", "streamprobe", "load", stream_url(h3_port, 3, 100), "--http3"]
    argv += ["--concurrency", "6", "--streams", "12", "--connections", "2", "--cacert", tls.ca_pem]
    done = subprocess.run([*argv, "--json"], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout)
    assert (result["protocol"], result["connections"], result["connection_reuse"]) == ("HTTP/3", 2, "shared")
    assert len(quic_clients(requests_seen(h3_port, tls)[before:])) == 2
    text = subprocess.run(argv, capture_output=True, timeout=120).stdout.decode()
    assert "2 connections shared by the streams" in text
