"""StampMiddleware called directly over ASGI: exactly which bytes it sends, for every split of a stream."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamcheck import STAMP_HEADER, STAMP_PREFIX, StampMiddleware

from tests.service.stamps import BOM, find_stamps, line_starts, parse_sse, strip_stamps
from tests.support.aio import run_async

SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
ASK = [(b"x-streampath-stamp", b"1")]

# Several events with every SSE line end: \r\n, lone \r, \n, a \r\n blank line after \n, comments, retry,
# an id and a multi-line data field.
SAMPLE = (
    b"retry: 1000\r\n"
    b'id: 1\r\nevent: tick\r\ndata: {"a": 1}\r\n\r\n'
    b"data: line one\ndata: line two\n\n"
    b": the app's own comment\n"
    b"data: cr only\r\r"
    b"data: mixed\r\n\n"
    b"data: last\n\n"
)
SHORT = b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"


def start(headers: Sequence[tuple[bytes, bytes]] = SSE_HEADERS, status: int = 200) -> Message:
    return {"type": "http.response.start", "status": status, "headers": list(headers)}


def body(data: bytes, more: bool = True) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


def sse_messages(
    pieces: Sequence[bytes], headers: Sequence[tuple[bytes, bytes]] = SSE_HEADERS
) -> list[Message]:
    """What a streaming response sends: start, one message per piece, then an empty last piece."""
    return [start(headers), *(body(p) for p in pieces), body(b"", more=False)]


def scripted_app(messages: Sequence[Message], pause_s: float = 0.0) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for i, message in enumerate(messages):
            if i and pause_s:
                await anyio.sleep(pause_s)
            await send(message)

    return app


def http_scope(headers: Sequence[tuple[bytes, bytes]] = ASK, method: str = "GET") -> Scope:
    return {"type": "http", "method": method, "path": "/s", "headers": list(headers), "query_string": b""}


async def no_receive() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


def call(app: ASGIApp, scope: Scope | None = None) -> list[Message]:
    """Run ``app`` once; return the messages that reached the server's ``send``."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        with anyio.fail_after(5):
            await app(scope if scope is not None else http_scope(), no_receive, send)

    run_async(main)
    return sent


def bodies(messages: Sequence[Message]) -> list[bytes]:
    return [m.get("body", b"") for m in messages if m["type"] == "http.response.body"]


def expected_offset(stream: bytes, begin: int, end: int) -> int | None:
    """Where the stamp of the piece ``stream[begin:end]`` goes: the first line start inside it that some of
    the piece follows (relative to the piece), or None. A piece starting mid-line waits for a line end."""
    inside = [p for p in line_starts(stream) if begin <= p < end]
    return min(inside) - begin if inside else None


def check_stamped(pieces: Sequence[bytes]) -> None:
    """Stream ``pieces`` through the middleware and check every output message against its input piece."""
    stream = b"".join(pieces)
    sent = call(StampMiddleware(scripted_app(sse_messages(pieces))))
    assert [m["type"] for m in sent] == ["http.response.start"] + ["http.response.body"] * (len(pieces) + 1)
    assert [m.get("more_body") for m in sent[1:]] == [True] * len(pieces) + [False]
    out = bodies(sent)
    assert out[-1] == b""  # the last, empty piece stays empty
    values = []
    begin = 0
    for piece, got in zip(pieces, out, strict=False):
        stamps = find_stamps(got)
        want = expected_offset(stream, begin, begin + len(piece))
        assert [offset for offset, _ in stamps] == ([] if want is None else [want]), (pieces, piece, got)
        assert strip_stamps(got) == piece  # the app's bytes unchanged, in place
        values += [v for _, v in stamps]
        begin += len(piece)
    assert values == sorted(values)
    assert all(0 <= v < 5000 for v in values)
    whole = b"".join(out)
    assert strip_stamps(whole) == stream
    # A client sees the same events; the stamps are only extra comment lines.
    before, after = parse_sse(stream), parse_sse(whole)
    assert after.events == before.events
    assert [c for c in after.comments if not c.startswith(" sp-sent=")] == before.comments


@pytest.mark.parametrize("split", range(len(SAMPLE) + 1))
def test_every_two_piece_split_of_a_sample_stream(split: int) -> None:
    check_stamped([SAMPLE[:split], SAMPLE[split:]])


