"""Resolving and dialling one probe connection.

* DNS is resolved by the probe itself (``resolve``), then ``DialBackend`` connects a socket to that
  address while httpcore keeps the URL's host for the Host header / :authority and TLS SNI.
* ``ProbeStream`` is httpcore's network stream over that socket: it stamps the first response byte
  (HTTP/1.1 TTFB), checks ALPN when HTTP/2 is required, hands every socket to the ``Watchdog``, and
  on an HTTP/2 connection counts the frames it reads (``h2flood``: a control-frame flood is an error).

Nothing is done lazily on the first connection of a process: the connect is one ``connect()`` on a
socket of the resolved family (no second ``getaddrinfo``), and the codec a ``str`` host name is
encoded with is looked up at import.
"""

from __future__ import annotations

import codecs
import select
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

import httpcore

from .exceptions import ProbeFailure
from .h2flood import ControlFlood, FrameCounter
from .messages import flood_error
from .timing import PhaseClock, Watchdog, now

Address = tuple[int, tuple[Any, ...]]  # (family, sockaddr)
Resolver = Callable[[str, int], list[Address]]

# getaddrinfo encodes a str host with the "idna" codec, whose first lookup imports encodings.idna,
# stringprep and unicodedata (1-5 ms): done here, so that it is not inside the first timed lookup.
codecs.lookup("idna")


def system_resolver(host: str, port: int) -> list[Address]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: list[Address] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        item = (int(family), tuple(sockaddr))
        if item not in seen:
            seen.append(item)
    return seen


