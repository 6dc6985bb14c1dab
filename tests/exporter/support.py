"""Helpers for the exporter's tests: the exporter in a thread, promtool, plain HTTP GETs."""

from __future__ import annotations

import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from streamprobe.exporter.server import ExporterHTTPServer, Settings, make_server

from lab.topology import find_binary

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "kubernetes"

# Short enough to fit a 1 s scrape timeout (less the exporter's 0.5 s offset): 6 events 50 ms apart, a
# 250 ms stream; streaming <= 50 ms of delay, buffered >= 200 ms.
STREAM = "/api/streamcheck?events=6&interval_ms=50"


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: str


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 20.0) -> Reply:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, response.headers.get("Content-Type", ""), response.read().decode())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.headers.get("Content-Type", ""), exc.read().decode())


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_binary("promtool"), *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def assert_lint_clean(exposition: str) -> None:
    """``promtool check metrics``: the exposition parses and has no lint problems."""
    checked = promtool("check", "metrics", stdin=exposition)
    assert checked.returncode == 0, f"promtool check metrics:\n{checked.stdout}{checked.stderr}\n{exposition}"


def scrape(url: str, headers: dict[str, str] | None = None) -> Reply:
    """GET an exporter URL; a 200 answer in the exposition format is linted by promtool."""
    reply = get(url, headers)
    if reply.status == 200 and reply.content_type.startswith("text/plain"):
        assert_lint_clean(reply.body)
    return reply


def samples(exposition: str) -> dict[str, float]:
    """``{'name{labels}': value}`` of a text exposition (no timestamps in ours)."""
    values: dict[str, float] = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            values[key] = float(value)
    return values


@contextmanager
def running_exporter(settings: Settings, host: str = "127.0.0.1") -> Iterator[ExporterHTTPServer]:
    server = make_server(host, 0, settings)
    thread = threading.Thread(target=server.serve_forever, name="exporter", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextmanager
def untouched_listener() -> Iterator[tuple[int, socket.socket]]:
    """A loopback port that accepts connections (the kernel completes them) but never serves: after a
    test, ``accept()`` tells whether anything connected."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    try:
        yield int(sock.getsockname()[1]), sock
    finally:
        sock.close()


def was_contacted(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True
