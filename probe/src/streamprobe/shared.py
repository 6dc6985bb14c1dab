"""Connections that many reads share, as a browser shares them: over HTTP/2 and HTTP/3 every stream to
an origin is multiplexed on one connection (``count`` connections here, streams handed out round robin).

Each read is still measured and judged by ``streamprobe.probe`` (the same request, timings, reading
and verdict); only where its bytes travel differs:

* ``connect``/``tls`` are timed by the stream that opened the connection (``None`` for the others);
* an event's arrival is the connection's latest socket read when the stream reads it: never before
  the bytes arrived, and never later than a read of its own would have seen them (over QUIC, the read
  of the datagram that carried it: the connection's own thread reads every datagram as it comes);
* a read's deadlines (``timeout``, ``max_duration``) end that read between pieces of its own body, or
  when the whole connection falls silent (the socket's read timeout); they never shut down a
  connection other streams are using. ``abort()`` shuts every connection down at once.

With ``http="auto"`` a server that chooses HTTP/1.1 (ALPN) gets one connection per stream from the
same pool (up to ``per_connection_streams`` each), as a browser falls back.
"""

from __future__ import annotations

import contextlib
import itertools
import threading

import httpx

from .dial import DialBackend
from .messages import peer_name
from .options import ProbeOptions
from .probing import DialTransport, ssl_context_for
from .timing import PhaseClock, Watchdog, now


def can_share(url: str, options: ProbeOptions) -> bool:
    """Streams to this URL may multiplex on shared connections: HTTP/2 or HTTP/3 required, or HTTP/2
    offered over TLS. HTTP/1.1 (and cleartext ``auto``) gets a connection per stream."""
    if options.http in ("h2", "h3"):
        return True
    return options.http == "auto" and httpx.URL(url).scheme == "https"


class SharedConnections:
    """``count`` connections to the origin of ``url`` that reads made with ``options`` share."""

    def __init__(
        self, url: str, options: ProbeOptions, *, count: int = 1, per_connection_streams: int = 1
    ) -> None:
        if count < 1:
            raise ValueError("connections must be >= 1")
        if not can_share(url, options):
            raise ValueError(
                "only HTTP/2 (required, or offered over TLS) and HTTP/3 streams share connections"
            )
        target = httpx.URL(url)
        self.origin = (target.scheme, target.host, target.port)
        self.options = options
        port = target.port or (443 if target.scheme == "https" else 80)
        # Owns every shared socket: it has no deadline until abort() sets one, which shuts them all.
        self._watchdog = Watchdog()
        http2_only = options.http == "h2"
        context = ssl_context_for(options.verify, True)
        self._slots: list[tuple[httpx.BaseTransport, DialBackend]] = []
        for _ in range(count):
            clock = PhaseClock(self._watchdog, options.timeout)
            clock.http2 = http2_only  # HTTP/2 by prior knowledge over cleartext: no ALPN to tell it
            backend = DialBackend(
                [],
                watchdog=self._watchdog,
                clock=clock,
                require_h2=http2_only,
                where=peer_name(target.host, port),
            )
            backend.shared = True
            transport: httpx.BaseTransport
            if options.http == "h3":  # aioquic is imported only for HTTP/3
                from .http3.transport import SharedH3Transport

                transport = SharedH3Transport(backend, verify=options.verify, timeout=options.timeout)
            else:
                limit = 1 if http2_only else max(1, per_connection_streams)
                transport = DialTransport(context, not http2_only, True, backend, limit, limit, shared=True)
            self._slots.append((transport, backend))
        self._turn = itertools.cycle(range(count))
        self._lock = threading.Lock()

    def check(self, url: httpx.URL, options: ProbeOptions) -> None:
        """ValueError unless a read of ``url`` with ``options`` may use these connections."""
        if (url.scheme, url.host, url.port) != self.origin:
            raise ValueError("shared connections serve one origin: the URL's differs")
        if (options.http, options.verify) != (self.options.http, self.options.verify):
            raise ValueError("shared connections were made for other protocol or TLS options")

    def take(self) -> tuple[httpx.BaseTransport, DialBackend]:
        """The next connection's transport and backend (round robin)."""
        with self._lock:
            return self._slots[next(self._turn)]

    @property
    def opened(self) -> int:
        """Connections (TCP, or QUIC for HTTP/3) opened so far (a dropped connection is opened again by
        the next stream)."""
        return sum(backend.opened for _, backend in self._slots)

    @property
    def negotiated_http2(self) -> bool:
        return any(backend.alpn == "h2" or backend.clock.http2 for _, backend in self._slots)

    def abort(self) -> None:
        """Shut every connection down now: the reads on them end (judged on what arrived)."""
        self._watchdog.set("abort", now())

    def close(self) -> None:
        self.abort()
        for transport, _ in self._slots:
            with contextlib.suppress(Exception):  # closing after an abort: nothing left to save
                transport.close()
        self._watchdog.stop()