def test_every_three_piece_split_of_a_short_stream() -> None:
    for a, b in itertools.combinations(range(1, len(SHORT)), 2):
        check_stamped([SHORT[:a], SHORT[a:b], SHORT[b:]])


def test_one_byte_pieces() -> None:
    check_stamped([SAMPLE[i : i + 1] for i in range(len(SAMPLE))])


def test_whole_events_get_a_stamp_first() -> None:
    events = [b"data: one\n\n", b"data: two\n\n", b"data: three\n\n"]
    out = bodies(call(StampMiddleware(scripted_app(sse_messages(events)))))
    for piece, got in zip(events, out, strict=False):
        assert got.startswith(STAMP_PREFIX) and got.endswith(b"\n" + piece)


def test_never_between_cr_and_lf_across_pieces() -> None:
    pieces = [b"da", b"ta: a\r", b"\ndata: b\r\n\r", b"\n", b"\ndata: c\r\n\r\n"]
    out = bodies(call(StampMiddleware(scripted_app(sse_messages(pieces)))))
    assert out[0].startswith(STAMP_PREFIX)  # the stream's start is a line start
    assert out[1] == b"ta: a\r"  # its only line end is its last byte: nothing would follow a stamp
    assert out[2].startswith(b"\n" + STAMP_PREFIX)  # after the \n that completes the \r\n
    assert out[3] == b"\n"  # completes a \r\n; nothing of it follows
    assert out[4].startswith(STAMP_PREFIX)  # starts a line (the blank line)
    assert b"\r" + STAMP_PREFIX not in b"".join(out)


def test_a_lone_cr_ending_a_piece_is_a_line_end_when_no_lf_follows() -> None:
    pieces = [b"data: a\r", b"\rdata: b\r"]
    out = bodies(call(StampMiddleware(scripted_app(sse_messages(pieces)))))
    assert out[1].startswith(STAMP_PREFIX) and out[1].endswith(b"\n" + pieces[1])


def test_a_piece_without_a_line_end_gets_no_stamp() -> None:
    pieces = [b"data: a", b"bc", b"de", b"f\n\n"]
    out = bodies(call(StampMiddleware(scripted_app(sse_messages(pieces)))))
    assert out[0].startswith(STAMP_PREFIX) and out[0].endswith(b"\ndata: a")  # at the stream's start
    assert out[1:3] == pieces[1:3]
    assert out[3].startswith(b"f\n" + STAMP_PREFIX) and out[3].endswith(b"\n\n")


def test_a_leading_byte_order_mark_stays_first() -> None:
    stream = BOM + b"data: a\n\ndata: b\n\n"
    whole = bodies(call(StampMiddleware(scripted_app(sse_messages([stream])))))[0]
    assert whole.startswith(BOM + STAMP_PREFIX)
    for split in (1, 2, 3):
        out = bodies(call(StampMiddleware(scripted_app(sse_messages([stream[:split], stream[split:]])))))
        assert out[0] == stream[:split]
        # The second piece starts inside (or right after) the mark: its stamp waits for a line end.
        assert out[1].startswith(stream[split : len(BOM) + len(b"data: a\n")] + STAMP_PREFIX)
        assert strip_stamps(b"".join(out)) == stream


def test_stamps_are_ms_since_the_request_and_increase() -> None:
    events = [b"data: %d\n\n" % i for i in range(4)]
    out = bodies(call(StampMiddleware(scripted_app(sse_messages(events), pause_s=0.05))))
    values = [v for got in out for _, v in find_stamps(got)]
    assert len(values) == 4
    assert values == sorted(values) and len(set(values)) == 4
    assert 50 <= values[0] < 150  # the start message went out after one 50 ms pause
    gaps = [b - a for a, b in itertools.pairwise(values)]
    assert all(45 <= g < 150 for g in gaps), gaps
    assert all(got.split(b"\n", 1)[0].split(b"=")[1].count(b".") == 1 for got in out[:4])
    assert all(len(got.split(b"\n", 1)[0].split(b".")[1]) == 3 for got in out[:4])


def passes_through(messages: list[Message], scope: Scope | None = None) -> None:
    """Without stamps the server gets exactly the app's messages, as it would without the middleware."""
    original = copy.deepcopy(messages)
    direct = call(scripted_app(messages), scope)
    wrapped = call(StampMiddleware(scripted_app(messages)), scope)
    assert wrapped == direct == original
    assert messages == original  # the app's own message objects are not modified either


