"""probe(): one SSE request on a fresh connection, timed phase by phase and judged."""

from __future__ import annotations

import contextlib
import functools
import json
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpcore
import httpx

from .decoding import BROTLI, Decoder, UnsupportedEncoding, default_accept_encoding
from .errors import ProbeFailure, classify, redact, sanitise, timeout_error
from .result import EventArrival, ProbeError, ProbeResult
from .sse import EventTooLarge, SSEEvent, SSEParser
from .timing import DialBackend, PhaseClock, Resolver, Watchdog, is_ip_literal, now, resolve
from .verdict import judge

USER_AGENT = "streamprobe/0.1 (+https://github.com/streampath)"
EXCERPT_BYTES = 200
#: Events kept per probe: an endless fast stream must not grow memory without bound (each arrival is
#: recorded); 100k is far above any SSE answer a canary should probe (streamcheck sends at most 501).
MAX_EVENTS = 100_000


class _TooManyEvents(Exception):
    pass


@dataclass
class ProbeOptions:
    name: str = "probe"  # path_name in the result
    http: str = "auto"  # "auto" (offer h2 + h1 via ALPN) | "h1" | "h2" (HTTP/2 required)
    headers: Mapping[str, str] = field(default_factory=dict)  # values are secret
    accept_encoding: str | None = None  # None: like a browser ("gzip, deflate, br"; br only if decodable)
    timeout: float = 10.0  # connect, TLS, waiting for headers, any silence in the stream
    max_duration: float = 60.0  # the whole probe
    max_event_bytes: int = 1 << 20
    verify: bool | str = True  # True | False (insecure) | path to a CA bundle (PEM)
    add_nonce: bool = True  # streamcheck URLs get a unique `nonce` query parameter
    resolver: Resolver | None = None  # (host, port) -> [(family, sockaddr)]; default getaddrinfo

    def validate(self) -> None:
        if self.http not in ("auto", "h1", "h2"):
            raise ValueError(f"http must be 'auto', 'h1' or 'h2', not {self.http!r}")
        if not self.timeout > 0:
            raise ValueError("timeout must be > 0 seconds")
        if not self.max_duration > 0:
            raise ValueError("max_duration must be > 0 seconds")
        if self.max_event_bytes < 1:
            raise ValueError("max_event_bytes must be >= 1")
        for name, value in self.headers.items():
            if not name or any(c in name for c in ":\r\n ") or any(c in str(value) for c in "\r\n"):
                raise ValueError(f"invalid header {name!r} (the value is not shown)")
            if not str(value).isascii():  # httpx sends values as ASCII; its error would show a character
                raise ValueError(f"header {name!r}: the value must be ASCII (the value is not shown)")


def is_streamcheck_url(url: httpx.URL) -> bool:
    return url.path.rstrip("/").endswith("/streamcheck")


def display_url(url: httpx.URL) -> str:
    """The URL as results show it: userinfo is a credential (httpx sends it as Basic auth), so it
    is masked as ``***``."""
    return str(url.copy_with(userinfo=b"***")) if url.userinfo else str(url)


def url_secrets(url: httpx.URL) -> list[str]:
    """Credentials carried by the URL itself (the password, or a token given as the user name)."""
    return [v for v in (url.password or url.username,) if v]


def prepare_url(url: str, options: ProbeOptions) -> httpx.URL:
    """Validate the URL (ValueError if unusable) and add a nonce to streamcheck URLs."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"invalid URL {url!r}: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"URL must start with http:// or https://, got {url!r}")
    if not parsed.host:
        raise ValueError(f"URL has no host: {url!r}")
    if options.add_nonce and is_streamcheck_url(parsed) and "nonce" not in parsed.params:
        parsed = parsed.copy_add_param("nonce", uuid.uuid4().hex[:16])
    return parsed


def ssl_context_for(verify: bool | str, http2: bool) -> ssl.SSLContext:
    """The TLS context for a probe. Loading the default CA bundle costs ~25 ms of CPU, so contexts
    for verify=True/False are shared between probes: one per ALPN offer, because httpcore sets the
    ALPN list on the context (always the same list for the same ``http2``)."""
    if isinstance(verify, str):
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot use CA file {verify!r}: {exc}") from None
    return _shared_context(verify, http2)


@functools.cache
def _shared_context(verify: bool, http2: bool) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=verify)


@functools.cache
def _unused_context() -> ssl.SSLContext:
    """For http:// URLs (httpx's transport wants a context; it is never used)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class _DialTransport(httpx.HTTPTransport):
    """httpx's transport with httpcore's pool built on our DialBackend (one connection, no retries)."""

    def __init__(self, ssl_context: ssl.SSLContext, http1: bool, http2: bool, backend: DialBackend) -> None:
        super().__init__(verify=ssl_context, http1=http1, http2=http2, retries=0, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=1,
            max_keepalive_connections=0,
            http1=http1,
            http2=http2,
            retries=0,
            network_backend=backend,
        )


