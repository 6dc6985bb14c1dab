"""The page side of a browser read: what a page sees when it reads an SSE URL with fetch + getReader().

A page is opened *on the target's origin* -- Playwright serves a tiny HTML document for
``<origin>/__streamprobe_browser__`` from ``page.route``, so nothing goes to the server for it -- and
the route is removed before the read, so the stream itself goes through Chromium's own network stack
untouched. ``reader.js`` then runs ``fetch(url)`` same-origin (no CORS), reads the body with
``getReader()`` + ``TextDecoder``, parses SSE by the WHATWG rules and timestamps each complete event
with ``performance.now()``. The protocol (``nextHopProtocol``) and the phase timings come from the
Resource Timing entry of that fetch, with Playwright's response object as a fallback; the failure text
of a failed request (``net::ERR_CONNECTION_REFUSED``, ...) comes from Playwright's ``requestfailed``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

from ..exceptions import InvalidRequest
from ..redact import mask_url_text

if TYPE_CHECKING:  # pragma: no cover - typing only; playwright is imported lazily
    from playwright.sync_api import Page, Request, Response

DOCUMENT_PATH: Final = "/__streamprobe_browser__"
# The data: icon keeps Chromium from asking the target for /favicon.ico (an extra request and connection).
DOCUMENT_HTML: Final = (
    "<!doctype html><meta charset=utf-8><link rel=icon href='data:,'>"
    "<title>streamprobe browser reader</title>"
)
#: Why the page stopped a read itself (rather than the body ending or failing).
StopReason = Literal["timeout", "stalled", "max_duration", "too_large"]
_STOP_REASONS: Final = ("timeout", "stalled", "max_duration", "too_large")


@cache
def reader_js() -> str:
    """The JS function in ``reader.js`` (evaluated in the page)."""
    return resources.files(__package__ or "streamprobe.browser").joinpath("reader.js").read_text("utf-8")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL; ``InvalidRequest`` for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"not an http(s) URL: {mask_url_text(url)!r}")
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


@dataclass(frozen=True)
class BrowserEvent:
    """One complete SSE event as the page saw it."""

    arrive_ms: float  # performance.now() when its blank line was read, relative to just before fetch()
    type: str
    id: str | None
    size: int  # characters of data
    sent_ms: float | None  # from a streamcheck event's JSON data
    seq: int | None
    stamp_ms: float | None = None  # the first valid send-time stamp since the previous event


@dataclass
class BrowserRead:
    """The raw observation of one read, before it is judged (see :mod:`streamprobe.browser.judge`)."""

    url: str
    status: int | None = None
    content_type: str | None = None
    content_encoding: str | None = None
    protocol: str | None = None  # as Chromium names it: "h2", "http/1.1", ...
    protocol_source: Literal["resource-timing", "playwright"] | None = None
    headers_ms: float | None = None  # fetch() resolved (headers in), relative to just before fetch()
    end_ms: float | None = None
    bytes: int = 0
    done: bool = False  # the body ended normally
    stop_reason: StopReason | None = None
    status_text: str | None = None
    excerpt: str | None = None  # the first characters of a body that is not a stream to judge
    js_error: dict[str, str] | None = None  # {"name", "message"} of a rejected fetch()/read()
    failure: str | None = None  # Chromium's net error for the request, e.g. "net::ERR_CONNECTION_REFUSED"
    timing: dict[str, Any] | None = None  # the Resource Timing entry, times relative to just before fetch()
    events: list[BrowserEvent] = field(default_factory=list)
    bad_stamps: dict[str, int] = field(default_factory=dict)  # stamps ignored, by reason

    def js_error_text(self) -> str | None:
        """``name: message`` of the rejected fetch()/read(), if one was."""
        if self.js_error is None:
            return None
        return f"{self.js_error.get('name')}: {self.js_error.get('message')}"


def read_page(
    page: Page,
    url: str,
    *,
    headers: Mapping[str, str],
    timeout: float,
    max_duration: float,
    max_event_bytes: int,
    excerpt_chars: int,
    method: str = "GET",
    body: str | None = None,
) -> BrowserRead:
    """Read ``url`` from a page on its origin; the JS side bounds the read by the given limits."""
    # This only catches a wedged browser: the read is bounded in the page.
    page.set_default_timeout((timeout + max_duration + 30.0) * 1000.0)
    with _watch(page) as seen:
        _open_origin(page, origin_of(url))
        raw = page.evaluate(
            reader_js(),
            {
                "url": url,
                "headers": dict(headers),
                "timeoutMs": timeout * 1000.0,
                "maxDurationMs": max_duration * 1000.0,
                "maxEventBytes": max_event_bytes,
                "excerptChars": excerpt_chars,
                "method": method,
                "body": body,
            },
        )
        if raw.get("error") and seen.failure is None:
            page.wait_for_timeout(50)  # let a pending requestfailed event arrive
    read = to_read(url, raw, seen.failure)
    if read.protocol is None and seen.http_version:
        read.protocol, read.protocol_source = seen.http_version, "playwright"
    return read


@dataclass
class _Seen:
    """What Playwright reports about the page's one fetch: its failure text and HTTP version."""

    failure: str | None = None
    http_version: str | None = None
    responses: list[Response] = field(default_factory=list)


