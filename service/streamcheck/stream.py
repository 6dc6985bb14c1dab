"""SSE formatting and a streaming response that always stops its generator when the client goes."""

from __future__ import annotations

import contextlib
import importlib
import json
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

# anyio imports its asyncio backend on first use (~20 ms on a small machine): do it now, so the first
# stream after start-up sends its first event at once like every other.
with contextlib.suppress(ImportError):
    importlib.import_module("anyio._backends._asyncio")

SSE_MEDIA_TYPE = "text/event-stream"
#: The media type of our NDJSON streams (``application/jsonl`` is read and stamped too).
NDJSON_MEDIA_TYPE = "application/x-ndjson"

# Headers every SSE response of ours carries: no caching, no transformation (compression) by
# intermediaries that honour no-transform, and no buffering by nginx (X-Accel-Buffering).
STREAM_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
}


def format_event(data: Mapping[str, Any] | str, *, event: str | None = None, id: int | None = None) -> bytes:
    """One SSE event, LF line ends, terminated by a blank line.

    ``data`` is JSON-encoded with Python's default separators (``{"seq": 0, "sent_ms": 1.5}``).
    """
    payload = data if isinstance(data, str) else json.dumps(data)
    lines = []
    if id is not None:
        lines.append(f"id: {id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in payload.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


def format_ndjson(data: Mapping[str, Any]) -> bytes:
    """One NDJSON line: ``data`` JSON-encoded like :func:`format_event`'s, then ``\\n``."""
    return (json.dumps(data) + "\n").encode()


class StreamStats:
    """Process-wide counters, so tests (and curious operators) can see that a gone client stops work."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = 0
        self.started = 0
        self.finished = 0
        self.cancelled = 0
        self.events_sent = 0

    def _add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def stream_started(self) -> None:
        self._add(active=1, started=1)

    def stream_ended(self, *, completed: bool) -> None:
        if completed:
            self._add(active=-1, finished=1)
        else:
            self._add(active=-1, cancelled=1)

    def event_sent(self) -> None:
        self._add(events_sent=1)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "active": self.active,
                "started": self.started,
                "finished": self.finished,
                "cancelled": self.cancelled,
                "events_sent": self.events_sent,
            }


stats = StreamStats()


class CancellableEventStream(StreamingResponse):
    """A ``text/event-stream`` response (or ``media_type``: NDJSON, plain text) whose generator stops as
    soon as the client disconnects.

    Starlette only watches for ``http.disconnect`` when the server speaks ASGI spec < 2.4; with 2.4 it
    relies on ``send`` failing, which a generator sleeping between events would not reach for up to
    ``interval_ms``. This response always watches, cancels the generator mid-sleep, and closes it.
    """

    media_type = SSE_MEDIA_TYPE

    def __init__(
        self,
        content: AsyncIterator[bytes],
        headers: Mapping[str, str] | None = None,
        media_type: str = SSE_MEDIA_TYPE,
    ) -> None:
        # Exactly the media type, as docs/contracts/streamcheck.md says (Starlette would append
        # "; charset=utf-8").
        merged = {"Content-Type": media_type, **STREAM_HEADERS}
        merged.update(headers or {})
        super().__init__(content, status_code=200, headers=merged, media_type=media_type)
        self._generator = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def listen_for_disconnect() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    break

        try:
            async with anyio.create_task_group() as group:

                async def run(func: Any) -> None:
                    # OSError: a send to a gone client (ASGI 2.4 servers), same as a disconnect.
                    with contextlib.suppress(OSError):
                        await func()
                    group.cancel_scope.cancel()

                group.start_soon(run, lambda: self.stream_response(send))
                await run(listen_for_disconnect)
        finally:
            aclose = getattr(self._generator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
