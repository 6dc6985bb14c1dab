"""Real Caddy on loopback as the HTTP/3 front (Debian's caddy: required, a missing one is a failure).

One Caddy serves four sites, each ``https://127.0.0.1:<port>`` over h1, h2 and h3 (UDP on the same
port number): in front of the reference app (streams), in front of a proxy that holds the whole
response (buffers), in front of a server that answers an HTML page echoing the request's headers, and
one that sends only its HTTP/3 requests through the holding proxy (an HTTP/3 edge that buffers).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamcheck.reference_app import create_app

from lab.caddy import CaddySite, caddy_process
from lab.procs import LabError, free_ports
from lab.topology import find_binary
from tests.support.servers import hold_all_proxy, uvicorn_server, wrong_content_type
from tests.support.tls import TLSFiles, tls_files

# 10 events 200 ms apart: a 1.8 s stream; streaming <= 180 ms of delay, buffered >= 1440 ms. Caddy runs on a
# worker that steps back (nice) for the timing lanes: a 0.9 s stream missed its 90 ms beside the load lane.
EVENTS, INTERVAL_MS = 10, 200
STREAM_MS = (EVENTS - 1) * INTERVAL_MS
STREAM = f"/api/streamcheck?events={EVENTS}&interval_ms={INTERVAL_MS}"


@dataclass(frozen=True)
class Fronts:
    streamed: int  # Caddy -> app
    buffered: int  # Caddy -> holding proxy -> app
    echo: int  # Caddy -> an HTML page that echoes the request head
    h3_buffers: int  # Caddy -> app over h1/h2; over h3 Caddy -> holding proxy -> app
    tls: TLSFiles
    upstreams: frozenset[int]  # ports of the in-process servers behind Caddy

    def url(self, port: int, path: str = STREAM, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{port}{path}"


@pytest.fixture(scope="session")
def tls() -> TLSFiles:
    return tls_files()


@pytest.fixture(scope="session")
def fronts(tls: TLSFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fronts]:
    try:
        binary = find_binary("caddy")
    except LabError as exc:
        pytest.fail(f"the HTTP/3 tests need Debian's caddy: {exc}", pytrace=False)
    with (
        uvicorn_server(create_app()) as app,
        hold_all_proxy(app.port) as holder,
        wrong_content_type(echo_request=True) as echo,
    ):
        streamed, buffered, echoed, h3_buffers = free_ports(4)
        sites = [
            CaddySite(streamed, app.port),
            CaddySite(buffered, holder.port),
            CaddySite(echoed, echo.port),
            CaddySite(h3_buffers, app.port, h3_upstream_port=holder.port),
        ]
        caddy = caddy_process(
            binary, tmp_path_factory.mktemp("caddy"), sites, cert_pem=tls.cert_pem, key_pem=tls.key_pem
        )
        caddy.start(timeout=20)
        try:
            yield Fronts(
                streamed, buffered, echoed, h3_buffers, tls, frozenset({app.port, holder.port, echo.port})
            )
        finally:
            caddy.stop()


def _open_fds() -> dict[str, str]:
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the directory's own descriptor, closed by now
            continue
    return found


def _socket_ports() -> dict[str, int]:
    """Socket inode -> local port, for every TCP and UDP socket of this network namespace."""
    ports = {}
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            rows = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            ports[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
    return ports


def _new_fds(before: dict[str, str], servers: frozenset[int]) -> list[str]:
    """Descriptors opened since ``before``, except sockets of the in-process servers (``servers``: their
    local ports), which keep the connections Caddy opened to them."""
    ports = _socket_ports()
    new = []
    for fd, target in _open_fds().items():
        if before.get(fd) == target:
            continue
        if target.startswith("socket:[") and ports.get(target[8:-1]) in servers:
            continue
        new.append(target)
    return new


@contextmanager
def nothing_left_behind(servers: frozenset[int] = frozenset()) -> Iterator[None]:
    """Asserts that the block leaves no thread and no file descriptor behind."""
    threads, fds = set(threading.enumerate()), _open_fds()
    yield
    deadline = time.monotonic() + 2.0  # a thread being joined may take a moment to be gone
    while (set(threading.enumerate()) - threads or _new_fds(fds, servers)) and time.monotonic() < deadline:
        time.sleep(0.02)
    left = [t.name for t in set(threading.enumerate()) - threads]
    assert not left, f"threads left behind: {left}"
    assert not _new_fds(fds, servers), f"file descriptors left behind: {_new_fds(fds, servers)}"
