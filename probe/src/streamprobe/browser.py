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

import ipaddress
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

if TYPE_CHECKING:  # pragma: no cover - typing only; playwright (and httpx) are imported lazily
    from playwright.sync_api import Browser, Page, Playwright, Request, Response

    from .probe import ProbeOptions
    from .result import ProbeResult

CHROMIUM_ENV = "STREAMPROBE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
DOCUMENT_PATH = "/__streamprobe_browser__"
# The data: icon keeps Chromium from asking the target for /favicon.ico (an extra request and connection).
DOCUMENT_HTML = (
    "<!doctype html><meta charset=utf-8><link rel=icon href='data:,'>"
    "<title>streamprobe browser reader</title>"
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
    status_text: str | None = None
    excerpt: str | None = None  # the first characters of a body that is not a stream to judge
    js_error: dict[str, str] | None = None  # {"name", "message"} of a rejected fetch()/read()
    failure: str | None = None  # Chromium's net error for the request, e.g. "net::ERR_CONNECTION_REFUSED"
    timing: dict[str, Any] | None = None  # the Resource Timing entry, times relative to just before fetch()
    events: list[BrowserEvent] = field(default_factory=list)


# Playwright's sync API allows one driver per thread: sessions in a thread share it (counted).
_PLAYWRIGHT = threading.local()


def _acquire_playwright() -> Playwright:
    from playwright.sync_api import sync_playwright

    if getattr(_PLAYWRIGHT, "users", 0) == 0:
        _PLAYWRIGHT.pw = sync_playwright().start()
        _PLAYWRIGHT.users = 0
    _PLAYWRIGHT.users += 1
    return cast("Playwright", _PLAYWRIGHT.pw)


def _release_playwright() -> None:
    _PLAYWRIGHT.users -= 1
    if _PLAYWRIGHT.users == 0:
        pw, _PLAYWRIGHT.pw = _PLAYWRIGHT.pw, None
        pw.stop()


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
        args = list(CHROMIUM_ARGS)
        if self.http == "h1":
            args.append(DISABLE_HTTP2_ARG)
        pw = _acquire_playwright()
        try:
            # Playwright gives launch() a fresh temporary --user-data-dir and deletes it on close.
            self._browser = pw.chromium.launch(
                executable_path=self.executable, headless=True, args=args, chromium_sandbox=False
            )
        except BaseException:
            _release_playwright()
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
                _release_playwright()

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
                        "excerptChars": 200,
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
        status_text=raw.get("statusText"),
        excerpt=raw.get("excerpt"),
        js_error=raw.get("error"),
        failure=failure,
        timing=timing,
        events=events,
    )


# --- judging a read: the probe's own result type and verdict functions -------------------------------

_PROTOCOLS = {"h2": "HTTP/2", "http/1.1": "HTTP/1.1", "http/1.0": "HTTP/1.0", "h3": "HTTP/3"}

# Chromium's net errors (Playwright's request.failure) -> the probe's error kinds, before any response.
_NET_ERROR_KINDS: tuple[tuple[str, str], ...] = (
    ("ERR_NAME_NOT_RESOLVED", "dns"),
    ("ERR_NAME_RESOLUTION_FAILED", "dns"),
    ("ERR_CONNECTION_TIMED_OUT", "timeout"),
    ("ERR_TIMED_OUT", "timeout"),
    ("ERR_CONNECTION_REFUSED", "connect"),
    ("ERR_ADDRESS_UNREACHABLE", "connect"),
    ("ERR_ADDRESS_INVALID", "connect"),
    ("ERR_CONNECTION_FAILED", "connect"),
    ("ERR_INTERNET_DISCONNECTED", "connect"),
    ("ERR_CERT_", "tls"),
    ("ERR_SSL_", "tls"),
    ("ERR_BAD_SSL_CLIENT_AUTH_CERT", "tls"),
    ("ERR_ALPN_NEGOTIATION_FAILED", "protocol"),
)


def protocol_name(chromium_protocol: str | None) -> str | None:
    """``"h2"`` -> ``"HTTP/2"``, ``"http/1.1"`` -> ``"HTTP/1.1"`` (the probe's names); unknown -> as is."""
    if not chromium_protocol:
        return None
    return _PROTOCOLS.get(chromium_protocol.lower(), chromium_protocol)


def net_error_kind(failure: str | None) -> str:
    """The probe's error kind for a request that failed before a response, from Chromium's net error."""
    text = failure or ""
    for marker, kind in _NET_ERROR_KINDS:
        if marker in text:
            return kind
    return "protocol" if "ERR_" in text else "other"


