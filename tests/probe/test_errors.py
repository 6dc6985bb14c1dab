"""Every error kind against a real misbehaving server on loopback, and every bound holding
(elapsed time within the bound plus a small margin, even when the server trickles bytes)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from streamcheck.reference_app import create_app
from streamprobe import ProbeOptions, ProbeResult, probe

from tests.probe.conftest import STREAM
from tests.support import servers
from tests.support.servers import RunningServer
from tests.support.tls import TLSFiles

MARGIN = 0.75  # seconds allowed past a bound (thread wake-up, busy CI machine)


@contextmanager
def timed() -> Iterator[list[float]]:
    out: list[float] = []
    start = time.monotonic()
    yield out
    out.append(time.monotonic() - start)


def run(url: str, **options: object) -> tuple[ProbeResult, float]:
    start = time.monotonic()
    result = probe(url, ProbeOptions(**options))  # type: ignore[arg-type]
    return result, time.monotonic() - start


def assert_error(result: ProbeResult, kind: str) -> None:
    assert result.error is not None, result.to_dict()
    assert result.error.kind == kind, result.to_dict()
    d = result.to_dict()
    assert d["ok"] is False and d["verdict"] == "error"
    assert d["error"] == {"kind": kind, "message": result.error.message}


def test_connection_refused_is_connect() -> None:
    port = servers.refused_port()
    result, elapsed = run(f"http://127.0.0.1:{port}/api/streamcheck", timeout=2)
    assert_error(result, "connect")
    assert "refused" in result.error.message  # type: ignore[union-attr]
    assert elapsed < 1.0
    assert result.timings_ms["ttfb"] is None and result.timings_ms["total"] is not None


def test_no_answer_is_timeout_within_bound() -> None:
    with servers.never_answers() as srv:
        result, elapsed = run(srv.url("/api/streamcheck"), timeout=1.0)
    assert_error(result, "timeout")
    assert "no response headers" in result.error.message  # type: ignore[union-attr]
    assert 1.0 <= elapsed < 1.0 + MARGIN
    assert result.timings_ms["connect"] is not None  # partial timings kept


def test_tls_handshake_never_answered_is_timeout() -> None:
    with servers.never_answers() as srv:
        result, elapsed = run(srv.url("/").replace("http://", "https://"), timeout=1.0)
    assert_error(result, "timeout")
    assert "TLS handshake" in result.error.message  # type: ignore[union-attr]
    assert 1.0 <= elapsed < 1.0 + MARGIN


def test_headers_trickled_byte_by_byte_still_time_out() -> None:
    with servers.trickles_headers(interval=0.05) as srv:
        result, elapsed = run(srv.url("/api/streamcheck"), timeout=1.0)
    assert_error(result, "timeout")
    assert 1.0 <= elapsed < 1.0 + MARGIN


def test_silence_mid_stream_is_stalled_with_partial_timings() -> None:
    with servers.stalls_mid_stream(events=2) as srv:
        result, elapsed = run(srv.url("/api/streamcheck"), timeout=1.0)
    assert_error(result, "stalled")
    assert "after 2 event(s)" in result.error.message  # type: ignore[union-attr]
    assert result.events == 2
    assert result.timings_ms["ttfb"] is not None and result.timings_ms["first_event"] is not None
    assert 1.0 <= elapsed < 1.0 + MARGIN


def test_endless_trickled_stream_ends_at_max_duration_and_is_judged() -> None:
    with servers.trickles_body(interval=0.02) as srv:
        result, elapsed = run(srv.url("/events"), timeout=1.0, max_duration=2.0)
    assert result.ok, result.to_dict()
    assert result.events >= 5  # "data: N\n\n" is ~9 bytes: one event every ~0.2 s
    assert result.mode == "generic" and result.verdict == "streaming"
    assert any("max_duration" in note for note in result.notes)
    assert 2.0 <= elapsed < 2.0 + MARGIN


def test_max_duration_also_bounds_waiting_for_headers() -> None:
    with servers.never_answers() as srv:
        result, elapsed = run(srv.url("/"), timeout=5.0, max_duration=1.0)
    assert_error(result, "timeout")
    assert "max_duration" in result.error.message  # type: ignore[union-attr]
    assert 1.0 <= elapsed < 1.0 + MARGIN


def test_reset_mid_stream_is_protocol_and_keeps_events() -> None:
    with servers.resets_mid_stream(events=2) as srv:
        result, _ = run(srv.url("/api/streamcheck"), timeout=3)
    assert_error(result, "protocol")
    assert "reset" in result.error.message  # type: ignore[union-attr]
    assert result.events == 2


def test_garbage_is_protocol() -> None:
    with servers.sends_garbage() as srv:
        result, _ = run(srv.url("/"), timeout=3)
    assert_error(result, "protocol")
    assert "did not answer with valid HTTP" in result.error.message  # type: ignore[union-attr]


def test_huge_line_is_too_large_quickly() -> None:
    with servers.huge_line() as srv:
        result, elapsed = run(srv.url("/"), timeout=3, max_event_bytes=200_000)
    assert_error(result, "too_large")
    assert "200000" in result.error.message  # type: ignore[union-attr]
    assert elapsed < 2.0


def test_html_login_page_is_content_type_and_shows_the_body() -> None:
    with servers.wrong_content_type() as srv:
        result, _ = run(srv.url("/api/streamcheck"), timeout=3)
    assert_error(result, "content_type")
    message = result.error.message  # type: ignore[union-attr]
    assert "text/html" in message and "login or error page" in message
    assert "<title>Sign in</title>" in message
    assert "\n" not in message and len(message) < 500
    assert result.status == 200


def test_5xx_is_http_status_with_body_excerpt() -> None:
    with servers.status_error(503, "Service Unavailable", "upstream connect error") as srv:
        result, _ = run(srv.url("/api/streamcheck"), timeout=3)
    assert_error(result, "http_status")
    assert result.status == 503
    assert "HTTP 503 Service Unavailable" in result.error.message  # type: ignore[union-attr]
    assert "upstream connect error" in result.error.message  # type: ignore[union-attr]


def test_untrusted_certificate_is_tls(h2_server: RunningServer) -> None:
    result, _ = run(h2_server.url(STREAM), timeout=3)  # no --cacert: the trustme CA is unknown
    assert_error(result, "tls")
    assert "certificate" in result.error.message  # type: ignore[union-attr]
    assert result.timings_ms["connect"] is not None


def test_https_to_plain_http_server_is_tls(h1_server: RunningServer) -> None:
    result, _ = run(h1_server.url(STREAM).replace("http://", "https://"), timeout=3)
    assert_error(result, "tls")


def test_http2_required_but_server_speaks_only_http11_over_tls(tls: TLSFiles) -> None:
    with servers.uvicorn_server(create_app(), tls=tls) as srv:
        result, _ = run(srv.url(STREAM), http="h2", verify=tls.ca_pem, timeout=3)
        fallback, _ = run(srv.url(STREAM), verify=tls.ca_pem, timeout=3)
    assert_error(result, "protocol")
    assert "HTTP/2 was required" in result.error.message  # type: ignore[union-attr]
    assert result.timings_ms["tls"] is None or result.timings_ms["connect"] is not None
    assert fallback.ok and fallback.protocol == "HTTP/1.1"  # auto falls back like a browser


def test_http2_required_over_cleartext_is_protocol(h1_server: RunningServer) -> None:
    result, _ = run(h1_server.url(STREAM), http="h2", timeout=3)
    assert_error(result, "protocol")
    assert "cleartext" in result.error.message  # type: ignore[union-attr]


def test_dns_failure_is_dns() -> None:
    def resolver(host: str, port: int) -> list[tuple[int, tuple[object, ...]]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    result, _ = run("https://no-such-host.invalid/api/streamcheck", resolver=resolver)
    assert_error(result, "dns")
    assert "no-such-host.invalid" in result.error.message  # type: ignore[union-attr]
    assert "Name or service not known" in result.error.message  # type: ignore[union-attr]


def test_slow_dns_is_bounded_by_timeout() -> None:
    def resolver(host: str, port: int) -> list[tuple[int, tuple[object, ...]]]:
        time.sleep(3)
        return [(socket.AF_INET, ("127.0.0.1", port))]

    result, elapsed = run("http://slow.example/api/streamcheck", resolver=resolver, timeout=1.0)
    assert_error(result, "dns")
    assert 1.0 <= elapsed < 1.0 + MARGIN


def test_dns_result_is_dialled_with_the_original_host_header(h1_server: RunningServer) -> None:
    seen: list[str] = []

    def resolver(host: str, port: int) -> list[tuple[int, tuple[object, ...]]]:
        seen.append(host)
        return [(socket.AF_INET, ("127.0.0.1", port))]

    url = f"http://stream.example.test:{h1_server.port}{STREAM}"
    result, _ = run(url, resolver=resolver)
    assert result.ok, result.to_dict()
    assert seen == ["stream.example.test"]
    assert result.timings_ms["dns"] is not None


def test_secret_header_values_never_reach_the_result() -> None:
    with servers.wrong_content_type(echo_request=True) as srv:
        result = probe(
            srv.url("/api/streamcheck"),
            ProbeOptions(headers={"Authorization": "Bearer s3cr3t-t0ken", "X-Api-Key": "k3y-v4lue"}),
        )
    assert_error(result, "content_type")
    text = repr(result) + str(result.to_dict())
    assert "s3cr3t-t0ken" not in text and "k3y-v4lue" not in text
    assert result.to_dict()["header_names"] == ["Authorization", "X-Api-Key"]
    assert "***" in result.error.message  # type: ignore[union-attr]  # the echoed value was redacted


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("ftp://example.com/x", {}),
        ("not a url", {}),
        ("http:///nohost", {}),
        ("http://127.0.0.1/x", {"http": "h3"}),
        ("http://127.0.0.1/x", {"timeout": 0}),
        ("http://127.0.0.1/x", {"headers": {"Bad Name": "v"}}),
        ("https://127.0.0.1/x", {"verify": "/nonexistent/ca.pem"}),
    ],
)
def test_bad_url_or_option_raises_value_error(url: str, options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        probe(url, ProbeOptions(**options))  # type: ignore[arg-type]


def test_gzip_bomb_is_too_large_without_inflating_it() -> None:
    """64 MiB of one line in 64 KiB of gzip: stopped at max_event_bytes, never inflated whole.

    The probe runs in its own interpreter so its peak memory can be read: inflating even one
    network read of this body at once grew it by ~26 MiB here; piece by piece it grows by ~0."""
    import gzip
    import subprocess
    import sys
    import threading

    body = gzip.compress(b"data: " + b"x" * (64 * 1024 * 1024), 9)
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    )

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        servers.read_request(conn)
        conn.sendall(head + body)
        stopping.wait(5)

    child = (
        "import resource, sys\n"
        "from streamprobe import ProbeOptions, probe\n"
        "probe(sys.argv[2])  # warm up imports and buffers on a plain stream\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "r = probe(sys.argv[1], ProbeOptions(timeout=3, max_event_bytes=200_000))\n"
        "grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before\n"
        "print(r.error.kind if r.error else None, grown // 1024)\n"
    )
    with servers.RawServer(handler) as srv, servers.delayed_sse(0, 3, 0.01) as plain:
        proc = subprocess.run(
            [sys.executable, "-c", child, srv.url("/"), plain.url("/")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    kind, grown_mib = proc.stdout.split()
    assert kind == "too_large"
    assert int(grown_mib) < 8, f"peak memory grew {grown_mib} MiB while reading a gzip bomb"


def test_an_endless_flood_of_tiny_events_is_bounded() -> None:
    import threading

    from streamprobe.probing import MAX_EVENTS

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        servers.read_request(conn)
        conn.sendall(servers.SSE_HEAD)
        block = b"data: x\n\n" * 10_000
        try:
            while not stopping.is_set():
                conn.sendall(block)
        except OSError:
            pass

    with servers.RawServer(handler) as srv:
        result, _ = run(srv.url("/"), timeout=3, max_duration=30)
    assert_error(result, "too_large")
    assert str(MAX_EVENTS) in result.error.message  # type: ignore[union-attr]
