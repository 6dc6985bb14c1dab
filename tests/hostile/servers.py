"""Hostile servers on loopback: raw HTTP/1.1 answers (bombs, lies, floods, echoes of the request) and an
HTTP/2 server built on the ``h2`` library over TLS that misuses control frames.

Each is a :class:`tests.support.servers.RawServer` (a context manager; ``srv.url(path)``).
"""

from __future__ import annotations

import functools
import gzip
import os
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator

import brotli
import h2.config
import h2.connection
import h2.events

from tests.support.servers import RawServer, read_request
from tests.support.tls import TLSFiles

GIB = 1 << 30
SSE = b"Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"


def headers_of(request: bytes) -> dict[str, str]:
    """The request head's headers, names lower-cased."""
    lines = request.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


# -- bodies ------------------------------------------------------------------------------------------


@functools.cache
def br_newline_bomb() -> bytes:
    """About 800 bytes of brotli that inflate to 1 GiB of ``\\n`` (the reported one was 1,617 bytes)."""
    block = b"\n" * (1 << 20)
    comp = brotli.Compressor(quality=5, lgwin=24)
    out: list[bytes] = [comp.process(block) for _ in range(GIB // len(block))]
    tail: bytes = comp.finish()
    return b"".join(out) + tail


@functools.cache
def gzip_newline_bomb() -> bytes:
    """About 1 MB of gzip (one member) that inflates to 1 GiB of ``\\n``."""
    block = b"\n" * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [comp.compress(block) for _ in range(GIB // len(block))]
    return b"".join(out) + comp.flush()


def corrupt_gzip() -> bytes:
    good = gzip.compress(b"data: 1\n\n" * 100)
    return good[:20] + bytes(b ^ 0x5A for b in good[20:40]) + good[40:]


INVALID_BROTLI = b"\xff\xff\xff\xff not brotli at all \x00\x01\x02" * 4


# -- HTTP/1.1 --------------------------------------------------------------------------------------


def answers(
    head: bytes,
    body: Iterable[bytes] | Callable[[], Iterable[bytes]] = (),
    *,
    pause: float = 0.0,
    then_wait: float | None = 30.0,
) -> RawServer:
    """Answers every request with ``head`` (status line and headers, up to the blank line) and then
    the pieces of ``body`` (a callable makes a fresh iterable per connection), ``pause`` s apart;
    then keeps the connection open ``then_wait`` s (None: until the server stops)."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        conn.sendall(head)
        for piece in body() if callable(body) else body:
            if stopping.is_set():
                return
            conn.sendall(piece)
            if pause and stopping.wait(pause):
                return
        stopping.wait(then_wait)

    return RawServer(handler)


def sse_head(*extra: str, status: str = "200 OK") -> bytes:
    lines = "".join(f"{h}\r\n" for h in extra)
    return f"HTTP/1.1 {status}\r\n".encode() + SSE + lines.encode() + b"Connection: close\r\n\r\n"


def endless(piece: bytes) -> Callable[[], Iterator[bytes]]:
    def gen() -> Iterator[bytes]:
        while True:
            yield piece

    return gen


def echoes(respond: Callable[[dict[str, str]], bytes], *, then_wait: float = 30.0) -> RawServer:
    """Answers with ``respond(request headers)``: a server that echoes what it was sent."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        request = read_request(conn)
        conn.sendall(respond(headers_of(request)))
        stopping.wait(then_wait)

    return RawServer(handler)


def informational_forever(interval: float = 0.01) -> RawServer:
    """``HTTP/1.1 102 Processing`` again and again, never a final response."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        while not stopping.wait(interval):
            conn.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")

    return RawServer(handler)


# -- HTTP/2 (h2 over TLS) --------------------------------------------------------------------------

PING_FRAME = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"streampr"
EMPTY_DATA_FRAME_HEAD = b"\x00\x00\x00\x00\x00"  # + stream id (4 bytes): length 0, type DATA, no flags
SETTINGS_FRAME = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # empty SETTINGS (no ACK flag)

H2Script = Callable[["H2Peer"], None]


class H2Peer:
    """One HTTP/2 connection on the server side: the request has been read, ``stream_id`` is its stream."""

    def __init__(self, conn: ssl.SSLSocket, stopping: threading.Event) -> None:
        self.sock = conn
        self.stopping = stopping
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        self.h2.initiate_connection()
        self.stream_id = 0
        self.sock.settimeout(5)
        self.sock.sendall(self.h2.data_to_send())
        while not self.stream_id:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("client closed before its request")
            for event in self.h2.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    self.stream_id = event.stream_id
            self.sock.sendall(self.h2.data_to_send())
        self.sock.setblocking(False)  # from here on: send and drain without blocking

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.send_raw(data)

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (raw frames bypass h2's state), draining what the client sends."""
        view = memoryview(data)
        while view and not self.stopping.is_set():
            try:
                sent = self.sock.send(view)
                view = view[sent:]
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                self.drain()
                time.sleep(0.001)
        self.drain()

    def drain(self) -> None:
        """Read and discard what the client sent (PING ACKs, WINDOW_UPDATEs)."""
        while True:
            try:
                if not self.sock.recv(65536):
                    return
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return

    def headers(self, content_type: str = "text/event-stream") -> None:
        self.h2.send_headers(self.stream_id, [(":status", "200"), ("content-type", content_type)])
        self.flush()

    def data(self, payload: bytes) -> None:
        self.h2.send_data(self.stream_id, payload)
        self.flush()

    def wait(self, seconds: float) -> bool:
        """Wait (draining the client); True if the server is stopping."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.drain()
            if self.stopping.wait(min(0.01, max(0.0, end - time.monotonic()))):
                return True
        return False


def h2_server(tls: TLSFiles, script: H2Script) -> RawServer:
    """An HTTP/2-only TLS server (ALPN h2) that runs ``script`` on each connection after its request."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        assert isinstance(conn, ssl.SSLSocket)
        peer = H2Peer(conn, stopping)
        script(peer)
        peer.wait(30)

    return RawServer(handler, tls=tls.server_context(alpn=("h2",)))


def pings_only(duration: float = 8.0, interval: float = 0.05) -> H2Script:
    """HEADERS, then nothing but a PING every ``interval`` s for ``duration`` s: no data at all."""

    def script(peer: H2Peer) -> None:
        peer.headers()
        end = time.monotonic() + duration
        while time.monotonic() < end:
            peer.send_raw(PING_FRAME)
            if peer.wait(interval):
                return

    return script


def ping_flood(pings: int = 100_000, events: int = 5, interval: float = 0.2) -> H2Script:
    """HEADERS, then ``events`` events ``interval`` s apart with ``pings`` PINGs spread between them."""

    def script(peer: H2Peer) -> None:
        peer.headers()
        per_gap = pings // events
        burst = PING_FRAME * 1000
        for seq in range(events):
            peer.data(f'data: {{"seq": {seq}}}\n\n'.encode())
            for _ in range(per_gap // 1000):
                peer.send_raw(burst)
            if peer.wait(interval):
                return

    return script


def frame_flood(frame: Callable[[int], bytes], count: int = 20_000) -> H2Script:
    """HEADERS, one event, then ``count`` copies of ``frame(stream_id)``, then more events."""

    def script(peer: H2Peer) -> None:
        peer.headers()
        peer.data(b"data: first\n\n")
        peer.send_raw(frame(peer.stream_id) * count)
        for _ in range(20):
            peer.data(b"data: more\n\n")
            if peer.wait(0.05):
                return

    return script


def empty_data_frame(stream_id: int) -> bytes:
    return EMPTY_DATA_FRAME_HEAD + stream_id.to_bytes(4, "big")


def settings_frame(stream_id: int) -> bytes:
    return SETTINGS_FRAME


def random_token(n: int = 12) -> str:
    return os.urandom(n).hex()
