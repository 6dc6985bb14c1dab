"""The streamcheck router: ``GET /streamcheck`` and ``GET /healthz``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from streamcheck.params import Bound, ParamError, openapi_parameters, parse_int_params
from streamcheck.stream import CancellableEventStream, format_event, stats

EVENTS = Bound("events", 1, 500, 20, "number of tick events")
INTERVAL_MS = Bound("interval_ms", 0, 10_000, 100, "ms between tick events (the first is sent at once)")
PAD = Bound("pad", 0, 65_536, 0, "filler characters per tick, to push events past a proxy's buffer")
MAX_STREAM_MS = 120_000  # events x interval_ms

BOUNDS = (EVENTS, INTERVAL_MS, PAD)

router = APIRouter(tags=["streamcheck"])


def _ms_since(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000.0, 3)


async def streamcheck_events(t0: float, events: int, interval_ms: int, pad: int) -> AsyncIterator[bytes]:
    """The event generator. Event ``seq`` is due at ``t0 + seq * interval_ms`` (no drift accumulates)."""
    filler = "x" * pad
    completed = False
    stats.stream_started()
    try:
        for seq in range(events):
            due = t0 + seq * interval_ms / 1000.0
            delay = due - time.monotonic()
            if delay > 0:
                await anyio.sleep(delay)
            stats.event_sent()
            yield format_event({"seq": seq, "sent_ms": _ms_since(t0), "pad": filler}, event="tick", id=seq)
        stats.event_sent()
        yield format_event({"seq": events, "sent_ms": _ms_since(t0)}, event="done", id=events)
        completed = True
    finally:
        stats.stream_ended(completed=completed)


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
        params = parse_int_params(request.query_params, BOUNDS)
        events, interval_ms = params["events"], params["interval_ms"]
        if events * interval_ms > MAX_STREAM_MS:
            raise ParamError(
                "interval_ms",
                f"events x interval_ms must be at most {MAX_STREAM_MS}, got {events} x {interval_ms}"
                f" = {events * interval_ms}",
                str(interval_ms),
            )
    except ParamError as exc:
        return exc.response()
    return CancellableEventStream(streamcheck_events(t0, events, interval_ms, params["pad"]))


@router.get("/healthz", summary="Liveness")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-cache"})
