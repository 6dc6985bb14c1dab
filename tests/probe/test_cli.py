"""The streamprobe command line, run as a subprocess against real loopback servers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from streamcheck.reference_app import create_app

from tests.probe.conftest import STREAM
from tests.support import servers
from tests.support.servers import RunningServer

STREAMPROBE = str(Path(sys.executable).parent / "streamprobe")
SECRET = "s3cr3t-v4lue-42"
RESULT_KEYS = {
    "url", "path_name", "protocol", "status", "ok", "error", "timings_ms", "events", "mode",
    "buffering_delay_ms", "verdict", "gaps_ms", "events_per_s",
}  # fmt: skip
EXTRA_KEYS = {
    "notes",
    "content_encoding",
    "header_names",
    "alt_svc",
    "clumping",
    "via",
    "transport",
    "close_code",
}


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STREAMPROBE, *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_streaming_human_output_and_exit_0(h1_server: RunningServer) -> None:
    proc = cli(h1_server.url(STREAM), "--name", "direct")
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("STREAMING: buffering delay ")
    assert "protocol HTTP/1.1" in proc.stdout and "path       direct" in proc.stdout
    assert proc.stderr == ""


def test_json_is_the_result_contract(h1_server: RunningServer) -> None:
    proc = cli(h1_server.url(STREAM), "--json", "--http1", "--accept-encoding", "identity")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert set(d) == RESULT_KEYS | EXTRA_KEYS
    assert set(d["timings_ms"]) == {"dns", "connect", "tls", "ttfb", "first_event", "total"}
    assert (d["verdict"], d["mode"], d["protocol"]) == ("streaming", "streamcheck", "HTTP/1.1")
    assert d["path_name"] == "cli"


@pytest.fixture(scope="module")
def hold_all(h1_server: RunningServer) -> Iterator[servers.RawServer]:
    with servers.hold_all_proxy(h1_server.port) as proxy:
        yield proxy


def test_buffered_exits_1(hold_all: servers.RawServer) -> None:
    proc = cli(hold_all.url(STREAM), "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["verdict"] == "buffered"


def test_error_exits_2_with_json_result() -> None:
    proc = cli(f"http://127.0.0.1:{servers.refused_port()}/api/streamcheck", "--json", "--timeout", "2")
    assert proc.returncode == 2
    d = json.loads(proc.stdout)
    assert d["error"]["kind"] == "connect" and d["verdict"] == "error" and d["ok"] is False


def test_error_human_output_names_the_kind() -> None:
    with servers.status_error(502, "Bad Gateway", "no healthy upstream") as srv:
        proc = cli(srv.url("/api/streamcheck"))
    assert proc.returncode == 2
    assert proc.stdout.startswith("ERROR (http_status): ")
    assert "no healthy upstream" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["ftp://example.com/"],
        ["http://127.0.0.1:1/", "--http1", "--http2"],
        ["http://127.0.0.1:1/", "--insecure", "--cacert", "x.pem"],
        ["http://127.0.0.1:1/", "--timeout", "-1"],
        ["http://127.0.0.1:1/", "--timeout", "soon"],
        ["http://127.0.0.1:1/", "--repeat", "0"],
        ["http://127.0.0.1:1/", "--max-event-bytes", "0"],
        ["http://127.0.0.1:1/", "--header", "no colon here"],
        ["http://127.0.0.1:1/", "--bogus"],
        ["https://127.0.0.1:1/", "--cacert", "/nonexistent/ca.pem"],
        ["doctor"],
    ],
)
def test_usage_errors_exit_2_with_message_and_no_json(args: list[str]) -> None:
    proc = cli(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "error:" in proc.stderr


def test_secret_header_value_appears_nowhere(h1_server: RunningServer) -> None:
    header = f"Authorization: Bearer {SECRET}"
    with servers.wrong_content_type(echo_request=True) as echo:
        runs = [
            cli(h1_server.url(STREAM), "--header", header),
            cli(h1_server.url(STREAM), "--header", header, "--json"),
            cli(h1_server.url(STREAM), "--header", header, "--repeat", "2", "--json"),
            cli(echo.url("/api/streamcheck"), "--header", header, "--header", f"X-Key: {SECRET}"),
            cli(echo.url("/api/streamcheck"), "--header", header, "--json"),
            cli("doctor", echo.url("/api/streamcheck"), "--header", header),
            cli(h1_server.url(STREAM), "--header", f"Bad Name: {SECRET}"),  # usage error
        ]
    assert [p.returncode for p in runs] == [0, 0, 0, 2, 2, 2, 2]
    assert json.loads(runs[1].stdout)["header_names"] == ["Authorization"]
    assert "Authorization" in runs[0].stdout  # the name may be shown
    for proc in runs:
        assert SECRET not in proc.stdout and SECRET not in proc.stderr


def test_repeat_reports_medians_and_worst_delay(h1_server: RunningServer) -> None:
    proc = cli(h1_server.url("/api/streamcheck?events=5&interval_ms=100"), "--repeat", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["repeat"] == 3 and len(d["runs"]) == 3 and d["verdicts"] == {"streaming": 3}
    delays = [run["buffering_delay_ms"] for run in d["runs"]]
    assert d["worst_buffering_delay_ms"] == max(delays)
    assert d["median_timings_ms"]["ttfb"] == sorted(run["timings_ms"]["ttfb"] for run in d["runs"])[1]
    human = cli(h1_server.url("/api/streamcheck?events=5&interval_ms=100"), "--repeat", "2")
    assert human.returncode == 0 and human.stdout.startswith("STREAMING (worst of 2 runs)")


def test_cacert_and_insecure_over_http2(h2_server: RunningServer) -> None:
    assert h2_server.ca_pem is not None
    proc = cli(h2_server.url(STREAM), "--http2", "--cacert", h2_server.ca_pem, "--json")
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["protocol"] == "HTTP/2"
    assert cli(h2_server.url(STREAM), "--insecure", "--json").returncode == 0
    untrusted = cli(h2_server.url(STREAM), "--json")
    assert untrusted.returncode == 2 and json.loads(untrusted.stdout)["error"]["kind"] == "tls"


def test_http2_required_against_http11_only_server_exits_2(h1_server: RunningServer) -> None:
    proc = cli(h1_server.url(STREAM), "--http2", "--json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["kind"] == "protocol"


# -- doctor --------------------------------------------------------------------------------------


def test_doctor_names_compression(tmp_path: Path) -> None:
    with servers.uvicorn_server(create_app(gzip_sse=True)) as srv:
        proc = cli("doctor", srv.url(STREAM))
        as_json = cli("doctor", srv.url(STREAM), "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    http2_row = next(line for line in lines if line.strip().startswith("HTTP/2"))
    assert http2_row.count("not offered") == 2
    http1_row = next(line for line in lines if line.strip().startswith("HTTP/1.1"))
    assert "streaming" in http1_row and "buffered" in http1_row and "[gzip]" in http1_row
    diagnosis = next(i for i, line in enumerate(lines) if line.startswith("diagnosis: "))
    assert lines[diagnosis].startswith("diagnosis: buffered only when compression is requested")
    fixes = lines[diagnosis + 1 :]  # after the diagnosis, only its "try:" lines, the app's fix first
    assert fixes and all(line.startswith("try: ") for line in fixes)
    assert fixes[0].startswith("try: app: Starlette/FastAPI GZipMiddleware")
    d = json.loads(as_json.stdout)
    states = {(c["http"], c["encoding"]): c["state"] for c in d["cells"]}
    assert states == {
        ("HTTP/1.1", "identity"): "streaming",
        ("HTTP/1.1", "compressed"): "buffered",
        ("HTTP/2", "identity"): "not offered",
        ("HTTP/2", "compressed"): "not offered",
    }


def test_doctor_names_the_http2_front_end(h2_server: RunningServer) -> None:
    from tests.support.tls import tls_files

    tls = tls_files()
    app = servers.buffered_asgi(create_app(), block=None, when=lambda scope: scope["http_version"] == "2")
    with servers.hypercorn_server(app, tls=tls) as srv:
        proc = cli("doctor", srv.url(STREAM), "--cacert", tls.ca_pem)
    assert proc.returncode == 1, proc.stdout
    assert "diagnosis: buffered only over HTTP/2" in proc.stdout


def test_doctor_names_a_hop_that_buffers_http1_only() -> None:
    from tests.support.tls import tls_files

    tls = tls_files()
    app = servers.buffered_asgi(create_app(), block=None, when=lambda scope: scope["http_version"] != "2")
    with servers.hypercorn_server(app, tls=tls) as srv:
        proc = cli("doctor", srv.url(STREAM), "--cacert", tls.ca_pem)
    assert proc.returncode == 1, proc.stdout
    assert "diagnosis: buffered only over HTTP/1.1" in proc.stdout


def test_doctor_all_streaming_exit_0(h2_server: RunningServer) -> None:
    assert h2_server.ca_pem is not None
    proc = cli("doctor", h2_server.url(STREAM), "--cacert", h2_server.ca_pem)
    assert proc.returncode == 0, proc.stdout
    assert "not offered" not in proc.stdout
    assert proc.stdout.rstrip().endswith("diagnosis: streams in every combination tried: no buffering found")


def test_doctor_names_a_proxy_that_buffers_everything(hold_all: servers.RawServer) -> None:
    proc = cli("doctor", hold_all.url(STREAM))
    assert proc.returncode == 1
    assert "diagnosis: buffered in every combination" in proc.stdout


def test_version_comes_from_the_installed_metadata() -> None:
    proc = cli("--version")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0,
        f"streamprobe {metadata.version('streamprobe')}\n",
        "",
    )


def test_help_names_both_commands_and_the_exit_status() -> None:
    proc = cli("--help")
    assert proc.returncode == 0, proc.stderr
    usage = proc.stdout.split("\n\n")[0]
    assert usage.splitlines() == [
        "usage: streamprobe URL [options]",
        "       streamprobe doctor URL [options]",
        "       streamprobe trace [NAME=]URL [[NAME=]URL ...] [options]",
        "       streamprobe exporter [options]",
        "       streamprobe load URL [options]",
        "       streamprobe --version",
    ]
    assert "  doctor URL  " in proc.stdout and "exit status: 0 streaming" in proc.stdout
    doctor = cli("doctor", "--help")
    assert doctor.returncode == 0 and doctor.stdout.startswith("usage: streamprobe doctor URL [options]")
    assert "--http1" not in doctor.stdout and "--browser" in doctor.stdout
    trace = cli("trace", "--help")
    assert trace.returncode == 0 and trace.stdout.startswith(
        "usage: streamprobe trace [NAME=]URL [[NAME=]URL ...] [options]"
    )
    assert (
        "--http1" in trace.stdout and "--kind NAME=KIND" in trace.stdout and "--browser" not in trace.stdout
    )


def test_probe_command_is_the_bare_url(h1_server: RunningServer) -> None:
    bare = cli(h1_server.url(STREAM), "--json", "--http1", "--name", "direct")
    named = cli("probe", h1_server.url(STREAM), "--json", "--http1", "--name", "direct")
    assert (bare.returncode, named.returncode) == (0, 0), bare.stderr + named.stderr
    as_bare, as_named = json.loads(bare.stdout), json.loads(named.stdout)
    assert set(as_bare) == set(as_named)
    assert [(d["verdict"], d["protocol"], d["path_name"]) for d in (as_bare, as_named)] == [
        ("streaming", "HTTP/1.1", "direct")
    ] * 2
    options_first = cli("--json", "--http1", h1_server.url(STREAM))  # options before the URL, as before
    assert options_first.returncode == 0 and json.loads(options_first.stdout)["verdict"] == "streaming"


def test_every_command_of_the_table_is_listed_and_has_its_own_help() -> None:
    from streamprobe.cli import COMMANDS

    top = " ".join(cli("--help").stdout.split())  # the table wraps to the terminal's width
    for command in COMMANDS:
        assert command.HELP in top and "\n" not in command.HELP
        own = cli(command.NAME, "--help")
        assert own.returncode == 0 and own.stdout.startswith(f"usage: streamprobe {command.NAME} ")
    probe_help = cli("probe", "--help").stdout
    assert "--repeat N" in probe_help and "--http3" in probe_help and "--cacert FILE" in probe_help


def test_a_usage_error_names_the_command_it_came_from() -> None:
    bare = cli("http://127.0.0.1:1/", "--bogus")
    named = cli("probe", "http://127.0.0.1:1/", "--bogus")
    doctor = cli("doctor", "http://127.0.0.1:1/", "--http2")  # the doctor chooses protocols itself
    assert [p.returncode for p in (bare, named, doctor)] == [2, 2, 2]
    assert bare.stderr.startswith("streamprobe: error: unrecognized arguments: --bogus")
    assert named.stderr.startswith("streamprobe probe: error: unrecognized arguments: --bogus")
    assert doctor.stderr.startswith("streamprobe doctor: error: unrecognized arguments: --http2")
    assert "Traceback" not in bare.stderr + named.stderr + doctor.stderr
