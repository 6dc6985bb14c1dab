"""The SSE parser's stamp rules (docs/contracts/stamps.md), in every chunking."""

from __future__ import annotations

import pytest
from streamprobe.sse import SSEEvent, SSEParser

STREAM = (
    b": sp-sent=1.000\ndata: a\n\n"  # one stamp per event
    b": sp-sent=2.500\n: sp-sent=2.600\ndata: b\n\n"  # the first stamp after the dispatch counts
    b"data: c\n\n"  # no stamp: none
    b": sp-sent=4.000\n\n: ping\ndata: d\n\n"  # a blank line without data dispatches nothing: d keeps 4.0
)


def feed_all(data: bytes, cuts: list[int]) -> tuple[list[SSEEvent], SSEParser]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    start = 0
    for cut in [*cuts, len(data)]:
        events += parser.feed(data[start:cut])
        start = cut
    return events, parser


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_the_first_stamp_after_a_dispatch_dates_the_next_event_in_every_split(cut: int) -> None:
    events, parser = feed_all(STREAM, [cut])
    assert [(e.data, e.stamp_ms) for e in events] == [("a", 1.0), ("b", 2.5), ("c", None), ("d", 4.0)]
    assert parser.stamps == 4 and parser.bad_stamps == {}


def test_byte_by_byte_with_crlf_and_cr_line_ends() -> None:
    data = b": sp-sent=10.125\r\ndata: x\r\n\r\n: sp-sent=11.5\rdata: y\r\r"
    events, _ = feed_all(data, list(range(1, len(data))))
    assert [(e.data, e.stamp_ms) for e in events] == [("x", 10.125), ("y", 11.5)]


def test_a_stamp_is_never_an_event() -> None:
    events, parser = feed_all(b": sp-sent=1.000\n\n: sp-sent=2.000\n\n", [])
    assert events == [] and parser.stamps == 2 and parser.comments == 2


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b": sp-sent=abc\n", "not a number"),
        (b": sp-sent=\n", "not a number"),
        (b": sp-sent=-1.000\n", "not a number"),
        (b": sp-sent=1e3\n", "not a number"),
        (b": sp-sent=nan\n", "not a number"),
        (b": sp-sent=1.0.0\n", "not a number"),
        (b": sp-sent=12 \n", "not a number"),
        (b": sp-sent=0.500\n", "backwards"),  # after 5.000 below
    ],
)
def test_a_malformed_stamp_is_ignored_and_counted(line: bytes, reason: str) -> None:
    events, parser = feed_all(b": sp-sent=5.000\ndata: first\n\n" + line + b"data: second\n\n", [])
    assert [(e.data, e.stamp_ms) for e in events] == [("first", 5.0), ("second", None)]
    assert parser.bad_stamps == {reason: 1}


def test_a_stamp_inside_a_line_is_data_and_counted_as_mid_line() -> None:
    events, parser = feed_all(b"data: he: sp-sent=3.000\n\n", [])
    assert [(e.data, e.stamp_ms) for e in events] == [("he: sp-sent=3.000", None)]
    assert parser.bad_stamps == {"mid-line": 1}


def test_a_backwards_stamp_does_not_reset_the_clock_and_a_later_one_counts() -> None:
    data = b": sp-sent=9.000\ndata: a\n\n: sp-sent=8.000\n: sp-sent=9.500\ndata: b\n\n"
    events, parser = feed_all(data, [])
    assert [e.stamp_ms for e in events] == [9.0, 9.5]
    assert parser.bad_stamps == {"backwards": 1}
