"""Servers that echo the request's secrets into each header and field a result shows: no secret in any
form reaches the result, its JSON, the human output, the doctor's report or a usage error."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from streamprobe import ProbeOptions, probe

from tests.hostile import servers as hs
from tests.hostile.conftest import bounded_probe, no_leaks
from tests.hostile.secrets import API_KEY, BASIC, BEARER, HEADERS, PASSWORD, assert_clean, with_userinfo
from tests.support.servers import RawServer

STREAMPROBE = str(Path(sys.executable).parent / "streamprobe")
FAST = {"timeout": 2.0, "max_duration": 4.0}
Respond = Callable[[dict[str, str]], bytes]


def _secrets(h: dict[str, str]) -> str:
    """Everything secret the request carried, as the server saw it."""
    return ", ".join(v for k, v in h.items() if k in ("authorization", "x-api-key"))


def _page(status: str, extra: str, body: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\n{extra}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


ECHOES: dict[str, Respond] = {
    "content-encoding": lambda h: (
        f"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: {_secrets(h)}\r\n"
        "Connection: close\r\n\r\ndata: 1\n\n"
    ).encode(),
    "content-encoding-lowercased": lambda h: (
        f"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip, {_secrets(h).lower()}"
        "\r\nConnection: close\r\n\r\n"
    ).encode(),
    "content-type": lambda h: _page("200 OK", f"Content-Type: text/html; x={_secrets(h)}\r\n", b"<html>hi"),
    "reason-phrase": lambda h: _page(f"500 {_secrets(h)}", "Content-Type: text/plain\r\n", b"oops"),
    "reason-phrase-uppercased": lambda h: _page(f"403 {_secrets(h).upper()}", "", b""),
    "location": lambda h: _page(
        "302 Found",
        f"Location: https://login.example/cb/{_secrets(h).replace(' ', '/')}?token={API_KEY}\r\n",
        b"",
    ),
    "location-unparsable": lambda h: _page("302 Found", f"Location: http://[{_secrets(h)}\r\n", b""),
    "body-echo": lambda h: _page("500 Oops", "Content-Type: text/plain\r\n", json.dumps(h).encode()),
    "body-echo-swapped-case": lambda h: _page(
        "500 Oops", "Content-Type: text/plain\r\n", json.dumps(h).swapcase().encode()
    ),
    # The server cuts its own echo: the page ends with the first 8 characters of the token.
    "body-cut-by-server": lambda h: _page(
        "500 Oops",
        "Content-Type: text/plain\r\n",
        f"Authorization: {h.get('authorization', '')[:15]}".encode(),
    ),
    # 200 characters in, right where the probe's excerpt is cut.
    "body-cut-by-excerpt": lambda h: _page(
        "503 Busy", "Content-Type: text/plain\r\n", b"x" * 185 + f"auth={_secrets(h)}".encode() * 3
    ),
    "body-whitespace-shifted": lambda h: _page(
        "503 Busy", "Content-Type: text/plain\r\n", b"a" + b" " * 400 + _secrets(h).encode() * 2
    ),
    "alt-svc": lambda h: (
        f'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nAlt-Svc: h3=":443"; x="{_secrets(h)}"\r\n'
        "Connection: close\r\n\r\ndata: 1\n\ndata: 2\n\ndata: 3\n\n"
    ).encode(),
    "html-login-echo": lambda h: _page(
        "200 OK", "Content-Type: text/html\r\n", f"<!doctype html><p>{h}</p>".encode()
    ),
}


def _server(respond: Respond) -> RawServer:
    return hs.echoes(respond, then_wait=0.5)


@pytest.mark.parametrize("name", sorted(ECHOES))
@pytest.mark.parametrize("credentials", ["headers", "userinfo"])
def test_an_echoed_secret_never_reaches_the_result(name: str, credentials: str) -> None:
    with no_leaks(), _server(ECHOES[name]) as srv:
        url = srv.url("/sse")
        if credentials == "userinfo":
            run = bounded_probe(with_userinfo(url), **FAST)
        else:
            run = bounded_probe(url, headers=HEADERS, **FAST)
    shown = json.dumps(run.result.to_dict())
    assert_clean(shown, repr(run.result))
    if name == "alt-svc":
        assert run.kind is None, shown
    else:
        assert run.kind in ("protocol", "content_type", "http_status"), shown


@pytest.mark.parametrize("name", ["content-encoding", "reason-phrase", "location", "body-echo", "alt-svc"])
def test_an_echoed_secret_never_reaches_the_command_line_output(name: str) -> None:
    with _server(ECHOES[name]) as srv:
        url = with_userinfo(srv.url("/sse"))
        args = ["--header", f"Authorization: {BEARER}", "--header", f"X-Api-Key: {API_KEY}"]
        runs = [
            _cli(url, *args, "--timeout", "2", "--max-duration", "4"),
            _cli(url, *args, "--timeout", "2", "--max-duration", "4", "--json"),
        ]
    for proc in runs:
        assert proc.returncode in (1, 2), proc.stderr
        assert_clean(proc.stdout, proc.stderr)


def test_an_echoed_secret_never_reaches_the_doctor() -> None:
    with _server(ECHOES["body-echo"]) as srv:
        url = with_userinfo(srv.url("/sse"))
        args = ["--header", f"Authorization: {BEARER}", "--timeout", "2", "--max-duration", "4"]
        runs = [_cli("doctor", url, *args), _cli("doctor", url, *args, "--json")]
    for proc in runs:
        assert proc.returncode == 2, proc.stderr
        assert_clean(proc.stdout, proc.stderr)


def test_the_long_content_encoding_of_an_echo_is_bounded() -> None:
    respond: Respond = lambda h: (  # noqa: E731
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: "
        + "x" * 10000
        + "\r\nConnection: close\r\n\r\n"
    ).encode()
    with _server(respond) as srv:
        run = bounded_probe(srv.url("/sse"), **FAST)
    assert run.kind == "protocol"
    assert len(run.message) < 400 and len(run.result.content_encoding or "") <= 120, run.result.to_dict()


USAGE_ERRORS = [
    [f"ftp://{PASSWORD}@host.example/x"],
    [f"ftp://user:{PASSWORD}@host.example/x"],
    [f"http://user:{PASSWORD}@/x"],
    [f"user:{PASSWORD}@host.example/x"],
    [f"http://user:{PASSWORD}@host.example:9x9/x"],
    [f"http://user:{PASSWORD}@host.example/x", "--http3"],
    ["doctor", f"ftp://user:{PASSWORD}@host.example/x"],
    ["doctor", f"http://user:{PASSWORD}@host.example/x", "--http3"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=[" ".join(a) for a in USAGE_ERRORS])
def test_a_usage_error_does_not_print_the_password(args: list[str]) -> None:
    proc = _cli(*args)
    assert proc.returncode == 2 and proc.stdout == "", (proc.stdout, proc.stderr)
    assert "error" in proc.stderr
    assert_clean(proc.stderr)


@pytest.mark.parametrize(
    "url", [f"ftp://user:{PASSWORD}@host/x", f"http://user:{PASSWORD}@/x", f"user:{PASSWORD}@h/x"]
)
def test_the_library_refuses_a_bad_url_without_its_password(url: str) -> None:
    with pytest.raises(ValueError) as info:
        probe(url, ProbeOptions())
    assert_clean(str(info.value))
    assert BASIC not in str(info.value)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STREAMPROBE, *args], capture_output=True, text=True, timeout=60, check=False)
