"""An incremental Server-Sent Events parser following the WHATWG HTML rules.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

Bytes go in as they arrive (any chunking); complete events come out. Lines end with CRLF, LF
or CR (a CR at the end of one chunk and an LF at the start of the next are one line end).

Send-time stamps (docs/contracts/stamps.md): a comment line ``: sp-sent=<ms>`` written by
``StampMiddleware``. The first valid stamp after the previous event's dispatch becomes the
``stamp_ms`` of the next event dispatched; a stamp is a comment, never an event. A stamp that is not
a number, goes backwards, or sits inside another line is ignored and counted in ``bad_stamps``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, get_args

if TYPE_CHECKING:
    from .result import EventArrival

_BOM = b"\xef\xbb\xbf"
#: How a stamp line begins (docs/contracts/stamps.md).
STAMP_PREFIX: Final = b": sp-sent="
_STAMP_VALUE = re.compile(rb"[0-9]{1,12}(?:\.[0-9]{1,9})?")
#: Why a stamp was ignored.
BadStamp = Literal["not a number", "backwards", "mid-line"]
BAD_STAMPS: Final[tuple[BadStamp, ...]] = get_args(BadStamp)
NO_STAMPS_NOTE: Final = (
    "no send-time stamps came back (X-Streampath-Stamp: 1 was sent): mount streamcheck's "
    "StampMiddleware in the application for an exact buffering delay"
)


@dataclass(frozen=True)
class SSEEvent:
    event: str  # the event type; "message" when the stream named none
    data: str
    id: str  # the last event ID at dispatch time ("" if none was ever set)
    retry: int | None  # the most recent valid `retry:` value seen so far (ms)
    stamp_ms: float | None = None  # the first valid send-time stamp since the previous dispatch


class EventTooLarge(Exception):
    """An event (or one unterminated line, or lines that make no event) grew beyond ``max_event_bytes``."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"an event grew to {size} bytes without ending, more than the limit of {limit}")
        self.size = size
        self.limit = limit


class SendStamps:
    """The send-time stamps of one stream, whatever its format writes them as: the first valid stamp
    since the last event taken dates the next event; stamps never go backwards."""

    def __init__(self) -> None:
        self.valid = 0  # valid stamps seen
        self.bad: dict[BadStamp, int] = {}  # stamps ignored, by reason
        self._pending: float | None = None  # the stamp waiting for the next event
        self._last: float | None = None  # the latest valid stamp

    def read(self, value: bytes) -> None:
        """A stamp's value as written (``12.345``): kept, or ignored and counted by reason."""
        if not _STAMP_VALUE.fullmatch(value):
            self.ignore("not a number")
            return
        ms = float(value)  # digits and one dot only: finite and >= 0
        if self._last is not None and ms < self._last:
            self.ignore("backwards")
            return
        self.valid += 1
        self._last = ms
        if self._pending is None:
            self._pending = ms

    def ignore(self, reason: BadStamp) -> None:
        self.bad[reason] = self.bad.get(reason, 0) + 1

    def take(self) -> float | None:
        """The send time of the event being dispatched (None: no stamp since the last one)."""
        stamp, self._pending = self._pending, None
        return stamp