def probe(url: str, options: ProbeOptions | None = None) -> ProbeResult:
    """Probe one SSE URL. Never raises for network or server trouble (see ``result.error``);
    raises ValueError for an unusable URL or option."""
    options = options or ProbeOptions()
    options.validate()
    target = prepare_url(url, options)
    return _Probe(target, options).run()


class _Probe:
    def __init__(self, url: httpx.URL, options: ProbeOptions) -> None:
        self.url = url
        self.o = options
        host = url.host
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.where = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        self.secrets = [str(v) for v in options.headers.values() if str(v)] + url_secrets(url)
        self.result = ProbeResult(
            url=display_url(url),
            path_name=options.name,
            protocol="HTTP/2" if options.http == "h2" else "HTTP/1.1",
        )
        self.result.header_names = list(options.headers)
        self.result.mode = (
            "streamcheck" if is_streamcheck_url(url) else "generic"
        )  # until events say otherwise
        self.headers = self._request_headers()
        http2 = options.http != "h1"
        self.ssl_context = (
            ssl_context_for(options.verify, http2) if url.scheme == "https" else _unused_context()
        )
        self.events: list[EventArrival] = []
        self.last_data_at: float | None = None

    def _request_headers(self) -> dict[str, str]:
        accept_encoding = self.o.accept_encoding
        if accept_encoding is None:
            accept_encoding, note = default_accept_encoding()
            if note:
                self.result.notes.append(note)
        elif BROTLI is None and "br" in [e.strip().split(";")[0] for e in accept_encoding.split(",")]:
            accept_encoding = (
                ", ".join(e.strip() for e in accept_encoding.split(",") if e.strip().split(";")[0] != "br")
                or "identity"
            )
            self.result.notes.append(
                "br removed from Accept-Encoding: no brotli module installed to decode it"
            )
        headers = {name: str(value) for name, value in self.o.headers.items()}
        given = {name.lower() for name in headers}
        defaults = {
            "Accept": "text/event-stream",
            "Cache-Control": "no-cache",
            "Accept-Encoding": accept_encoding,
            "User-Agent": USER_AGENT,
        }
        headers.update({k: v for k, v in defaults.items() if k.lower() not in given})
        return headers

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> ProbeResult:
        o = self.o
        require_h2 = o.http == "h2"
        watchdog = Watchdog()
        clock = PhaseClock(watchdog, o.timeout)
        backend = DialBackend([], watchdog=watchdog, clock=clock, require_h2=require_h2, where=self.where)
        transport = _DialTransport(self.ssl_context, o.http != "h2", o.http != "h1", backend)
        client = httpx.Client(transport=transport, timeout=httpx.Timeout(o.timeout), follow_redirects=False)
        self.clock, self.backend, self.watchdog = clock, backend, watchdog
        self.t0 = t0 = now()  # the clock starts after the client exists
        watchdog.set("max_duration", t0 + o.max_duration)
        try:
            self._run(client)
        finally:
            self.end = now()
            watchdog.stop()
            with contextlib.suppress(Exception):
                client.close()
        return self._finish()

    def _run(self, client: httpx.Client) -> None:
        r, o = self.result, self.o
        try:
            if is_ip_literal(self.url.host):
                addresses = resolve(self.url.host, self.port, o.timeout)
            else:
                started = now()
                # max_duration bounds the whole probe, DNS included
                budget = min(o.timeout, max(self.t0 + o.max_duration - started, 0.001))
                try:
                    addresses = resolve(self.url.host, self.port, budget, o.resolver)
                except ProbeFailure as exc:
                    r.error = exc.error
                    return
                r.timings_ms["dns"] = (now() - started) * 1000
            self.backend.addresses = addresses
            shown = addresses[0][1][0]
            if str(shown) != self.url.host:
                self.where = self.backend.where = f"{self.where} ({shown})"
            with client.stream(
                "GET", self.url, headers=self.headers, extensions={"trace": self.clock}
            ) as resp:
                self._on_response(resp)
                self._read_stream(resp)
        except Exception as exc:
            if r.error is None:
                r.error = self._classify(exc)

    def _classify(self, exc: BaseException) -> ProbeError:
        fired = self.watchdog.fired
        phase = self.clock.phase
        if fired == "max_duration" and phase != "body":
            return ProbeError(
                "timeout", f"no response from {self.where} within max_duration {self.o.max_duration:g} s"
            )
        if fired == "phase":
            return timeout_error(phase, self.where, self.o.timeout)
        err = classify(exc, phase=phase, where=self.where, timeout=self.o.timeout)
        if (
            err.kind == "protocol"
            and self.o.http == "h2"
            and self.url.scheme == "http"
            and phase in ("headers", "connect")
        ):
            return ProbeError(
                "protocol",
                f"HTTP/2 was required but {self.where} did not speak HTTP/2 over cleartext "
                "(prior knowledge; browsers use HTTP/2 only over TLS): "
                f"{str(exc)[:120] or type(exc).__name__}",
            )
        return err

    def _on_response(self, resp: httpx.Response) -> None:
        r = self.result
        r.status = resp.status_code
        r.protocol = "HTTP/2" if resp.http_version == "HTTP/2" else "HTTP/1.1"
        r.content_encoding = resp.headers.get("content-encoding")
        content_type = resp.headers.get("content-type", "")
        if not 200 <= resp.status_code < 300:
            message = f"{self.where} answered HTTP {resp.status_code} {resp.reason_phrase}".rstrip()
            location = resp.headers.get("location")
            if 300 <= resp.status_code < 400 and location:
                # without what may carry a credential: userinfo, query and fragment
                target = httpx.URL(location).copy_with(userinfo=b"", query=None, fragment=None)
                message += f", redirecting to {sanitise(str(target))}"
            excerpt = self._excerpt(resp)
            if excerpt:
                message += f"; the body starts: {excerpt}"
            raise ProbeFailure("http_status", message)
        if content_type.split(";")[0].strip().lower() != "text/event-stream":
            excerpt = self._excerpt(resp)
            shown = content_type or "no Content-Type"
            message = f"expected Content-Type text/event-stream but {self.where} sent {sanitise(shown, 80)}"
            if "html" in content_type.lower() or excerpt.lstrip().lower().startswith(("<!doctype", "<html")):
                message += " (an HTML page: often a login or error page in front of the service)"
            message += f"; the body starts: {excerpt}" if excerpt else "; the body is empty"
            raise ProbeFailure("content_type", message)

    def _excerpt(self, resp: httpx.Response) -> str:
        """The body's first bytes, decoded and sanitised, read within the timeout."""
        self.watchdog.set("phase", now() + self.o.timeout)
        # Read a little more than shown, so that a secret echoed across the cut is still redacted.
        wanted = EXCERPT_BYTES + max((len(s.encode()) for s in self.secrets), default=0)
        data = b""
        try:
            decoder = Decoder(resp.headers.get("content-encoding"))
            for raw in resp.iter_raw():
                for piece in decoder.iter_decode(raw):
                    data += piece
                    if len(data) >= wanted:
                        break
                if len(data) >= wanted:
                    break
        except Exception:
            pass
        finally:
            self.watchdog.set("phase", None)
        text = redact(data[:wanted].decode("utf-8", errors="replace"), self.secrets)
        return sanitise(text, EXCERPT_BYTES)

    def _read_stream(self, resp: httpx.Response) -> None:
        r = self.result
        try:
            decoder = Decoder(r.content_encoding)
        except UnsupportedEncoding as exc:
            raise ProbeFailure("protocol", str(exc)) from None
        parser = SSEParser(self.o.max_event_bytes)
        try:
            for raw in resp.iter_raw():
                t = now()
                for piece in decoder.iter_decode(raw):
                    self._record(parser.feed(piece), t)
            self._record(parser.feed(decoder.flush()), now())
        except EventTooLarge as exc:
            raise ProbeFailure(
                "too_large",
                f"an event from {self.where} grew past max_event_bytes ({exc.limit} bytes) without ending "
                f"(a line without a newline, or a stream that is not SSE)",
            ) from None
        except _TooManyEvents:
            raise ProbeFailure(
                "too_large",
                f"{self.where} sent more than {MAX_EVENTS} events in one stream; a probe keeps at most that "
                "many (point it at a bounded stream such as streamcheck)",
            ) from None
        except Exception as exc:
            if self.watchdog.fired == "max_duration":
                self._note_cut()
                return
            err = self._classify(exc)
            if err.kind == "stalled":
                err = ProbeError("stalled", f"{err.message} after {len(self.events)} event(s)")
            raise ProbeFailure(err.kind, err.message) from None
        if self.watchdog.fired == "max_duration":
            self._note_cut()
        elif any(e.sent_ms is not None for e in self.events) and not any(
            e.event == "done" for e in self.events
        ):
            r.notes.append("the stream ended without the streamcheck 'done' event")

    def _note_cut(self) -> None:
        self.result.notes.append(
            f"stream still open after max_duration {self.o.max_duration:g} s: "
            f"judged on the {len(self.events)} event(s) that arrived"
        )

    def _record(self, events: list[SSEEvent], t: float) -> None:
        if len(self.events) + len(events) > MAX_EVENTS:
            raise _TooManyEvents
        for ev in events:
            sent_ms: float | None = None
            seq: int | None = None
            if '"sent_ms"' in ev.data:
                try:
                    payload = json.loads(ev.data)
                except ValueError:
                    payload = None
                if isinstance(payload, dict):
                    value = payload.get("sent_ms")
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        sent_ms = float(value)
                    s = payload.get("seq")
                    seq = s if isinstance(s, int) and not isinstance(s, bool) else None
            self.events.append(EventArrival((t - self.t0) * 1000, ev.event, sent_ms, seq, len(ev.data)))

    # -- the result ----------------------------------------------------------------------------

    def _finish(self) -> ProbeResult:
        r, clock, t0 = self.result, self.clock, self.t0
        r.clock_origin = t0

        def span(start: str, end: str) -> float | None:
            a, b = clock.marks.get(start), clock.marks.get(end)
            return None if a is None or b is None else (b - a) * 1000

        r.timings_ms["connect"] = span("connection.connect_tcp.started", "connection.connect_tcp.complete")
        r.timings_ms["tls"] = span("connection.start_tls.started", "connection.start_tls.complete")
        if r.protocol == "HTTP/2" or self.backend.first_byte_at is None:
            first = clock.first(
                "http11.receive_response_headers.complete", "http2.receive_response_headers.complete"
            )
        else:
            first = self.backend.first_byte_at
        r.timings_ms["ttfb"] = None if first is None else (first - t0) * 1000
        if self.backend.alpn == "h2" and r.status is None:
            r.protocol = "HTTP/2"
        sent = clock.first("http11.send_request_headers.started", "http2.send_request_headers.started")
        r.request_sent_ms = None if sent is None else (sent - t0) * 1000
        r.arrivals = self.events
        r.events = len(self.events)
        if self.events:
            r.timings_ms["first_event"] = self.events[0].arrive_ms
        r.timings_ms["total"] = (self.end - t0) * 1000
        if self.events:
            j = judge(
                [e.arrive_ms for e in self.events], [e.sent_ms for e in self.events], r.request_sent_ms or 0.0
            )
            r.mode, r.buffering_delay_ms = j.mode, j.buffering_delay_ms
            r.notes.append(f"{j.mode} mode: {j.explanation}")
            r.verdict = j.verdict if r.error is None else "error"
        elif r.error is None:
            r.verdict = "inconclusive"
            r.notes.append("the stream ended without a single event")
        if r.error is not None:
            r.verdict = "error"
            r.error = ProbeError(r.error.kind, redact(r.error.message, self.secrets))
        r.notes = [redact(n, self.secrets) for n in r.notes]
        return r
