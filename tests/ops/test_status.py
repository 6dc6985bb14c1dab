"""``streampath status``: outputs from CloudFormation, metrics from one GetMetricData call, alarm states."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from streampath import naming, status
from streampath.aws import Aws
from tests.ops.conftest import STREAMPATH, Cli, clean_environ, run_streampath
from tests.ops.fake_aws import (
    SECRET_ACCESS_KEY,
    STAGING_PROBES,
    Moto,
    alarm_name,
    canary_pairs,
    deploy,
    put_alarms,
    put_staging_metrics,
    write_config,
)
from tests.support.pipes import assert_quiet_end, run_into_closed_pipe


@pytest.fixture(scope="module")
def staging(moto: Moto, config_dir: Path) -> dict[str, Any]:
    outputs = deploy(moto, "staging")
    config = write_config(config_dir, "staging")
    at = put_staging_metrics(moto, pairs=canary_pairs(config))  # every pair the config probes
    alarms = put_alarms(moto, "staging", outputs["Canary"][naming.OUTPUT_ALARM_TOPIC_ARN])
    return {"config": config, "outputs": outputs, "at": at, "alarms": alarms}


def test_json_report(cli: Cli, staging: dict[str, Any]) -> None:
    result = cli("status", "--config", str(staging["config"]), "--json")
    # the ALB over HTTP/2 buffers and its alarm fires: a problem (1), not a refusal (2)
    assert result.code == 1, result.err
    report = json.loads(result.out)
    assert report["ok"] is False
    assert (report["env"], report["region"], report["account"], report["namespace"]) == (
        "staging",
        "eu-west-1",
        "123456789012",
        "StreamPath",
    )
    stacks = {s["unit"]: s for s in report["stacks"]}
    outputs = staging["outputs"]
    assert stacks["Nlb"]["endpoint"] == outputs["Nlb"][naming.OUTPUT_NLB_DNS_NAME]
    assert stacks["Nlb"]["endpoint"].endswith(".elb.amazonaws.com")
    assert stacks["CloudFront"]["endpoint"] == "d111111abcdef8.cloudfront.net"
    assert stacks["Canary"]["endpoint"] == outputs["Canary"][naming.OUTPUT_DASHBOARD_URL]
    assert {s["state"] for s in report["stacks"]} == {"CREATE_COMPLETE"}

    # the newest datapoint per path x protocol (the older run, 5 minutes ago, failed everywhere)
    results = {(r["path"], r["protocol"]): r["metrics"] for r in report["results"]}
    assert list(results) == canary_pairs(staging["config"])
    expected_at = staging["at"].replace(second=0, microsecond=0)
    for probe in STAGING_PROBES:
        metrics = results[(probe.path, probe.protocol)]
        assert metrics["TimeToFirstByte"]["value"] == pytest.approx(probe.ttfb)
        assert metrics["TimeToFirstEvent"]["value"] == pytest.approx(probe.first_event)
        assert metrics["BufferingDelay"]["value"] == pytest.approx(probe.buffering_delay)
        assert metrics["Success"]["value"] == 1.0
        assert metrics["Buffered"]["value"] == (1.0 if probe.buffered else 0.0)
        stamp = datetime.fromisoformat(metrics["Success"]["timestamp"].replace("Z", "+00:00"))
        assert abs((stamp - expected_at).total_seconds()) <= 60

    alarms = {a["name"]: a["state"] for a in report["alarms"]}
    assert alarms == {
        alarm_name("staging", "alb-h2-BufferingDelay"): "ALARM",
        alarm_name("staging", "nlb-h1-BufferingDelay"): "OK",
        alarm_name("staging", "cloudfront-h2-TimeToFirstEvent"): "OK",
        alarm_name("staging", "FunctionErrors"): "OK",
    }  # other environments' alarms (other, staging2) are not listed
    assert report["alarms"][0]["state"] == "ALARM"  # alarms first
    assert report["problems"] == [
        "path alb h2 in eu-west-1: the last probe saw a buffered stream (Buffered=1)",
        f"alarm {alarm_name('staging', 'alb-h2-BufferingDelay')} in eu-west-1 is in ALARM: "
        "Threshold Crossed: 3 out of the last 5 datapoints",
    ]
    assert result.err.splitlines() == [f"streampath status: {p}" for p in report["problems"]]


@pytest.mark.parametrize("output", [[], ["--json"]], ids=["table", "json"])
def test_a_closed_stdout_ends_the_console_script_quietly(
    moto: Moto, staging: dict[str, Any], output: list[str]
) -> None:
    """``streampath status | head -1``: the report meets a closed pipe; no traceback, exit 141."""
    argv = [str(STREAMPATH), "status", "--config", str(staging["config"]), *output]
    assert_quiet_end(run_into_closed_pipe(argv, env={**clean_environ(), **moto.env()}))


def test_table_report_via_console_script(moto: Moto, staging: dict[str, Any]) -> None:
    result = run_streampath(["status", "--config", str(staging["config"])], moto.env())
    assert result.code == 1, result.err
    lines = result.out.splitlines()
    assert lines[0] == "StreamPath staging: account 123456789012, eu-west-1"
    assert any(line.split()[:3] == ["Nlb", "StreamPath-staging-Nlb", "CREATE_COMPLETE"] for line in lines)
    row = next(line.split() for line in lines if line.split()[:2] == ["alb", "h2"])
    assert row[2:7] == ["ok", "BUFFERED", "44.0", "1968.0", "1921.4"]
    row = next(line.split() for line in lines if line.split()[:2] == ["nlb", "h1"])
    assert row[2:7] == ["ok", "streaming", "23.5", "24.1", "2.1"]
    assert any(
        line.split()[:2] == ["ALARM", alarm_name("staging", "alb-h2-BufferingDelay")] for line in lines
    )
    assert SECRET_ACCESS_KEY not in result.out + result.err


def test_one_get_metric_data_call(aws_env: dict[str, str], staging: dict[str, Any]) -> None:
    """All path x protocol pairs x 6 metrics in one call (42 queries for 7 pairs, 48 for 8); 101 pairs (606
    queries) in two."""
    aws = Aws(region="eu-west-1")
    calls: list[int] = []
    aws.session.events.register(
        "provide-client-params.cloudwatch.GetMetricData",
        lambda params, **_: calls.append(len(params["MetricDataQueries"])),
    )
    end = datetime.now(UTC)
    pairs = canary_pairs(staging["config"])
    results = status.read_metrics(aws, "StreamPath", pairs, end.replace(hour=0, minute=0), end)
    assert len(pairs) >= 7 and calls == [len(pairs) * len(status.METRICS)] == [len(pairs) * 6]
    assert all(r.metrics for r in results)

    calls.clear()
    many = [(f"p{i}", "h1") for i in range(101)]
    results = status.read_metrics(aws, "StreamPath", many, end.replace(hour=0, minute=0), end)
    assert calls == [500, 106]
    assert not any(r.metrics for r in results)


def quiet_config(config_dir: Path, env: str) -> Path:
    """A config whose canary paths have their own names: metrics are shared by all environments of an
    account and region (same namespace and dimensions), and moto ignores the namespace of a query
    that has dimensions, so distinct path names are what keeps staging's datapoints out."""
    config = write_config(config_dir, env)
    data = yaml.safe_load(config.read_text())
    for path in data["canary"]["paths"]:
        path["name"] = f"{env}-{path['name']}"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config


