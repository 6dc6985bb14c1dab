"""Real loopback servers for tests: well-behaved (uvicorn, hypercorn h2+TLS), misbehaving
(raw sockets) and buffering (raw HTTP/1.1 proxies, ASGI middlewares for HTTP/2).

Every server binds 127.0.0.1 on a free port, runs in background threads and is a context manager
that stops it cleanly::

    with uvicorn_server(app) as srv:                       # HTTP/1.1, srv.url("/api/streamcheck")
    with hypercorn_server(app, tls=tls_files()) as srv:    # TLS, ALPN h2 + http/1.1; srv.ca_pem
    with never_answers() as srv: ...                       # misbehaving: see the functions below
    with hold_all_proxy(upstream.port) as proxy: ...       # buffering HTTP/1.1 proxy
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .tls import TLSFiles

HOST = "127.0.0.1"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class RunningServer:
    host: str
    port: int
    scheme: str = "http"
    ca_pem: str | None = None  # for verify= / --cacert when scheme is https

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    @property
    def verify(self) -> str | bool:
        """What a client should pass as ``verify=``: the CA file for TLS servers."""
        return self.ca_pem or True


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(128)
    return sock


def refused_port() -> int:
    """A loopback port with nothing listening (connecting is refused)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def connect_hangs() -> Iterator[int]:
    """A loopback port where a TCP connect() hangs: a listener that never accepts, its accept queue
    (backlog 0) filled first, so the kernel drops further SYNs (Linux). Checked before it is yielded."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind((HOST, 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(3):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((HOST, port))
            fillers.append(filler)
        time.sleep(0.1)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as check:
            check.settimeout(0.3)
            try:
                check.connect((HOST, port))
            except TimeoutError:
                pass
            else:
                raise RuntimeError("connect_hangs: a connect to the full listener completed")
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


# -- well-behaved ASGI servers -------------------------------------------------------------------


@contextmanager
def uvicorn_server(app: ASGIApp, *, tls: TLSFiles | None = None, **config: Any) -> Iterator[RunningServer]:
    """``app`` under uvicorn: HTTP/1.1 (with TLS if ``tls`` is given; uvicorn never offers h2)."""
    import uvicorn

    sock = listening_socket()
    port = int(sock.getsockname()[1])
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "off", "timeout_graceful_shutdown": 1}
    if tls is not None:
        options.update(ssl_certfile=tls.cert_pem, ssl_keyfile=tls.key_pem)
    options.update(config)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            sock.close()
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield RunningServer(HOST, port, "https" if tls else "http", tls.ca_pem if tls else None)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def hypercorn_server(
    app: ASGIApp, *, tls: TLSFiles, alpn: tuple[str, ...] = ("h2", "http/1.1")
) -> Iterator[RunningServer]:
    """``app`` under hypercorn with TLS; ALPN offers ``alpn`` (default h2 and http/1.1)."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    sock = listening_socket()
    port = int(sock.getsockname()[1])
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.certfile, config.keyfile = tls.cert_pem, tls.key_pem
    config.alpn_protocols = list(alpn)
    config.graceful_timeout = 1.0
    config.loglevel = "WARNING"
    config.accesslog = None
    config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()

    async def main() -> None:
        ready.set()
        await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="hypercorn", daemon=True)
    thread.start()
    ready.wait(10)
    _wait_tls_ready(port)
    try:
        yield RunningServer(HOST, port, "https", tls.ca_pem)
    finally:
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        sock.detach()  # hypercorn owns (and has closed) the descriptor


def _wait_tls_ready(port: int, timeout: float = 10.0) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), 1) as raw, ctx.wrap_socket(raw) as tls:
                tls.do_handshake()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


# -- misbehaving raw-socket servers ------------------------------------------------------------

