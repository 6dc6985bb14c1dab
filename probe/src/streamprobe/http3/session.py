"""One HTTP/3 request on one QUIC connection, driven by aioquic's sans-I/O state machine.

Everything runs in the caller's thread on one connected UDP socket: ``poll`` waits for a datagram,
QUIC's own timer (retransmissions, ACKs) or the caller's deadline, whichever comes first. The probe's
``Watchdog`` holds the socket too: when ``max_duration`` (or a phase deadline) passes it shuts the
socket down, which wakes the ``poll`` at once.

Datagrams are read one at a time, so the receive time of each is the arrival time of the data it
carried. aioquic does not act on stateless resets (RFC 9000 section 10.3); this module detects them
from the tokens the server issued and ends the probe with a classified error.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import logging
import select
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any

from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, H3Event, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection, QuicConnectionState
from aioquic.quic.events import ConnectionTerminated, HandshakeCompleted, StreamReset

from ..exceptions import ProbeFailure
from ..timing import Watchdog, now
from . import failures, trust

Address = tuple[int, tuple[Any, ...]]  # (family, sockaddr), as the probe resolves it
Trace = Callable[[str, dict[str, Any]], None]
Headers = list[tuple[bytes, bytes]]

MAX_DATAGRAM = 65536
#: A QUIC PING this often while waiting keeps a quiet stream from the server's idle timeout
#: (quic-go's default is 30 s); browsers keep their connections alive the same way.
PING_INTERVAL_S = 10.0
_STATELESS_RESET_MIN = 21  # 5 bytes of "random" short header + the 16-byte token

# aioquic logs protocol trouble (e.g. a failed version negotiation) at ERROR; the probe reports it as a
# classified error instead, so the records must not reach stderr through logging's last-resort handler.
logging.getLogger("quic").addHandler(logging.NullHandler())


def cafile_of(verify: bool | str) -> str | None:
    """The CA file to trust: ``--cacert``'s, or None for the default bundle."""
    return verify if isinstance(verify, str) else None


class DeadlinePassed(Exception):
    """The probe's Watchdog fired (``max_duration`` or a phase deadline): the probe classifies it."""


class Silence(TimeoutError):
    """Our own bound passed: no response headers, or no stream data, for ``timeout`` seconds."""


def quic_configuration(server_name: str, idle_timeout: float) -> QuicConfiguration:
    """The client's configuration; the certificate is checked by :mod:`.trust`, not inside aioquic."""
    return QuicConfiguration(
        is_client=True,
        alpn_protocols=list(H3_ALPN),
        server_name=server_name,
        idle_timeout=idle_timeout,
        verify_mode=ssl.CERT_NONE,
    )


def version_negotiation_versions(data: bytes) -> list[int] | None:
    """The versions a Version Negotiation packet offers (RFC 9000 section 17.2.1); None if not one."""
    if len(data) < 7 or not data[0] & 0x80 or data[1:5] != b"\x00\x00\x00\x00":
        return None
    pos = 5
    dcid_len = data[pos]
    pos += 1 + dcid_len
    if pos >= len(data):
        return None
    scid_len = data[pos]
    pos += 1 + scid_len
    body = data[pos:]
    return [int.from_bytes(body[i : i + 4], "big") for i in range(0, len(body) - 3, 4)]


