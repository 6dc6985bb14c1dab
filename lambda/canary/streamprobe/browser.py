"""The browser reader: what headless Chromium sees when a page reads an SSE URL with fetch + getReader().

Optional (``pip install 'streampath[browser]'`` plus Debian's ``chromium``): Playwright is imported only
inside functions here, because ``streamprobe`` is bundled into the canary Lambda without it.

How a read works: Chromium (``/usr/bin/chromium`` or ``$STREAMPROBE_CHROMIUM``) starts headless with no
background networking and a fresh profile; each read gets a new browser context (its own connections,
cache and cookies). A page is opened *on the target's origin* -- Playwright serves a tiny HTML document
for ``<origin>/__streamprobe_browser__`` from ``page.route``, so nothing goes to the server for it -- and
the route is removed before the read, so the stream itself goes through Chromium's own network stack
untouched. ``browser_reader.js`` then runs ``fetch(url)`` same-origin (no CORS), reads the body with
``getReader()`` + ``TextDecoder``, parses SSE by the WHATWG rules and timestamps each complete event
with ``performance.now()``. The protocol (``nextHopProtocol``) and the phase timings come from the
Resource Timing entry of that fetch, with Playwright's response object as a fallback; the failure text
of a failed request (``net::ERR_CONNECTION_REFUSED``, ...) comes from Playwright's ``requestfailed``.
The :class:`~streamprobe.result.ProbeResult` is built by :mod:`streamprobe.verdict`, the same code the
probe uses, so the two are judged by one set of rules.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # pragma: no cover - typing only; playwright is imported lazily at run time
    from playwright.sync_api import Browser, Page, Playwright, Request, Response

CHROMIUM_ENV = "STREAMPROBE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
DOCUMENT_PATH = "/__streamprobe_browser__"
# The data: icon keeps Chromium from asking the target for /favicon.ico (an extra request and connection).
DOCUMENT_HTML = (
    "<!doctype html><meta charset=utf-8><link rel=icon href=\"data:,\"><title>streamprobe browser reader</title>"
)

# Headless, no sandbox (root in containers), and nothing that talks to the outside world on its own.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--no-pings",
)
# Chromium has no way to require HTTP/2; HTTP/1.1 can be forced by turning HTTP/2 off.
DISABLE_HTTP2_ARG = "--disable-http2"


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright is not installed; the message says what to install (CLI exit 2)."""


def chromium_path() -> str:
    """The Chromium binary the reader starts: ``$STREAMPROBE_CHROMIUM`` or ``/usr/bin/chromium``."""
    return os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM


def check_browser() -> str:
    """Return the Chromium path if the reader can run; raise :class:`BrowserUnavailable` if not."""
    path = chromium_path()
    resolved = path if os.path.isabs(path) else shutil.which(path)
    if not resolved or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
        hint = f" (set by {CHROMIUM_ENV})" if os.environ.get(CHROMIUM_ENV) else ""
        raise BrowserUnavailable(f"Chromium not found at {path}{hint}: apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        raise BrowserUnavailable(
            f"Playwright for Python is not installed ({exc}): pip install 'streampath[browser]'"
        ) from exc
    return resolved


@cache
def reader_js() -> str:
    """The JS function ``browser_reader.js`` (evaluated in the page)."""
    return resources.files(__package__ or "streamprobe").joinpath("browser_reader.js").read_text("utf-8")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL; ``ValueError`` for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
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


@dataclass
class BrowserRead:
    """The raw observation of one read, before it is judged (see :func:`to_probe_result`)."""

    url: str
    status: int | None = None
    content_type: str | None = None
    content_encoding: str | None = None
    protocol: str | None = None  # as Chromium names it: "h2", "http/1.1", ...
    protocol_source: str | None = None  # "resource-timing" | "playwright"
    headers_ms: float | None = None  # fetch() resolved (headers in), relative to just before fetch()
    end_ms: float | None = None
    bytes: int = 0
    done: bool = False  # the body ended normally
    stop_reason: str | None = None  # "timeout" | "stalled" | "max_duration" | "too_large" (we stopped it)
    js_error: dict[str, str] | None = None  # {"name", "message"} of a rejected fetch()/read()
    failure: str | None = None  # Chromium's net error for the request, e.g. "net::ERR_CONNECTION_REFUSED"
    timing: dict[str, Any] | None = None  # the Resource Timing entry, times relative to just before fetch()
    events: list[BrowserEvent] = field(default_factory=list)


