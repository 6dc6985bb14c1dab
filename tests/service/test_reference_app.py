"""The reference app's chat-like stream, and the gzip variant that holds SSE (the lab's fault)."""

from __future__ import annotations

import gzip
import json
import time

import httpx

from tests.service.test_streamcheck import read_events, stream


def test_chat_stream_format(base_url: str) -> None:
    with httpx.Client(timeout=10) as client:
        response = client.get(f"{base_url}/api/chat/stream?tokens=3&interval_ms=0")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    chunks = response.content.split(b"\n\n")
    assert chunks[-1] == b"" and chunks[-2] == b"data: [DONE]"
    tokens = [json.loads(c.removeprefix(b"data: "))["token"] for c in chunks[:-2]]
    assert tokens == ["Streaming", " works", " when"]


def test_chat_stream_is_spaced(base_url: str) -> None:
    with httpx.Client(timeout=10) as client:
        started = time.monotonic()
        with client.stream("GET", f"{base_url}/api/chat/stream?tokens=10&interval_ms=100") as response:
            events = read_events(response, started)
    assert len(events) == 11
    assert events[-1].fields["data"] == "[DONE]"
    assert events[9].arrived_ms - events[0].arrived_ms > 700


def test_chat_stream_bounds(base_url: str) -> None:
    with httpx.Client(timeout=10) as client:
        for query, parameter in [
            ("tokens=0", "tokens"),
            ("tokens=2001", "tokens"),
            ("interval_ms=x", "interval_ms"),
            ("tokens=2000&interval_ms=100", "interval_ms"),
        ]:
            response = client.get(f"{base_url}/api/chat/stream?{query}")
            assert response.status_code == 422, query
            assert response.json()["parameter"] == parameter


def raw_arrivals(url: str, accept_encoding: str) -> tuple[httpx.Response, float, list[tuple[float, bytes]]]:
    """(response, ms to headers, [(ms, raw bytes)]) reading undecoded bytes as they arrive."""
    chunks: list[tuple[float, bytes]] = []
    with httpx.Client(timeout=30) as client:
        started = time.monotonic()
        with client.stream("GET", url, headers={"Accept-Encoding": accept_encoding}) as response:
            headers_ms = (time.monotonic() - started) * 1000
            for chunk in response.iter_raw():
                chunks.append(((time.monotonic() - started) * 1000, chunk))
    return response, headers_ms, chunks


def test_gzip_variant_holds_the_stream(gzip_base_url: str) -> None:
    n, interval = 10, 100
    url = f"{gzip_base_url}/api/streamcheck?events={n}&interval_ms={interval}"
    response, headers_ms, chunks = raw_arrivals(url, "gzip, deflate, br")
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "no-cache, no-transform"  # ignored, as the old one did
    # Headers at once (TTFB looks healthy) ...
    assert headers_ms < 500
    # ... but not one body byte until the stream ends ((n - 1) x interval = 900 ms later).
    assert chunks, "no body"
    first_body_ms = chunks[0][0]
    assert first_body_ms > (n - 1) * interval * 0.8, chunks
    body = gzip.decompress(b"".join(c for _, c in chunks))
    assert body.count(b"event: tick") == n
    assert b'event: done\ndata: {"seq": 10, "sent_ms": ' in body and body.endswith(b"}\n\n")


def test_gzip_variant_streams_without_accept_encoding(gzip_base_url: str) -> None:
    # The fault is keyed on Accept-Encoding: curl without --compressed streams, a browser does not.
    response, events = stream(
        f"{gzip_base_url}/api/streamcheck?events=10&interval_ms=100",
        headers={"Accept-Encoding": "identity"},
    )
    assert "content-encoding" not in response.headers
    lags = [e.arrived_ms - e.data["sent_ms"] for e in events]
    assert max(lags) - min(lags) < 150  # held would be about 900 ms; room for a busy 2-core machine


def test_gzip_variant_holds_the_chat_stream_too(gzip_base_url: str) -> None:
    url = f"{gzip_base_url}/api/chat/stream?tokens=10&interval_ms=100"
    _, _, chunks = raw_arrivals(url, "gzip")
    assert chunks[0][0] > 700
    assert gzip.decompress(b"".join(c for _, c in chunks)).endswith(b"data: [DONE]\n\n")
