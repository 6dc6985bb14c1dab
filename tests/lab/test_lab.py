"""The lab end to end: real uvicorn, nginx and haproxy on loopback, probed by streamprobe."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from lab.report import render_table
from lab.run import LabReport
from lab.topology import PATH_NAMES, Lab
from tests.lab.conftest import EVENTS, INTERVAL_MS, lab_processes
from tests.support.signals import default_sigint

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
STREAM_MS = (EVENTS - 1) * INTERVAL_MS


def verdict(report: LabReport, path: str, column: str) -> str:
    result = report.path(path).cells[column]
    assert result is not None, f"{path} {column} not probed"
    assert result.error is None, f"{path} {column}: {result.error}"
    return result.verdict


def test_every_path_was_probed(report: LabReport) -> None:
    assert [p.path.name for p in report.paths] == list(PATH_NAMES)
    for p in report.paths:
        assert p.cells["h1"] is not None and p.cells["h1"].protocol == "HTTP/1.1"
        assert (p.cells["h2"] is not None) == p.path.tls
        for result in p.cells.values():
            if result is not None:
                assert result.ok, (p.path.name, result.error)
                assert result.mode == "streamcheck"
                assert result.events == EVENTS + 1  # the ticks and `done`


@pytest.mark.parametrize("path", ["direct", "seed-nginx"])
def test_direct_and_seed_nginx_stream(report: LabReport, path: str) -> None:
    assert verdict(report, path, "h1") == "streaming"


def test_compression_fault_buffers_with_a_fast_ttfb(report: LabReport) -> None:
    result = report.path("compression-fault").cells["h1"]
    assert verdict(report, "compression-fault", "h1") == "buffered"
    assert result is not None and result.content_encoding == "gzip"
    # The signature of a compressing middleware: headers at once, the first event with the last.
    assert result.timings_ms["ttfb"] is not None and result.timings_ms["ttfb"] < STREAM_MS / 2
    assert result.timings_ms["first_event"] is not None and result.timings_ms["first_event"] > STREAM_MS * 0.8


def test_buffering_nginx_holds_everything(report: LabReport) -> None:
    result = report.path("buffering-nginx").cells["h1"]
    assert verdict(report, "buffering-nginx", "h1") == "buffered"
    # nginx holds even the headers here (gzip + proxy_buffering on): TTFB is the whole stream.
    assert result is not None and result.timings_ms["ttfb"] is not None
    assert result.timings_ms["ttfb"] > STREAM_MS * 0.8


def test_nlb_like_streams_over_http1_and_never_offers_h2(report: LabReport) -> None:
    assert verdict(report, "nlb-like", "h1") == "streaming"
    offered = report.path("nlb-like").cells["h2"]
    assert offered is not None and offered.protocol == "HTTP/1.1"  # ALPN http/1.1 only
    assert verdict(report, "nlb-like", "h2") == "streaming"


def test_alb_like_streams_over_both_protocols(report: LabReport) -> None:
    # What the lab's stand-in shows (a pass-through h2 terminator); the real ALB is the canary's job.
    offered = report.path("alb-like-h2").cells["h2"]
    assert offered is not None and offered.protocol == "HTTP/2"
    assert verdict(report, "alb-like-h2", "h2") == "streaming"
    assert verdict(report, "alb-like-h2", "h1") == "streaming"


def test_cloudfront_like_streams_over_both_protocols(report: LabReport) -> None:
    offered = report.path("cloudfront-like").cells["h2"]
    assert offered is not None and offered.protocol == "HTTP/2"
    assert verdict(report, "cloudfront-like", "h2") == "streaming"
    assert verdict(report, "cloudfront-like", "h1") == "streaming"


def test_tls_nginx_at_defaults_holds_http1_but_streams_h2(report: LabReport) -> None:
    # Measured: proxy_buffering on + TLS keeps HTTP/1.1 output in nginx's 16 KiB TLS buffer, unflushed.
    assert verdict(report, "tls-nginx-defaults", "h1") == "buffered"
    assert verdict(report, "tls-nginx-defaults", "h2") == "streaming"


def test_doctor_explains_each_path_that_did_not_stream(report: LabReport) -> None:
    not_streaming = {p.path.name for p in report.paths if p.buffered}
    assert not_streaming == {
        "compression-fault",
        "buffering-nginx",
        "tls-nginx-defaults",
        "caddy-h3-buffering",
        "apigw-buffered",
    }
    for name in not_streaming:
        p = report.path(name)
        assert p.diagnosis and not p.diagnosis.startswith(("doctor failed", "doctor not available"))
        assert p.doctor is not None
    assert "compress" in (report.path("compression-fault").diagnosis or "").lower()
    assert "only over HTTP/1.1" in (report.path("tls-nginx-defaults").diagnosis or "")
    for p in report.paths:
        if p.path.name not in not_streaming:
            assert p.diagnosis is None


def test_table_names_every_path(report: LabReport) -> None:
    from lab.report import render_table

    table = render_table(report)
    for name in PATH_NAMES:
        assert f"\n{name} " in table
    assert "negotiated HTTP/1.1" in table  # the nlb-like footnote


def test_chart_is_a_png(report: LabReport, tmp_path: Path) -> None:
    from lab.report import render_chart

    out = tmp_path / "lab.png"
    render_chart(report, out)
    assert out.read_bytes().startswith(b"\x89PNG") and out.stat().st_size > 10_000


def test_report_json_shape(report: LabReport) -> None:
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) == {"lab", "paths", "chat", "load", "capped_doctor", "apigw_idle", "upgrade"}
    assert data["lab"]["events"] == EVENTS and data["lab"]["interval_ms"] == INTERVAL_MS
    assert [p["name"] for p in data["paths"]] == list(PATH_NAMES)
    for p in data["paths"]:
        assert set(p) == {
            "name",
            "hops",
            "stands_for",
            "url",
            "tls",
            "results",
            "diagnosis",
            "doctor",
            "rechecked",
        }
        assert set(p["results"]) == {"h1", "h2", "h3", "ws", "browser"}
        h1 = p["results"]["h1"]
        # the result contract (docs/contracts/result.md)
        for key in ("url", "path_name", "protocol", "status", "ok", "error", "timings_ms", "events", "mode"):
            assert key in h1
        assert h1["verdict"] in ("streaming", "partial", "buffered", "inconclusive", "error")
        assert set(h1["timings_ms"]) == {"dns", "connect", "tls", "ttfb", "first_event", "total"}
        assert h1["path_name"] == p["name"]


def test_websocket_column_streams_on_every_path(report: LabReport) -> None:
    for p in report.paths:
        if not p.path.offers_websocket:  # the API Gateway stand-ins: a REST API carries no WebSocket
            assert p.path.name.startswith("apigw-") and p.cells["ws"] is None, p.path.name
            continue
        result = p.cells["ws"]
        assert result is not None, p.path.name
        assert (result.transport, result.status, result.close_code) == ("websocket", 101, 1000), p.path.name
        assert result.url.startswith("wss://" if p.path.tls else "ws://")
        assert verdict(report, p.path.name, "ws") == "streaming", p.path.name


@pytest.mark.parametrize("path", ["compression-fault", "buffering-nginx", "tls-nginx-defaults"])
def test_websocket_streams_where_sse_over_http1_is_held(report: LabReport, path: str) -> None:
    # Measured, not assumed: an upgraded connection is a tunnel, past the proxy's buffering and gzip and
    # the app's compression middleware (which sees only HTTP requests).
    assert verdict(report, path, "h1") == "buffered"
    assert verdict(report, path, "ws") == "streaming"


def test_upgrade_row_names_the_dropped_upgrade_and_its_fix(report: LabReport) -> None:
    row = report.upgrade
    assert row is not None
    assert row.sse.error is None and row.sse.verdict == "streaming"
    ws = row.websocket
    assert ws.error is not None and ws.error.kind == "http_status" and ws.status == 426
    assert "Server: nginx" in ws.error.message and "dropped the Upgrade" in ws.error.message
    assert row.doctor is not None and row.doctor["websocket"]["state"] == "error"
    assert next(f["id"] for f in row.doctor["websocket"]["fixes"]) == "nginx.websocket_upgrade"
    table = render_table(report)
    assert "Upgrade row: nginx-no-upgrade" in table and "proxy_set_header Upgrade $http_upgrade" in table
    assert "WebSocket (ws/wss: HTTP/1.1 upgrade)" in table


def test_components_are_isolated(lab: Lab) -> None:
    # Every process runs in its own session with its files under the lab's temporary directory.
    # 2 uvicorn, 3 nginx (alb-like serves tls-nginx-defaults too), 3 haproxy (one the load row's capped
    # hop), caddy, the block proxy, the two API Gateway stand-ins
    assert len(lab.pids) == 12
    for pid in lab.pids:
        assert os.getsid(pid) == pid
    names = {p.name for p in lab.processes}
    for name in names:
        assert (lab.workdir / name).is_dir()
    assert (lab.workdir / "seed-nginx" / "nginx.pid").exists()


def wait_until_gone(workdir: Path, timeout: float = 10.0) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    left = lab_processes(workdir)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = lab_processes(workdir)
    return left


def test_stop_leaves_nothing_running_even_after_an_exception() -> None:
    running = Lab(keep_workdir=True)
    try:
        with pytest.raises(RuntimeError, match="boom"), running:
            assert len(lab_processes(running.workdir)) >= 8  # masters, nginx workers, uvicorns
            pids = running.pids
            raise RuntimeError("boom")
        assert wait_until_gone(running.workdir) == []
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists()
    finally:
        shutil.rmtree(running.workdir, ignore_errors=True)


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lab", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def workdir_from(stderr: str) -> Path:
    line = next(x for x in stderr.splitlines() if x.startswith("lab directory: "))
    return Path(line.removeprefix("lab directory: "))


def test_cli_json_and_clean_exit() -> None:
    proc = run_cli(
        "--json", "--keep", "--no-doctor", "--events", "10", "--path", "direct", "--path", "nlb-like"
    )
    workdir = workdir_from(proc.stderr)
    try:
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert [p["name"] for p in data["paths"]] == ["direct", "nlb-like"]
        assert data["paths"][0]["results"]["h1"]["verdict"] == "streaming"
        assert data["paths"][0]["results"]["h2"] is None
        assert wait_until_gone(workdir) == []
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_ctrl_c_stops_every_component() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab", "--serve", "--keep"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    workdir = Path("/nonexistent")
    try:
        assert proc.stderr is not None and proc.stdout is not None
        workdir = workdir_from(proc.stderr.readline() + "\n")
        for line in proc.stdout:
            if line.startswith("Ctrl-C"):
                break
        assert len(lab_processes(workdir)) >= 8
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert wait_until_gone(workdir) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runuser") is None, reason="needs root to become nobody"
)
def test_nginx_config_works_as_non_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # As root the lab adds `user root root;`; as anyone else it must not (nginx would refuse to switch).
    from lab import configs
    from lab.procs import ManagedProcess, free_port
    from lab.topology import find_binary

    tmp_path = Path(tempfile.mkdtemp(prefix="streampath-lab-nobody-"))  # pytest's tmp_path is root-only
    tmp = tmp_path / "nginx"
    tmp.mkdir()
    port = free_port()
    monkeypatch.setattr(os, "geteuid", lambda: 65534)
    config = configs.nginx_buffering(tmp, port=port, app_port=free_port())
    assert "user " not in config.split("events")[0]
    (tmp / "nginx.conf").write_text(config)
    for path in (tmp_path, tmp):
        os.chown(path, 65534, 65534)
    argv = [
        "runuser",
        "-u",
        "nobody",
        "--",
        find_binary("nginx"),
        "-p",
        f"{tmp}/",
        "-c",
        str(tmp / "nginx.conf"),
    ]
    argv += ["-e", str(tmp / "error.log")]
    proc = ManagedProcess("nginx-as-nobody", argv, log_path=tmp_path / "stderr.log", ports=[port], cwd=tmp)
    try:
        proc.start(timeout=15)
        # (runuser itself stays as a root parent; the nginx master and worker run as nobody)
        owners = {
            p: Path(f"/proc/{p}").stat().st_uid for p, cmd in lab_processes(tmp) if cmd.startswith("nginx")
        }
        assert len(owners) == 2 and set(owners.values()) == {65534}
    finally:
        proc.stop()
        left = wait_until_gone(tmp)
        shutil.rmtree(tmp_path, ignore_errors=True)
    assert left == []


# --- the chat rows: the app's own stream (no X-Accel-Buffering), stamped and generic side by side ---

#: The probe's stamped delay against curl's reading of the same stamps, read at the same time.
CURL_AGREEMENT_MS = 25.0


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("direct", "streaming"),
        ("compression-fault", "buffered"),
        ("buffering-nginx", "buffered"),  # X-Accel ignored: it holds the chat stream to the end
        ("block-proxy", "partial"),
    ],
)
def test_chat_rows_are_stamped_and_agree_with_curl(report: LabReport, path: str, expected: str) -> None:
    row = report.chat_row(path)
    r = row.stamped
    assert r.error is None, r.error
    assert (r.mode, r.verdict, r.events) == ("stamped", expected, report.chat_tokens + 1), r.to_dict()
    assert row.curl is not None, row.curl_note
    assert row.curl.exit_code == 0 and row.curl.verdict == expected, row.curl.to_dict()
    assert r.buffering_delay_ms is not None and row.curl.delay_ms is not None
    assert abs(r.buffering_delay_ms - row.curl.delay_ms) <= CURL_AGREEMENT_MS, (
        r.buffering_delay_ms,
        row.curl.delay_ms,
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("direct", "streaming"),
        ("compression-fault", "buffered"),
        ("buffering-nginx", "buffered"),
        ("block-proxy", "partial"),
    ],
)
def test_chat_rows_without_stamps_are_judged_by_arrival_pattern(
    report: LabReport, path: str, expected: str
) -> None:
    r = report.chat_row(path).generic
    assert r.error is None, r.error
    assert (r.mode, r.verdict, r.buffering_delay_ms) == ("generic", expected, None), r.to_dict()
    assert r.gaps_ms["max"] is not None
    if expected == "streaming":  # ~10 ms between tokens, nothing held
        assert r.gaps_ms["max"] < 200 and r.events_per_s is not None and r.events_per_s > 50
    elif expected == "partial":  # blocks: nearly all events clumped, long silences between them
        assert r.clumping is not None and r.clumping >= 0.9 and r.gaps_ms["max"] > 300
    else:  # one late burst
        assert r.timings_ms["first_event"] is not None and r.timings_ms["first_event"] > 2400


def test_chat_table_and_json(report: LabReport) -> None:
    from lab.report import render_table

    table = render_table(report)
    assert "Chat endpoint /api/chat/stream?tokens=300&interval_ms=10" in table
    assert "\nblock-proxy " in table and "block proxy (4096 B) -> app" in table
    rows = json.loads(json.dumps(report.to_dict()))["chat"]["rows"]
    assert [row["name"] for row in rows] == ["direct", "compression-fault", "buffering-nginx", "block-proxy"]
    assert rows[-1]["stamped"]["mode"] == "stamped" and rows[-1]["generic"]["verdict"] == "partial"
    assert set(rows[0]["stamped"]["gaps_ms"]) == {"p50", "p99", "max"}