Handler = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """A threaded TCP server on 127.0.0.1 calling ``handler(conn, stopping)`` per connection."""

    def __init__(self, handler: Handler, *, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.stopping = threading.Event()
        self._listener = listening_socket()
        self.port = int(self._listener.getsockname()[1])
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.connections = 0
        self._acceptor = threading.Thread(target=self._accept, name="raw-server", daemon=True)

    @property
    def url_base(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.url_base + path

    def __enter__(self) -> RawServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._acceptor.join(5)
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._conns.append(conn)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn.settimeout(5)
                conn = self.tls.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
                with self._lock:
                    self._conns.append(conn)
            self.handler(conn, self.stopping)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def read_request(conn: socket.socket, stopping: threading.Event | None = None) -> bytes:
    """Read one request head (until the blank line); b"" if the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    return data


SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Connection: close\r\n\r\n"
)


def sse_event(seq: int) -> bytes:
    return f'id: {seq}\nevent: tick\ndata: {{"seq": {seq}}}\n\n'.encode()


def _wait(stopping: threading.Event, seconds: float | None = None) -> None:
    stopping.wait(seconds)


def never_answers() -> RawServer:
    """Accepts, reads, never answers (also: a TLS handshake that never completes)."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        _wait(stopping)

    return RawServer(handler)


def stalls_mid_stream(events: int = 2) -> RawServer:
    """Sends SSE headers and ``events`` events, then goes silent with the connection open."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        conn.sendall(SSE_HEAD + b"".join(sse_event(i) for i in range(events)))
        _wait(stopping)

    return RawServer(handler)


def resets_mid_stream(events: int = 2, after: float = 0.1) -> RawServer:
    """Sends SSE headers and ``events`` events, then resets the connection (RST)."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        conn.sendall(SSE_HEAD + b"".join(sse_event(i) for i in range(events)))
        _wait(stopping, after)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()

    return RawServer(handler)


GARBAGE = b"\x00\x17\xfe\xffSSH-2.0-OpenSSH_9.2 not http at all\r\n\xc3\x28\x80"


def sends_garbage() -> RawServer:
    """Answers the request with bytes that are not HTTP, then closes."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        conn.sendall(GARBAGE)
        _wait(stopping, 0.2)

    return RawServer(handler)


def huge_line(chunk: int = 64 * 1024) -> RawServer:
    """A valid SSE response whose first line never ends (``data: xxxx...`` forever)."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        conn.sendall(SSE_HEAD + b"data: ")
        block = b"x" * chunk
        while not stopping.is_set():
            conn.sendall(block)

    return RawServer(handler)


LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body>\n"
    "<form action='/login' method='post'><input name='user'><input type='password' name='pw'>"
    "</form></body></html>\n"
)


def wrong_content_type(body: str = LOGIN_PAGE, echo_request: bool = False) -> RawServer:
    """200 with an HTML login page instead of an event stream. ``echo_request`` puts the
    request head (header values included) at the start of the page, as some debug pages do."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        request = read_request(conn)
        page = (b"<pre>" + request + b"</pre>" if echo_request else b"") + body.encode()
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            + f"Content-Length: {len(page)}\r\nConnection: close\r\n\r\n".encode()
            + page
        )
        _wait(stopping, 0.2)

    return RawServer(handler)


def status_error(
    status: int = 503, reason: str = "Service Unavailable", body: str = "upstream connect error"
) -> RawServer:
    """Answers every request with ``status`` and a short text body."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        data = body.encode()
        conn.sendall(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + data
        )
        _wait(stopping, 0.2)

    return RawServer(handler)


def trickles_body(interval: float = 0.05) -> RawServer:
    """SSE headers, then an endless stream of events sent one byte every ``interval`` seconds:
    never silent for long, never done."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        conn.sendall(SSE_HEAD)
        seq = 0
        while not stopping.is_set():
            for byte in f"data: {seq}\n\n".encode():
                conn.sendall(bytes([byte]))
                if stopping.wait(interval):
                    return
            seq += 1

    return RawServer(handler)


def trickles_headers(interval: float = 0.05) -> RawServer:
    """A status line, then a header that grows one byte every ``interval`` seconds, forever."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not stopping.wait(interval):
            conn.sendall(b"a")

    return RawServer(handler)


def delayed_sse(
    head_delay: float, events: int, interval: float, log: list[tuple[int, float]] | None = None
) -> RawServer:
    """Waits ``head_delay`` s before the headers, then sends ``events`` events every ``interval`` s
    with ``sent_ms`` relative to the request's arrival. Appends (seq, perf_counter at send) to ``log``."""
    import json

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        t0 = time.perf_counter()
        if stopping.wait(head_delay):
            return
        conn.sendall(SSE_HEAD)
        for seq in range(events):
            target = t0 + head_delay + seq * interval
            pause = target - time.perf_counter()
            if pause > 0 and stopping.wait(pause):
                return
            sent = time.perf_counter()
            payload = json.dumps({"seq": seq, "sent_ms": (sent - t0) * 1000})
            conn.sendall(f"id: {seq}\nevent: tick\ndata: {payload}\n\n".encode())
            if log is not None:
                log.append((seq, sent))

    return RawServer(handler)


# -- buffering HTTP/1.1 proxies (raw sockets) -----------------------------------------------------


def _force_close(head: bytes) -> bytes:
    """The request head with ``Connection: close`` (so the upstream ends the body by closing)."""
    lines = head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    kept = [ln for ln in lines if not ln.lower().startswith(b"connection:")]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n"


def buffering_proxy(upstream_port: int, *, block: int | None) -> RawServer:
    """An HTTP/1.1 proxy to 127.0.0.1:``upstream_port`` that forwards the response in ``block``-byte
    pieces (the rest when the upstream ends), or holds all of it until the end (``block=None``)."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        head = read_request(conn)
        if not head:
            return
        with socket.create_connection((HOST, upstream_port), 10) as up:
            up.settimeout(None)
            up.sendall(_force_close(head))
            pending = b""
            while not stopping.is_set():
                data = up.recv(65536)
                if not data:
                    break
                pending += data
                while block is not None and len(pending) >= block:
                    conn.sendall(pending[:block])
                    pending = pending[block:]
            conn.sendall(pending)
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)
        _wait(stopping, 0.2)

    return RawServer(handler)


def hold_all_proxy(upstream_port: int) -> RawServer:
    """Holds the whole response until the upstream finishes it (like nginx gzip + proxy_buffering)."""
    return buffering_proxy(upstream_port, block=None)


def block_proxy(upstream_port: int, block: int = 4096) -> RawServer:
    """Forwards the response in ``block``-byte pieces (like a proxy with a 4 KiB buffer)."""
    return buffering_proxy(upstream_port, block=block)


# -- buffering ASGI middlewares (for HTTP/2 under hypercorn) -------------------------------------


def buffered_asgi(app: ASGIApp, *, block: int | None, when: Callable[[Scope], bool] | None = None) -> ASGIApp:
    """Wrap ``app`` so its response body leaves in ``block``-byte pieces, or all at the end
    (``block=None``); only for requests where ``when(scope)`` is true, if given (e.g.
    ``lambda s: s["http_version"] == "2"`` for a front end that buffers only HTTP/2)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (when is not None and not when(scope)):
            await app(scope, receive, send)
            return
        pending = bytearray()

        async def buffered_send(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
                return
            pending.extend(message.get("body", b""))
            more = message.get("more_body", False)
            while block is not None and len(pending) >= block:
                await send({"type": "http.response.body", "body": bytes(pending[:block]), "more_body": True})
                del pending[:block]
            if not more:
                await send({"type": "http.response.body", "body": bytes(pending), "more_body": False})
                pending.clear()

        await app(scope, receive, buffered_send)

    return wrapped


def gzip_flushing_asgi(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` to gzip its responses when the client accepts gzip, flushing the compressor
    after every body message (Z_SYNC_FLUSH): compressed, yet streamed."""
    import zlib

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        accepts = dict(scope.get("headers", [])).get(b"accept-encoding", b"")
        if scope["type"] != "http" or b"gzip" not in accepts:
            await app(scope, receive, send)
            return
        compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

        async def gzip_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                await send({**message, "headers": [*headers, (b"content-encoding", b"gzip")]})
            elif message["type"] == "http.response.body":
                more = message.get("more_body", False)
                body = compressor.compress(message.get("body", b""))
                body += compressor.flush(zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH)
                await send({"type": "http.response.body", "body": body, "more_body": more})
            else:
                await send(message)

        await app(scope, receive, gzip_send)

    return wrapped


def brotli_flushing_asgi(app: ASGIApp) -> ASGIApp:
    """Like :func:`gzip_flushing_asgi` with brotli (``br``): compressed per event, yet streamed."""
    import brotli

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        accepts = dict(scope.get("headers", [])).get(b"accept-encoding", b"")
        if scope["type"] != "http" or b"br" not in accepts:
            await app(scope, receive, send)
            return
        compressor = brotli.Compressor()

        async def br_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                await send({**message, "headers": [*headers, (b"content-encoding", b"br")]})
            elif message["type"] == "http.response.body":
                more = message.get("more_body", False)
                body = compressor.process(message.get("body", b""))
                body += compressor.flush() if more else compressor.finish()
                await send({"type": "http.response.body", "body": body, "more_body": more})
            else:
                await send(message)

        await app(scope, receive, br_send)

    return wrapped
