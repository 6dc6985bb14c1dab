"""A real Prometheus (Debian's package) on loopback scrapes the exporter through the shipped
blackbox-style relabelling config, every second; the test reads the verdicts back through
Prometheus's HTTP API, and runs every query of the Grafana dashboard against what it stored."""

from __future__ import annotations

import json
import re
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from streamprobe.exporter.server import ExporterHTTPServer

from lab.procs import ManagedProcess, free_port
from lab.topology import find_binary
from tests.support.servers import RunningServer

from .support import DEPLOY, STREAM, get

SCRAPE_CONFIG = DEPLOY / "prometheus" / "scrape-config.yaml"
DASHBOARD = DEPLOY / "grafana" / "streamprobe-dashboard.json"


def loopback_config(exporter: ExporterHTTPServer, streaming: str, buffering: str) -> dict[str, Any]:
    """The shipped scrape config with loopback targets, the exporter's address and a 1 s interval;
    its relabelling is kept as shipped."""
    config: dict[str, Any] = yaml.safe_load(SCRAPE_CONFIG.read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    config["rule_files"] = [str(SCRAPE_CONFIG.parent / name) for name in config["rule_files"]]
    address = exporter.url.removeprefix("http://")
    for job in config["scrape_configs"]:
        if job["job_name"] == "streamprobe":
            job["static_configs"] = [
                {"targets": [streaming], "labels": {"hop": "pod"}},
                {"targets": [buffering], "labels": {"hop": "ingress"}},
            ]
            (rewrite,) = [r for r in job["relabel_configs"] if r.get("target_label") == "__address__"]
            rewrite["replacement"] = address
        else:
            job["static_configs"] = [{"targets": [address]}]
    return config


@pytest.fixture(scope="module")
def prometheus(
    exporter: ExporterHTTPServer, h1_server: RunningServer, buffering_nginx: RunningServer
) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="exporter-prometheus-") as tmp:
        config = Path(tmp) / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(loopback_config(exporter, h1_server.url(STREAM), buffering_nginx.url(STREAM)))
        )
        port = free_port()
        argv = [
            find_binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp}/data",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        url = f"http://127.0.0.1:{port}"
        proc = ManagedProcess(
            "prometheus",
            argv,
            log_path=Path(tmp) / "prometheus.log",
            ports=[port],
            cwd=Path(tmp),
            ready=lambda: get(f"{url}/-/ready", timeout=2).status == 200,
        )
        proc.start(timeout=30)
        try:
            yield url
        finally:
            proc.stop()


def query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    reply = get(f"{prometheus}/api/v1/query?query={urllib.parse.quote(promql)}")
    body = json.loads(reply.body)
    assert reply.status == 200 and body["status"] == "success", (promql, reply.body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def wait_for(prometheus: str, promql: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        result = query(prometheus, promql)
        if len(result) >= count or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_prometheus_reads_back_both_verdicts(
    prometheus: str, h1_server: RunningServer, buffering_nginx: RunningServer
) -> None:
    found = wait_for(prometheus, 'streamprobe_verdict{job="streamprobe"} == 1', count=2)
    verdicts = {r["metric"]["instance"]: r["metric"]["verdict"] for r in found}
    assert verdicts == {h1_server.url(STREAM): "streaming", buffering_nginx.url(STREAM): "buffered"}
    hops = {r["metric"]["hop"]: r["metric"]["verdict"] for r in found}
    assert hops == {"pod": "streaming", "ingress": "buffered"}
    delays = {
        r["metric"]["hop"]: float(r["value"][1])
        for r in query(prometheus, "streamprobe_buffering_delay_seconds")
    }
    assert delays["pod"] < 0.05 <= 0.2 <= delays["ingress"]
    success = query(prometheus, 'probe_success{job="streamprobe"}')
    assert [float(r["value"][1]) for r in success] == [1.0, 1.0]
    own = wait_for(prometheus, 'streamprobe_exporter_probes_total{verdict="buffered"} > 0', count=1)
    assert own and own[0]["metric"]["job"] == "streamprobe-exporter"


def test_every_dashboard_query_returns_data(prometheus: str) -> None:
    wait_for(prometheus, 'streamprobe_verdict{job="streamprobe"} == 1', count=2)
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 3
    for expr in exprs:
        promql = re.sub(r"\$job", "streamprobe", expr)
        assert "$" not in promql, promql
        assert query(prometheus, promql), f"no data for the dashboard's {promql!r}"