def is_ip_literal(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except OSError:
            continue
    return False


def resolve(host: str, port: int, timeout: float, resolver: Resolver | None = None) -> list[Address]:
    """Resolve within ``timeout`` seconds (getaddrinfo cannot be interrupted: it runs in a thread)."""
    if is_ip_literal(host):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return [(int(family), (host, port))]
    outcome: list[Any] = []
    fn = resolver or system_resolver

    def run() -> None:
        try:
            outcome.append(fn(host, port))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=run, name="streamprobe-dns", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise ProbeFailure("dns", f"DNS lookup of {host} did not finish within {timeout:g} s")
    result = outcome[0]
    if isinstance(result, socket.gaierror):
        raise ProbeFailure("dns", f"DNS lookup of {host} failed: {result.strerror or result}")
    if isinstance(result, BaseException):
        raise ProbeFailure("dns", f"DNS lookup of {host} failed: {result}")
    if not result:
        raise ProbeFailure("dns", f"DNS lookup of {host} returned no address")
    return list(result)


@runtime_checkable
class StreamTimes(Protocol):
    """What a shared connection tells each read about its own stream (``network_stream``): when each
    piece of its body was read and when its response began, whichever thread read them."""

    def data_arrivals(self, stream_id: int) -> deque[tuple[float, int]] | None: ...

    def first_byte_of(self, stream_id: int) -> float | None: ...

    def forget(self, stream_id: int) -> None: ...


class ProbeStream(httpcore.NetworkStream):
    """httpcore's network stream over one socket, reporting to the probe: first response byte,
    ALPN, sockets. Socket errors become httpcore's exceptions, as its own streams raise them."""

    def __init__(self, sock: socket.socket, dial: DialBackend) -> None:
        self._sock = sock
        self._dial = dial
        self._frames: FrameCounter | None = None
        self._counting = False  # decided at the first read: the request has been sent by then

    def _timeout(self, timeout: float | None) -> None:
        # settimeout() is a system call that lets go of the GIL every time (ioctl FIONBIO), even for the
        # value the socket has: with hundreds of streams each read would hand the GIL to another thread.
        if self._sock.gettimeout() != timeout:
            self._sock.settimeout(timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            self._timeout(timeout)
            data = self._sock.recv(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc
        t = 0.0
        if data:
            t = now()  # one reading: the first byte (ttfb) is never after the first event it brought
            self._dial.last_read_at = t  # when these bytes came: every event they complete arrived then
            if self._dial.first_byte_at is None and self._dial.clock.phase == "headers":
                self._dial.first_byte_at = t
        if not self._counting:
            self._counting = True
            # httpcore traces http2.* before an HTTP/2 connection's first read (TLS or prior knowledge);
            # a backend that streams share learns it from ALPN (its own clock sees no request's trace)
            if self._dial.clock.http2 or self._dial.alpn == "h2":
                self._frames = FrameCounter(track_data=self._dial.shared)
        if self._frames is not None and data:
            try:
                self._frames.feed(data, t)
            except ControlFlood as exc:
                raise ProbeFailure.of(flood_error(self._dial.where, exc.frames, exc.limit)) from None
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            while buffer:
                self._timeout(timeout)
                sent = self._sock.send(buffer)
                buffer = buffer[sent:]
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    def data_arrivals(self, stream_id: int) -> deque[tuple[float, int]] | None:
        """When each DATA frame of ``stream_id`` with bytes was read, oldest first (a connection that
        streams share; None on any other), for that stream's reader to take."""
        return self._frames.arrivals_of(stream_id) if self._frames is not None and self._dial.shared else None

    def first_byte_of(self, stream_id: int) -> float | None:
        """When the response of ``stream_id`` began (its first HEADERS frame) on a shared connection."""
        if self._frames is None or not self._dial.shared:
            return None
        return self._frames.first_headers.pop(stream_id, None)

    def forget(self, stream_id: int) -> None:
        if self._frames is not None:
            self._frames.data_arrivals.pop(stream_id, None)
            self._frames.first_headers.pop(stream_id, None)

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        try:
            self._sock.settimeout(timeout)
            tls = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except TimeoutError as exc:
            self.close()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:  # ssl.SSLError is an OSError
            self.close()
            raise httpcore.ConnectError(str(exc)) from exc
        self._dial.watchdog.add_socket(tls)
        alpn = tls.selected_alpn_protocol()
        self._dial.alpn = alpn
        if self._dial.require_h2 and alpn != "h2":
            tls.close()
            offered = f"it chose {alpn}" if alpn else "it chose no protocol (so HTTP/1.1)"
            raise ProbeFailure(
                "protocol",
                f"HTTP/2 was required but {self._dial.where} did not offer it "
                f"in the TLS handshake (ALPN): {offered}",
            )
        return ProbeStream(tls, self._dial)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":  # what httpcore asks for ALPN: the SSLSocket answers like an SSLObject
            return self._sock if isinstance(self._sock, ssl.SSLSocket) else None
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return _is_readable(self._sock)
        return None


def _is_readable(sock: socket.socket) -> bool:
    """Readable, or closed: either way a pooled connection is not reusable."""
    if sock.fileno() < 0:
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


class DialBackend(httpcore.NetworkBackend):
    """Connects to pre-resolved addresses instead of the URL's host name."""

    def __init__(
        self,
        addresses: Iterable[Address],
        *,
        watchdog: Watchdog,
        clock: PhaseClock,
        require_h2: bool,
        where: str,
    ) -> None:
        self.addresses = list(addresses)
        self.watchdog = watchdog
        self.clock = clock
        self.require_h2 = require_h2
        self.where = where
        self.first_byte_at: float | None = None
        self.last_read_at: float | None = None  # the latest read that returned bytes
        self.alpn: str | None = None
        self.peer: tuple[Any, ...] | None = None
        self.opened = 0  # TCP connections made
        #: Streams share this backend's connections (streamprobe.shared): frames are timed per stream.
        self.shared = False

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for family, sockaddr in self.addresses:
            # A blocked connect() has no socket the watchdog could shut down yet: bound each attempt
            # by what is left of the phase deadline and max_duration, so all attempts share them.
            deadline = self.watchdog.earliest()
            attempt = timeout
            if deadline is not None:
                left = deadline - now()
                if left <= 0:
                    raise httpcore.ConnectTimeout("connect deadline passed")
                attempt = left if attempt is None else min(attempt, left)
            try:
                sock = connect_socket(family, sockaddr, attempt, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            self.watchdog.add_socket(sock)
            self.peer = sockaddr
            self.opened += 1
            return ProbeStream(sock, self)
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:  # pragma: no cover - not used
        raise NotImplementedError

    def sleep(self, seconds: float) -> None:  # pragma: no cover - retries are off
        time.sleep(seconds)


def connect_socket(
    family: int,
    sockaddr: tuple[Any, ...],
    timeout: float | None,
    local_address: str | None,
    socket_options: Iterable[Any] | None,
) -> socket.socket:
    """A TCP connection to ``sockaddr`` with TCP_NODELAY, errors as httpcore's connect exceptions."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        for option in socket_options or ():
            sock.setsockopt(*option)
        if local_address is not None:
            sock.bind((local_address, 0))
        sock.settimeout(timeout)
        sock.connect(sockaddr)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except TimeoutError as exc:
        sock.close()
        raise httpcore.ConnectTimeout(str(exc)) from exc
    except OSError as exc:
        sock.close()
        raise httpcore.ConnectError(str(exc)) from exc
    return sock
