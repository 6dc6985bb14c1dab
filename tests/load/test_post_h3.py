"""A request body over HTTP/3, checked where it lands: hypercorn serving HTTP/3 (aioquic, ``--quic-bind``)
in a process of its own records each request's body bytes, and every sender -- ``probe`` with
``ProbeOptions(http="h3")``, ``streamprobe URL --http3 --data``, ``streamprobe load --http3 --data`` and
the canary's handler with an h3 path that has a body -- must have delivered exactly the bytes it was
given, with its Content-Type and Content-Length."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from streamprobe.load import LoadPlan, run_load
from streamprobe.options import ProbeOptions
from streamprobe.probing import probe

from tests.canary.support import run_handler
from tests.load.conftest import requests_seen
from tests.support.tls import TLSFiles

#: A chat request whose bytes are easy to get wrong: non-ASCII text, escapes, and no trailing newline.
BODY = '{"messages": [{"role": "user", "content": "Grüß dich, say \\"hi\\" in 5 words"}]}'.encode()


def chat_url(port: int, tokens: int = 10, interval_ms: int = 100) -> str:
    return f"https://127.0.0.1:{port}/api/chat/stream?tokens={tokens}&interval_ms={interval_ms}"


def h3_posts(seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in seen if r["http_version"] == "3" and r["method"] == "POST"]


def assert_body_arrived(received: dict[str, Any], body: bytes = BODY) -> None:
    assert bytes.fromhex(received["body_hex"]) == body
    assert received["content_length"] == str(len(body))
    assert received["content_type"] == "application/json"


def test_probe_posts_its_body_over_h3(h3_port: int, tls: TLSFiles) -> None:
    before = len(requests_seen(h3_port, tls))
    options = ProbeOptions(http="h3", method="POST", data=BODY, verify=tls.ca_pem)
    result = probe(chat_url(h3_port), options)
    assert result.error is None, result.error
    assert (result.protocol, result.verdict, len(result.arrivals)) == ("HTTP/3", "streaming", 11)
    (received,) = h3_posts(requests_seen(h3_port, tls)[before:])
    assert_body_arrived(received)


def test_a_body_larger_than_a_datagram_arrives_whole(h3_port: int, tls: TLSFiles) -> None:
    """60 KiB (close to the probe's cap): dozens of QUIC packets, sent as flow control lets them out."""
    body = json.dumps({"messages": [{"role": "user", "content": "word " * 12_000}]}).encode()
    before = len(requests_seen(h3_port, tls))
    result = probe(chat_url(h3_port), ProbeOptions(http="h3", data=body, method="POST", verify=tls.ca_pem))
    assert result.error is None and result.verdict == "streaming", result.error
    (received,) = h3_posts(requests_seen(h3_port, tls)[before:])
    assert_body_arrived(received, body)


def test_the_cli_posts_data_over_h3(h3_port: int, tls: TLSFiles) -> None:
    before = len(requests_seen(h3_port, tls))
    argv = [sys.executable, "-m", "streamprobe", chat_url(h3_port), "--http3", "--data", BODY.decode()]
    done = subprocess.run([*argv, "--cacert", tls.ca_pem, "--json"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["protocol"] == "HTTP/3"
    (received,) = h3_posts(requests_seen(h3_port, tls)[before:])
    assert_body_arrived(received)


def test_load_posts_each_stream_s_body_over_h3(h3_port: int, tls: TLSFiles) -> None:
    before = len(requests_seen(h3_port, tls))
    options = ProbeOptions(http="h3", method="POST", data=BODY, verify=tls.ca_pem)
    summary = run_load(chat_url(h3_port), options, LoadPlan(concurrency=4, streams=8))
    assert summary.used_protocol() == "HTTP/3" and summary.finished == 8, summary.to_dict()
    received = h3_posts(requests_seen(h3_port, tls)[before:])
    assert len(received) == 8
    for one in received:
        assert_body_arrived(one)


def test_the_canary_posts_its_body_over_h3(h3_port: int, tls: TLSFiles) -> None:
    """The path the contract refused before: method POST, a body, and h3 among its protocols."""
    before = len(requests_seen(h3_port, tls))
    path = {
        "name": "chat",
        "url": chat_url(h3_port),
        "protocols": ["h2", "h3"],
        "verify": tls.ca_pem,
        "method": "POST",
        "body": BODY.decode(),
    }
    run = run_handler({"probe_timeout_s": 5, "max_duration_s": 20, "deadline_s": 30, "paths": [path]})
    assert run.returned is not None and run.returned["failed"] == 0, run.logs
    result = run.probe_log("chat", "h3")["result"]
    assert (result["protocol"], result["error"]) == ("HTTP/3", None)
    seen = requests_seen(h3_port, tls)[before:]
    (received,) = h3_posts(seen)
    assert_body_arrived(received)
    # the h2 probe of the same path sent the same bytes
    (over_h2,) = [r for r in seen if r["http_version"] == "2" and r["method"] == "POST"]
    assert bytes.fromhex(over_h2["body_hex"]) == BODY
