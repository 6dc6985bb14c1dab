"""Incremental readers for the streams that are not SSE: NDJSON / JSON Lines, and chunked plain text.

NDJSON (``application/x-ndjson``, ``application/jsonl``): every line is one event, complete when its
``\\n`` is read (a ``\\r`` before it is dropped, so CRLF works; a lone ``\\r`` is JSON whitespace, not a
line end). A leading byte-order mark is dropped; blank lines are no events (keep-alives). A line that is
not JSON is still an event (judged by its arrival), never a failure. An event's type is the line's JSON
``"event"`` string when it has one (streamcheck's ``tick``/``done``), else ``message``.

Send-time stamps (docs/contracts/stamps.md): ``StampMiddleware`` writes a line ``{"sp-sent":<ms>}``, a
JSON object whose only key no application sends. It dates the next event and is never an event itself,
by the same rules as the SSE stamp comment (``sse.SendStamps``).

Plain text (``text/plain``, not length-delimited): every piece of body bytes, as read, is one event.
It has no send times (a chunk's JSON is never read): it is judged by arrival alone.

Both bound an event like the SSE parser: bytes since the last event (blank and stamp lines included)
over ``max_event_bytes`` raise :class:`~streamprobe.sse.EventTooLarge`.
"""

from __future__ import annotations

import json
from typing import Final

from .sse import EventTooLarge, SendStamps, SSEEvent

#: How an NDJSON stamp line begins and ends: ``{"sp-sent":12.345}`` (docs/contracts/stamps.md).
NDJSON_STAMP_PREFIX: Final = b'{"sp-sent":'
NDJSON_STAMP_SUFFIX: Final = b"}"
_BOM = b"\xef\xbb\xbf"
_DEFAULT_EVENT = "message"


class NDJSONParser:
    """NDJSON bytes in (any chunking), one event per complete non-blank line out."""

    #: The events' JSON ``sent_ms`` is read (streamcheck mode).
    send_times: Final = True
    #: ``StampMiddleware`` can stamp this format: no stamps on a stamped request is worth a note.
    stampable: Final = True

    def __init__(self, max_event_bytes: int | None = None) -> None:
        self.max_event_bytes = max_event_bytes
        self.send_stamps = SendStamps()
        self._buf = bytearray()  # the current, unterminated line
        self._start = True  # nothing decided yet about a leading byte-order mark
        self._skipped = 0  # bytes of blank and stamp lines since the last event

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Parse more bytes; return the events their line ends completed (possibly none)."""
        self._buf += chunk
        if self._start:
            if len(self._buf) < len(_BOM) and _BOM.startswith(bytes(self._buf)):
                return []  # could still be a byte-order mark: wait for more
            self._start = False
            if self._buf.startswith(_BOM):
                del self._buf[: len(_BOM)]
        events: list[SSEEvent] = []
        pos = 0
        while (end := self._buf.find(b"\n", pos)) >= 0:
            line = bytes(self._buf[pos:end])
            pos = end + 1
            self._check(len(line) + 1)
            event = self._line(line[:-1] if line.endswith(b"\r") else line, len(line) + 1)
            if event is not None:
                events.append(event)
        del self._buf[:pos]
        self._check(len(self._buf))
        return events

    def _check(self, pending: int) -> None:
        size = self._skipped + pending
        if self.max_event_bytes is not None and size > self.max_event_bytes:
            raise EventTooLarge(size, self.max_event_bytes)

    def _line(self, line: bytes, size: int) -> SSEEvent | None:
        if line.startswith(NDJSON_STAMP_PREFIX):
            self._skipped += size
            value = line[len(NDJSON_STAMP_PREFIX) :]
            if value.endswith(NDJSON_STAMP_SUFFIX):
                self.send_stamps.read(value[: -len(NDJSON_STAMP_SUFFIX)])
            else:
                self.send_stamps.ignore("not a number")
            return None
        if not line.strip():
            self._skipped += size
            return None
        if NDJSON_STAMP_PREFIX in line:
            # Inside another line it is that line's content, not a send time.
            self.send_stamps.ignore("mid-line")
        self._skipped = 0
        text = line.decode("utf-8", errors="replace")
        stamp = self.send_stamps.take()
        return SSEEvent(event=_event_type(text), data=text, id="", retry=None, stamp_ms=stamp)


def _event_type(text: str) -> str:
    if '"event"' not in text:
        return _DEFAULT_EVENT
    try:
        payload = json.loads(text)
    except ValueError:
        return _DEFAULT_EVENT
    value = payload.get("event") if isinstance(payload, dict) else None
    return value if isinstance(value, str) and value else _DEFAULT_EVENT


class ChunkParser:
    """Plain text: every non-empty piece of body bytes is one event, as it was read."""

    send_times: Final = False
    stampable: Final = False

    def __init__(self, max_event_bytes: int | None = None) -> None:
        self.max_event_bytes = max_event_bytes
        self.send_stamps = SendStamps()  # always empty: plain text carries none

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if not chunk:
            return []
        if self.max_event_bytes is not None and len(chunk) > self.max_event_bytes:
            raise EventTooLarge(len(chunk), self.max_event_bytes)
        return [SSEEvent(event="chunk", data=chunk.decode("utf-8", errors="replace"), id="", retry=None)]
