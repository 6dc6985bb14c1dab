"""StampMiddleware on NDJSON responses over ASGI: the stamp line it writes, where, and the application's
lines kept byte for byte in every split of a stream; the probe's NDJSON reader takes the stamps back out."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import pytest
from streamcheck import NDJSON_STAMP_PREFIX, StampMiddleware
from streamprobe.ndjson import NDJSON_STAMP_PREFIX as PROBE_NDJSON_STAMP_PREFIX
from streamprobe.ndjson import NDJSONParser

from tests.service.stamps import BOM
from tests.service.test_stamp_asgi import bodies, call, http_scope, scripted_app, sse_messages

NDJSON_HEADERS = [(b"content-type", b"application/x-ndjson"), (b"cache-control", b"no-cache")]
STAMP_LINE = re.compile(rb'\{"sp-sent":(\d+\.\d{3})\}\n')
# LF and CRLF line ends, a lone \r inside a line (JSON whitespace, not a line end), a blank line, a line
# that is not JSON, and a line that carries its own sent_ms.
SAMPLE = (
    b'{"token": "Hello"}\n'
    b'{"token": " world"}\r\n'
    b'{"a":\r1}\n'
    b"\n"
    b"not json at all\n"
    b'{"event": "tick", "seq": 0, "sent_ms": 1.5}\n'
)


def line_starts(stream: bytes) -> set[int]:
    """Where NDJSON lines begin: the stream's start (after a BOM) and after every \\n."""
    starts = {len(BOM) if stream.startswith(BOM) else 0}
    starts.update(m.end() for m in re.finditer(rb"\n", stream))
    return starts


def check_stamped(pieces: Sequence[bytes], content_type: bytes = b"application/x-ndjson") -> list[bytes]:
    headers = [(b"content-type", content_type)]
    stream = b"".join(pieces)
    out = bodies(call(StampMiddleware(scripted_app(sse_messages(pieces, headers)))))
    begin = 0
    for piece, got in zip(pieces, out, strict=False):
        inside = [p - begin for p in line_starts(stream) if begin <= p < begin + len(piece)]
        want = [min(inside)] if inside else []
        assert [m.start() for m in STAMP_LINE.finditer(got)] == want, (pieces, piece, got)
        assert STAMP_LINE.sub(b"", got) == piece  # the application's bytes, unchanged and in place
        begin += len(piece)
    assert STAMP_LINE.sub(b"", b"".join(out)) == stream
    return out


@pytest.mark.parametrize("split", range(len(SAMPLE) + 1))
def test_every_two_piece_split_keeps_the_lines_byte_for_byte(split: int) -> None:
    check_stamped([SAMPLE[:split], SAMPLE[split:]])


def test_every_three_piece_split_of_a_short_stream() -> None:
    short = b'{"t": 1}\r\n{"t":\r2}\n'
    for a, b in itertools.combinations(range(1, len(short)), 2):
        check_stamped([short[:a], short[a:b], short[b:]])


def test_a_leading_byte_order_mark_stays_first() -> None:
    out = check_stamped([BOM + b'{"t": 1}\n', b'{"t": 2}\n'])
    assert out[0].startswith(BOM + NDJSON_STAMP_PREFIX)


def test_the_stamp_line_is_exactly_a_json_object_with_one_reserved_key() -> None:
    out = check_stamped([b'{"token": "a"}\n', b'{"token": "b"}\n'])
    for got in out[:2]:
        stamp = got.partition(b"\n")[0]
        assert re.fullmatch(rb'\{"sp-sent":\d+\.\d{3}\}', stamp) and stamp.startswith(NDJSON_STAMP_PREFIX)
    assert NDJSON_STAMP_PREFIX == PROBE_NDJSON_STAMP_PREFIX  # the two ends of the contract agree


def test_a_lone_cr_never_takes_a_stamp() -> None:
    # A piece that ends in \r ends no NDJSON line: the next piece starts mid-line.
    out = check_stamped([b'{"a": 0}\n{"a":\r', b'1}\n{"b": 2}\n'])
    assert out[1].startswith(b'1}\n{"sp-sent":')


def test_application_jsonl_is_stamped_too() -> None:
    out = check_stamped([b'{"x": 1}\n', b'{"x": 2}\n'], content_type=b"application/jsonl; charset=utf-8")
    assert all(got.startswith(NDJSON_STAMP_PREFIX) for got in out[:2])


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-type", b"application/json")],
        [(b"content-type", b"text/plain")],
        [(b"content-type", b"application/x-ndjson"), (b"content-encoding", b"gzip")],
        [(b"content-type", b"application/x-ndjson"), (b"content-length", b"9")],
    ],
    ids=["json", "text", "encoded", "length"],
)
def test_other_responses_pass_through_untouched(headers: list[tuple[bytes, bytes]]) -> None:
    pieces = [b'{"x": 1}\n', b'{"x": 2}\n']
    assert bodies(call(StampMiddleware(scripted_app(sse_messages(pieces, headers)))))[:2] == pieces


def test_no_header_no_stamps() -> None:
    pieces = [b'{"x": 1}\n', b'{"x": 2}\n']
    app = StampMiddleware(scripted_app(sse_messages(pieces, NDJSON_HEADERS)))
    assert bodies(call(app, http_scope(headers=[])))[:2] == pieces


@pytest.mark.parametrize("size", [1, 2, 7])
def test_the_probes_reader_strips_the_stamps_and_dates_each_line(size: int) -> None:
    """Stamped one line per piece, read back in pieces of ``size`` bytes: the application's events
    each with its own stamp, and no stamp counted as an event."""
    lines = [b'{"token": "%d"}\n' % i for i in range(5)]
    stamped = b"".join(check_stamped(lines))
    parser = NDJSONParser()
    events = [e for i in range(0, len(stamped), size) for e in parser.feed(stamped[i : i + size])]
    assert [e.data.encode() + b"\n" for e in events] == lines
    stamps = [e.stamp_ms for e in events]
    assert all(s is not None for s in stamps) and stamps == sorted(stamps)  # type: ignore[type-var]
    assert parser.send_stamps.valid == 5 and parser.send_stamps.bad == {}
