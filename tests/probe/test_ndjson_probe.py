"""NDJSON and chunked text/plain streams probed over real loopback servers, measured and judged like SSE:
directly (streaming), through the lab's buffering nginx (buffered), stamped by StampMiddleware (exact),
compressed, and every failure classified as for SSE.

Streams are 10 intervals of 100 ms, as in test_buffering.py: streaming <= ~100 ms, buffered >= ~800 ms.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from streamcheck.reference_app import create_app
from streamprobe import ProbeOptions, probe
from streamprobe.messages import NO_DONE_NOTE
from streamprobe.result import ProbeResult
from streamprobe.sse import NO_STAMPS_NOTE

from tests.probe.conftest import STREAM
from tests.support import servers
from tests.support.nginx import buffering_nginx
from tests.support.servers import RawServer, RunningServer

NDJSON_STREAM = STREAM + "&format=ndjson"
CHAT_NDJSON = "/api/chat/stream?tokens=10&interval_ms=100&format=ndjson"
CHAT_TEXT = "/api/chat/stream?tokens=10&interval_ms=100&format=text"
OPTIONS = ProbeOptions(timeout=5)


@pytest.fixture(scope="module")
def nginx(h1_server: RunningServer) -> Iterator[RunningServer]:
    with buffering_nginx(h1_server.port) as srv:
        yield srv


def judged(result: ProbeResult) -> tuple[str, str, int]:
    assert result.error is None, result.error
    return result.verdict, result.mode, result.events


def test_streamcheck_as_ndjson_directly_is_streaming_and_judged_exactly(h1_server: RunningServer) -> None:
    r = probe(h1_server.url(NDJSON_STREAM), OPTIONS)
    assert judged(r) == ("streaming", "streamcheck", 11)
    assert r.buffering_delay_ms is not None and r.buffering_delay_ms < 100
    assert [a.event for a in r.arrivals] == ["tick"] * 10 + ["done"]
    assert [a.seq for a in r.arrivals] == list(range(11)) and NO_DONE_NOTE not in r.notes


def test_streamcheck_as_ndjson_over_http2(h2_server: RunningServer) -> None:
    r = probe(h2_server.url(NDJSON_STREAM), ProbeOptions(timeout=5, verify=h2_server.ca_pem or True))
    assert judged(r) == ("streaming", "streamcheck", 11) and r.protocol == "HTTP/2"


def test_ndjson_through_the_labs_buffering_nginx_is_buffered(nginx: RunningServer) -> None:
    r = probe(nginx.url(NDJSON_STREAM), OPTIONS)
    assert judged(r) == ("buffered", "streamcheck", 11)
    assert r.buffering_delay_ms is not None and r.buffering_delay_ms > 700
    assert r.content_encoding == "gzip"  # decoded on the way, like SSE


def test_stamped_ndjson_is_judged_exactly_directly_and_through_the_buffering_nginx(
    h1_server: RunningServer, nginx: RunningServer
) -> None:
    direct = probe(h1_server.url(CHAT_NDJSON), OPTIONS)
    assert judged(direct) == ("streaming", "stamped", 11)  # 10 tokens and {"done": true}; no stamp counted
    assert all(a.stamp_ms is not None for a in direct.arrivals)
    held = probe(nginx.url(CHAT_NDJSON), OPTIONS)
    assert judged(held) == ("buffered", "stamped", 11)
    unstamped = probe(h1_server.url(CHAT_NDJSON), ProbeOptions(timeout=5, stamp=False))
    assert judged(unstamped)[1:] == ("generic", 11)


def test_ndjson_without_stamps_from_an_app_without_the_middleware_gets_the_hint() -> None:
    with servers.uvicorn_server(create_app(stamp=False)) as srv:
        r = probe(srv.url(CHAT_NDJSON), OPTIONS)
    assert judged(r) == ("streaming", "generic", 11) and NO_STAMPS_NOTE in r.notes


def test_chunked_text_is_one_event_per_chunk_judged_by_arrival(h1_server: RunningServer) -> None:
    r = probe(h1_server.url(CHAT_TEXT), OPTIONS)
    assert judged(r) == ("streaming", "generic", 10)
    assert [a.event for a in r.arrivals] == ["chunk"] * 10
    assert r.buffering_delay_ms is None
    assert NO_STAMPS_NOTE not in r.notes  # StampMiddleware never stamps text: no hint to mount it


def test_chunked_text_held_by_a_proxy_is_buffered(h1_server: RunningServer) -> None:
    with servers.hold_all_proxy(h1_server.port) as proxy:
        r = probe(proxy.url(CHAT_TEXT), OPTIONS)
    assert judged(r)[:2] == ("buffered", "generic")


def test_gzip_ndjson_is_decoded_and_streams() -> None:
    with servers.uvicorn_server(servers.gzip_flushing_asgi(create_app())) as srv:
        r = probe(srv.url(NDJSON_STREAM), OPTIONS)
    assert judged(r) == ("streaming", "streamcheck", 11) and r.content_encoding == "gzip"


def raw_ndjson(
    pieces: list[bytes], content_type: bytes = b"application/x-ndjson", pause: float = 0.1
) -> RawServer:
    """A close-delimited response of ``content_type`` whose body is written in ``pieces``, ``pause`` apart."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        servers.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\nConnection: close\r\n\r\n")
        for piece in pieces:
            conn.sendall(piece)
            if stopping.wait(pause):
                return

    return RawServer(handler)


def test_lines_split_across_writes_crlf_blank_lines_and_invalid_json() -> None:
    # Each line completes in the write after the one that starts it; the JSON ones carry sent_ms.
    pieces = [b'{"sent_ms": 0, "seq": 0}\r\n{"sent_ms": ']
    pieces += [b'%d, "seq": %d}\r\n\n{"sent_ms": ' % (100 * i, i) for i in range(1, 5)]
    pieces += [b'500, "seq": 5}\nnot json\n']
    with raw_ndjson(pieces) as srv:
        r = probe(srv.url("/chat"), OPTIONS)
    verdict, mode, events = judged(r)
    assert (mode, events) == ("streamcheck", 7)  # six JSON lines and "not json", an event without a send time
    assert [a.seq for a in r.arrivals] == [0, 1, 2, 3, 4, 5, None]
    # Line i arrives with write i+1, 100 ms after it was "sent": a constant lag, no buffering.
    assert verdict == "streaming", r.notes


def test_a_line_over_the_limit_is_too_large() -> None:
    with raw_ndjson([b'{"a": 1}\n', b"x" * 5000, b"y" * 5000]) as srv:
        r = probe(srv.url("/"), ProbeOptions(timeout=5, max_event_bytes=4096))
    assert r.error is not None and r.error.kind == "too_large" and r.verdict == "error"


@pytest.mark.parametrize(
    ("content_type", "extra"),
    [(b"application/json", b""), (b"text/plain", b"Content-Length: 5\r\n")],
    ids=["json", "text-with-length"],
)
def test_a_document_is_still_a_content_type_error(content_type: bytes, extra: bytes) -> None:
    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        servers.read_request(conn)
        length = b"" if extra else b"Content-Length: 5\r\n"
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\n" + extra + length + b"\r\nhello"
        )
        stopping.wait(0.2)

    with RawServer(handler) as srv:
        started = time.monotonic()
        r = probe(srv.url("/"), OPTIONS)
    assert r.error is not None and r.error.kind == "content_type" and "hello" in r.error.message
    assert time.monotonic() - started < 5
