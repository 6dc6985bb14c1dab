"""StampMiddleware in real apps under uvicorn on loopback: the reference app and a small Starlette app."""

from __future__ import annotations

import gzip
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator, Sequence

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from streamcheck import StampMiddleware, stats
from streamcheck.reference_app import chat_tokens

from tests.service.conftest import serve_in_thread
from tests.service.stamps import (
    STAMP_REQUEST,
    find_stamps,
    line_starts,
    parse_sse,
    stamp_offsets_in_stripped,
    strip_stamps,
)
from tests.service.test_streamcheck import wait_for
from tests.support.aio import run_async

# Pieces that split lines, \r\n pairs and events anywhere, as an app's own framing might.
SPLIT_PIECES = (
    b"retry: 500\r",
    b"\nid: 1\r\ndata: one",
    b" still one\r\n\r",
    b"\ndata: two\n",
    b"\n: own comment\rdata: three\r\r",
    b"data: fo",
    b"ur\n\n",
)
LENGTH_BODY = b"data: whole\n\ndata: body\n\n"
GZIP_BODY = gzip.compress(b"data: a\n\ndata: b\n\n" * 50)


async def pieces(
    items: Sequence[bytes], first_after_s: float = 0.0, gap_s: float = 0.005
) -> AsyncIterator[bytes]:
    await anyio.sleep(first_after_s)
    for i, item in enumerate(items):
        if i:
            await anyio.sleep(gap_s)
        yield item


async def split(request: Request) -> Response:
    return StreamingResponse(pieces(SPLIT_PIECES), media_type="text/event-stream")  # "; charset=utf-8"


async def late(request: Request) -> Response:
    return StreamingResponse(pieces([b"data: late\n\n"], first_after_s=0.8), media_type="text/event-stream")


async def sse_with_length(request: Request) -> Response:
    return Response(LENGTH_BODY, media_type="text/event-stream")


async def sse_gzip(request: Request) -> Response:
    half = len(GZIP_BODY) // 2
    return StreamingResponse(
        pieces([GZIP_BODY[:half], GZIP_BODY[half:]]),
        media_type="text/event-stream",
        headers={"Content-Encoding": "gzip"},
    )


async def empty(request: Request) -> Response:
    return StreamingResponse(pieces([]), media_type="text/event-stream")


async def as_json(request: Request) -> Response:
    return JSONResponse({"data": "not\n\nan event\n"})