def test_no_data_yet(cli: Cli, moto: Moto, config_dir: Path) -> None:
    deploy(moto, "quiet")
    config = quiet_config(config_dir, "quiet")
    result = cli("status", "--config", str(config))
    assert result.code == 1
    names = [p for p, _ in canary_pairs(config)]
    assert result.err.splitlines() == [
        f"streampath status: no data yet for path {name} (namespace StreamPath, eu-west-1, last 15 min): "
        "the canary has not run or publishes elsewhere"
        for name in dict.fromkeys(names)
    ]
    assert result.out.count("no data yet") == len(names)
    assert "Alarms (0, prefix StreamPath-quiet-)\n  none found" in result.out


def test_old_data_is_outside_the_window(cli: Cli, staging: dict[str, Any]) -> None:
    result = cli("status", "--config", str(staging["config"]), "--minutes", "1", "--json")
    assert result.code == 1
    assert "no data yet for path alb" in result.err
    assert all(not r["metrics"] for r in json.loads(result.out)["results"])


def test_stacks_not_deployed(cli: Cli, config_dir: Path) -> None:
    config = quiet_config(config_dir, "bare")
    result = cli("status", "--config", str(config), "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert [(s["stack"], s["state"]) for s in report["stacks"]] == [
        ("StreamPath-bare-Nlb", "not deployed"),
        ("StreamPath-bare-CloudFront", "not deployed"),
        ("StreamPath-bare-Canary", "not deployed"),
    ]
    errors = result.err.splitlines()
    assert errors[0] == (
        "streampath status: stack StreamPath-bare-Nlb is not deployed in eu-west-1: "
        "run `cdk deploy -c config=bare StreamPath-bare-Nlb` "
        "(or check the config's region and your AWS account)"
    )
    assert len(errors) == 3 + 4  # three stacks, four paths without data


@pytest.mark.parametrize("minutes", ["0", "20161"])
def test_minutes_bounds(cli: Cli, staging: dict[str, Any], minutes: str) -> None:
    result = cli("status", "--config", str(staging["config"]), "--minutes", minutes)
    assert result.code == 2 and result.out == ""
    assert result.err == f"streampath status: --minutes: must be 1..20160 (14 days), got {minutes}\n"


def test_api_gateway_front_door_is_reported(cli: Cli, config_dir: Path) -> None:
    source = yaml.safe_load((Path(__file__).parents[2] / "config" / "apigateway.yaml").read_text())
    source.update(name="gw", region="eu-west-1", account="123456789012")
    config = config_dir / "gw.yaml"
    config.write_text(yaml.safe_dump(source, sort_keys=False))
    result = cli("status", "--config", str(config), "--json")
    report = json.loads(result.out)
    assert [(s["unit"], s["stack"], s["state"]) for s in report["stacks"]][:2] == [
        ("Nlb", "StreamPath-gw-Nlb", "not deployed"),
        ("ApiGateway", "StreamPath-gw-ApiGateway", "not deployed"),
    ]
