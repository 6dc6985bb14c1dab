"""The NDJSON and plain-text readers in every chunking: lines, line ends, blank lines, stamps, bounds."""

from __future__ import annotations

import pytest
from streamprobe.formats import parser_for
from streamprobe.ndjson import ChunkParser, NDJSONParser
from streamprobe.sse import EventTooLarge, SSEEvent, SSEParser

STREAM = (
    b'{"sp-sent":1.000}\n{"token": "a"}\n'  # a stamp dates the next line
    b'{"sp-sent":2.500}\r\n{"sp-sent":2.600}\r\n{"token": "b"}\r\n'  # CRLF; the first stamp counts
    b"\n  \r\n"  # blank lines: no events
    b"not json\n"  # an event all the same, with no stamp
    b'{"event": "done", "seq": 3, "sent_ms": 9.5}\n'
)
WANT = [
    ("message", '{"token": "a"}', 1.0),
    ("message", '{"token": "b"}', 2.5),
    ("message", "not json", None),
    ("done", '{"event": "done", "seq": 3, "sent_ms": 9.5}', None),
]


def feed(parser: NDJSONParser | ChunkParser, data: bytes, cuts: list[int]) -> list[SSEEvent]:
    events: list[SSEEvent] = []
    start = 0
    for cut in [*cuts, len(data)]:
        events += parser.feed(data[start:cut])
        start = cut
    return events


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_every_split_gives_the_same_lines_and_stamps(cut: int) -> None:
    parser = NDJSONParser()
    events = feed(parser, STREAM, [cut])
    assert [(e.event, e.data, e.stamp_ms) for e in events] == WANT
    assert parser.send_stamps.valid == 3 and parser.send_stamps.bad == {}


def test_byte_by_byte_with_a_leading_byte_order_mark() -> None:
    data = b"\xef\xbb\xbf" + STREAM
    events = feed(NDJSONParser(), data, list(range(1, len(data))))
    assert [(e.event, e.data, e.stamp_ms) for e in events] == WANT


def test_a_lone_cr_does_not_end_a_line() -> None:
    events = feed(NDJSONParser(), b'{"a":\r1}\n', [])
    assert [e.data for e in events] == ['{"a":\r1}']


def test_an_unterminated_last_line_is_no_event() -> None:
    assert feed(NDJSONParser(), b'{"a": 1}\n{"b": 2', []) == [SSEEvent("message", '{"a": 1}', "", None)]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"sp-sent":soon}\n', "not a number"),
        (b'{"sp-sent":1.0, "x": 1}\n', "not a number"),
        (b'{"token": "{\\"sp-sent\\":1.0}"}\n', None),  # escaped inside a string: not the prefix
        (b'{"x": 1, "y": {"sp-sent":1.0}}\n', "mid-line"),
    ],
)
def test_a_malformed_stamp_is_ignored_and_counted(line: bytes, reason: str | None) -> None:
    parser = NDJSONParser()
    events = feed(parser, b'{"sp-sent":5.000}\n' + line + b'{"sp-sent":4.000}\n{"z": 0}\n', [])
    assert parser.send_stamps.bad == ({"backwards": 1} | ({reason: 1} if reason else {}))
    is_event = reason == "mid-line" or reason is None
    assert [e.stamp_ms for e in events] == ([5.0, None] if is_event else [5.0])


@pytest.mark.parametrize("cut", [0, 5, 20])
def test_a_line_over_the_limit_is_too_large_even_unterminated(cut: int) -> None:
    with pytest.raises(EventTooLarge):
        feed(NDJSONParser(max_event_bytes=32), b'{"a": 1}\n' + b"x" * 40, [cut])
    with pytest.raises(EventTooLarge):
        feed(NDJSONParser(max_event_bytes=32), b'{"a": 1}\n' + b"y" * 40 + b"\n", [cut])


def test_blank_and_stamp_lines_count_toward_the_limit_until_an_event() -> None:
    parser = NDJSONParser(max_event_bytes=64)
    assert feed(parser, b"\n" * 40 + b"{}\n", []) != []  # 43 bytes: within
    with pytest.raises(EventTooLarge):
        feed(parser, b"\n" * 70, [])


def test_plain_text_is_one_event_per_piece_and_never_judged_by_its_json() -> None:
    parser = ChunkParser(max_event_bytes=16)
    events = feed(parser, b'Hello{"sent_ms": 1}', [5, 5])
    assert [(e.event, e.data) for e in events] == [("chunk", "Hello"), ("chunk", '{"sent_ms": 1}')]
    assert not parser.send_times and not parser.stampable
    with pytest.raises(EventTooLarge):
        parser.feed(b"z" * 17)


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({"content-type": "text/event-stream"}, SSEParser),
        ({"content-type": "application/x-ndjson"}, NDJSONParser),
        ({"content-type": "Application/JSONL; charset=utf-8"}, NDJSONParser),
        ({"content-type": "text/plain; charset=utf-8"}, ChunkParser),
        ({"content-type": "text/plain", "content-length": "12"}, None),  # a document, not a stream
        ({"content-type": "application/json"}, None),
        ({"content-type": "text/html"}, None),
        ({}, None),
    ],
)
def test_the_parser_follows_the_content_type(headers: dict[str, str], kind: type | None) -> None:
    parser = parser_for(headers, 1024)
    assert (parser is None) if kind is None else isinstance(parser, kind)
