"""An httpx transport that sends the probe's request over HTTP/3 (one QUIC connection per request).

The probe builds the request and reads the response exactly as over TCP; this transport turns the
request into HTTP/3 HEADERS, waits for the response's HEADERS and hands the body over as it arrives.
Phase marks go to the request's ``trace`` callback (the probe's ``PhaseClock``): ``quic.connect.*``,
``quic.handshake.*``, ``http3.send_request_headers.*`` and ``http3.receive_response_headers.complete``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import httpx

from ..timing import Watchdog
from . import failures, trust
from .session import Address, Headers, QuicSession, cafile_of


class Dialled(Protocol):
    """What the transport takes from the probe's dialler: where to connect, and the probe's watchdog."""

    addresses: list[Address]
    where: str
    watchdog: Watchdog


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
    def __init__(self, session: QuicSession) -> None:
        self._session = session

    def __iter__(self) -> Iterator[bytes]:
        yield from self._session.body()

    def close(self) -> None:
        """The connection is closed with the transport (the probe closes its client at the end)."""


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
        port = request.url.port or 443
        session = QuicSession(
            addresses=self._backend.addresses,
            server_name=request.url.host,
            verify=self._verify,
            timeout=self._timeout,
            watchdog=self._backend.watchdog,
            trace=trace,
            where=self._backend.where,
            port=port,
        )
        self._session = session
        session.handshake()
        session.send_request(request_headers(request))
        head = session.response_head()
        status = int(dict(head)[b":status"])
        fields = [(k, v) for k, v in head if not k.startswith(b":")]
        try:
            return httpx.Response(
                status,
                headers=fields,
                stream=_Body(session),
                extensions={"http_version": b"HTTP/3"},
                request=request,
            )
        except (ValueError, TypeError) as exc:
            raise failures.invalid_response(self._backend.where, str(exc)) from None

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
