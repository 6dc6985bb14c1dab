"""The streamcheck router: ``GET /streamcheck`` (SSE, or NDJSON with ``format=ndjson``), ``GET /healthz``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from streamcheck.params import (
    Bound,
    Choice,
    ParamError,
    openapi_choice,
    openapi_parameters,
    parse_choice,
    parse_int_params,
)
from streamcheck.stream import NDJSON_MEDIA_TYPE, CancellableEventStream, format_event, format_ndjson, stats

EVENTS = Bound("events", 1, 500, 20, "number of tick events")
INTERVAL_MS = Bound("interval_ms", 0, 10_000, 100, "ms between tick events (the first is sent at once)")
PAD = Bound("pad", 0, 65_536, 0, "filler characters per tick, to push events past a proxy's buffer")
MAX_STREAM_MS = 120_000  # events x interval_ms

BOUNDS = (EVENTS, INTERVAL_MS, PAD)
FORMAT = Choice(
    "format",
    ("sse", "ndjson"),
    "sse",
    "sse: text/event-stream events; ndjson: application/x-ndjson lines "
    '{"event": ..., "seq": ..., "sent_ms": ...}',
)

router = APIRouter(tags=["streamcheck"])


def _ms_since(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000.0, 3)


def _sse(event: str, seq: int, fields: dict[str, object]) -> bytes:
    return format_event({"seq": seq, **fields}, event=event, id=seq)


def _ndjson(event: str, seq: int, fields: dict[str, object]) -> bytes:
    return format_ndjson({"event": event, "seq": seq, **fields})


_FORMATTERS = {"sse": _sse, "ndjson": _ndjson}


async def streamcheck_events(
    t0: float, events: int, interval_ms: int, pad: int, fmt: str = "sse"
) -> AsyncIterator[bytes]:
    """The event generator. Event ``seq`` is due at ``t0 + seq * interval_ms`` (no drift accumulates)."""
    write = _FORMATTERS[fmt]
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
            yield write("tick", seq, {"sent_ms": _ms_since(t0), "pad": filler})
        stats.event_sent()
        yield write("done", events, {"sent_ms": _ms_since(t0)})
        completed = True
    finally:
        stats.stream_ended(completed=completed)


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
        params = parse_int_params(request.query_params, BOUNDS)
        fmt = parse_choice(request.query_params, FORMAT)
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
    body = streamcheck_events(t0, events, interval_ms, params["pad"], fmt)
    if fmt == "ndjson":
        return CancellableEventStream(body, media_type=NDJSON_MEDIA_TYPE)
    return CancellableEventStream(body)


@router.get("/healthz", summary="Liveness")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-cache"})
