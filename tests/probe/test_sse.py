"""The incremental SSE parser against the WHATWG rules, fed in every possible chunking."""

from __future__ import annotations

import pytest
from streamprobe.sse import EventTooLarge, SSEEvent, SSEParser


def parse(data: bytes, max_event_bytes: int | None = None) -> list[SSEEvent]:
    parser = SSEParser(max_event_bytes)
    return parser.feed(data)


def parse_split(data: bytes) -> list[list[SSEEvent]]:
    """The events for every way of cutting ``data`` into two chunks (and byte by byte)."""
    results = []
    for cut in range(len(data) + 1):
        parser = SSEParser()
        results.append(parser.feed(data[:cut]) + parser.feed(data[cut:]))
    parser = SSEParser()
    results.append([ev for i in range(len(data)) for ev in parser.feed(data[i : i + 1])])
    return results


def test_basic_event_with_id_event_and_data() -> None:
    (ev,) = parse(b"id: 7\nevent: tick\ndata: hello\n\n")
    assert ev == SSEEvent(event="tick", data="hello", id="7", retry=None)


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_line_endings_lf_cr_crlf(eol: bytes) -> None:
    data = b"data: a" + eol + b"data: b" + eol + eol + b"data: c" + eol + eol
    for events in parse_split(data):
        assert [e.data for e in events] == ["a\nb", "c"]


def test_cr_at_end_of_one_chunk_and_lf_at_start_of_next_is_one_line_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\ndata: b\r") == []  # a CRLF, not CR + empty line
    (ev,) = parser.feed(b"\n\r\n")
    assert ev.data == "a\nb"


def test_lone_cr_then_cr_dispatches() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    (ev,) = parser.feed(b"\r")
    assert ev.data == "a"


def test_mixed_line_endings_in_every_chunking() -> None:
    data = b"data: 1\r\n\r\ndata: 2\n\ndata: 3\r\rdata: 4\r\n\n"
    for events in parse_split(data):
        assert [e.data for e in events] == ["1", "2", "3", "4"]


def test_comments_are_ignored_and_counted() -> None:
    parser = SSEParser()
    events = parser.feed(b": ping\n\n:another\ndata: x\n: inside\n\n")
    assert [e.data for e in events] == ["x"]
    assert parser.comments == 3


def test_multi_line_data_joined_with_lf() -> None:
    (ev,) = parse(b"data: first\ndata:second\ndata:  third\n\n")
    assert ev.data == "first\nsecond\n third"


def test_space_after_colon_stripped_once() -> None:
    (ev,) = parse(b"data:  two spaces\n\n")
    assert ev.data == " two spaces"
    (ev,) = parse(b"data:none\n\n")
    assert ev.data == "none"


def test_field_without_colon_is_field_with_empty_value() -> None:
    (ev,) = parse(b"data\n\n")
    assert ev.data == ""  # "data" alone appends an empty line: dispatched with empty data
    (ev,) = parse(b"data: x\nevent\n\n")
    assert ev.event == "message"  # "event" with empty value: the default type


def test_event_without_data_is_not_dispatched() -> None:
    parser = SSEParser()
    assert parser.feed(b"event: tick\nid: 5\n\n") == []
    assert parser.last_event_id == "5"  # id still applies
    (ev,) = parser.feed(b"data: later\n\n")
    assert (ev.event, ev.id) == ("message", "5")  # the event type was reset


def test_id_persists_and_null_id_is_ignored() -> None:
    parser = SSEParser()
    a, b, c = parser.feed(b"id: 1\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\n")
    assert (a.id, b.id, c.id) == ("1", "1", "1")


def test_retry_only_digits() -> None:
    parser = SSEParser()
    (a,) = parser.feed(b"retry: 1500\ndata: a\n\n")
    (b,) = parser.feed(b"retry: 12x\ndata: b\n\n")
    assert a.retry == 1500 and b.retry == 1500


def test_unknown_fields_ignored() -> None:
    (ev,) = parse(b"foo: bar\ndata: x\n\n")
    assert ev.data == "x"


def test_leading_bom_stripped_once_in_any_chunking() -> None:
    data = b"\xef\xbb\xbfdata: a\n\n"
    for events in parse_split(data):
        assert [e.data for e in events] == ["a"]
    # a second BOM is not at the start of the stream: it is part of the field name
    assert parse(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n") == []


def test_incomplete_event_at_end_is_not_dispatched() -> None:
    assert parse(b"data: never finished\n") == []


def test_utf8_split_across_chunks() -> None:
    data = "data: héllo ✓\n\n".encode()
    for events in parse_split(data):
        assert [e.data for e in events] == ["héllo ✓"]


def test_max_event_bytes_on_a_line_without_newline() -> None:
    parser = SSEParser(max_event_bytes=1000)
    parser.feed(b"data: " + b"x" * 500)
    with pytest.raises(EventTooLarge) as info:
        parser.feed(b"x" * 600)
    assert info.value.limit == 1000


def test_max_event_bytes_across_many_data_lines() -> None:
    parser = SSEParser(max_event_bytes=1000)
    with pytest.raises(EventTooLarge):
        parser.feed(b"data: 0123456789\n" * 100)


def test_max_event_bytes_resets_per_event() -> None:
    parser = SSEParser(max_event_bytes=100)
    events = parser.feed(b"data: " + b"x" * 80 + b"\n\n" + b"data: " + b"y" * 80 + b"\n\n")
    assert len(events) == 2


def test_many_lines_in_one_chunk() -> None:
    chunk = b"".join(b"data: %d\n\n" % i for i in range(5000))
    events = parse(chunk)
    assert [e.data for e in events] == [str(i) for i in range(5000)]
