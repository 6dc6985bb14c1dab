"""What the exporter refuses, before any connection: targets outside the allow-list, targets with
credentials, bad parameters, and probes past the concurrency bound (which never block /metrics)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from urllib.parse import quote

import httpx
import pytest
from streamprobe.exporter.config import ExporterConfig
from streamprobe.exporter.server import ExporterHTTPServer, Settings
from streamprobe.exporter.targets import is_allowed

from tests.support.servers import RunningServer

from .support import (
    STREAM,
    Reply,
    assert_lint_clean,
    get,
    running_exporter,
    scrape,
    untouched_listener,
    was_contacted,
)


def probe_url(exporter: ExporterHTTPServer, target: str, extra: str = "") -> str:
    return f"{exporter.url}/probe?target={quote(target, safe='')}{extra}"


def test_target_outside_the_allow_list_is_refused_and_never_contacted(exporter: ExporterHTTPServer) -> None:
    with untouched_listener() as (port, listener):
        reply = get(probe_url(exporter, f"http://127.0.0.1:{port}/api/streamcheck"))
        assert reply.status == 403
        assert "matches no allowed pattern" in reply.body and reply.body.count("\n") == 1
        time.sleep(0.2)
        assert not was_contacted(listener)


def test_with_no_pattern_everything_is_refused() -> None:
    with untouched_listener() as (port, listener), running_exporter(Settings(ExporterConfig())) as srv:
        assert get(probe_url(srv, f"http://127.0.0.1:{port}/")).status == 403
        time.sleep(0.2)
        assert not was_contacted(listener)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://web.shop.svc.cluster.local:8080/api/chat", True),
        ("http://WEB.shop.svc.cluster.local:8080/api/chat", True),
        ("http://web.shop.svc.cluster.local:8081/api/chat", False),
        ("https://web.shop.svc.cluster.local:8080/api/chat", False),
        # a * of the pattern never reaches from the path into the host
        ("http://evil.example/?.svc.cluster.local:8080/", False),
        ("http://evil.example/x.svc.cluster.local:8080/", False),
        ("http://evil.example:8080/web.svc.cluster.local:8080/", False),
    ],
)
def test_patterns_match_part_by_part(url: str, allowed: bool) -> None:
    assert is_allowed(httpx.URL(url), ["http://*.svc.cluster.local:8080/*"]) is allowed


def test_default_port_is_the_schemes() -> None:
    assert is_allowed(httpx.URL("https://api.example.com/sse"), ["https://api.example.com:443/*"])
    assert is_allowed(httpx.URL("https://api.example.com:443/sse"), ["https://api.example.com/*"])
    assert not is_allowed(httpx.URL("https://api.example.com:8443/sse"), ["https://api.example.com/*"])


def test_credentials_are_refused_and_never_echoed(
    exporter: ExporterHTTPServer, h1_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "hunter2-Sekret"
    target = f"http://alice:{secret}@127.0.0.1:{h1_server.port}{STREAM}"
    with caplog.at_level(logging.DEBUG, logger="streamprobe"):
        reply = get(probe_url(exporter, target))
    assert reply.status == 403
    assert "credentials" in reply.body
    assert secret not in reply.body and "alice" not in reply.body
    assert secret not in caplog.text and "alice" not in caplog.text
    assert "credentials" in caplog.text


@pytest.mark.parametrize(
    "query",
    [
        "",  # no target
        "?target=",  # empty
        "?target=ftp%3A%2F%2F127.0.0.1%2F",
        "?target=http%3A%2F%2F127.0.0.1%2F&target=http%3A%2F%2F127.0.0.1%2F",
        "?target=http%3A%2F%2F127.0.0.1%2Fapi%2Fx&module=nope",
        "?target=http%3A%2F%2F127.0.0.1%2Fapi%2Fx&debug=true",
    ],
)
def test_bad_parameters_get_400_with_one_line(exporter: ExporterHTTPServer, query: str) -> None:
    reply = get(f"{exporter.url}/probe{query}")
    assert reply.status == 400, reply.body
    assert reply.body.endswith("\n") and reply.body.count("\n") == 1


def test_bad_scrape_timeout_header_gets_400(exporter: ExporterHTTPServer, h1_server: RunningServer) -> None:
    reply = get(probe_url(exporter, h1_server.url(STREAM)), {"X-Prometheus-Scrape-Timeout-Seconds": "soon"})
    assert reply.status == 400 and reply.body.count("\n") == 1


def test_scrape_timeout_bounds_the_probe(exporter: ExporterHTTPServer, h1_server: RunningServer) -> None:
    """A 2 s stream under a 1 s scrape timeout: the probe stops at 0.5 s and judges what arrived."""
    target = h1_server.url("/api/streamcheck?events=20&interval_ms=100")
    started = time.monotonic()
    reply = scrape(probe_url(exporter, target), {"X-Prometheus-Scrape-Timeout-Seconds": "1"})
    assert time.monotonic() - started < 1.0
    assert reply.status == 200


def test_busy_exporter_answers_503_and_metrics_stay_quick(h1_server: RunningServer) -> None:
    allow = (f"http://127.0.0.1:{h1_server.port}/*",)
    slow = h1_server.url("/api/streamcheck?events=10&interval_ms=200")  # a 1.8 s stream
    with running_exporter(Settings(ExporterConfig(), allow_targets=allow, max_concurrent=1)) as srv:
        replies: list[Reply] = []
        first = threading.Thread(target=lambda: replies.append(get(probe_url(srv, slow))))
        first.start()
        try:
            deadline = time.monotonic() + 5
            while "streamprobe_exporter_probes_in_flight 1.0" not in get(f"{srv.url}/metrics").body:
                assert time.monotonic() < deadline, "the first probe never started"
                time.sleep(0.02)
            started = time.monotonic()
            metrics = get(f"{srv.url}/metrics")
            assert metrics.status == 200 and time.monotonic() - started < 0.5
            assert_lint_clean(metrics.body)
            busy = get(probe_url(srv, slow))
            assert busy.status == 503 and busy.body.count("\n") == 1
        finally:
            first.join(10)
        assert [r.status for r in replies] == [200]
        assert_lint_clean(replies[0].body)
        assert 'streamprobe_exporter_refused_total{reason="busy"} 1.0' in scrape(f"{srv.url}/metrics").body


def test_malformed_request_is_answered_without_repeating_it(
    exporter: ExporterHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    port = exporter.server_address[1]
    line = b"GET /probe?target=http://bob:Sekret-31@127.0.0.1/ HTTP/1.1 trailing-junk\r\n\r\n"
    with (
        caplog.at_level(logging.DEBUG, logger="streamprobe"),
        socket.create_connection(("127.0.0.1", port), 5) as conn,
    ):
        conn.sendall(line)
        answer = conn.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 400") or answer.startswith("HTTP/1.0 400"), answer
    assert "Sekret" not in answer and "bob" not in answer
    assert "Sekret" not in caplog.text and "bob" not in caplog.text
    post = httpx.post(f"{exporter.url}/probe", content=b"x", timeout=5)
    assert post.status_code == 501 and post.text.count("\n") == 1
