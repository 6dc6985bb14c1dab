"""Bounds over HTTP/2 (hypercorn, TLS): silence is `stalled`, an endless stream ends at
max_duration; and probes are independent when run concurrently (as the canary does)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from streamprobe import ProbeOptions, probe

from tests.probe.conftest import STREAM
from tests.support.servers import ASGIApp, Receive, RunningServer, Scope, Send, hypercorn_server
from tests.support.tls import TLSFiles

MARGIN = 0.75


def misbehaving_sse_app() -> ASGIApp:
    """/stall: two events, then silence with the stream open. /endless: an event every 50 ms, forever."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        seq = 0
        while True:
            if scope["path"] == "/stall" and seq >= 2:
                await asyncio.sleep(3600)
            await send({"type": "http.response.body", "body": f"data: {seq}\n\n".encode(), "more_body": True})
            seq += 1
            await asyncio.sleep(0.05)

    return app


@pytest.fixture(scope="module")
def bad_h2(tls: TLSFiles) -> Iterator[RunningServer]:
    with hypercorn_server(misbehaving_sse_app(), tls=tls) as srv:
        yield srv


def test_h2_silence_is_stalled_within_timeout(bad_h2: RunningServer) -> None:
    start = time.monotonic()
    r = probe(bad_h2.url("/stall"), ProbeOptions(verify=bad_h2.verify, http="h2", timeout=1.0))
    elapsed = time.monotonic() - start
    assert r.error is not None and r.error.kind == "stalled", r.to_dict()
    assert r.protocol == "HTTP/2" and r.events == 2
    assert 1.0 <= elapsed < 1.0 + MARGIN


def test_h2_endless_stream_is_cut_at_max_duration(bad_h2: RunningServer) -> None:
    start = time.monotonic()
    r = probe(bad_h2.url("/endless"), ProbeOptions(verify=bad_h2.verify, http="h2", max_duration=1.5))
    elapsed = time.monotonic() - start
    assert r.ok, r.to_dict()
    assert (r.mode, r.verdict) == ("generic", "streaming")
    assert r.events >= 15
    assert any("max_duration" in n for n in r.notes)
    assert 1.5 <= elapsed < 1.5 + MARGIN


def test_concurrent_probes_are_independent(h1_server: RunningServer, h2_server: RunningServer) -> None:
    jobs = [
        (h1_server.url(STREAM), ProbeOptions(name="h1-a")),
        (h1_server.url(STREAM), ProbeOptions(name="h1-b", http="h1")),
        (h2_server.url(STREAM), ProbeOptions(name="h2-a", verify=h2_server.verify)),
        (h2_server.url(STREAM), ProbeOptions(name="h2-b", verify=h2_server.verify, http="h2")),
        (h2_server.url(STREAM), ProbeOptions(name="h2-h1", verify=h2_server.verify, http="h1")),
    ]
    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(lambda job: probe(*job), jobs))
    got = [(r.path_name, r.protocol, r.verdict) for r in results]
    assert got == [
        ("h1-a", "HTTP/1.1", "streaming"),
        ("h1-b", "HTTP/1.1", "streaming"),
        ("h2-a", "HTTP/2", "streaming"),
        ("h2-b", "HTTP/2", "streaming"),
        ("h2-h1", "HTTP/1.1", "streaming"),
    ]
    assert len({r.url for r in results}) == len(results)  # a fresh nonce per probe
