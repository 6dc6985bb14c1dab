"""The stream formats the probe reads, by the response's ``Content-Type``, and the parser for each.

``text/event-stream`` (SSE), ``application/x-ndjson`` and ``application/jsonl`` (one event per line), and
``text/plain`` when the body is not length-delimited (one event per piece as it arrives: a ``text/plain``
body with a ``Content-Length`` is a document, not a stream). Anything else is no stream: the read fails
as ``content_type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

from .ndjson import ChunkParser, NDJSONParser
from .sse import SendStamps, SSEEvent, SSEParser

EVENT_STREAM: Final = "text/event-stream"
NDJSON_TYPES: Final = ("application/x-ndjson", "application/jsonl")
PLAIN_TEXT: Final = "text/plain"


class EventParser(Protocol):
    """Bytes in, as they arrive; complete events out."""

    @property
    def send_times(self) -> bool: ...  # an event's JSON ``sent_ms`` is its send time

    @property
    def stampable(self) -> bool: ...  # ``StampMiddleware`` stamps this format

    send_stamps: SendStamps

    def feed(self, chunk: bytes) -> list[SSEEvent]: ...


def media_type(content_type: str | None) -> str:
    """``text/plain; charset=utf-8`` -> ``text/plain``."""
    return (content_type or "").split(";")[0].strip().lower()


def parser_for(headers: Mapping[str, str], max_event_bytes: int) -> EventParser | None:
    """The parser for a response with these headers, or None when its body is no stream we read."""
    media = media_type(headers.get("content-type"))
    if media == EVENT_STREAM:
        return SSEParser(max_event_bytes)
    if media in NDJSON_TYPES:
        return NDJSONParser(max_event_bytes)
    if media == PLAIN_TEXT and "content-length" not in headers:
        return ChunkParser(max_event_bytes)
    return None
