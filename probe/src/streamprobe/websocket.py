"""probe_websocket(): one WebSocket (ws://, wss://) opened, timed phase by phase and judged like SSE.

The probe dials the socket itself (DNS, TCP connect, TLS, each timed like an HTTP probe's) and speaks
the WebSocket protocol through the sans-I/O ``ClientProtocol`` of the ``websockets`` package, so every
read is its own: a message is timed by the socket read that completed it, as an SSE event is. Each
message is one event; one whose JSON carries ``sent_ms`` is judged like streamcheck, any other by its
arrival pattern (:mod:`streamprobe.conclude`, the one judge of every read).

Bounds, all by socket timeouts on the one thread: ``timeout`` for the connect, the TLS handshake, the
``101`` and any silence between data frames (PINGs do not count: a server that only pings is
``stalled``); ``max_duration`` for the whole read. ``max_event_bytes`` bounds a message (``too_large``).
"""

from __future__ import annotations

import contextlib
import re
import socket
from typing import TYPE_CHECKING, Final

import httpx
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidMessage, PayloadTooBig
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from .conclude import conclude
from .dial import connect_socket, is_ip_literal, resolve
from .errors import classify
from .exceptions import ProbeFailure
from .messages import (
    HEADER_CHARS,
    UPGRADE_REQUIRED,
    Phase,
    end_note,
    excerpt_budget,
    max_duration_error,
    message_too_large_error,
    peer_name,
    shown_excerpt,
    stalled_error,
    timeout_error,
)
from .options import ProbeOptions, is_streamcheck_url
from .probing import MAX_EVENTS, send_time_of, ssl_context_for, user_agent
from .redact import display_url, request_secrets, shown
from .result import ErrorInfo, EventArrival, ProbeResult
from .timing import now

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["CLEAN_CLOSE_CODES", "probe_websocket"]

#: Close codes of a stream that ended as meant: normal closure, going away.
CLEAN_CLOSE_CODES: Final = (1000, 1001)
#: The close code a connection that ended without a close frame is reported with (RFC 6455 7.1.5).
ABNORMAL_CLOSURE: Final = 1006
#: Bytes of one socket read.
READ_BYTES: Final = 65536
#: Bytes of the handshake's answer kept to show a refusal (status line, headers, the body's start).
HEAD_BYTES: Final = 16384
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([0-9]{3}) ?([^\r\n]*)")


class _Deadline(Exception):
    """A socket timeout: which bound passed is told by the clock (see ``_Socket.expired``)."""


def probe_websocket(url: httpx.URL, options: ProbeOptions) -> ProbeResult:
    """Open the WebSocket at ``url`` (already checked by ``probing.check_request``) and read it to its
    close or ``max_duration``. Never raises for network or server trouble (see ``result.error``)."""
    return _WebSocketProbe(url, options).run()


