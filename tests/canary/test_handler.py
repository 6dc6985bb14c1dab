"""The canary handler end to end: real servers on loopback, the handler cold-started in a subprocess,
its stdout read as CloudWatch Logs would (EMF documents + structured log lines)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamcheck.reference_app import app as reference_app

from tests.canary.support import assert_design_emf, config, run_handler
from tests.support.servers import (
    RunningServer,
    hold_all_proxy,
    hypercorn_server,
    never_answers,
    refused_port,
    uvicorn_server,
)
from tests.support.tls import tls_files

STREAM = "/api/streamcheck?events=10&interval_ms=100"  # ~0.9 s of stream


@pytest.fixture(scope="module")
def h1_server() -> Iterator[RunningServer]:
    with uvicorn_server(reference_app) as srv:
        yield srv


@pytest.fixture(scope="module")
def h2_server() -> Iterator[RunningServer]:
    with hypercorn_server(reference_app, tls=tls_files()) as srv:
        yield srv


def test_streaming_buffered_and_failing_paths_in_one_invocation(
    h1_server: RunningServer, h2_server: RunningServer
) -> None:
    refused = refused_port()
    with hold_all_proxy(h1_server.port) as proxy:
        run = run_handler(
            config(
                {
                    "name": "direct",
                    "url": h2_server.url(STREAM),
                    "protocols": ["h1", "h2"],
                    "headers": {"X-Env": "test-env-value"},
                    "verify": h2_server.ca_pem,
                },
                {"name": "proxy", "url": proxy.url(STREAM), "protocols": ["h1"]},
                {
                    "name": "refused",
                    "url": f"http://127.0.0.1:{refused}/api/streamcheck",
                    "protocols": ["h1"],
                },
            )
        )
    assert run.returned is not None
    assert run.returned["probes"] == 4
    assert run.returned["failed"] == 1
    # One EMF document per path x protocol, nothing else.
    assert len(run.emf) == 4
    for doc in run.emf:
        assert_design_emf(doc)

    for protocol, label in (("h1", "HTTP/1.1"), ("h2", "HTTP/2")):
        values = assert_design_emf(run.emf_for("direct", protocol))
        assert values["Success"] == 1.0
        assert values["Buffered"] == 0.0
        assert values["EventsReceived"] == 11.0  # 10 ticks + done
        assert values["BufferingDelay"] < 700  # streamed: far below the ~900 ms a full hold gives
        for timing in ("TimeToFirstByte", "TimeToFirstEvent", "StreamDuration", "ConnectTime", "TlsTime"):
            assert timing in values
        line = run.probe_log("direct", protocol)
        assert line["result"]["protocol"] == label
        assert line["result"]["verdict"] in ("streaming", "partial")
        assert "nonce=" in line["result"]["url"], "streamcheck URLs get a fresh nonce"
        assert line["header_names"] == ["X-Env"]
    nonces = {run.probe_log("direct", p)["result"]["url"] for p in ("h1", "h2")}
    assert len(nonces) == 2, "each probe gets its own nonce"

    proxied = assert_design_emf(run.emf_for("proxy", "h1"))
    assert proxied["Success"] == 1.0
    assert proxied["Buffered"] == 1.0
    assert proxied["BufferingDelay"] > 600
    assert run.probe_log("proxy", "h1")["result"]["verdict"] == "buffered"

    # The returned summary (what `streampath run-canary` prints) carries the same numbers as the log line.
    summary = {(r["path"], r["protocol"]): r for r in run.returned["results"]}
    held = summary[("proxy", "h1")]
    logged = run.probe_log("proxy", "h1")["result"]
    assert held["verdict"] == "buffered" and held["status"] == 200 and held["events"] == 11
    assert held["buffering_delay_ms"] == logged["buffering_delay_ms"]
    assert held["timings_ms"] == {k: logged["timings_ms"][k] for k in ("ttfb", "first_event")}
    assert summary[("refused", "h1")]["error_kind"] == "connect"

    failed_doc = run.emf_for("refused", "h1")
    failed = assert_design_emf(failed_doc)
    assert failed["Success"] == 0.0
    assert failed_doc["ErrorKind"] == "connect"
    assert "TimeToFirstByte" not in failed and "Buffered" not in failed
    assert run.probe_log("refused", "h1")["result"]["error"]["kind"] == "connect"

    # Header values never reach the logs, only their names.
    assert "test-env-value" not in run.stdout + run.stderr
    assert all(line["service"] == "streampath-canary" for line in run.logs)


def test_stalled_path_is_bounded_and_does_not_delay_the_others(h1_server: RunningServer) -> None:
    with never_answers() as stalled:
        run = run_handler(
            config(
                {
                    "name": "fast",
                    "url": h1_server.url("/api/streamcheck?events=3&interval_ms=50"),
                    "protocols": ["h1"],
                },
                {"name": "stalled", "url": stalled.url("/api/streamcheck"), "protocols": ["h1"]},
                probe_timeout_s=2,
            )
        )
    assert run.returned is not None
    fast = run.probe_log("fast", "h1")
    stalled_line = run.probe_log("stalled", "h1")
    assert assert_design_emf(run.emf_for("fast", "h1"))["Success"] == 1.0
    assert run.emf_for("stalled", "h1")["ErrorKind"] == "timeout"
    assert stalled_line["result"]["error"]["kind"] == "timeout"
    # The fast path finished on its own time (~0.1 s of stream), not after the stalled one's 2 s bound.
    assert fast["elapsed_ms"] < 1500 < stalled_line["elapsed_ms"]
    assert stalled_line["elapsed_ms"] < 2000 + 3000  # its own timeout, plus slack for a busy machine


def test_lambda_deadline_abandons_a_probe_that_would_outlive_it(h1_server: RunningServer) -> None:
    """The probe's own bounds (30 s) exceed the invocation's remaining time: the run ends at the
    deadline computed from get_remaining_time_in_millis() and reports the straggler as a timeout."""
    with never_answers() as stalled:
        run = run_handler(
            config(
                {
                    "name": "fast",
                    "url": h1_server.url("/api/streamcheck?events=3&interval_ms=50"),
                    "protocols": ["h1"],
                },
                {"name": "stalled", "url": stalled.url("/api/streamcheck"), "protocols": ["h1", "h2"]},
                probe_timeout_s=30,
                max_duration_s=30,
                deadline_s=50,
            ),
            remaining_ms=5500,  # budget = 5.5 s - 3 s safety margin = 2.5 s
        )
    assert run.returned is not None
    assert run.returned["duration_ms"] < 2500 + 2000
    assert run.wall_s < 25, "never waited for the 30 s probe bound"
    for protocol in ("h1", "h2"):
        line = run.probe_log("stalled", protocol)
        assert line["result"]["error"]["kind"] == "timeout"
        assert "budget" in line["result"]["error"]["message"]
        assert assert_design_emf(run.emf_for("stalled", protocol))["Success"] == 0.0
    assert assert_design_emf(run.emf_for("fast", "h1"))["Success"] == 1.0


def test_bad_config_fails_every_invocation_with_the_key(h1_server: RunningServer) -> None:
    checked = run_handler({"paths": [{"name": "x", "url": "ftp://nope"}]}, mode="config")
    assert checked.returned is not None
    assert "paths[0].url" in (checked.returned["error"] or "")
    assert any(line.get("message") == "invalid canary config" for line in checked.logs)
    # An invocation raises (the function's Errors alarm fires) instead of silently probing nothing.
    with pytest.raises(AssertionError, match="CanarySpecError"):
        run_handler({"paths": []})
