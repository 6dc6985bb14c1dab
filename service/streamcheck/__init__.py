"""The streamcheck endpoint: a deterministic SSE stream a probe can judge exactly.

Mount it in any FastAPI service with one line::

    from streamcheck import router as streamcheck_router
    app.include_router(streamcheck_router, prefix="/api")

``GET <prefix>/streamcheck?events=N&interval_ms=I&pad=P`` sends N ``tick`` events, one every I ms (the
first at once), each carrying ``sent_ms`` (milliseconds since the request arrived, monotonic clock), then
one ``done`` event, and ends. The protocol is fixed in ``docs/contracts/streamcheck.md``; this module
implements it.
``GET <prefix>/healthz`` answers ``{"status": "ok"}``.

``StampMiddleware`` makes the application's own SSE endpoints measurable as exactly: add it first
(innermost) with ``app.add_middleware(StampMiddleware)``; see ``streamcheck.stamp`` for what it writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streamcheck.params import Bound, ParamError, parse_int_params
from streamcheck.stamp import NDJSON_STAMP_PREFIX, STAMP_HEADER, STAMP_PREFIX, StampMiddleware
from streamcheck.stream import (
    NDJSON_MEDIA_TYPE,
    STREAM_HEADERS,
    CancellableEventStream,
    StreamStats,
    format_event,
    format_ndjson,
    stats,
)

if TYPE_CHECKING:
    from streamcheck.router import router

__all__ = [
    "NDJSON_MEDIA_TYPE",
    "NDJSON_STAMP_PREFIX",
    "STAMP_HEADER",
    "STAMP_PREFIX",
    "STREAM_HEADERS",
    "Bound",
    "CancellableEventStream",
    "ParamError",
    "StampMiddleware",
    "StreamStats",
    "format_event",
    "format_ndjson",
    "parse_int_params",
    "router",
    "stats",
]


def __getattr__(name: str) -> Any:
    # The router is FastAPI's (the `fastapi` extra); StampMiddleware and the rest need Starlette only.
    if name == "router":
        try:
            from streamcheck.router import router
        except ModuleNotFoundError as exc:
            if exc.name != "fastapi":
                raise
            raise ModuleNotFoundError(
                "streamcheck's router needs FastAPI: pip install 'streamcheck[fastapi]'", name=exc.name
            ) from exc
        return router
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