class QuicSession:
    """A client connection to one of ``addresses``, tried in order (an unreachable one is skipped)."""

    def __init__(
        self,
        *,
        addresses: list[Address],
        server_name: str,
        verify: bool | str,
        timeout: float,
        watchdog: Watchdog,
        trace: Trace,
        where: str,
        port: int,
    ) -> None:
        self._addresses = list(addresses)
        self._server_name = server_name
        self._verify = verify
        self._timeout = timeout
        self._watchdog = watchdog
        self._trace = trace
        self.where = where
        self._port = port
        self._sock: socket.socket | None = None
        self._addr: tuple[Any, ...] = ()
        self._quic: QuicConnection | None = None
        self._h3: H3Connection | None = None
        self._stream_id: int | None = None
        self._handshake_done = False
        self._alpn: str | None = None
        self._any_answer = False
        self._head: Headers | None = None
        self._data: list[bytes] = []
        self._ended = False
        self._failure: ProbeFailure | None = None
        self._vn_versions: list[int] | None = None
        self._last_ping = 0.0
        self._closed = False
        self._unreachable = False  # the current address answered with ICMP port unreachable
        self._poll = select.poll()
        self._supported: list[int] = []

    # -- the phases ---------------------------------------------------------------------------

    def handshake(self) -> None:
        """Connect and complete the QUIC handshake within ``timeout`` (ProbeFailure otherwise)."""
        deadline = now() + self._timeout  # one bound for the handshake, across all addresses
        for index, (family, sockaddr) in enumerate(self._addresses):
            last = index == len(self._addresses) - 1
            try:
                self._open(family, sockaddr)
                self._run_until(lambda: self._handshake_done, deadline, phase="handshake")
                return
            except ProbeFailure:
                # an address that refuses at once (no route, ICMP unreachable) gives way to the next one
                if last or self._any_answer or not self._unreachable:
                    raise
                self._discard()

    def send_request(self, headers: Headers) -> None:
        quic, h3 = self._require()
        self._stream_id = quic.get_next_available_stream_id()
        self._trace("http3.send_request_headers.started", {})
        h3.send_headers(self._stream_id, headers, end_stream=True)
        self._flush()
        self._trace("http3.send_request_headers.complete", {})

    def response_head(self) -> Headers:
        """The final response's headers (1xx informational answers skipped)."""
        deadline = now() + self._timeout
        self._run_until(lambda: self._head is not None, deadline, phase="headers")
        assert self._head is not None
        self._trace("http3.receive_response_headers.complete", {})
        return self._head

    def body(self) -> Iterator[bytes]:
        """Response DATA as it arrives; Silence after ``timeout`` seconds without any."""
        while True:
            if self._data:
                chunk = b"".join(self._data)
                self._data.clear()
                yield chunk
                continue
            if self._ended:
                return
            self._run_until(lambda: bool(self._data) or self._ended, now() + self._timeout, phase="body")

    def close(self) -> None:
        """Send CONNECTION_CLOSE (best effort) and close the socket. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._quic is not None and self._sock is not None and self._watchdog.fired is None:
            self._quic.close()
            with contextlib.suppress(OSError, ProbeFailure):
                self._flush()
        self._discard()

    # -- the loop -----------------------------------------------------------------------------

    def _open(self, family: int, sockaddr: tuple[Any, ...]) -> None:
        self._unreachable = False
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            self._unreachable = True
            raise failures.send_failed(self.where, exc.strerror or str(exc)) from None
        self._sock = sock
        self._poll = select.poll()  # not select(): a descriptor above 1023 is fine
        self._poll.register(sock, select.POLLIN)
        self._watchdog.add_socket(sock)
        self._addr = tuple(sock.getpeername())
        config = quic_configuration(self._server_name, max(30.0, 2 * self._timeout))
        self._supported = list(config.supported_versions)
        self._quic = quic = QuicConnection(configuration=config)
        self._h3 = H3Connection(quic)
        quic.connect(self._addr, now())
        self._trace("quic.connect.started", {})  # the Initial is built: now it is sent
        self._flush()
        self._last_ping = now()

    def _discard(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._quic, self._h3 = None, None, None

    def _require(self) -> tuple[QuicConnection, H3Connection]:
        if self._quic is None or self._h3 is None:
            raise RuntimeError("no QUIC connection")
        return self._quic, self._h3

    def _run_until(self, done: Callable[[], bool], deadline: float, *, phase: str) -> None:
        while True:
            if self._failure is not None:
                raise self._failure
            if done():
                return
            if self._watchdog.fired is not None:
                raise DeadlinePassed(self._watchdog.fired)
            left = deadline - now()
            if left <= 0:
                raise self._expired(phase)
            self._step(left, phase)

    def _expired(self, phase: str) -> Exception:
        if phase == "handshake":
            if self._any_answer:
                return failures.handshake_stalled(self.where, self._timeout)
            return failures.no_udp_answer(self.where, self._port, self._timeout)
        if phase == "headers":
            return Silence(f"no response headers within {self._timeout:g} s")
        return Silence(f"no stream data for {self._timeout:g} s")

    def _step(self, left: float, phase: str) -> None:
        quic, sock = self._quic, self._sock
        assert quic is not None and sock is not None
        timer = quic.get_timer()
        wait = left if timer is None else min(left, max(0.0, timer - now()))
        readable = self._poll.poll(wait * 1000)
        if self._watchdog.fired is not None:
            raise DeadlinePassed(self._watchdog.fired)
        t = now()
        if readable:
            self._receive(t, phase)
        timer = quic.get_timer()
        if timer is not None and now() >= timer:
            quic.handle_timer(now())
        if phase != "handshake" and now() - self._last_ping >= PING_INTERVAL_S:
            quic.send_ping(0)
            self._last_ping = now()
        self._events(phase)
        self._flush()

    def _receive(self, t: float, phase: str) -> None:
        quic, sock = self._quic, self._sock
        assert quic is not None and sock is not None
        try:
            data = sock.recv(MAX_DATAGRAM)
        except BlockingIOError:
            return
        except ConnectionRefusedError:
            self._unreachable = True
            self._failure = (
                failures.port_unreachable(self.where, self._port)
                if phase == "handshake"
                else failures.closed(
                    self.where, 0, False, "ICMP port unreachable", handshake=False, by_peer=True
                )
            )
            return
        if self._is_stateless_reset(data):
            self._failure = failures.stateless_reset(self.where, body=phase == "body")
            return
        if not self._handshake_done and (versions := version_negotiation_versions(data)) is not None:
            self._vn_versions = versions
        if not self._any_answer:
            self._any_answer = True
            self._trace("quic.connect.complete", {})
            self._trace("quic.handshake.started", {})
        quic.receive_datagram(data, self._addr, t)

    def _is_stateless_reset(self, data: bytes) -> bool:
        """RFC 9000 section 10.3.1: a short-header datagram ending in a token the server issued."""
        if self._quic is None or len(data) < _STATELESS_RESET_MIN or data[0] & 0x80:
            return False
        # aioquic keeps the server's tokens with the connection IDs it issued (not a public API).
        cids = [getattr(self._quic, "_peer_cid", None), *getattr(self._quic, "_peer_cid_available", [])]
        tail = data[-16:]
        return any(
            token and hmac.compare_digest(token, tail)
            for token in (getattr(c, "stateless_reset_token", b"") for c in cids)
        )

    def _events(self, phase: str) -> None:
        quic, h3 = self._require()
        while (event := quic.next_event()) is not None:
            if isinstance(event, HandshakeCompleted):
                self._alpn = event.alpn_protocol
                if event.alpn_protocol not in H3_ALPN:
                    self._failure = failures.alpn_refused(self.where, event.alpn_protocol)
                    return
                if self._verify is not False:
                    try:
                        trust.check_peer(quic, self._server_name, cafile_of(self._verify), self.where)
                    except ProbeFailure as exc:
                        self._failure = exc
                        quic.close(error_code=failures.CRYPTO_ERROR + failures.ALERT_BAD_CERTIFICATE)
                        return
                self._handshake_done = True
                self._trace("quic.handshake.complete", {})
            elif isinstance(event, StreamReset) and event.stream_id == self._stream_id:
                self._failure = failures.stream_reset(self.where, event.error_code, body=phase == "body")
            elif isinstance(event, ConnectionTerminated):
                self._terminated(event, phase)
            for h3_event in h3.handle_event(event):
                self._h3_event(h3_event)
        # A close decided locally (a certificate not trusted) or received from the server becomes an
        # event only after the closing period (3 PTO); the decision itself is known now.
        pending = getattr(quic, "_close_event", None)
        if self._failure is None and isinstance(pending, ConnectionTerminated):
            self._terminated(pending, phase)

    def _terminated(self, event: ConnectionTerminated, phase: str) -> None:
        if self._failure is not None:
            return
        if self._ended and self._head is not None:
            return  # the response was complete: a close afterwards is no failure
        if self._vn_versions is not None and not self._handshake_done:
            self._failure = failures.version_mismatch(self.where, self._vn_versions, self._supported)
            return
        # aioquic reports an application close (HTTP/3 error codes) with no frame type; a close the
        # server sent leaves the connection draining, one this client decided leaves it closing.
        application = event.frame_type is None
        by_peer = getattr(self._quic, "_state", None) == QuicConnectionState.DRAINING
        self._failure = failures.closed(
            self.where,
            event.error_code,
            application,
            event.reason_phrase,
            handshake=not self._handshake_done,
            by_peer=by_peer,
        )

    def _h3_event(self, event: H3Event) -> None:
        if isinstance(event, HeadersReceived) and event.stream_id == self._stream_id:
            if self._head is None:
                status = dict(event.headers).get(b":status", b"")
                if not status.isdigit() or len(status) != 3:
                    self._failure = failures.invalid_response(self.where, "no valid :status in the HEADERS")
                    return
                if int(status) >= 200:
                    self._head = event.headers
            if event.stream_ended:  # trailers, or a response with no body
                self._ended = self._head is not None
        elif isinstance(event, DataReceived) and event.stream_id == self._stream_id:
            if event.data:
                self._data.append(event.data)
            if event.stream_ended:
                self._ended = True

    def _flush(self) -> None:
        quic, sock = self._quic, self._sock
        if quic is None or sock is None:
            return
        for datagram, _addr in quic.datagrams_to_send(now()):
            try:
                sock.send(datagram)
            except ConnectionRefusedError:
                self._unreachable = True
                if not self._any_answer and self._failure is None:
                    self._failure = failures.port_unreachable(self.where, self._port)
                return
            except BlockingIOError:
                return  # the socket buffer is full: QUIC retransmits what was lost
            except OSError as exc:
                if self._watchdog.fired is not None:
                    raise DeadlinePassed(self._watchdog.fired) from None
                if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
                    raise failures.send_failed(self.where, exc.strerror or str(exc)) from None
                raise
