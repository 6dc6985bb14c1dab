"""``canary.chain`` in the ops CLI: ``run-canary`` prints where buffering starts from a real handler run,
``status`` from the newest metrics (moto over HTTP)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from streamcheck.reference_app import app as reference_app

from streampath import naming
from tests.canary.support import run_handler
from tests.ops.conftest import Cli
from tests.ops.fake_aws import Moto, Probe, deploy, put_probe, write_config
from tests.support.servers import RunningServer, block_proxy, hold_all_proxy, uvicorn_server

STREAM = "/api/streamcheck?events=10&interval_ms=100"


@pytest.fixture(scope="module")
def app() -> Iterator[RunningServer]:
    with uvicorn_server(reference_app) as srv:
        yield srv


def chained_config(config_dir: Path, env: str, names: list[str], chain: list[str]) -> Path:
    """The example config with these canary paths (https, h1 and h2) and ``canary.chain``."""
    config = write_config(config_dir, env)
    data = yaml.safe_load(config.read_text())
    data["canary"]["paths"] = [
        {"name": n, "url": f"https://{n}.example.com/api/streamcheck", "protocols": ["h1", "h2"]}
        for n in names
    ]
    data["canary"]["chain"] = chain
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config


def test_run_canary_prints_where_buffering_starts(
    cli: Cli, moto: Moto, config_dir: Path, app: RunningServer
) -> None:
    with ExitStack() as stack:
        nginx = stack.enter_context(block_proxy(app.port, block=1))
        alb = stack.enter_context(hold_all_proxy(nginx.port))
        paths = [
            {"name": name, "url": srv.url(STREAM), "protocols": ["h1"]}
            for name, srv in (("direct", app), ("nginx", nginx), ("alb", alb))
        ]
        handler_run = run_handler(
            {
                "probe_timeout_s": 5,
                "max_duration_s": 20,
                "deadline_s": 40,
                "paths": paths,
                "chain": ["direct", "nginx", "alb"],
            }
        )
    payload = handler_run.returned
    assert payload is not None
    deploy(moto, "chained", units=("Canary",))
    config = write_config(config_dir, "chained")
    moto.queue_lambda_results(json.dumps(payload), json.dumps(payload))
    result = cli("run-canary", "--config", str(config))
    assert result.code == 1, result.err  # alb buffers
    line = result.out.splitlines()[-1]
    assert line.startswith("  chain: buffering starts at alb (h1, after nginx): +") and line.endswith(" ms")
    assert int(line.split("+")[1].removesuffix(" ms")) > 600
    as_json = json.loads(cli("run-canary", "--config", str(config), "--json").out)
    assert as_json["chain"][0]["first_buffering_hop"] == "alb"


def test_status_prints_where_buffering_starts(cli: Cli, moto: Moto, config_dir: Path) -> None:
    outputs = deploy(moto, "chainstat")
    assert naming.OUTPUT_DASHBOARD_URL in outputs["Canary"]
    names = ["cs-direct", "cs-nlb", "cs-alb", "cs-edge"]
    config = chained_config(config_dir, "chainstat", names, names)
    at = datetime.now(UTC) - timedelta(minutes=1)
    for probe in (
        Probe("cs-direct", "h1", 5.0, 5.5, 0.9),
        Probe("cs-direct", "h2", 5.0, 5.5, 1.1),
        Probe("cs-nlb", "h1", 20.0, 21.0, 2.1),
        Probe("cs-nlb", "h2", 20.0, 21.0, 2.4),
        Probe("cs-alb", "h1", 40.0, 41.0, 3.2),
        Probe("cs-alb", "h2", 44.0, 1968.0, 1921.4, buffered=True),
        # cs-edge has no data yet
    ):
        put_probe(moto, probe, at)
    result = cli("status", "--config", str(config))
    lines = result.out.splitlines()
    start = lines.index("Chain (canary.chain, from the app outward; the newest minute of each path)")
    assert lines[start + 1 : start + 3] == [
        "  cannot tell beyond cs-edge (h1): no data for it yet",
        "  buffering starts at cs-alb (h2, after cs-nlb): +1919 ms",
    ]
    report = json.loads(cli("status", "--config", str(config), "--json").out)
    by_protocol: dict[str, Any] = {c["protocol"]: c for c in report["chain"]}
    assert by_protocol["h2"]["first_buffering_hop"] == "cs-alb"
    assert by_protocol["h2"]["added_delay_ms"] == pytest.approx(1919.0)
    assert by_protocol["h1"]["outcome"] == "error" and by_protocol["h1"]["no_data"] is True
    assert {c["region"] for c in report["chain"]} == {"eu-west-1"}


def test_status_shows_a_partly_buffering_hop_as_partial(cli: Cli, moto: Moto, config_dir: Path) -> None:
    # the run summary says partial for a hop that holds part of the stream: status must not say streaming
    deploy(moto, "partstat")
    names = ["ps-direct", "ps-nginx"]
    config = chained_config(config_dir, "partstat", names, names)
    at = datetime.now(UTC) - timedelta(minutes=1)
    for probe in (
        Probe("ps-direct", "h1", 5.0, 5.5, 0.9),
        Probe("ps-direct", "h2", 5.0, 5.5, 1.1),
        Probe("ps-nginx", "h1", 20.0, 21.0, 2.1),
        Probe("ps-nginx", "h2", 20.0, 412.0, 395.0, partial=True),
    ):
        put_probe(moto, probe, at)
    result = cli("status", "--config", str(config))
    assert result.code == 1, result.err
    rows = {
        tuple(line.split()[:2]): line.split() for line in result.out.splitlines() if line.startswith("  ps-")
    }
    assert rows[("ps-nginx", "h2")][2:4] == ["ok", "PARTIAL"]
    assert rows[("ps-nginx", "h1")][2:4] == ["ok", "streaming"]
    assert "  buffering starts at ps-nginx (h2, after ps-direct): +394 ms" in result.out.splitlines()
    assert (
        "path ps-nginx h2 in eu-west-1: the last probe saw a partly buffered stream (Partial=1)" in result.err
    )
    report = json.loads(cli("status", "--config", str(config), "--json").out)
    by_pair = {(r["path"], r["protocol"]): r["metrics"] for r in report["results"]}
    assert by_pair[("ps-nginx", "h2")]["Partial"]["value"] == 1.0
    assert by_pair[("ps-nginx", "h1")]["Partial"]["value"] == 0.0
    h2 = next(c for c in report["chain"] if c["protocol"] == "h2")
    assert h2["first_buffering_hop"] == "ps-nginx"


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        (["cs-a", "nope"], "canary.chain: unknown path name(s) nope (the paths are cs-a, cs-b)"),
        (["cs-a", "cs-b", "cs-a"], "canary.chain: path name(s) listed twice: cs-a"),
    ],
)
def test_a_bad_chain_is_refused_naming_the_key(
    cli: Cli, config_dir: Path, chain: list[str], message: str
) -> None:
    config = chained_config(config_dir, "badchain", ["cs-a", "cs-b"], chain)
    result = cli("status", "--config", str(config))
    assert result.code == 2
    assert f"{config}: {message}" in result.err
