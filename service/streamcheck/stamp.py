"""``StampMiddleware``: send-time stamps in any SSE or NDJSON response, so a probe can measure buffering
exactly.

When a request carries ``X-Streampath-Stamp: 1`` and the response is ``text/event-stream`` (or NDJSON:
``application/x-ndjson``, ``application/jsonl``) that is not encoded at this layer (no
``Content-Encoding``, or ``identity``) and has no ``Content-Length``, the middleware writes one stamp line
before each body piece the application sends, at a line boundary. In SSE an SSE comment line::

    : sp-sent=<ms since the request reached this middleware, monotonic clock, 3 decimals>

Every SSE client ignores comment lines (WHATWG HTML, "event stream interpretation"), so browsers and the
application's own frontend see the same events. NDJSON has no comments: there the line is a JSON object
whose single key no application sends, and only \n ends a line (a lone \r is JSON whitespace)::

    {"sp-sent":<ms, 3 decimals>}

Only a probe asks for stamps, so the application's own clients never receive that line.

The application's bytes are never changed, reordered, held or merged: a stamp is inserted inside the
piece it dates, and removing the stamp lines gives the application's stream byte for byte. Everything
else (another content type, a compressed body, a declared ``Content-Length``, ``HEAD``, websockets,
lifespan) passes through untouched, ``http.response.start`` included, which goes on at once. A failure
in the middleware's own logic turns it into pass-through for the rest of that response; it never raises
into the application.

Where the stamp goes inside a piece:

- a piece that starts at a line boundary gets its stamp first;
- a piece that starts mid-line gets it after its first line end (``\\r\\n``, ``\\r`` or ``\\n``; in NDJSON
  ``\\n`` only), never between the ``\\r`` that ended one piece and the ``\\n`` that starts the next
  (they are one line end);
- a piece with no line end, or whose only line end is its last byte (nothing of it would follow the
  stamp), gets none: a stamp is only ever followed by bytes sent at its time;
- an empty piece gets none, and a stream's leading byte-order mark stays first (SSE strips it only there).

Placement: innermost. Add it *first*, before any other ``add_middleware`` (in Starlette the middleware
added first wraps the routes directly)::

    app = FastAPI()
    app.add_middleware(StampMiddleware)  # first: innermost
    app.add_middleware(GZipMiddleware)  # everything added later is outside it, and is measured

The stamps then record when the application itself handed each piece over, so whatever the
application's own middleware does to the stream (a compression middleware that holds it, a
``BaseHTTPMiddleware`` that re-chunks it) counts as delay, just like the server, proxies and CDNs beyond.
Outside a compression middleware it would see an encoded body and stay silent; outside a holding
middleware it would date the pieces when they were released and hide the hold.

The time origin is when the request reached this middleware; a probe takes differences of lags, so the
constant offset to the request's real arrival cancels out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STAMP_HEADER = "X-Streampath-Stamp"
"""The request header that asks for stamps; the value must be ``1``."""

STAMP_PREFIX = b": sp-sent="
"""How every SSE stamp line begins; the line is ``STAMP_PREFIX + b"<ms>.<3 digits>\\n"``."""

NDJSON_STAMP_PREFIX = b'{"sp-sent":'
"""How every NDJSON stamp line begins; the line is ``NDJSON_STAMP_PREFIX + b"<ms>.<3 digits>}\\n"``."""

NDJSON_TYPES = (b"application/x-ndjson", b"application/jsonl")
"""The NDJSON media types stamped (besides ``text/event-stream``)."""

_STAMP_HEADER_RAW = STAMP_HEADER.lower().encode("latin-1")
_BOM = b"\xef\xbb\xbf"
_CR, _LF = 0x0D, 0x0A


def _asked_for_stamps(scope: Scope) -> bool:
    if scope["type"] != "http" or scope.get("method") == "HEAD":
        return False  # HEAD: the server sends no body, so there is nothing to stamp
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", ())
    return any(name.lower() == _STAMP_HEADER_RAW and value.strip() == b"1" for name, value in headers)


@dataclass(frozen=True)
class _Format:
    """How one stream format writes a stamp line, and what ends a line in it."""

    stamp: bytes  # %-format of the whole stamp line, for the ms
    line_end: re.Pattern[bytes]
    cr_ends_line: bool  # SSE: a lone \r ends a line; NDJSON: only \n does (a \r is JSON whitespace)


_SSE = _Format(STAMP_PREFIX + b"%.3f\n", re.compile(rb"\r\n?|\n"), cr_ends_line=True)
_NDJSON = _Format(NDJSON_STAMP_PREFIX + b"%.3f}\n", re.compile(rb"\n"), cr_ends_line=False)


def _stampable(start: Message) -> _Format | None:
    """The format of a response's stamps, judged by its ``http.response.start`` alone (None: none)."""
    content_types = []
    for name, value in start.get("headers", ()):
        key = bytes(name).lower()
        if key == b"content-type":
            content_types.append(bytes(value).split(b";", 1)[0].strip().lower())
        elif key == b"content-encoding":
            if bytes(value).strip().lower() not in (b"", b"identity"):
                return None  # compressed here: stamps would corrupt the encoding
        elif key == b"content-length":
            return None  # the declared length would no longer match
    if content_types == [b"text/event-stream"]:
        return _SSE
    if len(content_types) == 1 and content_types[0] in NDJSON_TYPES:
        return _NDJSON
    return None


