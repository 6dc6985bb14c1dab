"""probe(): one SSE request on a fresh connection, timed phase by phase and judged.

The clock starts when everything that is not the network is done: the client, its transport, the
TLS context and the request itself are built before it, and the young objects of the garbage
collector are collected, so that the first probe of a fresh process reads what curl reads.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib.util
import json
import re
import ssl
from collections import deque
from typing import TYPE_CHECKING, NamedTuple

import httpcore
import httpx

from ._version import package_version
from .body import JSON_CONTENT_TYPE
from .conclude import conclude
from .decoding import BROTLI, CorruptBody, Decoder, UnsupportedEncoding, default_accept_encoding
from .dial import DialBackend, StreamTimes, is_ip_literal, resolve
from .errors import classify
from .exceptions import InvalidRequest, ProbeFailure
from .formats import EventParser, parser_for
from .fronts import fronts_in
from .h2threads import SharedConnectionPool
from .messages import (
    HEADER_CHARS,
    WEBSOCKET_INSTALL_HINT,
    content_type_error,
    corrupt_body_error,
    end_note,
    excerpt_budget,
    http_status_error,
    max_duration_error,
    peer_name,
    shown_excerpt,
    stalled_error,
    timeout_error,
    too_large_error,
    unknown_encoding_error,
)
from .options import (
    STAMP_HEADER,
    ProbeOptions,
    is_streamcheck_url,
    is_websocket,
    is_websocket_url,
    prepare_url,
)
from .redact import display_url, mask_url_text, request_secrets, shown
from .result import ErrorInfo, EventArrival, ProbeResult
from .sse import EventTooLarge, SSEEvent, SSEParser, stamp_notes
from .timing import PhaseClock, Watchdog, now

if TYPE_CHECKING:
    from .shared import SharedConnections

__all__ = [
    "MAX_EVENTS",
    "DialTransport",
    "ProbeOptions",
    "SendTime",
    "check_request",
    "probe",
    "send_time_of",
    "ssl_context_for",
    "user_agent",
]

#: Events kept per probe: an endless fast stream must not grow memory without bound (each arrival is
#: recorded); 100k is far above any SSE answer a canary should probe (streamcheck sends at most 501).
MAX_EVENTS = 100_000
#: httpcore's trace names for the TCP connect and the TLS handshake.
CONNECTION_MARKS = ("connection.connect_tcp", "connection.start_tls")


class _TooManyEvents(Exception):
    pass


@functools.cache
def user_agent() -> str:
    return f"streamprobe/{package_version()} (+https://github.com/streampath)"


def ssl_context_for(verify: bool | str, http2: bool) -> ssl.SSLContext:
    """The TLS context for a probe. Loading the default CA bundle costs ~25 ms of CPU, so contexts
    for verify=True/False are shared between probes: one per ALPN offer, because httpcore sets the
    ALPN list on the context (always the same list for the same ``http2``)."""
    if isinstance(verify, str):
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            raise InvalidRequest(f"cannot use CA file {verify!r}: {exc}") from None
    return _shared_context(verify, http2)


@functools.cache
def _shared_context(verify: bool, http2: bool) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=verify)


@functools.cache
def _unused_context() -> ssl.SSLContext:
    """For http:// URLs (httpx's transport wants a context; it is never used)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class DialTransport(httpx.HTTPTransport):
    """httpx's transport with httpcore's pool built on our DialBackend (no retries). A probe's own has
    one connection; a pool that streams share (``streamprobe.shared``) may allow more, and its HTTP/2
    connections are safe to use from many threads (``streamprobe.h2threads``)."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        http1: bool,
        http2: bool,
        backend: DialBackend,
        max_connections: int = 1,
        max_keepalive: int = 0,
        *,
        shared: bool = False,
    ) -> None:
        super().__init__(verify=ssl_context, http1=http1, http2=http2, retries=0, trust_env=False)
        pool = SharedConnectionPool if shared else httpcore.ConnectionPool
        self._pool = pool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive,
            http1=http1,
            http2=http2,
            retries=0,
            network_backend=backend,
        )


def probe(
    url: str, options: ProbeOptions | None = None, *, connections: SharedConnections | None = None
) -> ProbeResult:
    """Probe one SSE URL, or one WebSocket (ws:// or wss://: ``streamprobe.websocket``). Never raises
    for network or server trouble (see ``result.error``); raises
    :class:`~streamprobe.exceptions.InvalidRequest` (a ValueError) for an unusable URL or option.

    ``connections``: read the stream over connections other reads share (HTTP/2 multiplexing,
    ``streamprobe.shared``) instead of a connection of its own; measured and judged the same way."""
    options = options or ProbeOptions()
    target = check_request(url, options)
    if is_websocket(target):  # the websockets package is imported only for these
        if connections is not None:
            raise InvalidRequest("a WebSocket has a connection of its own: it cannot share one")
        from .websocket import probe_websocket

        return probe_websocket(target, options)
    if connections is not None:
        connections.check(target, options)
    return _Probe(target, options, connections).run()


def check_request(url: str, options: ProbeOptions) -> httpx.URL:
    """The URL a read of ``url`` with ``options`` asks for; ValueError if no read could be made
    (a bad option or URL, or HTTP/3 where it cannot be had)."""
    options.validate()
    if is_websocket_url(url):
        options.validate_websocket()
        target = prepare_url(url, options, websocket=True)
        if importlib.util.find_spec("websockets") is None:  # the [ws] extra
            raise InvalidRequest(WEBSOCKET_INSTALL_HINT)
        return target
    options.validate_http()
    target = prepare_url(url, options)
    if options.http == "h3":
        from .http3 import check_available

        if target.scheme != "https":
            raise InvalidRequest(
                "HTTP/3 runs over QUIC with TLS: the URL must start with https://, "
                f"got {mask_url_text(url)!r}"
            )
        check_available()
    return target


class _Probe:
    def __init__(
        self, url: httpx.URL, options: ProbeOptions, shared: SharedConnections | None = None
    ) -> None:
        self.url = url
        self.o = options
        self.shared = shared
        host = url.host
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.where = peer_name(host, self.port)
        self.secrets = request_secrets(options.headers, url)
        self.result = ProbeResult(
            url=display_url(url),
            path_name=options.name,
            protocol="HTTP/2" if options.http == "h2" else "HTTP/3" if options.http == "h3" else "HTTP/1.1",
        )
        self.result.header_names = list(options.headers)
        # until events say otherwise
        self.result.mode = "streamcheck" if is_streamcheck_url(url) else "generic"
        self.headers = self._request_headers()
        http2 = options.http != "h1"
        self.ssl_context = (
            ssl_context_for(options.verify, http2) if url.scheme == "https" else _unused_context()
        )
        self.events: list[EventArrival] = []
        self.ended = False  # the body ended normally
        self.cut = False  # the read stopped itself at max_duration (between two decoded pieces)
        self.content_encoding: str | None = None  # as the server sent it (the result shows it redacted)
        # SSE until the response's Content-Type names another format
        self.parser: EventParser = SSEParser(options.max_event_bytes)
        # On a shared connection: when each of this stream's DATA frames was read (by any thread)
        self.frame_arrivals: deque[tuple[float, int]] | None = None
        self.shared_first_byte: float | None = None

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
            "User-Agent": user_agent(),
        }
        if self.o.stamp:
            defaults[STAMP_HEADER] = "1"
        if self.o.data is not None:
            defaults["Content-Type"] = JSON_CONTENT_TYPE
        headers.update({k: v for k, v in defaults.items() if k.lower() not in given})
        return headers

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> ProbeResult:
        o = self.o
        # The deadlines are armed before the watchdog's thread starts, so that nothing in the timed
        # phases wakes it (a handoff of the GIL): max_duration, and for an IP literal (no DNS comes
        # first) the connect's timeout, which the connect then only moves later.
        armed = now()
        deadlines = {"max_duration": armed + o.max_duration}
        if is_ip_literal(self.url.host):
            deadlines["phase"] = armed + o.timeout
        watchdog = Watchdog(deadlines)
        clock = PhaseClock(watchdog, o.timeout)
        backend: DialBackend
        transport: httpx.BaseTransport
        if self.shared is not None:
            # The connection's sockets belong to the shared pool: this read's deadlines end this read
            # (between pieces, or when the connection falls silent), never the other streams on it.
            transport, backend = self.shared.take()
        elif o.http == "h3":  # the same request and reading, over QUIC (aioquic is imported only here)
            from .http3.transport import H3Transport

            backend = self._own_backend(watchdog, clock)
            transport = H3Transport(backend, verify=o.verify, timeout=o.timeout)
        else:
            backend = self._own_backend(watchdog, clock)
            transport = DialTransport(self.ssl_context, o.http != "h2", o.http != "h1", backend)
        client = httpx.Client(transport=transport, timeout=httpx.Timeout(o.timeout), follow_redirects=False)
        self.clock, self.backend, self.watchdog = clock, backend, watchdog
        # Merging headers and cookies into a request is the client's work, not the network's.
        request = client.build_request(
            o.method, self.url, headers=self.headers, content=o.data, extensions={"trace": clock}
        )
        gc.collect(0)  # a young-generation collection would otherwise fall inside the first phases
        self.t0 = now()
        try:
            self._run(client, request)
        finally:
            self.end = now()
            watchdog.stop()
            if self.shared is None:  # a shared pool is closed by its owner
                with contextlib.suppress(Exception):
                    client.close()
        return self._finish()

    def _own_backend(self, watchdog: Watchdog, clock: PhaseClock) -> DialBackend:
        return DialBackend(
            [], watchdog=watchdog, clock=clock, require_h2=self.o.http == "h2", where=self.where
        )

    def _run(self, client: httpx.Client, request: httpx.Request) -> None:
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
            resp = client.send(request, stream=True)
            try:
                self._on_response(resp)
                self._read_stream(resp)
            finally:
                resp.close()
                network = resp.extensions.get("network_stream")
                if self.frame_arrivals is not None and isinstance(network, StreamTimes):
                    network.forget(resp.extensions["stream_id"])
        except Exception as exc:
            if r.error is None:
                r.error = self._classify(exc)

    def _classify(self, exc: BaseException) -> ErrorInfo:
        if isinstance(exc, ProbeFailure):  # already classified where it was raised
            return exc.error
        fired = self.watchdog.fired
        phase = self.clock.phase
        if fired == "max_duration" and phase != "body":
            return max_duration_error(self.where, self.o.max_duration)
        if fired == "phase":
            return timeout_error(phase, self.where, self.o.timeout)
        err = classify(exc, phase=phase, where=self.where, timeout=self.o.timeout)
        if (
            err.kind == "protocol"
            and self.o.http == "h2"
            and self.url.scheme == "http"
            and phase in ("headers", "connect")
        ):
            return ErrorInfo(
                "protocol",
                f"HTTP/2 was required but {self.where} did not speak HTTP/2 over cleartext "
                "(prior knowledge; browsers use HTTP/2 only over TLS): "
                f"{str(exc)[:120] or type(exc).__name__}",
            )
        return err

    def _on_response(self, resp: httpx.Response) -> None:
        r = self.result
        r.status = resp.status_code
        network, stream_id = resp.extensions.get("network_stream"), resp.extensions.get("stream_id")
        if isinstance(network, StreamTimes) and isinstance(stream_id, int):
            self.frame_arrivals = network.data_arrivals(stream_id)
            self.shared_first_byte = network.first_byte_of(stream_id)
        r.protocol = "HTTP/2" if resp.http_version == "HTTP/2" else "HTTP/1.1"
        if resp.http_version == "HTTP/3":
            r.protocol = "HTTP/3"
        if "alt-svc" in resp.headers:
            r.alt_svc = shown(resp.headers["alt-svc"], self.secrets, 300)
        r.via = fronts_in(resp.headers)
        self.content_encoding = resp.headers.get("content-encoding")
        if self.content_encoding is not None:  # a server can echo anything into it
            r.content_encoding = shown(self.content_encoding, self.secrets, HEADER_CHARS)
        content_type = resp.headers.get("content-type")
        if not 200 <= resp.status_code < 300:
            location = resp.headers.get("location")
            redirect_to = None
            if 300 <= resp.status_code < 400 and location:
                redirect_to = _redirect_target(location)
            excerpt = self._excerpt(resp)
            error = http_status_error(
                self.where,
                resp.status_code,
                resp.reason_phrase,
                excerpt,
                redirect_to=redirect_to,
                secrets=self.secrets,
            )
            raise ProbeFailure.of(error)
        parser = parser_for(resp.headers, self.o.max_event_bytes)
        if parser is None:
            excerpt = self._excerpt(resp)
            raise ProbeFailure.of(content_type_error(self.where, content_type, excerpt, secrets=self.secrets))
        self.parser = parser

    def _excerpt(self, resp: httpx.Response) -> str:
        """The body's first bytes, decoded, redacted and sanitised, read within the timeout."""
        self.watchdog.set("phase", now() + self.o.timeout)
        wanted = excerpt_budget(self.secrets)
        data = bytearray()
        ended = False  # the whole body was read: nothing was cut
        try:
            decoder = Decoder(self.content_encoding)
            for raw in resp.iter_raw():
                for piece in decoder.iter_decode(raw):
                    data += piece
                    if len(data) >= wanted or self._out_of_time() or self.watchdog.fired:
                        break
                if len(data) >= wanted or self._out_of_time() or self.watchdog.fired:
                    break
            else:
                ended = True
        except Exception:
            pass  # the excerpt is what could be read and decoded
        finally:
            self.watchdog.set("phase", None)
        text = bytes(data[:wanted]).decode("utf-8", errors="replace")
        return shown_excerpt(text, self.secrets, cut=not ended or len(data) > wanted)

    def _out_of_time(self) -> bool:
        """max_duration has passed (checked between decoded pieces: decoding is bounded like reading)."""
        return now() >= self.t0 + self.o.max_duration or self.watchdog.fired == "max_duration"

    def _await_data(self) -> None:
        """Move the silence bound: ``timeout`` from now without a body byte is ``stalled``. Only body
        bytes move it (over HTTP/2, DATA frames): a server that sends PINGs alone is silent. Always
        later than before, so the watchdog is not woken for it."""
        self.watchdog.set("phase", now() + self.o.timeout)

    def _read_stream(self, resp: httpx.Response) -> None:
        try:
            decoder = Decoder(self.content_encoding)
        except UnsupportedEncoding as exc:
            error = unknown_encoding_error(self.where, exc.name, exc.why, self.secrets)
            raise ProbeFailure.of(error) from None
        parser = self.parser
        try:
            self._await_data()
            for raw in resp.iter_raw():
                if not raw:
                    continue
                t = self._arrival(len(raw))
                self._await_data()  # not silent while these bytes are parsed
                # One chunk of a few KB may inflate to a GiB: the deadline is checked between pieces.
                for piece in decoder.iter_decode(raw):
                    self._record(parser.feed(piece), t)
                    if self._out_of_time():
                        self.cut = True
                        return
                self._await_data()
            # A socket the watchdog shut down reads as the end of a close-delimited body.
            if self.watchdog.fired == "phase":
                raise ProbeFailure.of(stalled_error(self.o.timeout, len(self.events)))
            if self.watchdog.fired == "max_duration":
                self.cut = True
                return
            for piece in decoder.iter_flush():
                self._record(parser.feed(piece), now())
                if self._out_of_time():
                    self.cut = True
                    return
        except EventTooLarge as exc:
            raise ProbeFailure.of(too_large_error(self.where, exc.limit)) from None
        except CorruptBody as exc:
            raise ProbeFailure.of(corrupt_body_error(self.where, exc.encoding, exc.detail)) from None
        except _TooManyEvents:
            raise ProbeFailure(
                "too_large",
                f"{self.where} sent more than {MAX_EVENTS} events in one stream; a probe keeps at most "
                "that many (point it at a bounded stream such as streamcheck)",
            ) from None
        except Exception as exc:
            if self.watchdog.fired == "max_duration":
                self.cut = True
                return  # judged on what arrived (see _finish)
            err = self._classify(exc)
            if err.kind == "stalled":
                err = stalled_error(self.o.timeout, len(self.events))
            raise ProbeFailure.of(err) from None
        self.ended = self.watchdog.fired != "max_duration"

    def _arrival(self, size: int) -> float:
        """When the socket read returned these bytes, not when parsing reached them: the events of one
        read (a proxy's block) arrived together. On a shared HTTP/2 connection, the read that completed
        this DATA frame, whichever thread made it. Over QUIC: now; on a shared QUIC connection, the read
        of the datagram that carried these bytes."""
        frames = self.frame_arrivals
        if frames:
            at, length = frames.popleft()
            if length == size:
                return at
            frames.clear()  # out of step (never seen): the connection's latest read from now on
            self.frame_arrivals = None
        return self.backend.last_read_at or now()

    def _record(self, events: list[SSEEvent], t: float) -> None:
        if len(self.events) + len(events) > MAX_EVENTS:
            raise _TooManyEvents
        for ev in events:
            # Plain text is never judged by a send time it happens to contain (generic only).
            sent_ms, seq, _ = send_time_of(ev.data) if self.parser.send_times else SendTime()
            self.events.append(
                EventArrival((t - self.t0) * 1000, ev.event, sent_ms, seq, len(ev.data), ev.stamp_ms)
            )

    # -- the result ----------------------------------------------------------------------------

    def _finish(self) -> ProbeResult:
        r, clock, t0 = self.result, self.clock, self.t0
        r.clock_origin = t0

        def span(start: str, end: str) -> float | None:
            a, b = clock.marks.get(start), clock.marks.get(end)
            return None if a is None or b is None else (b - a) * 1000

        # over QUIC: see streamprobe.http3 for what connect and tls measure there
        connect, tls = ("quic.connect", "quic.handshake") if self.o.http == "h3" else CONNECTION_MARKS
        r.timings_ms["connect"] = span(f"{connect}.started", f"{connect}.complete")
        r.timings_ms["tls"] = span(f"{tls}.started", f"{tls}.complete")
        if self.shared_first_byte is not None:  # read by whichever thread held the connection then
            first: float | None = self.shared_first_byte
        elif r.protocol == "HTTP/2" or self.backend.first_byte_at is None:
            first = clock.first(
                "http11.receive_response_headers.complete",
                "http2.receive_response_headers.complete",
                "http3.receive_response_headers.complete",
            )
        else:
            first = self.backend.first_byte_at
        r.timings_ms["ttfb"] = None if first is None else (first - t0) * 1000
        if self.backend.alpn == "h2" and r.status is None:
            r.protocol = "HTTP/2"
        sent = clock.first(
            "http11.send_request_headers.started",
            "http2.send_request_headers.started",
            "http3.send_request_headers.started",
        )
        r.request_sent_ms = None if sent is None else (sent - t0) * 1000
        r.timings_ms["total"] = (self.end - t0) * 1000
        r.arrivals = self.events
        cut = r.status is not None and (self.cut or self.watchdog.fired == "max_duration") and r.error is None
        note = end_note(self.events, cut=cut, ended=self.ended, max_duration=self.o.max_duration)
        if note:
            r.notes.append(note)
        asked = self.o.stamp and self.parser.stampable
        r.notes += stamp_notes(self.parser.send_stamps.bad, asked=asked, arrivals=self.events)
        return conclude(r, self.secrets)


class SendTime(NamedTuple):
    """What an event's data says of its sending (streamcheck's JSON fields); each None when absent."""

    sent_ms: float | None = None
    seq: int | None = None
    event: str | None = None  # over a WebSocket, where no SSE field names it: "tick", "done"


def send_time_of(data: str) -> SendTime:
    """The send time, ``seq`` and ``event`` of an event's data (an SSE event's, a WebSocket message's)
    when it is a JSON object carrying ``sent_ms``, as streamcheck's events are; empty otherwise."""
    if '"sent_ms"' not in data:  # most events: no JSON parse
        return SendTime()
    try:
        payload = json.loads(data)
    except ValueError:
        return SendTime()
    if not isinstance(payload, dict):
        return SendTime()
    value, s, event = payload.get("sent_ms"), payload.get("seq"), payload.get("event")
    sent_ms = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    seq = s if isinstance(s, int) and not isinstance(s, bool) else None
    return SendTime(sent_ms, seq, event if isinstance(event, str) else None)


def _redirect_target(location: str) -> str:
    """A redirect's Location without what may carry a credential: userinfo, query and fragment."""
    try:
        return str(httpx.URL(location).copy_with(userinfo=b"", query=None, fragment=None))
    except (httpx.InvalidURL, ValueError, TypeError):
        return mask_url_text(re.split(r"[?#]", location, maxsplit=1)[0])
