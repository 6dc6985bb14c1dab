"""HTTP/3 bad input: each misbehaving server gives a classified error within ``--timeout`` (or a
verdict on what arrived), and the probe leaves no thread and no socket behind."""

from __future__ import annotations

import socket
import time

import pytest
from streamprobe import ProbeOptions, ProbeResult, probe

from tests.h3.conftest import nothing_left_behind
from tests.h3.quic_servers import H3Server, UdpServer, drops_udp, version_negotiation
from tests.support.tls import TLSFiles

TIMEOUT = 1.5
SLACK = 1.0  # scheduling on a busy 2-core machine, and the probe's own start


def run(url: str, tls: TLSFiles, timeout: float = TIMEOUT, **kw: object) -> tuple[ProbeResult, float]:
    options = ProbeOptions(http="h3", verify=tls.ca_pem, timeout=timeout, max_duration=30, **kw)  # type: ignore[arg-type]
    started = time.monotonic()
    with nothing_left_behind():
        result = probe(url, options)
    return result, time.monotonic() - started


def test_udp_dropped(tls: TLSFiles) -> None:
    with drops_udp() as server:
        r, took = run(server.url("/api/streamcheck"), tls)
        assert server.datagrams >= 1  # the Initial reached it (and its retransmissions)
    assert r.error is not None and r.error.kind == "protocol", r.error
    assert "no UDP answer" in r.error.message and f"UDP port {server.port}" in r.error.message
    assert (r.protocol, r.status, r.verdict) == ("HTTP/3", None, "error")
    assert TIMEOUT <= took < TIMEOUT + SLACK


def test_nothing_listens_on_the_udp_port(tls: TLSFiles) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    r, took = run(f"https://127.0.0.1:{port}/", tls)
    assert r.error is not None and r.error.kind == "protocol", r.error
    assert "ICMP port unreachable" in r.error.message
    assert took < TIMEOUT  # refused at once, no need to wait


def test_unknown_quic_version(tls: TLSFiles) -> None:
    with version_negotiation() as server:
        r, took = run(server.url("/"), tls)
    assert r.error is not None and r.error.kind == "protocol", r.error
    assert "version negotiation" in r.error.message
    assert "draft-29" in r.error.message and "0x1a2a3a4a" in r.error.message
    assert took < TIMEOUT


def test_stateless_reset_mid_stream(tls: TLSFiles) -> None:
    with H3Server(tls, "reset_mid_stream") as server:
        r, took = run(server.url("/events"), tls)
        assert server.reset_sent
    assert r.error is not None and r.error.kind == "protocol", r.error
    assert "stateless reset mid-stream" in r.error.message
    assert (r.protocol, r.status, r.events) == ("HTTP/3", 200, 2)  # what came before the reset is kept
    assert took < TIMEOUT  # the reset ends it at once, not the silence after it


def test_handshake_never_finishes(tls: TLSFiles) -> None:
    with H3Server(tls, "initial_only") as server:
        r, took = run(server.url("/"), tls)
        assert server.sent_datagrams >= 1
    assert r.error is not None and r.error.kind == "protocol", r.error
    assert "handshake" in r.error.message and "did not finish" in r.error.message
    assert r.timings_ms["connect"] is not None and r.timings_ms["tls"] is None  # it answered, once
    assert TIMEOUT <= took < TIMEOUT + SLACK


def test_alpn_refused(tls: TLSFiles) -> None:
    with H3Server(tls, "no_h3_alpn") as server:
        r, took = run(server.url("/"), tls)
    assert r.error is not None and r.error.kind == "protocol", r.error
    assert "ALPN refused" in r.error.message
    assert took < TIMEOUT


def test_silence_mid_stream_is_stalled(tls: TLSFiles) -> None:
    with H3Server(tls, "silent_mid_stream") as server:
        r, took = run(server.url("/events"), tls)
    assert r.error is not None and r.error.kind == "stalled", r.error
    assert "after 2 event(s)" in r.error.message
    assert TIMEOUT <= took < TIMEOUT + SLACK


def test_max_duration_cuts_a_silent_stream(tls: TLSFiles) -> None:
    """max_duration bounds the whole probe: a stream still open then is judged on what arrived."""
    with H3Server(tls, "silent_mid_stream") as server:
        started = time.monotonic()
        with nothing_left_behind():
            options = ProbeOptions(http="h3", verify=tls.ca_pem, timeout=10, max_duration=1.0)
            r = probe(server.url("/events"), options)
        took = time.monotonic() - started
    assert r.error is None and r.events == 2, r.error
    assert any("max_duration" in note for note in r.notes)
    assert 1.0 <= took < 1.0 + SLACK


@pytest.mark.parametrize("make", [drops_udp, version_negotiation])
def test_bad_servers_leave_their_own_sockets_alone(make: type[UdpServer], tls: TLSFiles) -> None:
    """The servers themselves close what they opened (the checks above count the probe's side)."""
    with nothing_left_behind(), make() as server:
        run(server.url("/"), tls, timeout=0.3)