def test_no_header_no_change() -> None:
    passes_through(sse_messages([SAMPLE[:20], SAMPLE[20:]]), http_scope(headers=[]))


@pytest.mark.parametrize("value", [b"0", b"", b"true", b"yes", b"2"])
def test_only_the_value_1_asks(value: bytes) -> None:
    passes_through(sse_messages([b"data: a\n\n"]), http_scope(headers=[(b"x-streampath-stamp", value)]))


def test_the_header_name_is_case_insensitive() -> None:
    scope = http_scope(headers=[(STAMP_HEADER.encode(), b"1")])
    out = bodies(call(StampMiddleware(scripted_app(sse_messages([b"data: a\n\n"]))), scope))
    assert out[0].startswith(STAMP_PREFIX)


@pytest.mark.parametrize(
    "content_type", [b"application/json", b"text/plain", b"text/html", b"text/event-streams", b""]
)
def test_other_content_types_pass_through(content_type: bytes) -> None:
    passes_through(sse_messages([b"data: a\n\n"], headers=[(b"content-type", content_type)]))


def test_no_content_type_passes_through() -> None:
    passes_through(sse_messages([b"data: a\n\n"], headers=[(b"cache-control", b"no-cache")]))


def test_two_content_types_pass_through() -> None:
    headers = [(b"content-type", b"text/event-stream"), (b"content-type", b"text/plain")]
    passes_through(sse_messages([b"data: a\n\n"], headers=headers))


@pytest.mark.parametrize(
    "content_type", [b"text/event-stream; charset=utf-8", b"Text/Event-Stream", b" text/event-stream "]
)
def test_event_stream_with_parameters_or_any_case_is_stamped(content_type: bytes) -> None:
    out = bodies(
        call(StampMiddleware(scripted_app(sse_messages([b"data: a\n\n"], [(b"content-type", content_type)]))))
    )
    assert out[0].startswith(STAMP_PREFIX)


@pytest.mark.parametrize("encoding", [b"gzip", b"br", b"deflate", b"gzip, identity", b"zstd"])
def test_encoded_responses_pass_through(encoding: bytes) -> None:
    headers = [*SSE_HEADERS, (b"content-encoding", encoding)]
    passes_through(sse_messages([b"\x1f\x8b\x08\x00compressed\n", b"more\r\n"], headers=headers))


@pytest.mark.parametrize("encoding", [b"identity", b"IDENTITY", b""])
def test_identity_encoding_is_stamped(encoding: bytes) -> None:
    headers = [*SSE_HEADERS, (b"content-encoding", encoding)]
    out = bodies(call(StampMiddleware(scripted_app(sse_messages([b"data: a\n\n"], headers)))))
    assert out[0].startswith(STAMP_PREFIX)


def test_a_declared_content_length_passes_through() -> None:
    payload = b"data: a\n\ndata: b\n\n"
    headers = [*SSE_HEADERS, (b"content-length", str(len(payload)).encode())]
    passes_through([start(headers), body(payload, more=False)])


def test_empty_body_passes_through() -> None:
    passes_through([start(), body(b"", more=False)])
    passes_through([start(), {"type": "http.response.body"}])  # body and more_body both omitted


def test_empty_pieces_get_no_stamp_and_keep_their_flags() -> None:
    messages = [
        start(),
        body(b""),
        body(b"data: a\n\n"),
        body(b""),
        {"type": "http.response.body", "body": b""},
    ]
    out = call(StampMiddleware(scripted_app(messages)))
    assert out[1] == messages[1] and out[3] == messages[3] and out[4] == messages[4]
    assert "more_body" not in out[4]
    assert out[2]["more_body"] is True and out[2]["body"].startswith(STAMP_PREFIX)


def test_single_final_piece_is_stamped_and_stays_final() -> None:
    out = call(StampMiddleware(scripted_app([start(), body(b"data: a\n\n", more=False)])))
    assert out[1]["more_body"] is False and out[1]["body"].startswith(STAMP_PREFIX)


def test_head_passes_through() -> None:
    passes_through(sse_messages([b"data: a\n\n"]), http_scope(method="HEAD"))


def test_other_scopes_get_the_servers_own_send() -> None:
    seen: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(send)

    async def server_send(message: Message) -> None:
        raise AssertionError("not called")

    async def main() -> None:
        middleware = StampMiddleware(app)
        await middleware({"type": "lifespan"}, no_receive, server_send)
        await middleware({"type": "websocket", "headers": ASK, "path": "/ws"}, no_receive, server_send)
        await middleware(http_scope(headers=[]), no_receive, server_send)

    run_async(main)
    assert seen == [server_send] * 3


