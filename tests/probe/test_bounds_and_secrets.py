"""Review findings: max_duration bounds DNS and connect too, one --timeout covers every address
tried, and credentials carried by a URL (userinfo, a redirect's Location) never reach the output."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time

import pytest
from streamprobe import ProbeOptions, ProbeResult, probe

from tests.probe.conftest import STREAM
from tests.probe.test_cli import STREAMPROBE
from tests.support import servers
from tests.support.servers import RunningServer

MARGIN = 0.75  # seconds allowed past a bound (thread wake-up, busy CI machine)
SECRET = "pa55-in-the-url"
Address = tuple[int, tuple[object, ...]]


def run(url: str, **options: object) -> tuple[ProbeResult, float]:
    start = time.monotonic()
    result = probe(url, ProbeOptions(**options))  # type: ignore[arg-type]
    return result, time.monotonic() - start


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STREAMPROBE, *args], capture_output=True, text=True, timeout=60, check=False)


def test_slow_dns_is_bounded_by_max_duration() -> None:
    def resolver(host: str, port: int) -> list[Address]:
        time.sleep(3)
        return [(socket.AF_INET, ("127.0.0.1", port))]

    result, elapsed = run("http://slow.example/api/streamcheck", resolver=resolver, timeout=5, max_duration=1)
    assert result.error is not None and result.error.kind == "dns", result.to_dict()
    assert elapsed < 1.0 + MARGIN


def test_hanging_connect_is_bounded_by_max_duration() -> None:
    with servers.connect_hangs() as port:
        result, elapsed = run(f"http://127.0.0.1:{port}/api/streamcheck", timeout=5, max_duration=1)
    assert result.error is not None and result.error.kind == "timeout", result.to_dict()
    assert elapsed < 1.0 + MARGIN


def test_one_timeout_covers_every_address_tried() -> None:
    with servers.connect_hangs() as port:

        def resolver(host: str, port_: int) -> list[Address]:
            return [(socket.AF_INET, ("127.0.0.1", port))] * 3

        result, elapsed = run(f"http://many.example:{port}/api/streamcheck", resolver=resolver, timeout=1)
    assert result.error is not None and result.error.kind == "timeout", result.to_dict()
    assert "TCP connect" in result.error.message
    assert 1.0 <= elapsed < 1.0 + MARGIN  # not once per address


def test_url_userinfo_is_masked_everywhere(h1_server: RunningServer) -> None:
    url = h1_server.url(STREAM).replace("://", f"://probe:{SECRET}@", 1)
    direct = probe(url)
    assert direct.ok, direct.to_dict()
    assert direct.url.startswith("http://***@127.0.0.1:"), direct.url
    with servers.wrong_content_type(echo_request=True) as echo:
        bad = echo.url("/api/streamcheck").replace("://", f"://{SECRET}@", 1)  # a token as the user name
        runs = [
            cli(url),
            cli(url, "--json"),
            cli(url, "--repeat", "2", "--json"),
            cli(url, "--repeat", "2"),
            cli(bad, "--json"),
            cli("doctor", url, "--json"),
        ]
    assert [p.returncode for p in runs] == [0, 0, 0, 0, 2, 0], [p.stderr for p in runs]
    assert json.loads(runs[1].stdout)["url"].startswith("http://***@")
    for proc in runs:
        assert SECRET not in proc.stdout and SECRET not in proc.stderr


def redirect_server(location: str) -> servers.RawServer:
    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        servers.read_request(conn)
        conn.sendall(
            f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        stopping.wait(0.2)

    return servers.RawServer(handler)


def test_redirect_location_credentials_are_not_shown() -> None:
    with redirect_server(f"https://admin:{SECRET}@login.example/cb?token=qt0ken#frag") as srv:
        result = probe(srv.url("/api/streamcheck"))
    assert result.error is not None and result.error.kind == "http_status", result.to_dict()
    message = result.error.message
    assert "redirecting to https://login.example/cb" in message
    assert SECRET not in message and "admin" not in message and "qt0ken" not in message


@pytest.mark.parametrize("value", ["Bearer t\u00f6ken-value", "s\u00e9cret\u2603"])
def test_non_ascii_header_value_is_a_usage_error_that_hides_it(value: str) -> None:
    with pytest.raises(ValueError) as info:
        probe("http://127.0.0.1:9/x", ProbeOptions(headers={"Authorization": value}))
    assert "\u00f6" not in str(info.value) and "\u00e9" not in str(info.value)
    proc = cli("http://127.0.0.1:9/x", "--header", f"Authorization: {value}")
    assert proc.returncode == 2 and proc.stdout == "" and "ASCII" in proc.stderr
