"""httpx transports that send the probe's request over HTTP/3: one QUIC connection per request
(:class:`H3Transport`), or one that many reads share (:class:`SharedH3Transport`, ``streamprobe.shared``).

The probe builds the request and reads the response exactly as over TCP; a transport turns the request
into HTTP/3 HEADERS (and its body, if any, into DATA), waits for the response's HEADERS and hands the
body over as it arrives.
Phase marks go to the request's ``trace`` callback (the probe's ``PhaseClock``): ``quic.connect.*``,
``quic.handshake.*``, ``http3.send_request_headers.*`` and ``http3.receive_response_headers.complete``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import Any, Protocol

import httpx

from ..timing import PhaseClock, Watchdog
from . import failures, trust
from .session import Address, Headers, QuicSession, RequestStream, cafile_of


class Dialled(Protocol):
    """What the transport takes from the probe's dialler: where to connect, and the probe's watchdog."""

    addresses: list[Address]
    where: str
    watchdog: Watchdog
    opened: int


# Connection-specific fields must not be sent over HTTP/3 (RFC 9114 section 4.2); Host becomes :authority.
_NOT_SENT = {
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"upgrade",
    b"host",
    b"te",
}


def request_headers(request: httpx.Request) -> Headers:
    """The request as HTTP/3 fields: pseudo-headers first, names in lower case."""
    url = request.url
    authority = request.headers.get("host") or url.netloc.decode("ascii")
    fields: Headers = [
        (b":method", request.method.encode("ascii")),
        (b":scheme", b"https"),
        (b":authority", authority.encode("ascii")),
        (b":path", url.raw_path),
    ]
    for name, value in request.headers.raw:
        lower = name.lower()
        if lower not in _NOT_SENT:
            fields.append((lower, value))
    return fields


class _Body(httpx.SyncByteStream):
    def __init__(self, session: QuicSession, stream: RequestStream) -> None:
        self._session = session
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        for _, data in self._session.body(self._stream):
            yield data

    def close(self) -> None:
        """The connection is closed with the transport (the probe closes its client at the end)."""


class _SharedBody(httpx.SyncByteStream):
    """A response on a shared connection: each piece's read time goes to ``StreamTimes``, and closing
    it cancels what the server has not sent yet."""

    def __init__(self, session: QuicSession, stream: RequestStream, times: StreamTimes) -> None:
        self._session = session
        self._stream = stream
        self._times = times

    def __iter__(self) -> Iterator[bytes]:
        for at, data in self._session.body(self._stream, self._times.watchdog):
            self._times.arrivals.append((at, len(data)))
            yield data

    def close(self) -> None:
        self._session.cancel(self._stream)


class StreamTimes:
    """What the probe reads off a response on a shared connection (``network_stream``, as over HTTP/2):
    when its HEADERS arrived and when each piece of its body was read, by the connection's thread."""

    def __init__(self, stream: RequestStream, watchdog: Watchdog | None) -> None:
        self.stream = stream
        self.watchdog = watchdog
        self.arrivals: deque[tuple[float, int]] = deque()

    def data_arrivals(self, stream_id: int) -> deque[tuple[float, int]] | None:
        return self.arrivals if stream_id == self.stream.stream_id else None

    def first_byte_of(self, stream_id: int) -> float | None:
        return self.stream.head_at if stream_id == self.stream.stream_id else None

    def forget(self, stream_id: int) -> None:
        """Nothing is kept for the stream beyond this object."""


class H3Transport(httpx.BaseTransport):
    """Dials the addresses the probe resolved (``backend.addresses``), as its TCP transport does."""

    def __init__(self, backend: Dialled, *, verify: bool | str, timeout: float) -> None:
        self._backend = backend
        # The QUIC handshake has its own bound (QuicSession.handshake, kind protocol with the reason), not
        # the TCP connect's "phase" deadline the probe may have armed already. Dropped here, before the
        # probe's clock starts, so that waking the watchdog's thread is not timed.
        backend.watchdog.set("phase", None)
        if verify is not False:
            trust.ca_store(cafile_of(verify))  # loaded now, before the probe's clock starts
        self._verify = verify
        self._timeout = timeout
        self._session: QuicSession | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        trace: Any = request.extensions.get("trace") or (lambda name, info: None)
        session = _session_for(request, self._backend, self._verify, self._timeout, trace)
        self._session = session
        session.handshake()
        stream = session.send_request(request_headers(request), request.read())
        head = session.response_head(stream)
        return _response(request, head, _Body(session, stream), {}, self._backend.where)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


class SharedH3Transport(httpx.BaseTransport):
    """One QUIC connection that the reads given this transport share, opened by the first of them (its
    ``connect`` and ``tls`` are that read's) and opened again by the next read after it failed."""

    def __init__(self, backend: Dialled, *, verify: bool | str, timeout: float) -> None:
        self._backend = backend
        if verify is not False:
            trust.ca_store(cafile_of(verify))
        self._verify = verify
        self._timeout = timeout
        self._session: QuicSession | None = None
        self._opening = threading.Lock()
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        trace: Any = request.extensions.get("trace") or (lambda name, info: None)
        # The read's own deadlines (max_duration, its silence bound) end its waits on the connection.
        watchdog = trace.watchdog if isinstance(trace, PhaseClock) else None
        session = self._connected(request, trace)
        stream = session.send_request(request_headers(request), request.read(), trace)
        try:
            head = session.response_head(stream, watchdog)
        except BaseException:
            session.cancel(stream)
            raise
        times = StreamTimes(stream, watchdog)
        extensions = {"network_stream": times, "stream_id": stream.stream_id}
        return _response(request, head, _SharedBody(session, stream, times), extensions, self._backend.where)

    def _connected(self, request: httpx.Request, trace: Any) -> QuicSession:
        with self._opening:
            if self._closed:
                raise failures.closed(
                    self._backend.where, 0, False, "the run ended", handshake=False, by_peer=False
                )
            if self._session is not None and self._session.usable:
                return self._session
            if self._session is not None:
                self._session.close()  # failed: its readers have their errors
            session = _session_for(request, self._backend, self._verify, self._timeout, trace)
            self._session = session
            session.handshake()
            session.share()
            self._backend.opened += 1
            return session

    def close(self) -> None:
        with self._opening:
            self._closed = True
            session, self._session = self._session, None
        if session is not None:
            session.close()


def _session_for(
    request: httpx.Request, backend: Dialled, verify: bool | str, timeout: float, trace: Any
) -> QuicSession:
    """A connection (not yet made) to the addresses the probe resolved for ``request``."""
    return QuicSession(
        addresses=backend.addresses,
        server_name=request.url.host,
        verify=verify,
        timeout=timeout,
        watchdog=backend.watchdog,
        trace=trace,
        where=backend.where,
        port=request.url.port or 443,
    )


def _response(
    request: httpx.Request,
    head: Headers,
    stream: httpx.SyncByteStream,
    extensions: dict[str, Any],
    where: str,
) -> httpx.Response:
    status = int(dict(head)[b":status"])
    fields = [(k, v) for k, v in head if not k.startswith(b":")]
    try:
        return httpx.Response(
            status,
            headers=fields,
            stream=stream,
            extensions={"http_version": b"HTTP/3", **extensions},
            request=request,
        )
    except (ValueError, TypeError) as exc:
        raise failures.invalid_response(where, str(exc)) from None
