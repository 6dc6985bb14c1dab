"""A compression middleware that holds ``text/event-stream``: the pre-0.46 Starlette GZipMiddleware fault.

Before Starlette 0.46.0 (PR #2871), ``GZipMiddleware`` compressed server-sent events like any other
body: each chunk went into a gzip stream without a flush, so zlib kept it in its internal buffer and the
client received the events only when the response ended (or when zlib's buffer filled). Headers went out
at once, so the time to first byte looks healthy while the first event arrives with the last.

This is our own small ASGI middleware reproducing that behaviour on any Starlette version, for the lab and
for tests. Don't use it in a service.
"""

from __future__ import annotations

import zlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GZIP_HEADER_LEN = 10


class HoldingGZipMiddleware:
    """gzip-compress responses (SSE included) for clients that accept gzip, without ever flushing."""

    def __init__(self, app: ASGIApp, minimum_size: int = 0, compresslevel: int = 6) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "gzip" not in Headers(scope=scope).get("accept-encoding", ""):
            await self.app(scope, receive, send)
            return
        await _Responder(self.compresslevel, send).run(self.app, scope, receive)


class _Responder:
    def __init__(self, compresslevel: int, send: Send) -> None:
        self.send = send
        self.compressor = zlib.compressobj(compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self.start: Message | None = None
        self.compress = False
        self.pending = b""  # compressed bytes not sent yet (a lone gzip header is held back)

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        await app(scope, receive, self.on_send)

    async def on_send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = Headers(raw=message["headers"])
            self.compress = "content-encoding" not in headers
            self.start = message
            if not self.compress:
                await self.send(message)
            return
        if message["type"] != "http.response.body" or not self.compress:
            await self.send(message)
            return
        if self.start is not None:
            start, self.start = self.start, None
            new_headers = MutableHeaders(raw=list(start["headers"]))
            new_headers["Content-Encoding"] = "gzip"
            new_headers.add_vary_header("Accept-Encoding")
            if "content-length" in new_headers:
                del new_headers["content-length"]
            await self.send({**start, "headers": new_headers.raw})
        more_body = message.get("more_body", False)
        self.pending += self.compressor.compress(message.get("body", b""))
        if not more_body:
            self.pending += self.compressor.flush()
            await self.send({"type": "http.response.body", "body": self.pending, "more_body": False})
            self.pending = b""
        elif len(self.pending) > GZIP_HEADER_LEN:
            # zlib emitted a deflate block (its buffer filled): pass it on, as the old middleware did.
            body, self.pending = self.pending, b""
            await self.send({"type": "http.response.body", "body": body, "more_body": True})