class _StampingSend:
    """The ``send`` the application sees for one request that asked for stamps."""

    __slots__ = ("_boundary", "_first", "_format", "_pending_cr", "_send", "_t0")

    def __init__(self, t0: float, send: Send) -> None:
        self._t0 = t0
        self._send = send
        self._format: _Format | None = None  # decided by http.response.start (None: no stamps)
        self._boundary = True  # the last byte sent ended a line (the stream's start counts as one)
        self._pending_cr = False  # the last byte sent was \r: a leading \n in the next piece belongs to it
        self._first = True  # no body byte sent yet

    async def __call__(self, message: Message) -> None:
        out = message
        try:
            kind = message.get("type")
            if kind == "http.response.body":
                if self._format is not None:
                    out = self._stamped(message, self._format)
            elif kind == "http.response.start":
                self._format = _stampable(message)
        except Exception:
            # Our own logic failed: this response continues unstamped, the application's bytes unchanged.
            self._format = None
            out = message
        # Outside the try: what the server's send raises (a gone client) is the application's to see.
        await self._send(out)

    def _stamped(self, message: Message, fmt: _Format) -> Message:
        body = message.get("body", b"")
        if not body:
            return message
        # The common case, a piece right after a line end (the stream's first piece may start with a BOM).
        at = (
            0
            if self._boundary and not self._pending_cr and not self._first
            else self._insertion_point(body, fmt.line_end)
        )
        last = body[-1]
        self._pending_cr = fmt.cr_ends_line and last == _CR
        self._boundary = last == _LF or self._pending_cr
        self._first = False
        if at < 0:
            return message
        stamp = fmt.stamp % ((time.monotonic() - self._t0) * 1000.0)
        return {**message, "body": body[:at] + stamp + body[at:]}

    def _insertion_point(self, body: bytes, line_end: re.Pattern[bytes]) -> int:
        """Offset of the first line boundary in ``body`` that some of its bytes follow, or -1."""
        start, boundary = 0, self._boundary
        if self._first and body[:1] == _BOM[:1]:
            if body.startswith(_BOM):
                start = len(_BOM)
            elif _BOM.startswith(body):
                boundary = False  # the mark continues in the next piece: wait for a line end
        if self._pending_cr and body[:1] == b"\n":
            start = 1  # this \n completes the previous piece's \r\n
        elif not boundary:
            match = line_end.search(body, start)
            if match is None:
                return -1
            start = match.end()
        return start if start < len(body) else -1


class StampMiddleware:
    """Pure ASGI middleware: stamps SSE responses for requests with ``X-Streampath-Stamp: 1``.

    Use ``app.add_middleware(StampMiddleware)`` as the first ``add_middleware`` call (innermost).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            asked = _asked_for_stamps(scope)
        except Exception:
            asked = False  # a scope we cannot read is passed on as it is
        await self.app(scope, receive, _StampingSend(time.monotonic(), send) if asked else send)
