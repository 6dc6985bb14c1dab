"""HTTP/3 requests on one QUIC connection, driven by aioquic's sans-I/O state machine.

A probe's own connection (one request) runs in the caller's thread on one connected UDP socket: ``poll``
waits for a datagram, QUIC's own timer (retransmissions, ACKs) or the caller's deadline, whichever comes
first. The probe's ``Watchdog`` holds the socket too: when ``max_duration`` (or a phase deadline) passes
it shuts the socket down, which wakes the ``poll`` at once.

A connection that reads share (:meth:`QuicSession.share`, ``streamprobe.shared``) is driven by one
thread of its own instead: it reads each datagram as it comes, stamps it, and wakes only the streams
whose data it carried; each reader waits for its own stream under its own deadlines.

Datagrams are read one at a time, so the receive time of each is the arrival time of the data it
carried. aioquic does not act on stateless resets (RFC 9000 section 10.3); this module detects them
from the tokens the server issued and ends the probe with a classified error.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import logging
import os
import select
import socket
import ssl
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aioquic.h3.connection import H3_ALPN, ErrorCode, H3Connection
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


@dataclass(eq=False)
class RequestStream:
    """One request's side of the connection: what arrived for it, and when (the datagram's read)."""

    stream_id: int
    trace: Trace
    head: Headers | None = None
    head_at: float | None = None  # when the datagram with the final response's HEADERS was read
    chunks: deque[tuple[float, bytes]] = field(default_factory=deque)
    ended: bool = False
    failure: ProbeFailure | None = None
    #: Set on a shared connection: wakes this stream's reader (the connection's lock is its lock).
    wake: threading.Condition | None = None

    @property
    def complete(self) -> bool:
        return self.ended and self.head is not None


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
        self._streams: dict[int, RequestStream] = {}
        self._handshake_done = False
        self._alpn: str | None = None
        self._any_answer = False
        self._failure: ProbeFailure | None = None
        self._vn_versions: list[int] | None = None
        self._last_ping = 0.0
        self._closed = False
        self._unreachable = False  # the current address answered with ICMP port unreachable
        self._poll = select.poll()
        self._supported: list[int] = []
        # A shared connection (share()): its driver thread, the lock every use of aioquic takes, the
        # pipe that wakes the driver when a reader has queued something to send, the streams to wake.
        self._driver: threading.Thread | None = None
        self._lock = threading.Lock()
        self._wake_pipe: tuple[int, int] | None = None
        self._touched: set[RequestStream] = set()

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

    @property
    def usable(self) -> bool:
        """The handshake is done and the connection has not failed or closed: new requests may use it."""
        return self._handshake_done and self._failure is None and not self._closed

    def send_request(self, headers: Headers, body: bytes = b"", trace: Trace | None = None) -> RequestStream:
        """HEADERS, then the body (if any) as DATA ending the request stream. aioquic queues what flow
        control does not let out yet; it leaves with the ACKs the response loop reads. ``trace``: the
        request's own (a shared connection's requests each have one), else the connection's."""
        trace = trace or self._trace
        with self._lock:
            quic, h3 = self._require()
            if self._failure is not None:
                raise self._failure
            stream = RequestStream(quic.get_next_available_stream_id(), trace)
            if self._driver is not None:
                stream.wake = threading.Condition(self._lock)
            self._streams[stream.stream_id] = stream
            trace("http3.send_request_headers.started", {})
            h3.send_headers(stream.stream_id, headers, end_stream=not body)
            if body:
                h3.send_data(stream.stream_id, body, end_stream=True)
            self._flush()
            trace("http3.send_request_headers.complete", {})
        self._wake_driver()  # its timer may be due sooner now (the request's retransmission)
        return stream

    def response_head(self, stream: RequestStream, watchdog: Watchdog | None = None) -> Headers:
        """The final response's headers (1xx informational answers skipped). ``watchdog``: the read's
        own deadlines on a shared connection (a probe's own connection has them on its socket)."""
        self._wait(stream, lambda: stream.head is not None, now() + self._timeout, "headers", watchdog)
        assert stream.head is not None
        stream.trace("http3.receive_response_headers.complete", {})
        return stream.head

    def body(self, stream: RequestStream, watchdog: Watchdog | None = None) -> Iterator[tuple[float, bytes]]:
        """Response DATA as it arrives, each piece with the time its datagram was read (on a probe's own
        connection the pieces that came together, with the time they were handed over); Silence after
        ``timeout`` seconds without any."""
        chunks = stream.chunks
        while True:
            if chunks:
                if self._driver is None:
                    data = b"".join(c for _, c in chunks)
                    chunks.clear()
                    yield now(), data
                else:
                    yield chunks.popleft()  # the driver appends on the right: a deque's ends are atomic
                continue
            if stream.ended:
                return
            self._wait(stream, lambda: bool(chunks) or stream.ended, now() + self._timeout, "body", watchdog)

    def cancel(self, stream: RequestStream) -> None:
        """The reader is done with ``stream``: an unfinished response is cancelled (RFC 9114 section
        4.1.1), so that the server stops sending it on a connection others share."""
        with self._lock:
            self._streams.pop(stream.stream_id, None)
            self._touched.discard(stream)
            if stream.ended or stream.failure is not None or self._quic is None or not self.usable:
                return
            code = ErrorCode.H3_REQUEST_CANCELLED
            with contextlib.suppress(Exception):  # the stream may already be gone on aioquic's side
                self._quic.stop_stream(stream.stream_id, code)
                self._quic.reset_stream(stream.stream_id, code)
        self._wake_driver()

    def share(self) -> None:
        """From now on a thread of this connection's own drives it, and any thread may send requests."""
        if self._driver is not None:
            return
        self._wake_pipe = os.pipe()
        os.set_blocking(self._wake_pipe[0], False)
        self._poll.register(self._wake_pipe[0], select.POLLIN)
        self._driver = threading.Thread(target=self._drive, name="streamprobe-quic", daemon=True)
        self._driver.start()

    def close(self) -> None:
        """Send CONNECTION_CLOSE (best effort) and close the socket. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._quic is not None and self._sock is not None and self._watchdog.fired is None:
                self._quic.close()
                with contextlib.suppress(OSError, ProbeFailure):
                    self._flush()
        if self._driver is not None:
            self._wake_driver()
            self._driver.join(5)
        with self._lock:
            self._discard()
        if self._wake_pipe is not None:
            for fd in self._wake_pipe:
                os.close(fd)
            self._wake_pipe = None

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

    def _wait(
        self,
        stream: RequestStream,
        done: Callable[[], bool],
        deadline: float,
        phase: str,
        watchdog: Watchdog | None,
    ) -> None:
        if self._driver is None:
            self._run_until(done, deadline, phase=phase, stream=stream)
            return
        assert stream.wake is not None
        with self._lock:
            while True:
                failure = stream.failure or self._failure
                if failure is not None:
                    raise failure
                if done():
                    return
                if self._closed:
                    raise DeadlinePassed("closed")
                if watchdog is not None and watchdog.fired is not None:
                    raise DeadlinePassed(watchdog.fired)
                t = now()
                if t >= deadline:
                    raise self._expired(phase)
                limit = deadline
                if watchdog is not None and (earliest := watchdog.earliest()) is not None:
                    # the watchdog's own thread marks it fired a moment after the deadline
                    limit = min(limit, max(earliest, t + 0.001))
                stream.wake.wait(limit - t)

    def _run_until(
        self, done: Callable[[], bool], deadline: float, *, phase: str, stream: RequestStream | None = None
    ) -> None:
        while True:
            if self._failure is not None:
                raise self._failure
            if stream is not None and stream.failure is not None:
                raise stream.failure
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
        self._timers(phase)
        self._events(phase, t)
        self._flush()

    def _timers(self, phase: str) -> None:
        quic = self._quic
        assert quic is not None
        timer = quic.get_timer()
        if timer is not None and now() >= timer:
            quic.handle_timer(now())
        if phase != "handshake" and now() - self._last_ping >= PING_INTERVAL_S:
            quic.send_ping(0)
            self._last_ping = now()

    def _wake_driver(self) -> None:
        if self._wake_pipe is not None:
            with contextlib.suppress(OSError):  # full (it is woken already) or closed
                os.write(self._wake_pipe[1], b"\0")

    def _drive(self) -> None:
        """A shared connection's thread: every datagram read as it comes (stamped before the lock is
        taken) and handed to aioquic; the streams it completed woken; until it fails or is closed."""
        assert self._wake_pipe is not None
        wake_fd = self._wake_pipe[0]
        while True:
            with self._lock:
                if self._closed or self._quic is None or self._sock is None:
                    return
                timer = self._quic.get_timer()
            wait = PING_INTERVAL_S if timer is None else min(PING_INTERVAL_S, max(0.0, timer - now()))
            ready = self._poll.poll(wait * 1000)
            with self._lock:
                if self._closed or self._quic is None or self._sock is None:
                    return
                try:
                    for fd, _ in ready:
                        if fd == wake_fd:
                            with contextlib.suppress(BlockingIOError):
                                os.read(wake_fd, 4096)
                        else:
                            self._receive_all()
                    self._timers("body")
                    self._events("body", now())
                    self._flush()
                except DeadlinePassed:
                    self._failure = self._failure or failures.closed(
                        self.where, 0, False, "the connection was shut down", handshake=False, by_peer=False
                    )
                except ProbeFailure as exc:
                    self._failure = self._failure or exc
                self._wake_readers()
                if self._failure is not None:
                    return

    def _receive_all(self) -> None:
        """Every datagram waiting, one at a time: each is handed to aioquic, and its events taken,
        with the time it was read."""
        while self._failure is None:
            t = now()
            if not self._receive(t, "body"):
                return
            if self._watchdog.fired is not None:
                raise DeadlinePassed(self._watchdog.fired)
            self._events("body", t)

    def _wake_readers(self) -> None:
        if self._failure is not None:
            touched: Iterator[RequestStream] = iter(list(self._streams.values()))
        else:
            touched = iter(self._touched)
        for stream in touched:
            if stream.wake is not None:
                stream.wake.notify()
        self._touched.clear()

    def _receive(self, t: float, phase: str) -> bool:
        """Read one datagram (read at ``t``) into aioquic; False when none was waiting or it failed."""
        quic, sock = self._quic, self._sock
        assert quic is not None and sock is not None
        try:
            data = sock.recv(MAX_DATAGRAM)
        except BlockingIOError:
            return False
        except ConnectionRefusedError:
            self._unreachable = True
            self._failure = (
                failures.port_unreachable(self.where, self._port)
                if phase == "handshake"
                else failures.closed(
                    self.where, 0, False, "ICMP port unreachable", handshake=False, by_peer=True
                )
            )
            return False
        if self._is_stateless_reset(data):
            self._failure = failures.stateless_reset(self.where, body=phase == "body")
            return False
        if not self._handshake_done and (versions := version_negotiation_versions(data)) is not None:
            self._vn_versions = versions
        if not self._any_answer:
            self._any_answer = True
            self._trace("quic.connect.complete", {})
            self._trace("quic.handshake.started", {})
        quic.receive_datagram(data, self._addr, t)
        return True

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

    def _events(self, phase: str, t: float) -> None:
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
            elif isinstance(event, StreamReset) and (stream := self._streams.get(event.stream_id)):
                body = stream.head is not None
                stream.failure = failures.stream_reset(self.where, event.error_code, body=body)
                self._touched.add(stream)
            elif isinstance(event, ConnectionTerminated):
                self._terminated(event, phase)
            for h3_event in h3.handle_event(event):
                self._h3_event(h3_event, t)
        # A close decided locally (a certificate not trusted) or received from the server becomes an
        # event only after the closing period (3 PTO); the decision itself is known now.
        pending = getattr(quic, "_close_event", None)
        if self._failure is None and isinstance(pending, ConnectionTerminated):
            self._terminated(pending, phase)

    def _terminated(self, event: ConnectionTerminated, phase: str) -> None:
        if self._failure is not None:
            return
        if self._streams and all(stream.complete for stream in self._streams.values()):
            return  # every response was complete: a close afterwards is no failure
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

    def _h3_event(self, event: H3Event, t: float) -> None:
        if not isinstance(event, HeadersReceived | DataReceived):
            return
        stream = self._streams.get(event.stream_id)
        if stream is None:
            return
        self._touched.add(stream)
        if isinstance(event, HeadersReceived):
            if stream.head is None:
                status = dict(event.headers).get(b":status", b"")
                if not status.isdigit() or len(status) != 3:
                    stream.failure = failures.invalid_response(self.where, "no valid :status in the HEADERS")
                    return
                if int(status) >= 200:
                    stream.head, stream.head_at = event.headers, t
            if event.stream_ended:  # trailers, or a response with no body
                stream.ended = stream.head is not None
        else:
            if event.data:
                stream.chunks.append((t, event.data))
            if event.stream_ended:
                stream.ended = True

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
