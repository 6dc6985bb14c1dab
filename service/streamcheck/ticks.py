"""streamcheck's events, whatever carries them: the query's bounds and the deterministic schedule.

The SSE endpoint (``streamcheck.router``) formats each event as SSE, the WebSocket endpoint
(``streamcheck.websocket``) as one JSON text message; both send these same events on this same clock.
Starlette only.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Mapping
from typing import Any, NamedTuple

import anyio
from starlette.datastructures import QueryParams

from streamcheck.params import Bound, ParamError, parse_int_params
from streamcheck.stream import stats

EVENTS = Bound("events", 1, 500, 20, "number of tick events")
INTERVAL_MS = Bound("interval_ms", 0, 10_000, 100, "ms between tick events (the first is sent at once)")
PAD = Bound("pad", 0, 65_536, 0, "filler characters per tick, to push events past a proxy's buffer")
MAX_STREAM_MS = 120_000  # events x interval_ms

BOUNDS = (EVENTS, INTERVAL_MS, PAD)


class Tick(NamedTuple):
    """One event: its type (``tick`` or ``done``), its ``seq`` and its JSON data."""

    event: str
    seq: int
    data: dict[str, Any]


def parse_stream_params(query: QueryParams | Mapping[str, str]) -> dict[str, int]:
    """``events``, ``interval_ms`` and ``pad`` from the query; :class:`ParamError` names a bad one."""
    params = parse_int_params(query, BOUNDS)
    events, interval_ms = params["events"], params["interval_ms"]
    if events * interval_ms > MAX_STREAM_MS:
        raise ParamError(
            "interval_ms",
            f"events x interval_ms must be at most {MAX_STREAM_MS}, got {events} x {interval_ms}"
            f" = {events * interval_ms}",
            str(interval_ms),
        )
    return params


def _ms_since(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000.0, 3)


async def ticks(t0: float, events: int, interval_ms: int, pad: int) -> AsyncGenerator[Tick]:
    """The events. Event ``seq`` is due at ``t0 + seq * interval_ms`` (no drift accumulates); each
    carries ``sent_ms``, the milliseconds since ``t0`` when it was sent."""
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
            yield Tick("tick", seq, {"seq": seq, "sent_ms": _ms_since(t0), "pad": filler})
        stats.event_sent()
        yield Tick("done", events, {"seq": events, "sent_ms": _ms_since(t0)})
        completed = True
    finally:
        stats.stream_ended(completed=completed)
