"""The reference app: the streamcheck router plus a chat-like generic SSE stream (``format=ndjson``:
NDJSON lines; ``format=text``: chunked ``text/plain``, one bare token per chunk).

Run it with ``uvicorn streamcheck.reference_app:app``. ``create_app(gzip_sse=True)`` (or
``uvicorn --factory streamcheck.reference_app:create_gzip_sse_app``) adds a compression middleware that
holds ``text/event-stream`` until the end: the pre-0.46 Starlette fault, for the lab.

Both mount ``StampMiddleware`` innermost (added first), so a request with ``X-Streampath-Stamp: 1`` gets
send-time stamps in every SSE response, the chat stream included, and in the gzip variant the stamps
date the events before the holding compression middleware outside them.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator

import anyio
from fastapi import FastAPI, Request
from starlette.responses import Response

from streamcheck.gzip_hold import HoldingGZipMiddleware
from streamcheck.params import (
    Bound,
    Choice,
    ParamError,
    openapi_choice,
    openapi_parameters,
    parse_choice,
    parse_int_params,
)
from streamcheck.router import router
from streamcheck.stamp import StampMiddleware
from streamcheck.stream import (
    NDJSON_MEDIA_TYPE,
    SSE_MEDIA_TYPE,
    CancellableEventStream,
    format_event,
    format_ndjson,
)

TOKENS = Bound("tokens", 1, 2000, 20, "number of token chunks")
TOKEN_INTERVAL_MS = Bound("interval_ms", 0, 10_000, 100, "milliseconds between token chunks")
CHAT_BOUNDS = (TOKENS, TOKEN_INTERVAL_MS)
MAX_CHAT_MS = 120_000

_SENTENCE = (
    "Streaming works when every hop forwards each chunk as it arrives ; "
    "a proxy that waits for the end turns a live answer into one late block ."
)
_WORDS = tuple(_SENTENCE.split(" "))


CHAT_FORMAT = Choice(
    "format",
    ("sse", "ndjson", "text"),
    "sse",
    'sse: data: {"token": ...} events, then data: [DONE]; ndjson: {"token": ...} lines, then '
    '{"done": true}; text: text/plain, the bare tokens',
)
PLAIN_TEXT = "text/plain; charset=utf-8"


async def chat_tokens(tokens: int, interval_ms: int, fmt: str = "sse") -> AsyncIterator[bytes]:
    t0 = time.monotonic()
    words = itertools.cycle(_WORDS)
    for i in range(tokens):
        delay = t0 + i * interval_ms / 1000.0 - time.monotonic()
        if delay > 0:
            await anyio.sleep(delay)
        token = (" " if i else "") + next(words)
        if fmt == "text":
            yield token.encode()
        elif fmt == "ndjson":
            yield format_ndjson({"token": token})
        else:
            yield format_event({"token": token})
    if fmt == "ndjson":
        yield format_ndjson({"done": True})
    elif fmt == "sse":
        yield b"data: [DONE]\n\n"


def create_app(gzip_sse: bool = False, *, stamp: bool = True) -> FastAPI:
    """The reference app; with ``gzip_sse`` a middleware compresses and holds SSE (the lab's fault).

    ``stamp=False`` leaves ``StampMiddleware`` out (to compare the app with and without it).
    """
    app = FastAPI(
        title="streamcheck reference app" + (" (gzip holds SSE)" if gzip_sse else ""),
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
    )
    app.include_router(router, prefix="/api")
    app.include_router(router)

    # GET, and POST as a chat frontend sends the user's message (the body is not used: the query sets the
    # answer's length).
    @app.api_route(
        "/api/chat/stream",
        methods=["GET", "POST"],
        response_class=Response,
        summary='Chat-like generic SSE: data: {"token": ...} chunks, then data: [DONE] (or NDJSON, or text)',
        openapi_extra={"parameters": [*openapi_parameters(CHAT_BOUNDS), openapi_choice(CHAT_FORMAT)]},
    )
    async def chat_stream(request: Request) -> Response:
        try:
            params = parse_int_params(request.query_params, CHAT_BOUNDS)
            fmt = parse_choice(request.query_params, CHAT_FORMAT)
            if params["tokens"] * params["interval_ms"] > MAX_CHAT_MS:
                raise ParamError(
                    "interval_ms",
                    f"tokens x interval_ms must be at most {MAX_CHAT_MS}",
                    str(params["interval_ms"]),
                )
        except ParamError as exc:
            return exc.response()
        # Like a typical app: no-cache, but no X-Accel-Buffering hint for nginx.
        media = {"sse": SSE_MEDIA_TYPE, "ndjson": NDJSON_MEDIA_TYPE, "text": PLAIN_TEXT}[fmt]
        return CancellableEventStream(
            chat_tokens(params["tokens"], params["interval_ms"], fmt),
            headers={"Cache-Control": "no-cache"},
            media_type=media,
        )

    # Added first, so innermost: stamps date what the routes send, before any other middleware.
    if stamp:
        app.add_middleware(StampMiddleware)
    if gzip_sse:
        app.add_middleware(HoldingGZipMiddleware)
    return app


def create_gzip_sse_app() -> FastAPI:
    """Factory for ``uvicorn --factory``: the variant whose compression middleware holds SSE."""
    return create_app(gzip_sse=True)


app = create_app()
