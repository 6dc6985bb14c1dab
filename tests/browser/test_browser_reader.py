"""The browser reader against real loopback servers: verdicts, protocol, errors, bounds, SSE parsing.

Streams are 10 events 100 ms apart (900 ms): streaming means a buffering delay <= 90 ms and buffered
>= 720 ms, wide margins on 2 shared cores. Every test drives Debian's headless Chromium.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from streamprobe.browser import BrowserSession, probe_browser
from streamprobe.probing import ProbeOptions
from streamprobe.sse import SSEParser

from tests.support.servers import (
    SSE_HEAD,
    RawServer,
    RunningServer,
    hold_all_proxy,
    huge_line,
    hypercorn_server,
    never_answers,
    read_request,
    refused_port,
    resets_mid_stream,
    stalls_mid_stream,
    status_error,
    wrong_content_type,
)
from tests.support.tls import tls_files

pytestmark = pytest.mark.browser

STREAM = "/api/streamcheck?events=10&interval_ms=100"


def opts(**kw: object) -> ProbeOptions:
    kw.setdefault("name", "browser")
    kw.setdefault("timeout", 10.0)
    kw.setdefault("max_duration", 30.0)
    return ProbeOptions(**kw)  # type: ignore[arg-type]


# -- verdicts and protocol ---------------------------------------------------------------------------


def test_streams_over_http1(browser: BrowserSession, h1_server: RunningServer) -> None:
    r = probe_browser(h1_server.url(STREAM), opts(), session=browser)
    assert r.error is None, r.error
    assert (r.verdict, r.mode, r.protocol, r.status) == ("streaming", "streamcheck", "HTTP/1.1", 200)
    assert r.events == 11  # 10 ticks + done
    assert [a.seq for a in r.arrivals] == list(range(11))
    assert [a.event for a in r.arrivals] == ["tick"] * 10 + ["done"]
    assert r.buffering_delay_ms is not None and r.buffering_delay_ms < 90
    # arrivals spread over the stream as the server sent them
    assert r.arrivals[-1].arrive_ms - r.arrivals[0].arrive_ms > 600
    assert r.timings_ms["ttfb"] is not None and r.timings_ms["first_event"] is not None
    assert r.timings_ms["total"] is not None and r.timings_ms["total"] >= r.timings_ms["first_event"]
    assert r.content_encoding is None
    d = r.to_dict()
    assert d["ok"] is True and d["verdict"] == "streaming" and "nonce=" in d["url"]


def test_streams_over_http2_with_lab_certificate_when_insecure(
    browser: BrowserSession, h2_server: RunningServer
) -> None:
    r = probe_browser(h2_server.url(STREAM), opts(verify=False), session=browser)
    assert r.error is None, r.error
    assert (r.verdict, r.protocol, r.events) == ("streaming", "HTTP/2", 11)


def test_lab_certificate_is_rejected_by_default(browser: BrowserSession, h2_server: RunningServer) -> None:
    r = probe_browser(h2_server.url(STREAM), opts(), session=browser)
    assert r.verdict == "error" and r.error is not None
    assert r.error.kind == "tls"
    assert "ERR_CERT_AUTHORITY_INVALID" in r.error.message


def test_ca_file_is_refused_clearly(browser: BrowserSession, h2_server: RunningServer) -> None:
    with pytest.raises(ValueError, match="--insecure"):
        probe_browser(h2_server.url(STREAM), opts(verify=tls_files().ca_pem), session=browser)


def test_h1_session_speaks_http1_to_an_h2_server(
    browser_h1: BrowserSession, h2_server: RunningServer
) -> None:
    r = probe_browser(h2_server.url(STREAM), opts(verify=False, http="h1"), session=browser_h1)
    assert r.error is None, r.error
    assert (r.verdict, r.protocol) == ("streaming", "HTTP/1.1")


def test_h2_required_but_server_offers_only_http1(browser: BrowserSession) -> None:
    from streamcheck.reference_app import create_app

    with hypercorn_server(create_app(), tls=tls_files(), alpn=("http/1.1",)) as srv:
        r = probe_browser(srv.url(STREAM), opts(verify=False, http="h2"), session=browser)
    assert r.protocol == "HTTP/1.1"
    assert r.error is not None and r.error.kind == "protocol" and "HTTP/2 was required" in r.error.message


def test_buffered_behind_a_hold_all_proxy(browser: BrowserSession, h1_server: RunningServer) -> None:
    with hold_all_proxy(h1_server.port) as proxy:
        r = probe_browser(proxy.url(STREAM), opts(), session=browser)
    assert r.error is None, r.error
    assert (r.verdict, r.events) == ("buffered", 11)
    assert r.buffering_delay_ms is not None and r.buffering_delay_ms >= 720
    # the first event arrived with the last
    assert r.arrivals[-1].arrive_ms - r.arrivals[0].arrive_ms < 100


def test_compression_that_holds_sse_is_buffered_and_seen(
    browser: BrowserSession, gzip_server: RunningServer
) -> None:
    r = probe_browser(gzip_server.url(STREAM), opts(), session=browser)
    assert r.error is None, r.error
    assert r.content_encoding == "gzip"
    assert r.verdict == "buffered"


def test_generic_stream_is_judged_by_arrival_pattern(
    browser: BrowserSession, h1_server: RunningServer
) -> None:
    # Without stamps (the reference app stamps when asked): judged by the arrival pattern alone.
    url = h1_server.url("/api/chat/stream?tokens=10&interval_ms=100")
    r = probe_browser(url, opts(stamp=False), session=browser)
    assert r.error is None, r.error
    assert (r.mode, r.verdict, r.events) == ("generic", "streaming", 11)


def test_stamped_chat_stream_is_judged_exactly_with_a_post_body(
    browser: BrowserSession, h1_server: RunningServer
) -> None:
    # fetch() sends X-Streampath-Stamp: 1 and the body, as the probe does; the page reads the stamps.
    url = h1_server.url("/api/chat/stream?tokens=10&interval_ms=100")
    r = probe_browser(url, opts(method="POST", data=b'{"prompt": "hello"}'), session=browser)
    assert r.error is None, r.error
    assert (r.mode, r.verdict, r.events) == ("stamped", "streaming", 11), r.to_dict()
    assert r.buffering_delay_ms is not None and r.buffering_delay_ms < 50
    assert r.gaps_ms["p50"] is not None and 80 < r.gaps_ms["p50"] < 120


# -- errors and bounds -------------------------------------------------------------------------------


def test_refused_connection(browser: BrowserSession) -> None:
    r = probe_browser(f"http://127.0.0.1:{refused_port()}/api/streamcheck", opts(), session=browser)
    assert (r.verdict, r.status) == ("error", None)
    assert r.error is not None and r.error.kind == "connect"
    assert "ERR_CONNECTION_REFUSED" in r.error.message


def test_wrong_content_type(browser: BrowserSession) -> None:
    with wrong_content_type() as srv:
        r = probe_browser(srv.url("/api/streamcheck"), opts(), session=browser)
    assert r.error is not None and r.error.kind == "content_type"
    assert "text/html" in r.error.message and "login or error page" in r.error.message
    assert r.status == 200 and r.verdict == "error"


def test_http_status(browser: BrowserSession) -> None:
    with status_error(503, "Service Unavailable", "upstream connect error") as srv:
        r = probe_browser(srv.url("/api/streamcheck"), opts(), session=browser)
    assert r.status == 503
    assert r.error is not None and r.error.kind == "http_status"
    assert "503" in r.error.message and "upstream connect error" in r.error.message


def test_stalled_stream_ends_after_timeout(browser: BrowserSession) -> None:
    with stalls_mid_stream(events=2) as srv:
        started = time.monotonic()
        r = probe_browser(srv.url("/sse"), opts(timeout=1.0), session=browser)
        elapsed = time.monotonic() - started
    assert r.error is not None and r.error.kind == "stalled", r.error
    assert r.events == 2 and "after 2 event(s)" in r.error.message
    assert elapsed < 8


def test_no_response_headers_is_a_timeout(browser: BrowserSession) -> None:
    with never_answers() as srv:
        started = time.monotonic()
        r = probe_browser(srv.url("/sse"), opts(timeout=1.0), session=browser)
        elapsed = time.monotonic() - started
    assert r.error is not None and r.error.kind == "timeout", r.error
    assert r.status is None and elapsed < 8


def test_endless_stream_ends_at_max_duration(browser: BrowserSession, h1_server: RunningServer) -> None:
    started = time.monotonic()
    r = probe_browser(
        h1_server.url("/api/streamcheck?events=500&interval_ms=100"), opts(max_duration=2.0), session=browser
    )
    elapsed = time.monotonic() - started
    assert r.error is None, r.error
    assert r.verdict == "streaming"
    assert 5 <= r.events < 40
    assert any("still open after max_duration 2 s" in n for n in r.notes)
    assert r.timings_ms["total"] is not None and 1900 <= r.timings_ms["total"] < 4000
    assert elapsed < 10


def test_reset_mid_stream_is_a_protocol_error(browser: BrowserSession) -> None:
    with resets_mid_stream(events=2) as srv:
        r = probe_browser(srv.url("/sse"), opts(), session=browser)
    assert r.error is not None and r.error.kind == "protocol", r.error
    assert r.events == 2


def test_event_too_large(browser: BrowserSession) -> None:
    with huge_line() as srv:
        r = probe_browser(srv.url("/sse"), opts(max_event_bytes=100_000), session=browser)
    assert r.error is not None and r.error.kind == "too_large", r.error


def test_headers_are_sent_and_secret_values_stay_out_of_the_result(browser: BrowserSession) -> None:
    seen: list[bytes] = []

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        seen.append(read_request(conn))
        conn.sendall(SSE_HEAD + b'data: {"seq": 0, "sent_ms": 0}\n\ndata: {"seq": 1, "sent_ms": 1}\n\n')

    with RawServer(handler) as srv:
        r = probe_browser(
            srv.url("/sse"), opts(headers={"Authorization": "Bearer s3cret-token"}), session=browser
        )
    assert r.error is None, r.error
    assert b"authorization: Bearer s3cret-token" in seen[0].lower().replace(b"bearer", b"Bearer")
    assert r.header_names == ["Authorization"]
    assert "s3cret" not in str(r.to_dict())


# -- SSE parsing in the page (WHATWG line rules, any chunking) ---------------------------------------

TRICKY_CHUNKS = [
    b"\xef\xbb\xbf: a comment first\r\n",  # BOM, comment, CRLF
    b"event: one\r",  # CR at the end of a chunk ...
    b"\ndata: a\r\ndata: b\r\n\r\n",  # ... and its LF at the start of the next
    b"data: cr-only\r\r",  # CR line ends
    b"event: empty\n\n",  # no data: not dispatched
    b"data\n\n",  # a field with no colon: empty data, dispatched
    b"id: 7\nretry: 100\nunknown: x\ndata:  two spaces\n",  # unknown field ignored; one space stripped
    b"\n",
    b"data: split ac",
    b"ross chunks\n\n",
    b"data: caf\xc3",  # a UTF-8 character split across chunks
    b"\xa9\n\n",
]


def test_page_parses_sse_like_the_probe(browser: BrowserSession) -> None:
    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        conn.sendall(SSE_HEAD)
        for chunk in TRICKY_CHUNKS:
            conn.sendall(chunk)
            if stopping.wait(0.03):
                return

    with RawServer(handler) as srv:
        r = probe_browser(srv.url("/sse"), opts(), session=browser)
    assert r.error is None, r.error

    parser = SSEParser()
    expected = [ev for chunk in TRICKY_CHUNKS for ev in parser.feed(chunk)]
    assert [(a.event, a.size) for a in r.arrivals] == [(e.event, len(e.data)) for e in expected]
    assert [a.event for a in r.arrivals] == ["one", "message", "message", "message", "message", "message"]
    assert [a.size for a in r.arrivals] == [3, 7, 0, 11, 19, 4]
    # each event is stamped when its blank line arrived, not when the stream ended
    assert r.arrivals[-1].arrive_ms - r.arrivals[0].arrive_ms > 100
