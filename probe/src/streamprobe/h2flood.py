"""Counting HTTP/2 frames as they are read, to stop at a control-frame flood.

h2 answers every PING and applies every SETTINGS frame it is sent; a server that sends them by the
ten thousand keeps the probe busy answering, so the events are read late and the verdict would be
about the probe, not the path. :class:`FrameCounter` reads the frame headers of the bytes the
connection receives (RFC 9113 section 4.1: 24-bit length, type, flags, stream id) and raises
:class:`ControlFlood` when more than :data:`CONTROL_FRAMES_PER_S` control frames arrive within one
second. A control frame is any frame that is not progress of a response: everything but HEADERS,
CONTINUATION and DATA that carries bytes (an empty DATA frame is counted: it is a known flood too).
Nothing else is parsed: h2 still reads and checks every frame itself.

On a connection that streams share, it also records when each DATA frame that carries bytes was
complete (the read that delivered its last byte), per stream (``DataArrivals``), and when the stream's
first HEADERS frame came (its first byte). The thread that reads a
frame is often not the stream's own (httpcore's HTTP/2 reads under one lock for every stream), so the
stream learns from it when its bytes really came.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from .timing import now

#: Control frames allowed within one second. A well-behaved server sends a handful per connection
#: (SETTINGS, its ACK, a WINDOW_UPDATE per few DATA frames, a keep-alive PING every few seconds).
CONTROL_FRAMES_PER_S: Final = 1000
FRAME_HEADER_BYTES: Final = 9
_DATA, _HEADERS, _CONTINUATION = 0x0, 0x1, 0x9
_PADDED = 0x8
#: Per stream id: (when the DATA frame was complete, its data bytes), oldest first.
DataArrivals = dict[int, deque[tuple[float, int]]]
_NAMES: Final = {
    0x0: "empty DATA",
    0x2: "PRIORITY",
    0x3: "RST_STREAM",
    0x4: "SETTINGS",
    0x5: "PUSH_PROMISE",
    0x6: "PING",
    0x7: "GOAWAY",
    0x8: "WINDOW_UPDATE",
}


class ControlFlood(Exception):
    """More than ``limit`` control frames within one second; ``frames`` names them, most first."""

    def __init__(self, frames: str, limit: int) -> None:
        super().__init__(f"{frames} within one second (limit {limit})")
        self.frames = frames
        self.limit = limit


class FrameCounter:
    """Fed every byte an HTTP/2 connection receives, in order (any chunking)."""

    def __init__(self, limit: int = CONTROL_FRAMES_PER_S, *, track_data: bool = False) -> None:
        self.limit = limit
        self._header = b""  # a frame header split across reads
        self._skip = 0  # payload bytes of the current frame still to pass over
        #: Filled only with ``track_data``; the reader of a stream takes its entries (``arrivals_of``).
        self.data_arrivals: DataArrivals = {}
        self.first_headers: dict[int, float] = {}  # per stream id: when its first HEADERS frame began
        self._track = track_data
        self._data: list[int] | None = None  # the DATA frame being read: [stream id, length, padded]
        self._window_start = 0.0
        self._counts: dict[str, int] = {}
        self._in_window = 0

    def arrivals_of(self, stream_id: int) -> deque[tuple[float, int]]:
        return self.data_arrivals.setdefault(stream_id, deque())

    def feed(self, data: bytes, at: float = 0.0) -> None:
        """``at``: when the read that returned ``data`` returned (for ``data_arrivals``)."""
        pos, end = 0, len(data)
        while pos < end:
            if self._skip:
                frame = self._data
                if frame is not None and frame[2] and self._skip == frame[1]:
                    frame[1] -= 1 + data[pos]  # the pad length byte and the padding carry no data
                    frame[2] = 0
                step = min(self._skip, end - pos)
                self._skip -= step
                pos += step
                if not self._skip and frame is not None:
                    self._data = None
                    if frame[1] > 0:  # httpx hands a reader no empty piece
                        self.arrivals_of(frame[0]).append((at, frame[1]))
                continue
            need = FRAME_HEADER_BYTES - len(self._header)
            self._header += data[pos : pos + need]
            pos += need
            if len(self._header) < FRAME_HEADER_BYTES:
                return
            header, self._header = self._header, b""
            length = int.from_bytes(header[:3], "big")
            kind = header[3]
            self._skip = length
            if self._track and kind in (_DATA, _HEADERS):
                stream_id = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
                if kind == _HEADERS:
                    self.first_headers.setdefault(stream_id, at)
                elif length > 0:
                    self._data = [stream_id, length, header[4] & _PADDED]
            if kind in (_HEADERS, _CONTINUATION) or (kind == _DATA and length > 0):
                continue
            self._count(_NAMES.get(kind, f"type-{kind:#x}"))

    def _count(self, name: str) -> None:
        t = now()
        if t - self._window_start >= 1.0:
            self._window_start, self._counts, self._in_window = t, {}, 0
        self._counts[name] = self._counts.get(name, 0) + 1
        self._in_window += 1
        if self._in_window > self.limit:
            shown = ", ".join(
                f"{n} {name}" for name, n in sorted(self._counts.items(), key=lambda item: -item[1])
            )
            raise ControlFlood(f"{self._in_window} control frames ({shown})", self.limit)
