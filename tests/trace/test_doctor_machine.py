"""``streamprobe doctor --json``: the diagnosis code and fixes; the early stop when the connection fails."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from streamcheck.reference_app import create_app
from streamprobe.diagnosis import DIAGNOSIS_CODES

from tests.support import servers
from tests.support.servers import RunningServer
from tests.trace.conftest import STREAM, Chain

STREAMPROBE = str(Path(sys.executable).parent / "streamprobe")


def doctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STREAMPROBE, "doctor", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_codes_are_the_contract() -> None:
    assert DIAGNOSIS_CODES == (
        "none", "compression", "h2_front", "h3_front", "h1_only", "everything", "mixed", "inconclusive",
        "idle_timeout", "error",
    )  # fmt: skip


def test_compression_code_and_fixes() -> None:
    with servers.uvicorn_server(create_app(gzip_sse=True)) as srv:
        proc = doctor(srv.url(STREAM), "--json")
    assert proc.returncode == 1, proc.stderr
    d = json.loads(proc.stdout)
    assert d["diagnosis_code"] == "compression"
    assert d["diagnosis"].startswith("buffered only when compression is requested")
    ids = [f["id"] for f in d["fixes"]]
    assert ids[0] == "app.starlette_gzip" and {"nginx.gzip_types", "ingress-nginx.gzip_types"} <= set(ids)
    for fix in d["fixes"]:
        assert set(fix) == {"hop", "kind", "id", "change"} and fix["hop"] == fix["kind"] and fix["change"]
    assert d["stopped_early"] is None


def test_a_proxy_that_holds_everything(chain: Chain) -> None:
    d = json.loads(doctor(chain.alb, "--json").stdout)
    assert d["diagnosis_code"] == "everything"
    ids = [f["id"] for f in d["fixes"]]
    assert ids[:2] == ["nginx.proxy_buffering_off", "nginx.gzip_types"] and "haproxy.http_no_delay" in ids
    assert "ingress-nginx.proxy_buffering" in ids


def test_streaming_has_code_none_and_no_fix(app: RunningServer) -> None:
    proc = doctor(app.url(STREAM), "--json")
    assert proc.returncode == 0
    d = json.loads(proc.stdout)
    assert (d["diagnosis_code"], d["fixes"]) == ("none", [])
    human = doctor(app.url(STREAM))
    assert "try:" not in human.stdout


def test_a_host_that_accepts_and_never_answers_costs_one_timeout() -> None:
    with servers.never_answers() as srv:
        started = time.monotonic()
        proc = doctor(srv.url("/api/streamcheck"), "--timeout", "1.5", "--json")
        elapsed = time.monotonic() - started
        human = doctor(srv.url("/api/streamcheck"), "--timeout", "1.5")
    assert proc.returncode == 2
    assert elapsed < 1.5 * 2 + 1.5, elapsed  # four cells would take >= 6 s
    d = json.loads(proc.stdout)
    states = {(c["http"], c["encoding"]): c["state"] for c in d["cells"]}
    assert states == {
        ("HTTP/1.1", "identity"): "error",
        ("HTTP/1.1", "compressed"): "skipped",
        ("HTTP/2", "identity"): "skipped",
        ("HTTP/2", "compressed"): "skipped",
    }
    assert [c["result"] is None for c in d["cells"]] == [False, True, True, True]
    assert d["cells"][0]["result"]["error"]["kind"] == "timeout"
    assert d["diagnosis_code"] == "error" and "connection itself failed (timeout)" in d["stopped_early"]
    rows = [line.split() for line in human.stdout.splitlines()[2:4]]
    assert rows == [["HTTP/1.1", "error", "(timeout)", "skipped"], ["HTTP/2", "skipped", "skipped"]]


def test_connection_refused_stops_early_too() -> None:
    proc = doctor(f"http://127.0.0.1:{servers.refused_port()}/api/streamcheck", "--json")
    d = json.loads(proc.stdout)
    assert [c["state"] for c in d["cells"]] == ["error", "skipped", "skipped", "skipped"]
    assert d["cells"][0]["result"]["error"]["kind"] == "connect"


def test_an_http_error_does_not_stop_the_matrix() -> None:
    # A 503 is an answer, not a failed connection: every cell is still probed.
    with servers.status_error() as srv:
        d = json.loads(doctor(srv.url("/api/streamcheck"), "--json").stdout)
    assert "skipped" not in [c["state"] for c in d["cells"]] and d["stopped_early"] is None
