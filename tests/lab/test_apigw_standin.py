"""The API Gateway stand-in (lab/apigw_proxy.py) in each transfer mode, and the doctor and trace naming it.

Real processes on loopback: the reference app under uvicorn, the stand-in as ``python -m lab.apigw_proxy``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from streamcheck.reference_app import create_app
from streamprobe.diagnosis import idle_diagnosis
from streamprobe.doctor import run_doctor
from streamprobe.fixes import kind_of
from streamprobe.fronts import Front, fronts_in
from streamprobe.options import ProbeOptions
from streamprobe.probing import probe
from streamprobe.result import ErrorInfo, EventArrival, ProbeResult
from streamprobe.trace import parse_hops, run_trace

from tests.support import servers
from tests.support.servers import RunningServer

# 10 events 100 ms apart: streams with <= 90 ms of delay, buffered >= 720 ms.
STREAM = "/api/streamcheck?events=10&interval_ms=100"
# A first event at once, then 3 s of silence: cut by an idle timeout of 1.5 s.
SILENT = "/api/streamcheck?events=3&interval_ms=3000"
IDLE_S = 1.5
OPTIONS = ProbeOptions(timeout=10, max_duration=30)


@pytest.fixture(scope="module")
def app() -> Iterator[RunningServer]:
    with servers.uvicorn_server(create_app()) as srv:
        yield srv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def standin(upstream: int, *args: str) -> Iterator[str]:
    """``python -m lab.apigw_proxy`` in front of ``upstream``; yields its base URL."""
    port = free_port()
    argv = [sys.executable, "-m", "lab.apigw_proxy", "--port", str(port), "--upstream", str(upstream), *args]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the stand-in did not start: {proc.stderr}") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_stream_mode_streams_and_shows_api_gateway(app: RunningServer) -> None:
    with standin(app.port, "--mode", "stream") as base:
        result = probe(base + STREAM, OPTIONS)
    assert result.verdict == "streaming", result.to_dict()
    assert result.to_dict()["via"] == ["apigateway"]


def test_doctor_names_a_buffered_integration_with_its_fix(app: RunningServer) -> None:
    with standin(app.port, "--mode", "buffered") as base:
        report = run_doctor(base + STREAM, OPTIONS)
    assert report.diagnosis_code == "everything", report.diagnosis
    assert "API Gateway" in report.diagnosis and "BUFFERED" in report.diagnosis
    assert [f.fix.id for f in report.fixes] == ["apigateway.stream_mode"]


def test_doctor_names_the_idle_cut(app: RunningServer) -> None:
    with standin(app.port, "--mode", "stream", "--idle-timeout", str(IDLE_S)) as base:
        report = run_doctor(base + SILENT, OPTIONS)
    assert report.diagnosis_code == "idle_timeout", report.diagnosis
    assert report.diagnosis.startswith("the stream was cut after 1.")
    assert "API Gateway answered (x-amz-apigw-id)" in report.diagnosis
    assert [f.fix.id for f in report.fixes] == ["app.heartbeat", "apigateway.regional_endpoint"]


def test_a_stream_livelier_than_the_idle_timeout_is_not_cut(app: RunningServer) -> None:
    with standin(app.port, "--mode", "stream", "--idle-timeout", str(IDLE_S)) as base:
        result = probe(base + STREAM, OPTIONS)
    assert result.error is None and result.events == 11


def test_trace_names_the_buffering_api_gateway_hop(app: RunningServer) -> None:
    with standin(app.port, "--mode", "buffered") as base:
        hops = parse_hops([f"pod={app.url(STREAM)}", f"api-gateway={base}{STREAM}"])
        report = run_trace(hops, OPTIONS)
    d = report.to_dict()
    assert d["first_buffering_hop"] == "api-gateway"
    assert d["hops"][1]["kind"] == "apigateway"
    assert "apigateway.stream_mode" in [f["id"] for f in d["fixes"]]


def test_trace_names_the_hop_that_cut_the_stream(app: RunningServer) -> None:
    with standin(app.port, "--mode", "stream", "--idle-timeout", str(IDLE_S)) as base:
        hops = parse_hops([f"pod={app.url(SILENT)}", f"gw={base}{SILENT}"])
        report = run_trace(hops, OPTIONS)
    d = report.to_dict()
    assert d["diagnosis_code"] == "idle_timeout"
    assert d["diagnosis"].startswith("streams through pod; gw cut the stream: the stream was cut after")
    assert d["fixes"][0]["id"] == "app.heartbeat"


def test_buffered_integration_past_its_timeout_answers_504(app: RunningServer) -> None:
    with standin(app.port, "--mode", "buffered", "--integration-timeout", "1") as base:
        result = probe(base + SILENT, OPTIONS)
    assert result.status == 504 and result.error is not None and result.error.kind == "http_status"


# -- without a stand-in: the real idle timeouts, recognised by their length -----------------------------


def cut_result(silence_s: float, via: list[Front]) -> ProbeResult:
    result = ProbeResult(url="https://x.example/", path_name="x", protocol="HTTP/2", status=200)
    result.error = ErrorInfo("protocol", "the stream from x broke the HTTP framing")
    result.arrivals = [EventArrival(arrive_ms=50.0, event="tick")]
    result.timings_ms["ttfb"] = 40.0
    result.timings_ms["total"] = 50.0 + silence_s * 1000
    result.via = via
    return result


def test_a_30_s_cut_at_an_edge_optimized_api_is_named() -> None:
    found = idle_diagnosis([cut_result(30.2, ["cloudfront", "apigateway"])])
    assert found is not None and found.hop == "apigateway"
    assert found.sentence.startswith(
        "the stream was cut after 30.2 s of silence: the idle timeout of an edge-optimized API Gateway "
        "endpoint (30 s) or CloudFront's default origin response timeout (30 s); API Gateway answered"
    )


def test_a_5_minute_cut_names_a_regional_endpoint_and_a_short_break_is_no_cut() -> None:
    found = idle_diagnosis([cut_result(300.4, ["apigateway"])])
    assert found is not None
    assert "a Regional or private API Gateway endpoint (300 s)" in found.sentence
    assert idle_diagnosis([cut_result(0.2, ["apigateway"])]) is None


def test_kind_guessed_from_name_or_aws_host() -> None:
    assert kind_of("api-gateway") == "apigateway"
    assert kind_of("edge", "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/live/") == "apigateway"
    assert kind_of("edge", "https://d111111abcdef8.cloudfront.net/") == "cloudfront"
    assert kind_of("edge", "https://chat.example.com/") == "proxy"
    assert fronts_in({"x-amz-apigw-id": "a=", "via": "1.1 abc.cloudfront.net (CloudFront)"}) == [
        "cloudfront",
        "apigateway",
    ]
