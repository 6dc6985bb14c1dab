"""``streamprobe load`` against real servers on loopback, each in a process of its own: healthy streams,
a concurrency-capped HAProxy (checked against ``curl -Z``), a buffering nginx, HTTP/2 connection
sharing counted from the server's side, a dead target, records and an interrupted run.

Timing-sensitive (first bytes, buffering delays of hundreds of streams): ``serial``."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamprobe.load import LoadPlan, LoadSummary, Records, merge_parts, run_load
from streamprobe.options import ProbeOptions
from streamprobe.result import ProbeResult
from streamprobe.slo import parse_slo

from lab.curl_reference import parallel_ttfb_ms
from tests.load.conftest import CAP, requests_seen, served_connections
from tests.support.servers import refused_port
from tests.support.tls import TLSFiles

pytestmark = pytest.mark.timing


def stream_url(port: int, events: int, interval_ms: int, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{port}/api/streamcheck?events={events}&interval_ms={interval_ms}"


def requests_per_connection(port: int, tls: TLSFiles, clients: set[str]) -> dict[str, list[str]]:
    """Per client address:port in ``clients``: the request targets the counting app received on it."""
    requests = requests_seen(port, tls)
    return {c: [r["target"] for r in requests if r["client"] == c] for c in sorted(clients)}


def test_300_healthy_concurrent_streams_are_all_judged_streaming(app_port: int) -> None:
    # 5 events 1 s apart: streaming up to 400 ms of delay (room for 300 readers on a shared machine)
    plan = LoadPlan(concurrency=300, streams=300, ramp=1.0)
    summary = run_load(stream_url(app_port, 5, 1000), ProbeOptions(), plan)
    assert summary.finished == 300
    assert dict(summary.verdicts) == {"streaming": 300}, summary.to_dict()
    assert summary.good == 300 and summary.exit_code(100) == 0
    assert summary.connection_reuse == "per-stream" and summary.connections == 300
    assert summary.cap is None


def test_capped_proxy_gives_the_ttfb_steps_and_goodput_curl_gives(capped_port: int) -> None:
    url, n = stream_url(capped_port, 4, 100), 6  # a stream holds its slot ~300 ms
    slo = parse_slo("ttfb<=150")  # good: served at once, without queueing behind the cap
    summary = run_load(url, ProbeOptions(), LoadPlan(concurrency=n, streams=n, slo=slo))
    curl = sorted(parallel_ttfb_ms([f"{url}&nonce=curl{i}" for i in range(n)], n))
    ours = sorted(summary.values.ttfb.values)
    assert len(ours) == len(curl) == n
    for mine, theirs in zip(ours, curl, strict=True):  # every stream's step, not only percentiles
        assert abs(mine - theirs) <= max(100.0, 0.1 * theirs), (ours, curl)
    assert summary.good == sum(t <= 150 for t in curl) == CAP
    assert summary.cap is not None and summary.cap.cap == CAP and summary.cap.steps == n // CAP
    assert "haproxy.maxconn" in [f.fix.id for f in summary.fixes]
    assert summary.to_dict()["diagnosis"]["code"] == "concurrency_cap"


def test_buffering_proxy_gives_goodput_zero_and_exit_1(buffering_port: int) -> None:
    summary = run_load(stream_url(buffering_port, 6, 200), ProbeOptions(), LoadPlan(concurrency=4, streams=4))
    assert dict(summary.verdicts) == {"buffered": 4}, summary.to_dict()
    assert summary.good == 0 and summary.to_dict()["goodput"]["ratio"] == 0
    assert summary.exit_code(100) == 1


@pytest.mark.parametrize("connections", [1, 3])
def test_http2_streams_share_the_connections_asked_for(h2_port: int, tls: TLSFiles, connections: int) -> None:
    before = served_connections(h2_port, tls)
    options = ProbeOptions(http="h2", verify=tls.ca_pem)
    plan = LoadPlan(concurrency=20, streams=40, connections=connections)
    # 5 events 1 s apart: streaming up to 400 ms of delay. 20 streams on one TLS connection next to the
    # lab's lane: a second wave's last event was seen 160-240 ms late, the server's own stamps late too.
    failures: list[str] = []  # each failed stream's error, whole (the summary counts them by kind)
    summary = run_load(
        stream_url(h2_port, 5, 1000, "https"),
        options,
        plan,
        on_result=lambda r: failures.append(f"{r.error.kind}: {r.error.message}") if r.error else None,
    )
    used = served_connections(h2_port, tls) - before
    # What each side saw, should the counts differ: the run's own count and errors, and the requests
    # the server received on each connection it counted.
    # (as JSON text: pytest would shorten a dict's repr in the middle)
    server = requests_per_connection(h2_port, tls, used)
    seen = json.dumps({"run": summary.to_dict(), "failures": failures, "server": server})
    assert summary.connections == connections and dict(summary.errors) == {}, seen
    assert len(used) == connections, seen
    assert summary.connection_reuse == "shared" and summary.used_protocol() == "HTTP/2"
    assert summary.verdicts["streaming"] == 40, summary.to_dict()


@pytest.fixture
def threads_switched_often() -> Iterator[None]:
    """The interpreter hands the GIL from thread to thread every 10 µs instead of every 5 ms: a thread
    is switched out inside every short window, as on a busy machine."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@pytest.mark.usefixtures("threads_switched_often")
