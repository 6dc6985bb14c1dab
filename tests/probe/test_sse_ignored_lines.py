"""max_event_bytes counts every line since the last event dispatched: blank lines, comments and fields
that never make an event are bounded like the lines of an event."""

from __future__ import annotations

import pytest
from streamprobe.sse import EventTooLarge, SSEParser


@pytest.mark.parametrize(
    "flood",
    [
        b"\n" * 2000,
        b": x\n" * 500,
        b":\n" * 1000,
        b"id: 1\n\n" * 300,
        b"retry: 5\r\n" * 200,
        b"event: e\n\n" * 200,
    ],
    ids=["blank", "comment", "empty-comment", "id-only", "retry-crlf", "event-without-data"],
)
def test_lines_that_make_no_event_count_toward_the_bound(flood: bytes) -> None:
    parser = SSEParser(max_event_bytes=1000)
    with pytest.raises(EventTooLarge) as info:
        parser.feed(flood)
    assert info.value.limit == 1000


def test_the_count_restarts_at_each_event_dispatched() -> None:
    parser = SSEParser(max_event_bytes=1000)
    chunk = b": ping\n" * 100 + b"data: x\n\n"  # 700 + 9 bytes, then an event
    events = [ev for _ in range(20) for ev in parser.feed(chunk)]
    assert len(events) == 20


def test_heartbeats_between_events_within_the_bound() -> None:
    parser = SSEParser(max_event_bytes=64)
    events = parser.feed(b": hb\n\n: hb\n\ndata: 1\n\n" * 50)
    assert [e.data for e in events] == ["1"] * 50