@contextmanager
def _watch(page: Page) -> Iterator[_Seen]:
    """Watch the page's requests (other than the document) while reading."""
    seen = _Seen()

    def on_failed(request: Request) -> None:
        if request.resource_type != "document" and seen.failure is None:
            seen.failure = request.failure or "failed"

    def on_response(response: Response) -> None:
        if response.request.resource_type != "document":
            seen.responses.append(response)

    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    try:
        yield seen
    finally:
        page.remove_listener("requestfailed", on_failed)
        page.remove_listener("response", on_response)
        for response in seen.responses[:1]:
            with suppress(Exception):  # best effort: Resource Timing is the primary source
                seen.http_version = response.http_version()


def _open_origin(page: Page, origin: str) -> None:
    """Put the page on ``origin`` without asking the server for anything."""
    doc_url = origin + DOCUMENT_PATH
    page.route(doc_url, lambda route: route.fulfill(status=200, content_type="text/html", body=DOCUMENT_HTML))
    try:
        page.goto(doc_url, wait_until="load")
    finally:
        page.unroute(doc_url)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def to_read(url: str, raw: Mapping[str, Any], failure: str | None) -> BrowserRead:
    """The page's JSON answer (see ``reader.js``) as a :class:`BrowserRead`."""
    timing = raw.get("timing") or None
    events = [
        BrowserEvent(
            arrive_ms=float(ev["t"]),
            type=str(ev.get("type") or "message"),
            id=_str(ev.get("id")),
            size=int(ev.get("size") or 0),
            sent_ms=_num(ev.get("sent_ms")),
            seq=int(ev["seq"]) if _num(ev.get("seq")) is not None else None,
            stamp_ms=_num(ev.get("stamp_ms")),
        )
        for ev in raw.get("events") or []
    ]
    protocol = _str((timing or {}).get("nextHopProtocol")) or None
    stop = raw.get("stopReason")
    js_error = raw.get("error")
    return BrowserRead(
        url=url,
        status=raw.get("status"),
        content_type=_str(raw.get("contentType")),
        content_encoding=_str(raw.get("contentEncoding")),
        protocol=protocol,
        protocol_source="resource-timing" if protocol else None,
        headers_ms=_num(raw.get("headersMs")),
        end_ms=_num(raw.get("endMs")),
        bytes=int(raw.get("bytes") or 0),
        done=bool(raw.get("done")),
        stop_reason=stop if stop in _STOP_REASONS else None,
        status_text=_str(raw.get("statusText")),
        excerpt=_str(raw.get("excerpt")),
        js_error={str(k): str(v) for k, v in js_error.items()} if isinstance(js_error, dict) else None,
        failure=failure,
        timing=timing,
        events=events,
        bad_stamps={str(k): int(v) for k, v in (raw.get("badStamps") or {}).items() if _num(v) is not None},
    )