class _WebSocketProbe:
    def __init__(self, url: httpx.URL, options: ProbeOptions) -> None:
        self.url, self.o = url, options
        self.port = url.port or (443 if url.scheme == "wss" else 80)
        self.where = peer_name(url.host, self.port)
        self.secrets = request_secrets(options.headers, url)
        self.result = ProbeResult(
            url=display_url(url), path_name=options.name, protocol="HTTP/1.1", transport="websocket"
        )
        self.result.header_names = list(options.headers)
        self.result.mode = "streamcheck" if is_streamcheck_url(url) else "generic"
        self.phase: Phase = "connect"
        self.sock: socket.socket | None = None
        self.events: list[EventArrival] = []
        self.ended = False  # closed by the server with a close frame
        self.cut = False  # max_duration passed while the stream was still open
        self.marks: dict[str, float] = {}
        self.protocol = ClientProtocol(
            parse_uri(str(url)),
            # offered like a browser: a compressing hop on the path is part of what is measured
            extensions=enable_client_permessage_deflate(None),
            max_size=options.max_event_bytes,
        )
        self.ssl_context = ssl_context_for(options.verify, http2=False) if url.scheme == "wss" else None
        self.message: bytearray | None = None  # the message being assembled from its frames
        self.text = True  # ...a text message (else binary)
        self.silent_until = 0.0  # no data frame by then: stalled
        self.early: tuple[list[Frame], float] = ([], 0.0)  # frames read with the 101, and when

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> ProbeResult:
        self.t0 = now()
        self.stop_at = self.t0 + self.o.max_duration
        try:
            self._run()
        except ProbeFailure as exc:
            self.result.error = exc.error
        except _Deadline:
            self.result.error = self._deadline_error()
        except Exception as exc:
            self.result.error = classify(exc, phase=self.phase, where=self.where, timeout=self.o.timeout)
        finally:
            self.end = now()
            if self.sock is not None:
                with contextlib.suppress(OSError):
                    self.sock.close()
        return self._finish()

    def _run(self) -> None:
        host = self.url.host
        if is_ip_literal(host):
            addresses = resolve(host, self.port, self.o.timeout)
        else:
            started = now()
            addresses = resolve(host, self.port, min(self.o.timeout, self.o.max_duration), self.o.resolver)
            self.result.timings_ms["dns"] = (now() - started) * 1000
        shown_address = str(addresses[0][1][0])
        if shown_address != host:
            self.where = f"{self.where} ({shown_address})"
        self.sock = self._connect(addresses)
        if self.url.scheme == "wss":
            self.sock = self._handshake_tls(self.sock)
        self._open()
        if self.o.send is not None:
            self.protocol.send_text(self.o.send.encode("utf-8"))
            self._flush()
        self.result.request_sent_ms = (now() - self.t0) * 1000  # the stream is asked for from here
        self.phase = "body"
        self._read_messages()

    def _bound(self, phase_deadline: float) -> None:
        """Socket timeouts from here end at ``phase_deadline`` or ``max_duration``, the earlier."""
        assert self.sock is not None
        left = min(phase_deadline, self.stop_at) - now()
        if left <= 0:
            raise _Deadline
        self.sock.settimeout(left)

    def _deadline_error(self) -> ErrorInfo:
        if now() >= self.stop_at:
            return max_duration_error(self.where, self.o.max_duration)
        if self.phase == "body":
            return stalled_error(self.o.timeout, len(self.events))
        return timeout_error(self.phase, self.where, self.o.timeout)

    def _connect(self, addresses: Iterable[tuple[int, tuple[object, ...]]]) -> socket.socket:
        self.marks["connect.started"] = now()
        last: Exception | None = None
        for family, sockaddr in addresses:
            left = min(self.o.timeout, self.stop_at - now())
            if left <= 0:
                raise _Deadline
            try:
                sock = connect_socket(family, sockaddr, left, None, None)
            except Exception as exc:  # the next address, as a browser does
                last = exc
                continue
            self.marks["connect.complete"] = now()
            return sock
        assert last is not None
        raise last

    def _handshake_tls(self, sock: socket.socket) -> socket.socket:
        assert self.ssl_context is not None
        self.phase = "tls"
        self.marks["tls.started"] = now()
        self.sock = sock
        self._bound(now() + self.o.timeout)
        self.ssl_context.set_alpn_protocols(["http/1.1"])  # the upgrade is an HTTP/1.1 request
        try:
            tls = self.ssl_context.wrap_socket(sock, server_hostname=self.url.host)
        except TimeoutError:
            raise _Deadline from None
        self.marks["tls.complete"] = now()
        return tls

    def _open(self) -> None:
        """Send the upgrade request and read the answer: a ``101`` opens the socket; anything else is
        a refusal, reported with the hop's status and the start of its answer."""
        self.phase = "headers"
        request = self.protocol.connect()
        request.headers["User-Agent"] = user_agent()
        for name, value in self.o.headers.items():
            if name in request.headers:
                del request.headers[name]
            request.headers[name] = str(value)
        self.protocol.send_request(request)
        self.marks["request.sent"] = now()
        self._flush()
        head = bytearray()
        deadline = now() + self.o.timeout
        while True:
            try:
                self._bound(deadline)
                data = self._recv()
            except _Deadline:
                if _STATUS_LINE.match(head):  # an answer whose body never ends: a refusal all the same
                    raise ProbeFailure.of(self._refusal(None, bytes(head))) from None
                raise
            t = now()
            if "first_byte" not in self.marks and data:
                self.marks["first_byte"] = t
            if len(head) < HEAD_BYTES:
                head += data[: HEAD_BYTES - len(head)]
            if data:
                self.protocol.receive_data(data)
            else:
                self.protocol.receive_eof()
            events = self.protocol.events_received()
            for i, event in enumerate(events):
                if isinstance(event, Response):
                    self._on_response(event, bytes(head))
                    # messages the server sent at once, read with the 101
                    self.early = ([e for e in events[i + 1 :] if isinstance(e, Frame)], t)
                    return
            if self.protocol.handshake_exc is not None or not data:
                raise ProbeFailure.of(self._refusal(None, bytes(head)))

    def _on_response(self, response: Response, head: bytes) -> None:
        self.result.status = response.status_code
        if response._exception is not None or self.protocol.handshake_exc is not None:
            raise ProbeFailure.of(self._refusal(response, head))
        self.marks["open"] = now()
        accepted = response.headers.get("Sec-WebSocket-Extensions")
        if accepted:
            self.result.notes.append(
                f"the server accepted WebSocket extensions {shown(accepted, self.secrets, HEADER_CHARS)!r}"
            )

    def _refusal(self, response: Response | None, head: bytes) -> ErrorInfo:
        """The upgrade did not happen: the status, the server (or hop) that answered, the body's start."""
        if response is None:  # not a response websockets reads (a chunked one): its status line at least
            match = _STATUS_LINE.match(head)
            if match is None:
                if not head:
                    return ErrorInfo(
                        "protocol",
                        f"{self.where} closed the connection without answering the WebSocket upgrade",
                    )
                why = self.protocol.handshake_exc
                detail = str(why.__cause__ or why) if isinstance(why, InvalidMessage) else str(why)
                return ErrorInfo(
                    "protocol", f"{self.where} did not answer the WebSocket upgrade with HTTP: {detail}"
                )
            status, reason = int(match[1]), match[2].decode("latin-1")
            body = head.partition(b"\r\n\r\n")[2]
            server = None
        else:
            status, reason, body = response.status_code, response.reason_phrase, bytes(response.body)
            server = response.headers.get("Server")
        self.result.status = status
        if status == 101:  # a 101 websockets refused (a bad Sec-WebSocket-Accept, an unasked extension)
            why = self.protocol.handshake_exc
            return ErrorInfo("protocol", f"{self.where} answered 101 but not as a WebSocket: {why}")
        wanted = excerpt_budget(self.secrets)
        excerpt = shown_excerpt(body[:wanted].decode("utf-8", errors="replace"), self.secrets)
        by = f" (Server: {shown(server, self.secrets, HEADER_CHARS)})" if server else ""
        message = (
            f"the WebSocket upgrade was refused: {self.where} answered HTTP {status} "
            f"{shown(reason, self.secrets, HEADER_CHARS)}{by} instead of 101 Switching Protocols"
        )
        if status == UPGRADE_REQUIRED:
            message += (
                "; the endpoint wants an upgrade the request reached it without: a proxy in between "
                "dropped the Upgrade and Connection headers"
            )
        if excerpt:
            message += f"; the body starts: {excerpt}"
        return ErrorInfo("http_status", message)

    # -- the stream ----------------------------------------------------------------------------

    def _read_messages(self) -> None:
        protocol = self.protocol
        self.silent_until = now() + self.o.timeout
        frames, t = self.early
        data = b"-"  # the frames read with the 101 came with data
        while True:
            self._take(frames, t)
            self._flush()  # PONGs and the close handshake's answer
            if isinstance(protocol.parser_exc, PayloadTooBig):
                raise ProbeFailure.of(message_too_large_error(self.where, self.o.max_event_bytes))
            if self.ended or not data or protocol.parser_exc is not None:
                self._on_close()
                return
            try:
                self._bound(self.silent_until)
                data = self._recv()
            except _Deadline:
                self._stop_on_deadline()
                return
            t = now()
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            frames = [e for e in protocol.events_received() if isinstance(e, Frame)]

    def _take(self, frames: list[Frame], t: float) -> None:
        """Frames read at ``t``: data frames make messages (each timed ``t``); a close frame ends."""
        for frame in frames:
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                self.silent_until = t + self.o.timeout  # data, not a PING, ends a silence
                if frame.opcode is not Opcode.CONT:
                    self.message, self.text = bytearray(), frame.opcode is Opcode.TEXT
                if self.message is not None:
                    self.message += frame.data
                    if frame.fin:
                        self._record(bytes(self.message), self.text, t)
                        self.message = None
            elif frame.opcode is Opcode.CLOSE:
                self.ended = True

    def _stop_on_deadline(self) -> None:
        if now() >= self.stop_at:
            self.cut = True  # judged on what arrived, as an SSE read cut by max_duration is
            return
        raise ProbeFailure.of(stalled_error(self.o.timeout, len(self.events)))

    def _on_close(self) -> None:
        received = self.protocol.close_rcvd  # the server's close frame, when it sent one
        code = received.code if received is not None else ABNORMAL_CLOSURE
        self.result.close_code = code
        if received is None:  # no close frame: the connection ended under the stream
            detail = self.protocol.parser_exc
            raise ProbeFailure(
                "protocol",
                f"the WebSocket from {self.where} ended without a close frame (code {code}) after "
                f"{len(self.events)} message(s)" + (f": {detail}" if detail else ""),
            )
        reason = received.reason
        said = f"code {code}" + (f" {shown(reason, self.secrets, HEADER_CHARS)!r}" if reason else "")
        if not self.events:
            raise ProbeFailure(
                "protocol", f"{self.where} closed the WebSocket ({said}) before the first message"
            )
        if code not in CLEAN_CLOSE_CODES:
            self.result.notes.append(f"the server closed the WebSocket with {said}, not a normal closure")

    def _record(self, data: bytes, text: bool, t: float) -> None:
        if len(self.events) >= MAX_EVENTS:
            raise ProbeFailure(
                "too_large",
                f"{self.where} sent more than {MAX_EVENTS} messages on one WebSocket; a probe keeps at most "
                "that many (point it at a bounded stream such as streamcheck)",
            )
        sent = send_time_of(data.decode("utf-8", errors="replace"))
        event = sent.event or ("message" if text else "binary")
        self.events.append(EventArrival((t - self.t0) * 1000, event, sent.sent_ms, sent.seq, len(data)))

    # -- the socket ----------------------------------------------------------------------------

    def _recv(self) -> bytes:
        assert self.sock is not None
        try:
            return self.sock.recv(READ_BYTES)
        except TimeoutError:
            raise _Deadline from None

    def _flush(self) -> None:
        assert self.sock is not None
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.sock.sendall(chunk)

    # -- the result ----------------------------------------------------------------------------

    def _finish(self) -> ProbeResult:
        r, t0, marks = self.result, self.t0, self.marks

        def span(start: str, end: str) -> float | None:
            a, b = marks.get(start), marks.get(end)
            return None if a is None or b is None else (b - a) * 1000

        r.clock_origin = t0
        r.timings_ms["connect"] = span("connect.started", "connect.complete")
        r.timings_ms["tls"] = span("tls.started", "tls.complete")
        first = marks.get("first_byte")  # the 101's status line: the time to the upgrade
        r.timings_ms["ttfb"] = None if first is None else (first - t0) * 1000
        r.timings_ms["total"] = (self.end - t0) * 1000
        if r.request_sent_ms is None and "request.sent" in marks:
            r.request_sent_ms = (marks["request.sent"] - t0) * 1000
        r.arrivals = self.events
        cut = self.cut and r.error is None
        note = end_note(self.events, cut=cut, ended=self.ended, max_duration=self.o.max_duration)
        if note:
            r.notes.append(note)
        return conclude(r, self.secrets)
