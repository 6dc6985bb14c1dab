"""``streamprobe ws://...`` / ``wss://...`` against real WebSocket servers on loopback: the streamcheck
endpoint under uvicorn and hypercorn (TLS), and the websockets package's own server misbehaving on
purpose (tests.support.ws_servers)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamcheck.reference_app import create_app
from streamprobe import ProbeOptions, probe
from streamprobe.exceptions import InvalidRequest

from tests.probe.test_cli import cli
from tests.support.servers import RunningServer, never_answers, uvicorn_server
from tests.support.tls import TLSFiles
from tests.support.ws_servers import WsServer, websockets_server

WS_STREAM = "/api/streamcheck/ws?events=10&interval_ms=100"
SECRET = "Bearer wsprobe-secret-token-42"


def ws_url(server: RunningServer, path: str) -> str:
    return server.url(path).replace("http", "ws", 1)


@pytest.fixture(scope="module")
def ws_server() -> Iterator[WsServer]:
    with websockets_server() as srv:
        yield srv


@pytest.fixture(scope="module")
def no_upgrade_server() -> Iterator[RunningServer]:
    """The reference app under a uvicorn that speaks no WebSocket: every upgrade request reaches the app
    as a plain GET, as through a proxy that dropped Upgrade and Connection."""
    with uvicorn_server(create_app(), ws="none") as srv:
        yield srv


def test_streamcheck_over_websocket_is_judged_exactly(h1_server: RunningServer) -> None:
    r = probe(ws_url(h1_server, WS_STREAM), ProbeOptions(timeout=5))
    assert r.error is None, r.error
    assert (r.transport, r.status, r.protocol, r.close_code) == ("websocket", 101, "HTTP/1.1", 1000)
    assert r.mode == "streamcheck" and r.verdict == "streaming"
    assert r.events == 11 and [a.seq for a in r.arrivals] == list(range(11))
    assert r.arrivals[-1].event == "done" and r.arrivals[0].event == "tick"
    assert r.buffering_delay_ms is not None and r.buffering_delay_ms <= 50
    t = r.timings_ms
    assert t["dns"] is None and t["tls"] is None  # an IP literal over ws://
    connect, ttfb, first, total = t["connect"], t["ttfb"], t["first_event"], t["total"]
    assert connect is not None and ttfb is not None and first is not None and total is not None
    assert connect <= ttfb <= first <= total
    d = r.to_dict()
    assert d["transport"] == "websocket" and d["close_code"] == 1000


def test_http_results_say_their_transport(h1_server: RunningServer) -> None:
    r = probe(h1_server.url("/api/streamcheck?events=2&interval_ms=0"))
    assert r.to_dict()["transport"] == "http" and r.close_code is None


def test_wss_through_hypercorn_times_tls(h2_server: RunningServer, tls: TLSFiles) -> None:
    r = probe(ws_url(h2_server, WS_STREAM), ProbeOptions(verify=tls.ca_pem, timeout=5))
    assert r.error is None, r.error
    assert r.verdict == "streaming" and r.events == 11 and r.close_code == 1000
    assert r.timings_ms["tls"] is not None and r.timings_ms["tls"] > 0


def test_wss_untrusted_certificate_is_a_tls_error(h2_server: RunningServer) -> None:
    r = probe(ws_url(h2_server, WS_STREAM))
    assert r.error is not None and r.error.kind == "tls"
    assert "certificate" in r.error.message


def test_wss_insecure_reads(h2_server: RunningServer) -> None:
    r = probe(ws_url(h2_server, "/api/streamcheck/ws?events=3&interval_ms=0"), ProbeOptions(verify=False))
    assert r.error is None and r.events == 4


def test_generic_spread_messages_stream(ws_server: WsServer) -> None:
    r = probe(ws_server.url("/spread"), ProbeOptions(timeout=5))
    assert r.error is None, r.error
    assert r.mode == "generic" and r.verdict == "streaming" and r.events == 10
    assert r.arrivals[0].event == "message" and r.arrivals[0].size == len("token 0")


def test_generic_held_burst_is_buffered(ws_server: WsServer) -> None:
    r = probe(ws_server.url("/held"), ProbeOptions(timeout=5))
    assert r.error is None, r.error
    assert r.mode == "generic" and r.verdict == "buffered"


def test_send_is_the_first_message(ws_server: WsServer) -> None:
    r = probe(ws_server.url("/echo"), ProbeOptions(send="why does my stream arrive late", timeout=5))
    assert r.error is None, r.error
    assert r.events == 6 and r.mode == "streamcheck" and r.verdict == "streaming"


def test_close_before_the_first_message(ws_server: WsServer) -> None:
    r = probe(ws_server.url("/close"), ProbeOptions(timeout=5))
    assert r.error is not None and r.error.kind == "protocol"
    assert "before the first message" in r.error.message and "1011" in r.error.message
    assert r.close_code == 1011


def test_pings_alone_are_silence(ws_server: WsServer) -> None:
    started = time.monotonic()
    r = probe(ws_server.url("/pings"), ProbeOptions(timeout=0.8, max_duration=20))
    elapsed = time.monotonic() - started
    assert r.error is not None and r.error.kind == "stalled", r.error
    assert elapsed < 0.8 + 3  # the silence bound, not max_duration: PINGs did not move it


def test_oversized_message_is_too_large(ws_server: WsServer) -> None:
    r = probe(ws_server.url("/big"), ProbeOptions(max_event_bytes=1000, timeout=5))
    assert r.error is not None and r.error.kind == "too_large"
    assert "1000 bytes" in r.error.message and r.events == 2


def test_refused_upgrade_redacts_the_hops_answer(ws_server: WsServer) -> None:
    r = probe(ws_server.url("/forbidden"), ProbeOptions(headers={"Authorization": SECRET}, timeout=5))
    assert r.error is not None and r.error.kind == "http_status" and r.status == 403
    assert "upgrade was refused" in r.error.message and "403" in r.error.message
    assert "token " in r.error.message  # the hop's answer is shown...
    assert "wsprobe-secret-token-42" not in json.dumps(r.to_dict())  # ...without the secret


def test_dropped_upgrade_is_named(no_upgrade_server: RunningServer) -> None:
    r = probe(ws_url(no_upgrade_server, WS_STREAM), ProbeOptions(timeout=5))
    assert r.error is not None and r.error.kind == "http_status" and r.status == 426
    assert "dropped the Upgrade and Connection headers" in r.error.message


def test_no_answer_to_the_upgrade_times_out_within_the_bound() -> None:
    with never_answers() as srv:
        started = time.monotonic()
        r = probe(srv.url("/x").replace("http", "ws", 1), ProbeOptions(timeout=0.5))
        elapsed = time.monotonic() - started
    assert r.error is not None and r.error.kind == "timeout", r.error
    assert elapsed < 0.5 + 2


def test_max_duration_cuts_and_judges(h1_server: RunningServer) -> None:
    url = ws_url(h1_server, "/api/streamcheck/ws?events=50&interval_ms=100")
    r = probe(url, ProbeOptions(max_duration=1.0, timeout=5))
    assert r.error is None and 5 <= r.events < 50 and r.verdict == "streaming"
    assert any("max_duration" in note for note in r.notes)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (ProbeOptions(http="h2"), "HTTP/1.1 upgrade"),
        (ProbeOptions(method="POST", data=b"{}"), "--send"),
        (ProbeOptions(send="Authorization: Bearer abcdefghijklmnop"), "credential"),
    ],
    ids=["h2", "post-body", "secret-in-send"],
)
def test_options_a_websocket_cannot_use(options: ProbeOptions, words: str) -> None:
    with pytest.raises(InvalidRequest, match=words):
        probe("ws://127.0.0.1:9/x", options)


def test_send_over_http_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="--send"):
        probe("http://127.0.0.1:9/x", ProbeOptions(send="hello"))


def test_cli_ws_with_send_from_a_file(ws_server: WsServer, tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("one two three")
    proc = cli(ws_server.url("/echo"), "--send", f"@{prompt}", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["transport"] == "websocket" and result["events"] == 3 and result["close_code"] == 1000


def test_load_reads_websockets(h1_server: RunningServer) -> None:
    from streamprobe.load import LoadPlan, run_load

    url = ws_url(h1_server, "/api/streamcheck/ws?events=3&interval_ms=20")
    summary = run_load(url, ProbeOptions(timeout=5), LoadPlan(concurrency=2, streams=4))
    assert (summary.finished, summary.good, summary.connection_reuse) == (4, 4, "per-stream")


def test_doctor_adds_the_websocket_row_when_the_service_offers_it(h1_server: RunningServer) -> None:
    from streamprobe.doctor import run_doctor

    report = run_doctor(h1_server.url("/api/streamcheck?events=5&interval_ms=50"), ProbeOptions(timeout=5))
    assert report.websocket is not None and report.websocket.fixes == []
    result = report.websocket.result
    assert result.transport == "websocket" and result.verdict == "streaming" and result.mode == "streamcheck"
    assert result.url.startswith(ws_url(h1_server, "/api/streamcheck/ws?events=5&interval_ms=50&nonce="))
    row = report.to_dict()["websocket"]
    assert row["state"] == "streaming" and row["result"]["transport"] == "websocket"


def test_doctor_names_a_dropped_upgrade_with_its_fix(no_upgrade_server: RunningServer) -> None:
    proc = cli("doctor", no_upgrade_server.url("/api/streamcheck?events=5&interval_ms=200"), "--timeout", "5")
    lines = proc.stdout.splitlines()
    assert any(line.split() == ["WebSocket", "error", "(http_status)"] for line in lines), proc.stdout
    finding = next(i for i, line in enumerate(lines) if line.startswith("websocket: "))
    assert "dropped the request's Upgrade and Connection headers" in lines[finding]
    assert lines[finding + 1].startswith(
        "try: nginx: in the location of the WebSocket: proxy_http_version 1.1;"
    )
    assert proc.returncode == 0  # the SSE matrix streams: the exit status is the HTTP matrix's


def test_doctor_has_no_websocket_row_where_the_service_has_no_endpoint() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Route
    from streamcheck.router import streamcheck
    from streamprobe.doctor import run_doctor

    sse_only = Starlette(routes=[Route("/api/streamcheck", streamcheck)])
    with uvicorn_server(sse_only) as srv:
        report = run_doctor(srv.url("/api/streamcheck?events=3&interval_ms=20"), ProbeOptions(timeout=5))
    assert report.websocket is None and report.to_dict()["websocket"] is None
    assert report.exit_code == 0