def test_other_message_types_pass_through_unchanged() -> None:
    trailers = {"type": "http.response.trailers", "headers": [(b"x-t", b"1")], "more_trailers": False}
    messages = [start(), body(b"data: a\n\n"), body(b"", more=False), trailers]
    out = call(StampMiddleware(scripted_app(messages)))
    assert out[3] == trailers


def test_response_start_is_forwarded_before_the_first_body_piece() -> None:
    order: list[str] = []
    started = anyio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start())
        order.append("app: start sent")
        # Only once the server has the start message does the app produce its first piece.
        await started.wait()
        await send(body(b"data: a\n\n", more=False))

    async def server_send(message: Message) -> None:
        order.append("server: " + message["type"])
        if message["type"] == "http.response.start":
            started.set()

    async def main() -> None:
        with anyio.fail_after(2):  # a middleware that waited for the first piece would deadlock here
            await StampMiddleware(app)(http_scope(), no_receive, server_send)

    run_async(main)
    assert order == ["server: http.response.start", "app: start sent", "server: http.response.body"]


def test_start_goes_on_at_once_even_when_the_body_is_late() -> None:
    at: dict[str, float] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start())
        await anyio.sleep(0.3)
        await send(body(b"data: a\n\n", more=False))

    async def server_send(message: Message) -> None:
        at[message["type"]] = anyio.current_time()

    async def main() -> None:
        t0 = anyio.current_time()
        await StampMiddleware(app)(http_scope(), no_receive, server_send)
        at["t0"] = t0

    run_async(main)
    assert at["http.response.start"] - at["t0"] < 0.1
    assert at["http.response.body"] - at["http.response.start"] >= 0.29


def failing_run(app: ASGIApp, server_send: Callable[[Message], Awaitable[None]]) -> BaseException | None:
    async def main() -> BaseException | None:
        try:
            await app(http_scope(), no_receive, server_send)
        except Exception as exc:
            return exc
        return None

    return run_async(main)


def test_a_body_it_cannot_handle_passes_through_and_stamping_stops() -> None:
    # A memoryview body: slicing and concatenating it fails inside the middleware.
    odd = {"type": "http.response.body", "body": memoryview(b"data: a\n\n"), "more_body": True}
    messages = [start(), body(b"data: 0\n\n"), odd, body(b"data: b\n\n"), body(b"", more=False)]
    out = call(StampMiddleware(scripted_app(messages)))
    assert out[1]["body"].startswith(STAMP_PREFIX)
    assert out[2] is odd
    assert out[3:] == messages[3:]


@pytest.mark.parametrize(
    "bad_start",
    [
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type",)]},
        {"type": "http.response.start", "status": 200, "headers": 5},
        {"type": "http.response.start", "status": 200, "headers": [("content-type", None)]},
    ],
)
def test_malformed_start_headers_pass_through(bad_start: Message) -> None:
    passes_through([bad_start, body(b"data: a\n\n"), body(b"", more=False)])


@pytest.mark.parametrize(
    "scope",
    [
        {"type": "http", "method": "GET", "headers": [(b"x-streampath-stamp",)]},
        {"type": "http", "method": "GET", "headers": None},
        {"type": "http", "method": "GET", "headers": [(1, 2)]},
    ],
)
def test_a_malformed_scope_passes_through(scope: Scope) -> None:
    passes_through(sse_messages([b"data: a\n\n"]), scope)


def test_what_the_server_send_raises_reaches_the_app_unchanged() -> None:
    gone = OSError("client gone")
    calls = 0

    async def server_send(message: Message) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise gone

    seen: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            for message in sse_messages([b"data: a\n\n", b"data: b\n\n", b"data: c\n\n"]):
                await send(message)
        except OSError as exc:
            seen.append(exc)
            raise

    assert failing_run(StampMiddleware(app), server_send) is gone
    assert seen == [gone] and calls == 3


def test_what_the_app_raises_propagates_unchanged() -> None:
    boom = RuntimeError("app failed")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start())
        raise boom

    async def server_send(message: Message) -> None:
        pass

    assert failing_run(StampMiddleware(app), server_send) is boom
