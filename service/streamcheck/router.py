"""The streamcheck router: ``GET /streamcheck`` (SSE, or NDJSON with ``format=ndjson``), the WebSocket
``/streamcheck/ws`` and ``GET /healthz``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from streamcheck.params import Choice, ParamError, openapi_choice, openapi_parameters, parse_choice
from streamcheck.stream import NDJSON_MEDIA_TYPE, CancellableEventStream, format_event, format_ndjson
from streamcheck.ticks import BOUNDS, Tick, parse_stream_params, ticks
from streamcheck.websocket import WEBSOCKET_PATH, streamcheck_websocket, upgrade_required

FORMAT = Choice(
    "format",
    ("sse", "ndjson"),
    "sse",
    "sse: text/event-stream events; ndjson: application/x-ndjson lines "
    '{"event": ..., "seq": ..., "sent_ms": ...}',
)

router = APIRouter(tags=["streamcheck"])


def _sse(tick: Tick) -> bytes:
    return format_event(tick.data, event=tick.event, id=tick.seq)


def _ndjson(tick: Tick) -> bytes:
    return format_ndjson({"event": tick.event, **tick.data})


_FORMATTERS = {"sse": _sse, "ndjson": _ndjson}


async def streamcheck_events(
    t0: float, events: int, interval_ms: int, pad: int, fmt: str = "sse"
) -> AsyncIterator[bytes]:
    """The events as SSE or NDJSON (``streamcheck.ticks`` owns them and their schedule)."""
    write = _FORMATTERS[fmt]
    async with contextlib.aclosing(ticks(t0, events, interval_ms, pad)) as stream:
        async for tick in stream:
            yield write(tick)


@router.get(
    "/streamcheck",
    response_class=Response,
    summary="Deterministic SSE stream for measuring buffering",
    openapi_extra={"parameters": [*openapi_parameters(BOUNDS), openapi_choice(FORMAT)]},
    responses={
        200: {"content": {"text/event-stream": {}, NDJSON_MEDIA_TYPE: {}}},
        422: {"description": "a parameter is invalid"},
    },
)
async def streamcheck(request: Request) -> Response:
    t0 = time.monotonic()  # when the request arrived; every sent_ms is relative to it
    try:
        params = parse_stream_params(request.query_params)
        fmt = parse_choice(request.query_params, FORMAT)
    except ParamError as exc:
        return exc.response()
    body = streamcheck_events(t0, params["events"], params["interval_ms"], params["pad"], fmt)
    if fmt == "ndjson":
        return CancellableEventStream(body, media_type=NDJSON_MEDIA_TYPE)
    return CancellableEventStream(body)


@router.get(
    WEBSOCKET_PATH,
    response_class=Response,
    summary="The same events over a WebSocket: a plain GET here is 426 Upgrade Required",
    openapi_extra={"parameters": openapi_parameters(BOUNDS)},
    responses={426: {"description": "the request did not ask for a WebSocket upgrade"}},
)
async def streamcheck_ws_without_upgrade(request: Request) -> Response:
    return upgrade_required()


router.add_websocket_route(WEBSOCKET_PATH, streamcheck_websocket)


@router.get("/healthz", summary="Liveness")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-cache"})
