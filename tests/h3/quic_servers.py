"""Misbehaving QUIC servers on loopback UDP, for the probe's HTTP/3 bad-input tests.

Each one is a context manager running one thread on one UDP socket bound to 127.0.0.1; leaving the
``with`` block stops the thread and closes the socket (the tests count both before and after).

* ``drops_udp()``: reads every datagram and answers none (a firewall that drops UDP).
* ``version_negotiation()``: answers every Initial with a Version Negotiation packet listing only
  versions the client does not speak.
* ``H3Server(behaviour)``: a real HTTP/3 server (aioquic, driven sans-I/O) whose ``behaviour`` is one of
  ``"reset_mid_stream"`` (two SSE events, then a stateless reset with the connection's real token),
  ``"silent_mid_stream"`` (two events, then nothing but ACKs), ``"initial_only"`` (of its handshake
  flight only the first Initial packet is sent, the ServerHello: the handshake never finishes) or
  ``"no_h3_alpn"`` (the server offers another ALPN: the TLS handshake fails with no_application_protocol).
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

from aioquic._buffer import Buffer
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.packet import pull_quic_header

from tests.support.tls import TLSFiles

HOST = "127.0.0.1"
SSE_EVENT = 'id: {0}\nevent: tick\ndata: {{"seq": {0}}}\n\n'


class UdpServer:
    """One thread calling ``handle(data, addr)`` for each datagram and ``tick()`` every 10 ms."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.port = int(self.sock.getsockname()[1])
        self.datagrams = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"test-udp-{self.port}", daemon=True)

    def url(self, path: str = "/") -> str:
        return f"https://{HOST}:{self.port}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def handle(self, data: bytes, addr: tuple[Any, ...]) -> None:
        """Override: one datagram arrived."""

    def tick(self) -> None:
        """Override: called at least every 10 ms."""

    def _run(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self.sock], [], [], 0.01)
            if readable:
                try:
                    data, addr = self.sock.recvfrom(65536)
                except OSError:
                    continue
                self.datagrams += 1
                self.handle(data, addr)
            self.tick()


def drops_udp() -> UdpServer:
    return UdpServer()


class _VersionNegotiation(UdpServer):
    OFFERED = (0x1A2A3A4A, 0xFF00001D)  # a greased version and draft-29: neither is v1 or v2

    def handle(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if len(data) < 7 or not data[0] & 0x80:
            return
        dcid_len = data[5]
        dcid = data[6 : 6 + dcid_len]
        scid_len = data[6 + dcid_len]
        scid = data[7 + dcid_len : 7 + dcid_len + scid_len]
        packet = bytes([0x80 | (os.urandom(1)[0] & 0x7F)]) + b"\x00\x00\x00\x00"
        packet += bytes([len(scid)]) + scid + bytes([len(dcid)]) + dcid  # the client's IDs, swapped
        packet += b"".join(v.to_bytes(4, "big") for v in self.OFFERED)
        self.sock.sendto(packet, addr)


def version_negotiation() -> UdpServer:
    return _VersionNegotiation()


class H3Server(UdpServer):
    """A single-connection HTTP/3 server with one of the behaviours in the module docstring."""

    def __init__(self, tls: TLSFiles, behaviour: str) -> None:
        super().__init__()
        self.behaviour = behaviour
        self.config = QuicConfiguration(
            is_client=False, alpn_protocols=["h2x"] if behaviour == "no_h3_alpn" else list(H3_ALPN)
        )
        self.config.load_cert_chain(tls.cert_pem, tls.key_pem)
        self.quic: QuicConnection | None = None
        self.h3: H3Connection | None = None
        self.addr: tuple[Any, ...] | None = None
        self.sent_datagrams = 0
        self.reset_at: float | None = None
        self.reset_sent = False

    def handle(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if self.quic is None:
            header = pull_quic_header(Buffer(data=data), host_cid_length=self.config.connection_id_length)
            self.quic = QuicConnection(
                configuration=self.config, original_destination_connection_id=header.destination_cid
            )
            self.h3 = H3Connection(self.quic)
            self.addr = addr
        if self.reset_sent:
            return  # the connection is forgotten: that is what a stateless reset says
        self.quic.receive_datagram(data, addr, time.monotonic())
        self._events()
        self._flush()

    def tick(self) -> None:
        if self.quic is None or self.reset_sent:
            return
        if self.reset_at is not None and time.monotonic() >= self.reset_at:
            self._stateless_reset()
            return
        timer = self.quic.get_timer()
        if timer is not None and time.monotonic() >= timer:
            self.quic.handle_timer(time.monotonic())
            self._events()
        self._flush()

    def _events(self) -> None:
        assert self.quic is not None and self.h3 is not None
        while (event := self.quic.next_event()) is not None:
            for h3_event in self.h3.handle_event(event):
                if isinstance(h3_event, HeadersReceived):
                    self._answer(h3_event.stream_id)

    def _answer(self, stream_id: int) -> None:
        assert self.h3 is not None
        head = [
            (b":status", b"200"),
            (b"content-type", b"text/event-stream"),
            (b"cache-control", b"no-cache"),
        ]
        self.h3.send_headers(stream_id, head)
        for seq in range(2):
            self.h3.send_data(stream_id, SSE_EVENT.format(seq).encode(), end_stream=False)
        if self.behaviour == "reset_mid_stream":
            self.reset_at = time.monotonic() + 0.2

    def _stateless_reset(self) -> None:
        """RFC 9000 section 10.3: unpredictable bytes that look like a short-header packet, ending in the
        token the server gave for the connection ID the client uses."""
        assert self.quic is not None and self.addr is not None
        token = self.quic._host_cids[0].stateless_reset_token
        assert token is not None
        packet = bytes([0x40 | (os.urandom(1)[0] & 0x3F)]) + os.urandom(24) + token
        self.sock.sendto(packet, self.addr)
        self.reset_sent = True

    def _flush(self) -> None:
        assert self.quic is not None
        for datagram, addr in self.quic.datagrams_to_send(time.monotonic()):
            self.sent_datagrams += 1
            if self.behaviour == "initial_only":
                if self.sent_datagrams > 1:
                    continue
                # the first packet of the coalesced datagram: the Initial; the Handshake packets are cut
                length = pull_quic_header(Buffer(data=datagram), host_cid_length=8).packet_length
                datagram = datagram[:length]
            self.sock.sendto(datagram, addr)
