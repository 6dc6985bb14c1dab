"""The streamcheck router: ``GET /streamcheck``, the WebSocket ``/streamcheck/ws`` and ``GET /healthz``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from streamcheck.params import ParamError, openapi_parameters
from streamcheck.stream import CancellableEventStream, format_event
from streamcheck.ticks import BOUNDS, parse_stream_params, ticks
from streamcheck.websocket import WEBSOCKET_PATH, streamcheck_websocket, upgrade_required

router = APIRouter(tags=["streamcheck"])


async def streamcheck_events(t0: float, events: int, interval_ms: int, pad: int) -> AsyncIterator[bytes]:
    """The events as SSE (``streamcheck.ticks`` owns them and their schedule)."""
    async with contextlib.aclosing(ticks(t0, events, interval_ms, pad)) as stream:
        async for tick in stream:
            yield format_event(tick.data, event=tick.event, id=tick.seq)


@router.get(
    "/streamcheck",
    response_class=Response,
    summary="Deterministic SSE stream for measuring buffering",
    openapi_extra={"parameters": openapi_parameters(BOUNDS)},
    responses={200: {"content": {"text/event-stream": {}}}, 422: {"description": "a parameter is invalid"}},
)
async def streamcheck(request: Request) -> Response:
    t0 = time.monotonic()  # when the request arrived; every sent_ms is relative to it
    try:
        params = parse_stream_params(request.query_params)
    except ParamError as exc:
        return exc.response()
    events, interval_ms = params["events"], params["interval_ms"]
    return CancellableEventStream(streamcheck_events(t0, events, interval_ms, params["pad"]))


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
