"""``streamprobe trace`` run as a subprocess against chains of real loopback servers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from streamcheck.reference_app import create_app

from tests.support import servers
from tests.support.servers import RunningServer
from tests.trace.conftest import STREAM, Chain, recording_asgi

STREAMPROBE = str(Path(sys.executable).parent / "streamprobe")
STREAM_MS = 900  # (10 - 1) x 100 ms
HOP_KEYS = {"name", "url", "kind", "http", "result", "added_delay_ms"}
TRACE_KEYS = {
    "hops", "first_buffering_hop", "previous_hop", "added_delay_ms", "summary", "diagnosis_code",
    "diagnosis", "fixes", "notes", "doctor", "concurrency",
}  # fmt: skip


def trace(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STREAMPROBE, "trace", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_json_names_the_first_buffering_hop_and_every_hop_in_order(chain: Chain) -> None:
    proc = trace(*chain.args(), "--json")
    assert proc.returncode == 1, proc.stderr
    d = json.loads(proc.stdout)
    assert set(d) == TRACE_KEYS
    assert [h["name"] for h in d["hops"]] == ["pod", "nginx", "alb", "cdn"]
    for hop in d["hops"]:
        assert set(hop) == HOP_KEYS
        assert hop["result"]["path_name"] == hop["name"]
    verdicts = [h["result"]["verdict"] for h in d["hops"]]
    assert verdicts == ["streaming", "streaming", "buffered", "buffered"]
    assert (d["first_buffering_hop"], d["previous_hop"]) == ("alb", "nginx")
    alb = d["hops"][2]
    assert alb["added_delay_ms"] == d["added_delay_ms"]
    assert alb["added_delay_ms"] > 0.7 * STREAM_MS
    assert abs(d["hops"][3]["added_delay_ms"]) < 0.1 * STREAM_MS  # the CDN adds nothing of its own
    # the doctor asked about the hop that buffers: it holds whatever the protocol and compression
    assert d["diagnosis_code"] == "everything"
    assert d["doctor"]["diagnosis_code"] == "everything"
    assert d["fixes"] and {f["hop"] for f in d["fixes"]} == {"alb"}
    assert {f["kind"] for f in d["fixes"]} == {"alb"}  # guessed from the name
    assert d["summary"].startswith("buffering starts at alb (after nginx): +")
    # a few streams at once through the outermost hop that streamed: no cap on this chain
    assert d["concurrency"]["hop"] == "nginx" and d["concurrency"]["cap"] is None


def test_inner_hops_are_read_over_http1_the_outermost_like_a_browser(chain: Chain) -> None:
    d = json.loads(trace(*chain.args(), "--json").stdout)
    assert [h["http"] for h in d["hops"]] == ["h1", "h1", "h1", "auto"]
    forced = json.loads(trace(f"pod={chain.pod}", f"nginx={chain.nginx}", "--json", "--http1").stdout)
    assert [h["http"] for h in forced["hops"]] == ["h1", "h1"]


def test_human_output_one_row_per_hop_then_where_buffering_starts(chain: Chain) -> None:
    proc = trace(*chain.args())
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "trace: 4 hops, from the application outward"
    header = lines[1].split()
    assert header[:4] == ["hop", "protocol", "encoding", "ttfb"] and header[-1] == "verdict"
    rows = [line.split() for line in lines[2:6]]
    assert [r[0] for r in rows] == ["pod", "nginx", "alb", "cdn"]
    assert [r[-1] for r in rows] == ["streaming", "streaming", "buffered", "buffered"]
    assert all(r[1] == "HTTP/1.1" for r in rows)
    start = lines[6]
    assert start.startswith("buffering starts at alb (after nginx): +") and start.endswith(" ms")
    assert int(start.split("+")[1].removesuffix(" ms")) > 0.7 * STREAM_MS
    assert lines[7].startswith("at once through nginx: 4 streams, first bytes ")
    assert lines[8].startswith("cause: buffered in every combination")
    assert lines[9:] and all(line.startswith("try: alb: ") for line in lines[9:])
    assert proc.stderr == ""  # no progress when stderr is not a terminal


def test_every_hop_streams_exit_0(chain: Chain) -> None:
    proc = trace(f"pod={chain.pod}", f"nginx={chain.nginx}", "--json")
    assert proc.returncode == 0, proc.stdout
    d = json.loads(proc.stdout)
    assert d["first_buffering_hop"] is None and d["diagnosis_code"] == "none"
    assert d["fixes"] == [] and d["doctor"] is None


def test_one_url_is_a_probe_with_a_table_of_one(app: RunningServer) -> None:
    proc = trace(app.url(STREAM))
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.splitlines()
    assert lines[0] == "trace: 1 hop, from the application outward"
    assert lines[2].split()[0] == "hop1" and lines[2].split()[-1] == "streaming"
    assert len([line for line in lines if line.startswith("  hop1 ")]) == 1


def test_the_first_hop_buffering_is_named_without_a_previous_one() -> None:
    with servers.uvicorn_server(create_app(gzip_sse=True)) as pod:
        d = json.loads(trace(f"pod={pod.url(STREAM)}", "--json").stdout)
    assert (d["first_buffering_hop"], d["previous_hop"]) == ("pod", None)
    assert d["summary"].startswith("buffering starts at pod: +")
    assert d["diagnosis_code"] == "compression"
    assert d["fixes"][0]["id"] == "app.starlette_gzip" and d["fixes"][0]["kind"] == "app"


def test_an_error_hop_is_a_row_and_the_hops_before_it_are_still_judged(chain: Chain) -> None:
    broken = f"http://127.0.0.1:{servers.refused_port()}/api/streamcheck"
    proc = trace(f"pod={chain.pod}", f"nginx={broken}", f"cdn={chain.cdn}", "--json")
    assert proc.returncode == 2
    d = json.loads(proc.stdout)
    assert [h["result"]["verdict"] for h in d["hops"]][:2] == ["streaming", "error"]
    assert d["hops"][1]["result"]["error"]["kind"] == "connect"
    assert d["first_buffering_hop"] is None and d["diagnosis_code"] == "error"
    assert d["diagnosis"].startswith("streams through pod; cannot tell beyond nginx: it failed (connect)")
    human = trace(f"pod={chain.pod}", f"nginx={broken}")
    assert "error (connect)" in human.stdout and "cannot tell beyond nginx" in human.stdout


def test_an_error_beyond_the_buffering_hop_does_not_hide_it(chain: Chain) -> None:
    broken = f"http://127.0.0.1:{servers.refused_port()}/api/streamcheck"
    proc = trace(f"nginx={chain.nginx}", f"alb={chain.alb}", f"edge={broken}", "--json")
    assert proc.returncode == 2  # an error anywhere is exit 2, as for the probe
    d = json.loads(proc.stdout)
    assert d["first_buffering_hop"] == "alb" and d["hops"][2]["result"]["error"]["kind"] == "connect"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["my pod=http://u:hunter2@127.0.0.1:1/"], "hop 1 'my pod=http://***@127.0.0.1:1/': NAME must be"),
        (["=http://127.0.0.1:1/"], "hop 1 '=http://127.0.0.1:1/': NAME must be"),
        (["pod=ftp://127.0.0.1/"], "hop 1 'pod=ftp://127.0.0.1/': expected NAME=URL with an http://"),
        (["pod=http://127.0.0.1:1/", "justtext"], "hop 2 'justtext': expected [NAME=]URL"),
        (["pod=http://"], "hop 1 'pod=http://': not a usable URL"),
        (
            ["a=http://127.0.0.1:1/", "a=http://127.0.0.1:2/"],
            "hop 2 'a=http://127.0.0.1:2/': duplicate name 'a'",
        ),
        (
            [f"h{i}=http://127.0.0.1:{i + 1}/" for i in range(11)],
            "hop 11 'h10=http://127.0.0.1:11/': at most 10",
        ),
        (["pod=http://127.0.0.1:1/", "--kind", "pod=router"], "--kind pod=router: KIND must be one of app,"),
        (["pod=http://127.0.0.1:1/", "--kind", "edge=nginx"], "--kind edge=nginx: no hop is named 'edge'"),
    ],
)
def test_bad_hops_are_usage_errors_naming_the_argument(args: list[str], message: str) -> None:
    proc = trace(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"streamprobe trace: error: {message}"), proc.stderr
    assert "hunter2" not in proc.stderr


def test_no_hop_is_a_usage_error() -> None:
    proc = trace()
    assert proc.returncode == 2 and "[NAME=]URL" in proc.stderr


def test_kind_told_overrides_the_guess_and_picks_that_kinds_fixes(chain: Chain) -> None:
    d = json.loads(trace(f"nginx={chain.nginx}", f"alb={chain.alb}", "--kind", "alb=nginx", "--json").stdout)
    assert d["hops"][1]["kind"] == "nginx"
    assert [f["id"] for f in d["fixes"]][:2] == ["nginx.proxy_buffering_off", "nginx.gzip_types"]
    human = trace(f"nginx={chain.nginx}", f"alb={chain.alb}", "--kind", "alb=nginx")
    assert "try: alb (nginx): proxy_buffering off;" in human.stdout


SECRET = "Bearer tr4ce-s3cret-77"


def test_secret_headers_go_to_every_hop_and_are_never_printed() -> None:
    seen: list[dict[str, str]] = []
    with (
        servers.uvicorn_server(recording_asgi(create_app(), seen)) as pod,
        servers.block_proxy(pod.port, block=1) as nginx,
        servers.hold_all_proxy(nginx.port) as alb,
    ):
        args = [f"pod={pod.url(STREAM)}", f"nginx={nginx.url(STREAM)}", f"alb={alb.url(STREAM)}"]
        as_json = trace(*args, "--header", f"Authorization: {SECRET}", "--json")
        human = trace(*args, "--header", f"Authorization: {SECRET}")
    for proc in (as_json, human):
        assert proc.returncode == 1, proc.stderr
        assert "tr4ce-s3cret-77" not in proc.stdout + proc.stderr
    # 3 hops + the doctor's HTTP/1.1 cells at alb + 4 streams at once through nginx (the outermost hop
    # that streamed), twice (the doctor's HTTP/2 cells get no HTTP/2 answer from these cleartext
    # HTTP/1.1 servers, so they send no request); every SSE request carries the secret
    requests = [h for h in seen if h.get("accept") == "text/event-stream"]
    assert len(requests) == 2 * (3 + 2 + 4)
    assert all(h.get("authorization") == SECRET for h in requests)
    d = json.loads(as_json.stdout)
    assert all(h["result"]["header_names"] == ["Authorization"] for h in d["hops"])