def _where(url: str) -> str:
    """``host:port`` as the probe names its peer."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_ip_literal(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _timings(read: BrowserRead) -> tuple[dict[str, float | None], bool]:
    """DESIGN.md's timings from the Resource Timing entry; and whether the connection was already open."""
    from .result import TIMING_KEYS

    out: dict[str, float | None] = dict.fromkeys(TIMING_KEYS)
    t = read.timing or {}
    fetch_start = t.get("fetchStart")
    reused = False
    if fetch_start is not None and t.get("responseStart") is not None:
        dns_start, dns_end = t.get("domainLookupStart"), t.get("domainLookupEnd")
        c_start, c_end, tls_start = t.get("connectStart"), t.get("connectEnd"), t.get("secureConnectionStart")
        # Resource Timing's sign of a reused connection: every connection phase collapses onto fetchStart.
        reused = dns_start == dns_end == c_start == c_end == fetch_start
        if not reused:
            if dns_start is not None and dns_end is not None and not _is_ip_literal(read.url):
                out["dns"] = dns_end - dns_start
            if c_start is not None and c_end is not None:
                tls = tls_start is not None and tls_start >= c_start
                out["connect"] = (tls_start if tls else c_end) - c_start
                if tls:
                    out["tls"] = c_end - tls_start
        out["ttfb"] = t["responseStart"] - fetch_start
    elif read.headers_ms is not None:
        out["ttfb"] = read.headers_ms  # no Resource Timing entry: when fetch() resolved
    if read.events:
        out["first_event"] = read.events[0].arrive_ms
    out["total"] = read.end_ms
    return out, reused


def _error(
    read: BrowserRead, *, where: str, timeout: float, max_duration: float, max_event_bytes: int
) -> Any:
    """The probe's error for a read (same kinds and, where the facts allow, the same sentences)."""
    from .errors import sanitise, timeout_error
    from .result import ProbeError

    n = len(read.events)
    if read.status is None:
        if read.stop_reason == "max_duration":
            return ProbeError("timeout", f"no response from {where} within max_duration {max_duration:g} s")
        if read.stop_reason is not None:
            return timeout_error("headers", where, timeout)
        detail = read.failure or (
            f"{read.js_error.get('name')}: {read.js_error.get('message')}" if read.js_error else "no response"
        )
        kind = net_error_kind(read.failure)
        if kind == "tls" and "ERR_CERT_" in detail:
            detail += " (certificate not trusted; --insecure accepts lab certificates)"
        return ProbeError(kind, f"Chromium could not fetch from {where}: {detail}")
    excerpt = sanitise(read.excerpt or "")
    if not 200 <= read.status < 300:
        message = f"{where} answered HTTP {read.status} {read.status_text or ''}".rstrip()
        return ProbeError("http_status", message + (f"; the body starts: {excerpt}" if excerpt else ""))
    content_type = read.content_type or ""
    if content_type.split(";")[0].strip().lower() != "text/event-stream":
        shown = sanitise(content_type or "no Content-Type", 80)
        message = f"expected Content-Type text/event-stream but {where} sent {shown}"
        if "html" in content_type.lower() or excerpt.lstrip().lower().startswith(("<!doctype", "<html")):
            message += " (an HTML page: often a login or error page in front of the service)"
        message += f"; the body starts: {excerpt}" if excerpt else "; the body is empty"
        return ProbeError("content_type", message)
    if read.stop_reason == "stalled":
        return ProbeError("stalled", f"{timeout_error('body', where, timeout).message} after {n} event(s)")
    if read.stop_reason == "too_large":
        return ProbeError(
            "too_large",
            f"an event from {where} grew past max_event_bytes ({max_event_bytes} bytes) without ending "
            f"(a line without a newline, or a stream that is not SSE)",
        )
    if read.js_error is not None and read.stop_reason is None:
        detail = read.failure or f"{read.js_error.get('name')}: {read.js_error.get('message')}"
        return ProbeError("protocol", f"the connection to {where} broke mid-stream in Chromium: {detail}")
    return None