class OuterHeader(BaseHTTPMiddleware):
    """The app's own BaseHTTPMiddleware, outside StampMiddleware (added after it)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["X-Outer"] = "1"
        return response


def small_app(stamp: bool) -> Starlette:
    app = Starlette(
        routes=[
            Route("/split", split),
            Route("/late", late),
            Route("/sse-length", sse_with_length),
            Route("/sse-gzip", sse_gzip),
            Route("/empty", empty),
            Route("/json", as_json),
        ]
    )
    if stamp:
        app.add_middleware(StampMiddleware)  # first: innermost
    app.add_middleware(OuterHeader)
    return app


@pytest.fixture(scope="module")
def small_urls() -> Iterator[tuple[str, str]]:
    """(the app with StampMiddleware, the same app without it)."""
    with serve_in_thread(small_app(True)) as stamped, serve_in_thread(small_app(False)) as plain:
        yield stamped, plain


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def server_errors() -> Iterator[ErrorLog]:
    """uvicorn logs an exception that escapes the app here: no test of this module may see one."""
    handler = ErrorLog()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in handler.records] == []


def fetch(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (not decoded)."""
    with httpx.Client(timeout=30) as client, client.stream(method, url, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def comparable(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.multi_items() if k != "date"]


def test_without_the_header_the_reference_chat_stream_is_byte_for_byte(
    base_url: str, plain_base_url: str
) -> None:
    query = "/api/chat/stream?tokens=40&interval_ms=0"
    with_mw, body = fetch(base_url + query)
    without_mw, plain = fetch(plain_base_url + query)

    async def generated() -> bytes:
        return b"".join([piece async for piece in chat_tokens(40, 0)])

    assert body == plain == run_async(generated)
    assert comparable(with_mw.headers) == comparable(without_mw.headers)


@pytest.mark.parametrize("path", ["/split", "/sse-length", "/sse-gzip", "/empty", "/json"])
def test_without_the_header_any_response_is_byte_for_byte(small_urls: tuple[str, str], path: str) -> None:
    stamped, plain = small_urls
    response, body = fetch(stamped + path)
    plain_response, plain_body = fetch(plain + path)
    assert body == plain_body
    assert comparable(response.headers) == comparable(plain_response.headers)
    assert response.headers["x-outer"] == "1"


@pytest.mark.parametrize("path", ["/sse-length", "/sse-gzip", "/empty", "/json"])
def test_with_the_header_unstampable_responses_pass_through(small_urls: tuple[str, str], path: str) -> None:
    stamped, plain = small_urls
    response, body = fetch(stamped + path, STAMP_REQUEST)
    plain_response, plain_body = fetch(plain + path)
    assert body == plain_body
    assert comparable(response.headers) == comparable(plain_response.headers)


def test_a_declared_length_still_matches(small_urls: tuple[str, str]) -> None:
    response, body = fetch(small_urls[0] + "/sse-length", STAMP_REQUEST)
    assert int(response.headers["content-length"]) == len(body) == len(LENGTH_BODY)


def test_the_chat_stream_is_stamped_before_every_event(base_url: str, plain_base_url: str) -> None:
    query = "/api/chat/stream?tokens=10&interval_ms=30"
    response, body = fetch(base_url + query, STAMP_REQUEST)
    _, plain = fetch(plain_base_url + query, STAMP_REQUEST)  # the header alone changes nothing
    assert response.headers["content-type"] == "text/event-stream"
    assert strip_stamps(body) == plain
    stamps = find_stamps(body)
    assert len(stamps) == 11  # ten tokens and [DONE], each its own piece
    event_starts = [0, *(i + 2 for i in range(len(plain) - 2) if plain[i : i + 2] == b"\n\n")]
    assert stamp_offsets_in_stripped(body) == event_starts
    values = [v for _, v in stamps]
    assert all(b > a for a, b in itertools.pairwise(values))
    assert values[0] < 100
    assert 9 * 30 * 0.9 <= values[-1] - values[0] < 9 * 30 + 300  # spaced like the app sends them
    assert parse_sse(body).events == parse_sse(plain).events


def test_pieces_that_split_lines_are_stamped_only_at_line_starts(small_urls: tuple[str, str]) -> None:
    stamped, plain = small_urls
    response, body = fetch(stamped + "/split", STAMP_REQUEST)
    _, plain_body = fetch(plain + "/split")
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert plain_body == b"".join(SPLIT_PIECES)
    assert strip_stamps(body) == plain_body
    offsets = stamp_offsets_in_stripped(body)
    assert offsets and set(offsets) <= line_starts(plain_body)
    # Which pieces get one: those with a line start that some of the piece follows.
    expected, begin = [], 0
    for piece in SPLIT_PIECES:
        inside = sorted(p for p in line_starts(plain_body) if begin <= p < begin + len(piece))
        expected += inside[:1]
        begin += len(piece)
    assert offsets == expected
    assert parse_sse(body).events == parse_sse(plain_body).events


def test_stamps_agree_with_streamchecks_own_send_times(base_url: str) -> None:
    _, body = fetch(base_url + "/api/streamcheck?events=5&interval_ms=20", STAMP_REQUEST)
    stamps = [v for _, v in find_stamps(body)]
    events = parse_sse(body).events
    assert len(stamps) == len(events) == 6
    for stamp, event in zip(stamps, events, strict=True):
        # Both count from the request's arrival; the stamp is taken a little earlier and read a little later.
        assert -0.01 <= stamp - json.loads(event["data"])["sent_ms"] < 50


def test_in_the_gzip_variant_the_stamps_measure_the_hold(gzip_base_url: str) -> None:
    headers = {**STAMP_REQUEST, "Accept-Encoding": "gzip"}
    chunks: list[tuple[float, bytes]] = []
    with httpx.Client(timeout=30) as client:
        started = time.monotonic()
        url = gzip_base_url + "/api/chat/stream?tokens=10&interval_ms=100"
        with client.stream("GET", url, headers=headers) as r:
            assert r.headers["content-encoding"] == "gzip"
            for chunk in r.iter_raw():
                chunks.append(((time.monotonic() - started) * 1000, chunk))
    stamps = [v for _, v in find_stamps(gzip.decompress(b"".join(c for _, c in chunks)))]
    assert len(stamps) == 11
    # Sent over 900 ms (the first at once), received in one block at the end: a ~900 ms buffering delay.
    assert stamps[0] < 100 and stamps[-1] - stamps[0] > 800
    assert chunks[0][0] > stamps[-1] - 50


def test_the_response_start_is_not_held_for_a_late_first_piece(small_urls: tuple[str, str]) -> None:
    with httpx.Client(timeout=30) as client:
        started = time.monotonic()
        with client.stream("GET", small_urls[0] + "/late", headers=STAMP_REQUEST) as response:
            headers_s = time.monotonic() - started
            body = b"".join(response.iter_raw())
            body_s = time.monotonic() - started
    assert headers_s < 0.5
    assert body_s >= 0.75
    assert strip_stamps(body) == b"data: late\n\n" and len(find_stamps(body)) == 1
    assert find_stamps(body)[0][1] >= 790


def test_head_gets_the_same_headers_and_no_body(small_urls: tuple[str, str]) -> None:
    # Starlette answers HEAD on a GET route (FastAPI's routes refuse it); the server sends no body.
    stamped, plain = small_urls
    response, body = fetch(stamped + "/split", STAMP_REQUEST, method="HEAD")
    plain_response, plain_body = fetch(plain + "/split", method="HEAD")
    assert response.status_code == 200 and body == b"" == plain_body
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert comparable(response.headers) == comparable(plain_response.headers)


def test_a_client_that_disconnects_mid_stream(base_url: str, server_errors: ErrorLog) -> None:
    before = stats.snapshot()
    received = b""
    with httpx.Client(timeout=30) as client:
        url = base_url + "/api/streamcheck?events=500&interval_ms=20"
        with client.stream("GET", url, headers=STAMP_REQUEST) as response:
            for chunk in response.iter_raw():
                received += chunk
                if strip_stamps(received).count(b"\n\n") >= 3:
                    break
    assert len(find_stamps(received)) >= 3
    # The app's generator is cancelled as without the middleware, and nothing more is sent.
    assert wait_for(lambda: stats.snapshot()["cancelled"] > before["cancelled"], timeout=3)
    assert wait_for(lambda: stats.snapshot()["active"] == before["active"], timeout=3)
    sent = stats.snapshot()["events_sent"]
    time.sleep(0.6)  # 30 more events would have been due by now
    assert stats.snapshot()["events_sent"] == sent
    assert sent - before["events_sent"] < 3 + 15
    assert server_errors.records == []
