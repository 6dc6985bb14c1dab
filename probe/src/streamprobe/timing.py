"""Phase timings and hard deadlines for one probe connection.

* DNS is resolved by the probe itself (``resolve``), then ``DialBackend`` connects to that
  address while httpcore keeps the URL's host for the Host header / :authority and TLS SNI.
* ``TrackedStream`` wraps the connection: it stamps the first response byte (HTTP/1.1 TTFB),
  checks ALPN when HTTP/2 is required, and hands every socket to the ``Watchdog``.
* ``Watchdog`` enforces deadlines that socket timeouts alone cannot (a server trickling a byte
  at a time): when one passes it shuts the socket down, which ends any blocked read at once.
* ``PhaseClock`` receives httpcore's ``trace`` events and records when each phase ran.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpcore

from .errors import ProbeFailure

Address = tuple[int, tuple[Any, ...]]  # (family, sockaddr)
Resolver = Callable[[str, int], list[Address]]

now = time.perf_counter  # monotonic, high resolution


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


class Watchdog:
    """One background thread per probe that shuts the connection down when a deadline passes.

    Deadlines are named (``set("headers", t)``); the earliest one that passes is recorded in
    ``fired`` and every registered socket is shut down, so a blocked read returns at once.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._deadlines: dict[str, float] = {}
        self._sockets: list[socket.socket] = []
        self._stopped = False
        self.fired: str | None = None
        self.fired_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="streamprobe-watchdog", daemon=True)
        self._thread.start()

    def set(self, name: str, deadline: float | None) -> None:
        with self._cond:
            if deadline is None:
                self._deadlines.pop(name, None)
            else:
                self._deadlines[name] = deadline
            self._cond.notify()

    def earliest(self) -> float | None:
        """The earliest pending deadline (the probe's clock), or None."""
        with self._cond:
            return min(self._deadlines.values(), default=None)

    def add_socket(self, sock: socket.socket) -> None:
        with self._cond:
            self._sockets.append(sock)
            if self.fired is not None:
                _shutdown(sock)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(1.0)

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if not self._deadlines:
                    self._cond.wait()
                    continue
                name, deadline = min(self._deadlines.items(), key=lambda item: item[1])
                remaining = deadline - now()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                self.fired, self.fired_at = name, now()
                for sock in self._sockets:
                    _shutdown(sock)
                return


def _shutdown(sock: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket.shutdown: that one would also drop the SSL object
    # under the feet of a reader in another thread.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class PhaseClock:
    """Collects httpcore ``trace`` events as timestamps on the probe's clock."""

    def __init__(self, watchdog: Watchdog, timeout: float) -> None:
        self.watchdog = watchdog
        self.timeout = timeout
        self.marks: dict[str, float] = {}
        self.phase = "connect"  # connect -> tls -> headers -> body
        self.http2 = False

    def __call__(self, name: str, info: dict[str, Any]) -> None:
        t = now()
        self.marks.setdefault(name, t)
        if name == "connection.connect_tcp.started":
            self.phase = "connect"
            self.watchdog.set("phase", t + self.timeout)
        elif name == "connection.start_tls.started":
            self.phase = "tls"
            self.watchdog.set("phase", t + self.timeout)
        elif name.endswith(".send_request_headers.started") or name == "http2.send_connection_init.started":
            if self.phase != "headers":
                self.phase = "headers"
                self.watchdog.set("phase", t + self.timeout)
            self.http2 = name.startswith("http2.")
        elif name.endswith(".receive_response_headers.complete"):
            self.phase = "body"
            self.watchdog.set("phase", None)

    def first(self, *names: str) -> float | None:
        times = [self.marks[n] for n in names if n in self.marks]
        return min(times) if times else None


class TrackedStream(httpcore.NetworkStream):
    """A network stream that reports to the probe: first response byte, ALPN, sockets."""

    def __init__(self, inner: httpcore.NetworkStream, dial: DialBackend) -> None:
        self._inner = inner
        self._dial = dial

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, timeout)
        if data and self._dial.first_byte_at is None and self._dial.clock.phase == "headers":
            self._dial.first_byte_at = now()
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, timeout)
        sock = inner.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            self._dial.watchdog.add_socket(sock)
        ssl_object = inner.get_extra_info("ssl_object")
        alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        self._dial.alpn = alpn
        if self._dial.require_h2 and alpn != "h2":
            inner.close()
            offered = f"it chose {alpn}" if alpn else "it chose no protocol (so HTTP/1.1)"
            raise ProbeFailure(
                "protocol",
                f"HTTP/2 was required but {self._dial.where} did not offer it "
                f"in the TLS handshake (ALPN): {offered}",
            )
        return TrackedStream(inner, self._dial)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


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
        self.alpn: str | None = None
        self.peer: tuple[Any, ...] | None = None
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for _family, sockaddr in self.addresses:
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
                stream = self._inner.connect_tcp(
                    str(sockaddr[0]), int(sockaddr[1]), attempt, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            sock = stream.get_extra_info("socket")
            if isinstance(sock, socket.socket):
                self.watchdog.add_socket(sock)
            self.peer = sockaddr
            return TrackedStream(stream, self)
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:  # pragma: no cover - not used
        raise NotImplementedError

    def sleep(self, seconds: float) -> None:  # pragma: no cover - retries are off
        time.sleep(seconds)