def to_probe_result(read: BrowserRead, options: ProbeOptions | None = None) -> ProbeResult:
    """Judge a read with the probe's own result type and :func:`streamprobe.verdict.judge`."""
    import httpx

    from .errors import redact
    from .probe import ProbeOptions, display_url, url_secrets
    from .result import EventArrival, ProbeError, ProbeResult
    from .verdict import judge

    o = options or ProbeOptions(name="browser")
    where = _where(read.url)
    timings, reused = _timings(read)
    protocol = protocol_name(read.protocol) or ("HTTP/2" if o.http == "h2" else "HTTP/1.1")
    arrivals = [
        EventArrival(arrive_ms=e.arrive_ms, event=e.type, sent_ms=e.sent_ms, seq=e.seq, size=e.size)
        for e in read.events
    ]
    r = ProbeResult(
        url=display_url(httpx.URL(read.url)),
        path_name=o.name,
        protocol=protocol,
        status=read.status,
        timings_ms=timings,
        events=len(arrivals),
        content_encoding=read.content_encoding,
        header_names=list(o.headers),
        arrivals=arrivals,
        request_sent_ms=(read.timing or {}).get("requestStart"),
    )
    r.notes.append(
        f"browser: headless Chromium read the stream with fetch + getReader() on {origin_of(read.url)}"
    )
    if o.accept_encoding is not None:
        r.notes.append("browser: accept_encoding is ignored: Chromium sends its own Accept-Encoding")
    if read.protocol is not None and read.protocol_source == "playwright":
        r.notes.append("browser: protocol from Playwright (no Resource Timing entry)")
    if reused:
        r.notes.append(
            "browser: the connection was already open (Chromium preconnects to the page's origin), "
            "so dns/connect/tls are not measured and ttfb starts at the request"
        )
    r.error = _error(
        read, where=where, timeout=o.timeout, max_duration=o.max_duration, max_event_bytes=o.max_event_bytes
    )
    if r.error is None and o.http == "h2" and protocol != "HTTP/2":
        r.error = ProbeError("protocol", f"HTTP/2 was required but Chromium used {protocol} with {where}")
    if read.status is not None and read.stop_reason == "max_duration":
        r.notes.append(
            f"stream still open after max_duration {o.max_duration:g} s: "
            f"judged on the {len(arrivals)} event(s) that arrived"
        )
    elif (
        read.done
        and any(a.sent_ms is not None for a in arrivals)
        and not any(a.event == "done" for a in arrivals)
    ):
        r.notes.append("the stream ended without the streamcheck 'done' event")
    if arrivals:
        j = judge([a.arrive_ms for a in arrivals], [a.sent_ms for a in arrivals], r.request_sent_ms or 0.0)
        r.mode, r.buffering_delay_ms = j.mode, j.buffering_delay_ms
        r.notes.append(f"{j.mode} mode: {j.explanation}")
        r.verdict = j.verdict
    elif r.error is None:
        r.verdict = "inconclusive"
        r.notes.append("the stream ended without a single event")
    if r.error is not None:
        secrets = [str(v) for v in o.headers.values() if str(v)] + url_secrets(httpx.URL(read.url))
        r.verdict = "error"
        r.error = ProbeError(r.error.kind, redact(r.error.message, secrets))
    return r


def probe_browser(
    url: str, options: ProbeOptions | None = None, *, session: BrowserSession | None = None
) -> ProbeResult:
    """Read ``url`` in headless Chromium and judge it like :func:`streamprobe.probe`: a ``ProbeResult``.

    Takes the probe's :class:`~streamprobe.probe.ProbeOptions`: ``name``, ``http`` (``"h1"`` turns
    HTTP/2 off in Chromium; ``"h2"`` is checked after the fact, as a browser cannot be made to insist),
    ``headers``, ``timeout``, ``max_duration``, ``max_event_bytes``, ``verify`` (``False`` accepts any
    certificate -- lab certificates only; a CA file cannot be handed to Chromium and is a ``ValueError``)
    and ``add_nonce``. ``accept_encoding`` is ignored: Chromium sends its own, which is the point.
    ``session`` reuses a running :class:`BrowserSession` (the lab, doctor); else one is started and
    closed. Never raises for network trouble; raises :class:`BrowserUnavailable` without Chromium or
    Playwright and ``ValueError`` for an unusable URL or option.
    """
    from .probe import ProbeOptions, prepare_url

    o = options or ProbeOptions(name="browser")
    o.validate()
    if isinstance(o.verify, str):
        raise ValueError(
            "the browser reader cannot use a CA file (--cacert): use --insecure for lab certificates"
        )
    target = str(prepare_url(url, o))
    wanted = "h1" if o.http == "h1" else "auto"
    if session is not None and session.http != wanted:
        raise ValueError(
            f"this browser session was started with http={session.http!r}; {o.http!r} needs {wanted!r}"
        )
    sess = session or BrowserSession(http=wanted)
    try:
        read = sess.read(
            target,
            headers=dict(o.headers),
            timeout=o.timeout,
            max_duration=o.max_duration,
            max_event_bytes=o.max_event_bytes,
            insecure=o.verify is False,
        )
    finally:
        if session is None:
            sess.close()
    return to_probe_result(read, o)
