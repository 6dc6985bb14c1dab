"""The asset's own Python code runs the canary's h3 probes: the handler in a clean interpreter (``-I -S``)
whose only import path is the asset, its aarch64 shared objects swapped for this machine's builds of the
same versions (``host_asset``), against Caddy's HTTP/3 fronts on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamcheck.reference_app import app as reference_app

from tests.canary.support import assert_design_emf, base_env, run_handler
from tests.h3.conftest import Fronts
from tests.support.servers import RunningServer, hypercorn_server
from tests.support.tls import TLSFiles

#: Imported by an h3 probe only (httpx brings certifi and idna for every probe).
H3_ONLY = ("aioquic", "pylsqpack", "cryptography", "OpenSSL", "service_identity")


def config(paths: list[dict[str, Any]], probe_timeout_s: float = 5) -> dict[str, Any]:
    return {"probe_timeout_s": probe_timeout_s, "max_duration_s": 20, "deadline_s": 30, "paths": paths}


def test_handler_probes_h3_from_the_asset(host_asset: Path, fronts: Fronts) -> None:
    ca = fronts.tls.ca_pem
    run = run_handler(
        config(
            [
                {
                    "name": "edge",
                    "url": fronts.url(fronts.streamed),
                    "protocols": ["h1", "h2", "h3"],
                    "verify": ca,
                },
                {"name": "held", "url": fronts.url(fronts.buffered), "protocols": ["h3"], "verify": ca},
            ]
        ),
        asset_dir=host_asset,
    )
    assert run.returned is not None and run.returned["failed"] == 0, run.logs
    assert {(r["path"], r["protocol"]) for r in run.returned["results"]} == {
        ("edge", "h1"),
        ("edge", "h2"),
        ("edge", "h3"),
        ("held", "h3"),
    }
    for protocol, label in (("h1", "HTTP/1.1"), ("h2", "HTTP/2"), ("h3", "HTTP/3")):
        values = assert_design_emf(run.emf_for("edge", protocol))
        assert values["Success"] == 1.0 and values["Buffered"] == 0.0, (protocol, values)
        result = run.probe_log("edge", protocol)["result"]
        assert result["protocol"] == label and result["verdict"] == "streaming"
    # Over QUIC, connect and tls are the QUIC handshake's two parts (docs/contracts/result.md).
    edge_h3 = assert_design_emf(run.emf_for("edge", "h3"))
    assert edge_h3["ConnectTime"] > 0 and edge_h3["TlsTime"] > 0 and edge_h3["EventsReceived"] >= 10
    # Caddy advertises h3 on the h1/h2 responses, as CloudFront does.
    assert "h3=" in (run.probe_log("edge", "h2")["result"]["alt_svc"] or "")
    held = assert_design_emf(run.emf_for("held", "h3"))
    assert held["Buffered"] == 1.0 and held["BufferingDelay"] >= 700, held
    assert run.probe_log("held", "h3")["result"]["verdict"] == "buffered"


@pytest.fixture(scope="module")
def tcp_only(tls: TLSFiles) -> Iterator[RunningServer]:
    with hypercorn_server(reference_app, tls=tls) as server:
        yield server


def test_an_h3_path_without_quic_fails_alone(host_asset: Path, tcp_only: RunningServer) -> None:
    """A server that answers TCP only: its h3 probe fails with kind ``protocol`` within the probe timeout,
    Success 0 for h3 (its alarm fires); h1 and h2 of the same path are unaffected."""
    url = tcp_only.url("/api/streamcheck?events=3&interval_ms=20")
    run = run_handler(
        config([{"name": "tcp", "url": url, "protocols": ["h1", "h2", "h3"], "verify": tcp_only.ca_pem}], 2),
        asset_dir=host_asset,
    )
    assert run.returned is not None and run.returned["failed"] == 1
    h3 = run.probe_log("tcp", "h3")["result"]
    assert h3["protocol"] == "HTTP/3" and h3["error"]["kind"] == "protocol", h3["error"]
    assert assert_design_emf(run.emf_for("tcp", "h3"))["Success"] == 0.0
    for protocol in ("h1", "h2"):
        assert assert_design_emf(run.emf_for("tcp", protocol))["Success"] == 1.0
    assert run.returned["duration_ms"] < 10_000


# What the first run of a container loads: the driver reports which HTTP/3-only modules are loaded after
# `import handler`, after a run without h3 paths and after a run with one.
DRIVER = """
import json, os, sys
sys.path[:0] = [{asset!r}]
from streampath_canary import handler
from streampath_canary.contract import CanarySpec

def loaded():
    return sorted({{name.split(".")[0] for name in sys.modules}} & set({h3_only!r}))

seen = {{"import": loaded()}}
handler.run(CanarySpec.from_document(json.loads(sys.argv[1])), budget_s=20)
seen["run without h3"] = loaded()
handler.run(CanarySpec.from_document(json.loads(sys.argv[2])), budget_s=20)
seen["run with h3"] = loaded()
sys.stderr.write("MODULES " + json.dumps(seen) + "\\n")
os._exit(0)
"""


def test_aioquic_is_loaded_only_by_a_run_with_an_h3_path(host_asset: Path, fronts: Fronts) -> None:
    url, ca = fronts.url(fronts.streamed), fronts.tls.ca_pem
    without = config([{"name": "p", "url": url, "protocols": ["h1", "h2"], "verify": ca}])
    with_h3 = config([{"name": "p", "url": url, "protocols": ["h3"], "verify": ca}])
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            DRIVER.format(asset=str(host_asset), h3_only=H3_ONLY),
            json.dumps(without),
            json.dumps(with_h3),
        ],
        capture_output=True,
        text=True,
        env=base_env(None),
        cwd=str(host_asset),
        timeout=120,
        check=True,
    )
    (line,) = [line for line in proc.stderr.splitlines() if line.startswith("MODULES ")]
    seen = json.loads(line[len("MODULES ") :])
    assert seen == {"import": [], "run without h3": [], "run with h3": sorted(H3_ONLY)}