class SSEParser:
    #: The events' JSON ``sent_ms`` is read (streamcheck mode).
    send_times: Final = True
    #: ``StampMiddleware`` can stamp this format: no stamps on a stamped request is worth a note.
    stampable: Final = True

    def __init__(self, max_event_bytes: int | None = None) -> None:
        self.max_event_bytes = max_event_bytes
        self._buf = bytearray()  # the current, unterminated line
        self._bom_checked = False
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it
        self._data: list[str] = []
        self._event_type = ""
        # Bytes of every line since the last event dispatched: blank lines, comments and ignored
        # fields that never make an event count toward max_event_bytes too.
        self._event_bytes = 0
        self.last_event_id = ""
        self.retry: int | None = None
        self.comments = 0  # comment lines seen (heartbeats such as ": ping"), stamps included
        self.send_stamps = SendStamps()

    @property
    def stamps(self) -> int:
        """Valid stamps seen."""
        return self.send_stamps.valid

    @property
    def bad_stamps(self) -> dict[BadStamp, int]:
        """Stamps ignored, by reason."""
        return self.send_stamps.bad

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Parse more bytes; return the events completed by them (possibly none)."""
        if not chunk:
            return []
        if not self._bom_checked:
            self._buf += chunk
            if len(self._buf) < len(_BOM) and _BOM.startswith(bytes(self._buf)):
                return []  # could still be a BOM: wait for more
            self._bom_checked = True
            if self._buf.startswith(_BOM):
                del self._buf[: len(_BOM)]
            chunk = bytes(self._buf)
            self._buf.clear()
        if self._skip_lf:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        events: list[SSEEvent] = []
        pos = 0
        end = len(chunk)
        cr = lf = -2  # next CR / LF at or after pos (-1: none left in this chunk; -2: not searched)
        while pos < end:
            if cr != -1 and cr < pos:
                cr = chunk.find(b"\r", pos)
            if lf != -1 and lf < pos:
                lf = chunk.find(b"\n", pos)
            if cr < 0 and lf < 0:
                self._buf += chunk[pos:]
                self._check_size(len(self._buf))
                break
            if cr < 0 or (0 <= lf < cr):
                stop, nxt = lf, lf + 1
            else:
                stop = cr
                if cr + 1 < end:
                    nxt = cr + 2 if chunk[cr + 1] == 0x0A else cr + 1
                else:
                    nxt = cr + 1
                    self._skip_lf = True
            if self._buf:
                self._buf += chunk[pos:stop]
                line = bytes(self._buf)
                self._buf.clear()
            else:
                line = chunk[pos:stop]
            pos = nxt
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _check_size(self, pending: int) -> None:
        if self.max_event_bytes is not None and self._event_bytes + pending > self.max_event_bytes:
            raise EventTooLarge(self._event_bytes + pending, self.max_event_bytes)

    def _line(self, raw: bytes) -> SSEEvent | None:
        self._event_bytes += len(raw) + 1
        self._check_size(0)
        if not raw:
            return self._dispatch()
        if raw[0] == 0x3A:  # ":" comment
            self.comments += 1
            if raw.startswith(STAMP_PREFIX):
                self.send_stamps.read(raw[len(STAMP_PREFIX) :])
            return None
        if STAMP_PREFIX in raw:
            # A stamp written inside a line is part of that line's value, not a send time.
            self.send_stamps.ignore("mid-line")
        if raw.startswith(b"data:"):
            # Most lines: the value decoded alone is the same text (the prefix is whole ASCII characters).
            self._data.append(raw[6 if raw[5:6] == b" " else 5 :].decode("utf-8", errors="replace"))
            return None
        line = raw.decode("utf-8", errors="replace")
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        elif name == "id":
            if "\x00" not in value:
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        data, event_type = self._data, self._event_type
        self._data, self._event_type = [], ""
        if not data:
            return None  # an event with no data is not dispatched (a stamp waits for the next one)
        stamp = self.send_stamps.take()
        self._event_bytes = 0
        return SSEEvent(
            event=event_type or "message",
            data="\n".join(data),
            id=self.last_event_id,
            retry=self.retry,
            stamp_ms=stamp,
        )


def stamp_notes(bad: Mapping[BadStamp, int], *, asked: bool, arrivals: Sequence[EventArrival]) -> list[str]:
    """Notes on a read's stamps, the same for the probe and the browser reader: the ones ignored (by
    reason), and a hint when stamps were asked for and none came on a stream without its own send times."""
    notes = []
    if bad:
        shown = ", ".join(f"{count} {reason}" for reason, count in sorted(bad.items()))
        notes.append(f"ignored {sum(bad.values())} malformed stamp(s) ({shown}); judged on the others")
    if (
        asked
        and arrivals
        and not any(a.stamp_ms is not None for a in arrivals)
        and not any(a.sent_ms is not None for a in arrivals)
    ):
        notes.append(NO_STAMPS_NOTE)
    return notes