class BrowserSession:
    """One headless Chromium, reused for several reads; each read gets a fresh context and connections.

    ``http="h1"`` starts Chromium with HTTP/2 disabled (a browser cannot be told to require HTTP/2:
    :func:`to_probe_result` checks the protocol it got instead).
    """

    def __init__(self, *, http: str = "auto", executable: str | None = None) -> None:
        if http not in ("auto", "h1", "h2"):
            raise ValueError(f"http must be auto, h1 or h2, got {http!r}")
        self.http = http
        self.executable = executable or check_browser()
        self._pw: Playwright | None = None
        self._browser: Browser | None = None

    def __enter__(self) -> BrowserSession:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        if self._browser is not None:
            return
        from playwright.sync_api import sync_playwright

        args = list(CHROMIUM_ARGS)
        if self.http == "h1":
            args.append(DISABLE_HTTP2_ARG)
        pw = sync_playwright().start()
        try:
            # Playwright gives launch() a fresh temporary --user-data-dir and deletes it on close.
            self._browser = pw.chromium.launch(
                executable_path=self.executable, headless=True, args=args, chromium_sandbox=False
            )
        except BaseException:
            pw.stop()
            raise
        self._pw = pw

    def close(self) -> None:
        browser, pw = self._browser, self._pw
        self._browser = self._pw = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if pw is not None:
                pw.stop()

    def read(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        max_duration: float = 60.0,
        max_event_bytes: int = 1 << 20,
        insecure: bool = False,
    ) -> BrowserRead:
        """Read ``url`` the way a page does and return what it saw. Never raises for network problems."""
        origin = origin_of(url)
        if timeout <= 0 or max_duration <= 0 or max_event_bytes <= 0:
            raise ValueError("timeout, max_duration and max_event_bytes must be positive")
        self.start()
        assert self._browser is not None
        context = self._browser.new_context(ignore_https_errors=insecure, service_workers="block")
        try:
            page = context.new_page()
            # The JS side bounds the read; this only catches a wedged browser.
            page.set_default_timeout((timeout + max_duration + 30.0) * 1000.0)
            with _watch(page) as seen:
                _open_origin(page, origin)
                raw = page.evaluate(
                    reader_js(),
                    {
                        "url": url,
                        "headers": dict(headers or {}),
                        "timeoutMs": timeout * 1000.0,
                        "maxDurationMs": max_duration * 1000.0,
                        "maxEventBytes": max_event_bytes,
                    },
                )
                if raw.get("error") and seen.failure is None:
                    page.wait_for_timeout(50)  # let a pending requestfailed event arrive
            read = _to_read(url, raw, seen.failure)
            if read.protocol is None and seen.http_version:
                read.protocol, read.protocol_source = seen.http_version, "playwright"
            return read
        finally:
            context.close()


@dataclass
class _Seen:
    """What Playwright reports about the page's one fetch: its failure text and HTTP version."""

    failure: str | None = None
    http_version: str | None = None
    responses: list[Any] = field(default_factory=list)


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
            try:
                seen.http_version = response.http_version()
            except Exception:  # best effort: Resource Timing is the primary source
                pass


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


def _to_read(url: str, raw: Mapping[str, Any], failure: str | None) -> BrowserRead:
    timing = raw.get("timing") or None
    events = [
        BrowserEvent(
            arrive_ms=float(ev["t"]),
            type=str(ev.get("type") or "message"),
            id=ev.get("id"),
            size=int(ev.get("size") or 0),
            sent_ms=_num(ev.get("sent_ms")),
            seq=int(ev["seq"]) if _num(ev.get("seq")) is not None else None,
        )
        for ev in raw.get("events") or []
    ]
    protocol = (timing or {}).get("nextHopProtocol") or None
    return BrowserRead(
        url=url,
        status=raw.get("status"),
        content_type=raw.get("contentType"),
        content_encoding=raw.get("contentEncoding"),
        protocol=protocol,
        protocol_source="resource-timing" if protocol else None,
        headers_ms=_num(raw.get("headersMs")),
        end_ms=_num(raw.get("endMs")),
        bytes=int(raw.get("bytes") or 0),
        done=bool(raw.get("done")),
        stop_reason=raw.get("stopReason"),
        js_error=raw.get("error"),
        failure=failure,
        timing=timing,
        events=events,
    )