def test_http2_streams_opening_at_once_keep_their_connections_when_threads_switch_often(
    h2_port: int, tls: TLSFiles
) -> None:
    # Twenty streams open at once on each connection, twice: a stream id taken twice would end the
    # connection (GOAWAY) and fail its streams, and the pool would open another one.
    before = served_connections(h2_port, tls)
    options = ProbeOptions(http="h2", verify=tls.ca_pem)
    plan = LoadPlan(concurrency=40, streams=80, connections=2)
    summary = run_load(stream_url(h2_port, 2, 200, "https"), options, plan)
    assert dict(summary.errors) == {} and summary.finished == 80, summary.to_dict()
    assert len(served_connections(h2_port, tls) - before) == 2 == summary.connections


def test_http1_streams_each_open_a_connection(h2_port: int, tls: TLSFiles) -> None:
    before = served_connections(h2_port, tls)
    options = ProbeOptions(http="h1", verify=tls.ca_pem)
    summary = run_load(stream_url(h2_port, 3, 100, "https"), options, LoadPlan(concurrency=5, streams=10))
    assert len(served_connections(h2_port, tls) - before) == 10 == summary.connections
    assert summary.connection_reuse == "per-stream" and summary.used_protocol() == "HTTP/1.1"


def test_a_dead_target_gives_classified_errors_and_exit_2() -> None:
    url = stream_url(refused_port(), 3, 100)
    summary = run_load(url, ProbeOptions(timeout=2), LoadPlan(concurrency=3, streams=6))
    assert dict(summary.errors) == {"connect": 6}
    assert summary.exit_code(100) == 2
    result = summary.to_dict()
    assert result["streams"] == {"started": 6, "finished": 6, "errors": {"connect": 6}}
    assert result["percentiles_ms"]["ttfb"] == {"p50": None, "p90": None, "p99": None, "max": None}


def test_records_hold_one_result_per_stream(app_port: int, tmp_path: Path) -> None:
    path = tmp_path / "streams.ndjson"
    with Records(path) as records:
        plan = LoadPlan(concurrency=4, duration=0.5)
        summary = run_load(stream_url(app_port, 3, 50), ProbeOptions(), plan, records=records)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == summary.finished == summary.started >= 4
    assert sorted(line["stream"] for line in lines) == list(range(summary.finished))
    assert all(line["good"] is True and line["verdict"] == "streaming" for line in lines)
    assert {"started_ms", "timings_ms", "buffering_delay_ms", "url"} <= set(lines[0])


def test_a_stopped_run_reports_what_finished(app_port: int) -> None:
    stop = threading.Event()

    def stop_after_first(summary: LoadSummary) -> None:
        if summary.finished:
            stop.set()

    plan = LoadPlan(concurrency=2, duration=30)
    url = stream_url(app_port, 3, 100)
    summary = run_load(url, ProbeOptions(), plan, stop=stop, on_tick=stop_after_first)
    assert summary.interrupted and summary.to_dict()["interrupted"] is True
    assert 1 <= summary.finished < 10 and summary.duration_ms < 5000
    assert summary.exit_code(0) == 1


def test_merged_parts_equal_one_run_over_the_union(app_port: int) -> None:
    results: list[ProbeResult] = []
    plan = LoadPlan(concurrency=6, streams=12)
    run_load(stream_url(app_port, 4, 50), ProbeOptions(), plan, on_result=results.append)
    assert len(results) == 12

    def summary_of(streams: list[ProbeResult]) -> LoadSummary:
        slo = parse_slo("ttfb<=20,buffering<=30")
        summary = LoadSummary("u", "HTTP/1.1", len(streams), "per-stream", slo)
        for r in streams:
            summary.stream_started()
            summary.add(r, r.to_dict())
        summary.duration_ms = 1000.0
        summary.diagnose()
        return summary

    parts = [json.loads(json.dumps(summary_of(results[a:b]).to_part())) for a, b in ((0, 2), (2, 7), (7, 12))]
    assert merge_parts(parts).to_dict() == summary_of(results).to_dict()
