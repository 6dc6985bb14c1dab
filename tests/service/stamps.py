"""Helpers shared by the StampMiddleware tests: find stamps, strip them, parse SSE as a browser would."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

STAMP_RE = re.compile(rb": sp-sent=(\d+\.\d{3})\n")
LINE_END_RE = re.compile(rb"\r\n|\r|\n")
BOM = b"\xef\xbb\xbf"
STAMP_REQUEST = {"X-Streampath-Stamp": "1"}


def find_stamps(data: bytes) -> list[tuple[int, float]]:
    """(offset in ``data``, value in ms) of every stamp line."""
    return [(m.start(), float(m.group(1))) for m in STAMP_RE.finditer(data)]


def strip_stamps(data: bytes) -> bytes:
    return STAMP_RE.sub(b"", data)


def stamp_offsets_in_stripped(data: bytes) -> list[int]:
    """Where each stamp sits in the application's stream (the output with every stamp removed)."""
    offsets, removed = [], 0
    for m in STAMP_RE.finditer(data):
        offsets.append(m.start() - removed)
        removed += m.end() - m.start()
    return offsets


def line_starts(stream: bytes) -> set[int]:
    """Offsets where a line begins: the stream's start (after a BOM) and after every line end.

    A ``\\r\\n`` is one line end, so no line begins between its two bytes.
    """
    starts = {len(BOM) if stream.startswith(BOM) else 0}
    starts.update(m.end() for m in LINE_END_RE.finditer(stream))
    return starts


@dataclass
class Parsed:
    """What an SSE client gets from a stream: the dispatched events and the comment lines it ignored."""

    events: list[dict[str, str]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def parse_sse(stream: bytes) -> Parsed:
    """The WHATWG event-stream interpretation, reduced to what the tests compare."""
    text = stream.decode()
    text = text.removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()  # the text after the last line end is an incomplete line, dropped at end of stream
    else:
        lines = lines[:-1]
    parsed = Parsed()
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                parsed.events.append({**fields, "data": "\n".join(data)})
            fields, data = {}, []
        elif line.startswith(":"):
            parsed.comments.append(line[1:])
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value
    return parsed
