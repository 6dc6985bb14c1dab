"""A chat endpoint takes a POST: the probe, its CLI and the doctor send the body (JSON by default), refuse
one that is too large, not the JSON it claims, or holds a credential -- and never show it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamcheck.reference_app import create_app
from streampath_canary import contract
from streamprobe import ProbeOptions, probe
from streamprobe.body import MAX_BODY_BYTES, body_problem, secret_in_body
from streamprobe.doctor import run_doctor

from tests.support.servers import SSE_HEAD, RawServer, RunningServer, hypercorn_server
from tests.support.tls import tls_files

STREAMPROBE = str(Path(sys.executable).parent / "streamprobe")
PROMPT = b'{"messages": [{"role": "user", "content": "Say hello in five words."}], "max_tokens": 20}'
CHAT = "/api/chat/stream?tokens=10&interval_ms=20"


def recording_server(seen: list[tuple[bytes, bytes]]) -> RawServer:
    """Answers any request with two stamped events, recording (head, body) of each request."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            body += conn.recv(65536)
        seen.append((head, body))
        conn.sendall(SSE_HEAD + b": sp-sent=1.000\ndata: a\n\n: sp-sent=2.000\ndata: b\n\n")

    return RawServer(handler)


def header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def test_the_body_is_posted_as_json_with_the_stamp_header() -> None:
    seen: list[tuple[bytes, bytes]] = []
    with recording_server(seen) as srv:
        r = probe(srv.url("/chat"), ProbeOptions(method="POST", data=PROMPT))
    assert (r.mode, r.events) == ("stamped", 2), r.to_dict()
    ((head, body),) = seen
    assert head.startswith(b"POST /chat HTTP/1.1")
    assert body == PROMPT
    assert header(head, b"content-type") == b"application/json"
    assert header(head, b"x-streampath-stamp") == b"1"
    assert header(head, b"accept") == b"text/event-stream"


def test_a_content_type_header_wins_and_no_stamp_drops_the_header() -> None:
    seen: list[tuple[bytes, bytes]] = []
    with recording_server(seen) as srv:
        probe(
            srv.url("/chat"),
            ProbeOptions(
                method="POST", data=b"prompt=hi", headers={"content-type": "text/plain"}, stamp=False
            ),
        )
    ((head, body),) = seen
    assert body == b"prompt=hi" and header(head, b"content-type") == b"text/plain"
    assert header(head, b"x-streampath-stamp") is None


def test_cli_data_from_a_file_implies_post(tmp_path: Path) -> None:
    seen: list[tuple[bytes, bytes]] = []
    prompt = tmp_path / "prompt.json"
    prompt.write_bytes(PROMPT)
    with recording_server(seen) as srv:
        proc = subprocess.run(
            [STREAMPROBE, srv.url("/chat"), "--data", f"@{prompt}", "--json"], capture_output=True, text=True
        )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["mode"] == "stamped"
    ((head, body),) = seen
    assert head.startswith(b"POST ") and body == PROMPT


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--data", '{"prompt": "hi", "authorization": "Bearer 0123456789abcdef"}'],
            "a key named 'authorization'",
        ),
        (["--data", '{"prompt": "call it with Bearer 0123456789abcdef"}'], "a Bearer token"),
        (["--data", '{"key": "sk-0123456789abcdefghijklmnop"}'], "an API key"),
        (["--data", '{"prompt": "' + "Ab1" * 20 + '"}'], "a token-like value"),
        (["--data", "{not json"], "not valid JSON at position 1"),
        (["--method", "GET", "--data", "{}"], "a request body needs method POST"),
        (["--data", "@/nonexistent/prompt.json"], "cannot read '/nonexistent/prompt.json'"),
    ],
)
def test_cli_refuses_a_bad_body_without_showing_it(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [STREAMPROBE, "http://127.0.0.1:9/chat", *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert message in proc.stderr, proc.stderr
    for secret in ("0123456789abcdef", "sk-0123", "Ab1Ab1Ab1"):
        assert secret not in proc.stderr
    if "credential" in proc.stderr:
        assert "--header" in proc.stderr  # the hint


def test_cli_refuses_a_body_over_the_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (MAX_BODY_BYTES + 5000))
    proc = subprocess.run(
        [STREAMPROBE, "http://127.0.0.1:9/chat", "--data", f"@{big}", "--header", "Content-Type: text/plain"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and f"more than the limit of {MAX_BODY_BYTES}" in proc.stderr


CASES = [
    (PROMPT, None),
    (b'{"max_tokens": 20, "prompt": "Explain OAuth authorization flows"}', None),
    (b'{"conversation_id": "550e8400-e29b-41d4-a716-446655440000"}', None),
    (b'{"api-key": "x"}', "a key named 'api-key'"),
    (b'{"nested": [{"Client_Secret": "x"}]}', "a key named 'Client_Secret'"),
    (b'{"prompt": "Authorization: Basic dXNlcjpwYXNzd29yZA=="}', "an Authorization value"),
    (b'{"jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig"}', "a JSON Web Token"),
    # An access key id's shape, assembled so that no secret scanner takes this file for a leak.
    pytest.param(b'{"aws": "' + b"AKIA" + b"ABCDEFGHIJKLMNOP" + b'"}', "an API key", id="aws-key-shaped"),
    (b'{"gh": "ghp_abcdefghijklmnopqrstuvwxyz0123"}', "an API key"),
    (b"plain words with a Bearer", None),
]


@pytest.mark.parametrize(("body", "found"), CASES)
def test_the_probe_and_the_canary_contract_refuse_the_same_bodies(body: bytes, found: str | None) -> None:
    # One scanner (streamprobe.body) for both; each gives its own hint for where credentials go.
    assert secret_in_body(body) == secret_in_body(body.decode()) == found
    probe_says, canary_says = body_problem(body, None), contract.body_problem(body.decode())
    assert (probe_says is None) == (canary_says is None)  # not JSON is refused by both too
    if found is not None:
        assert probe_says is not None and canary_says is not None
        assert f"credential ({found})" in probe_says and f"credential ({found})" in canary_says
        assert "--header" in probe_says and "auth_secret" in canary_says


@pytest.fixture(scope="module")
def h2_app() -> Iterator[RunningServer]:
    with hypercorn_server(create_app(), tls=tls_files()) as srv:
        yield srv


def test_the_doctor_posts_and_judges_every_cell_by_the_stamps(h2_app: RunningServer) -> None:
    report = run_doctor(
        h2_app.url(CHAT), ProbeOptions(method="POST", data=PROMPT, verify=h2_app.verify, timeout=5)
    )
    for (http, encoding), r in report.cells.items():
        assert r.error is None, (http, encoding, r.error)
        assert (r.mode, r.verdict, r.events) == ("stamped", "streaming", 11), (http, encoding, r.to_dict())
    assert report.diagnosis.startswith("streams in every combination")
