"""``status`` and ``run-canary`` over a canary in two Regions, against moto's server in both.

The home Region (eu-west-1) has the front doors and the home canary stack; us-east-1 has
``StreamPath-world-Canary-us-east-1``, its own metrics (each Region's canary publishes in its own Region)
and its own alarms (named after its Region). In us-east-1 the CloudFront path fails over HTTP/2.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from streampath import naming
from tests.ops.conftest import Cli, run_streampath
from tests.ops.fake_aws import (
    REGION,
    SECRET_ACCESS_KEY,
    Moto,
    Probe,
    canary_pairs,
    canary_template,
    create_stack,
    deploy,
    handler_payload,
    put_alarms,
    put_probe,
    put_staging_metrics,
    write_config,
)

ENV = "world"
OTHER = "us-east-1"
REGIONS = [REGION, OTHER]


def other_probes(pairs: list[tuple[str, str]]) -> list[Probe]:
    """us-east-1's datapoints: slower than the home Region's, and CloudFront over h2 failing."""
    return [
        Probe(path, proto, ttfb=180.0 + i, first_event=190.0 + i, buffering_delay=6.0,
              success=(path, proto) != ("cloudfront", "h2"))
        for i, (path, proto) in enumerate(pairs)
    ]  # fmt: skip


FAILING_ALARM = f"StreamPath-{ENV}-canary-{OTHER}-cloudfront-h2-Success"


def two_region_config(config_dir: Path) -> Path:
    path = write_config(config_dir, ENV)
    data = yaml.safe_load(path.read_text())
    data["canary"]["regions"] = REGIONS
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def world(moto: Moto, config_dir: Path) -> dict[str, Any]:
    config = two_region_config(moto_config_dir(config_dir))
    # us-east-1 probes the public paths only (``direct`` is in the VPC, probed from the home Region)
    pairs = canary_pairs(config, OTHER)
    assert "direct" not in {path for path, _ in pairs} and ("cloudfront", "h2") in pairs
    probes = other_probes(pairs)
    home = deploy(moto, ENV)
    remote_name = naming.canary_stack_name(ENV, OTHER, REGION)
    remote = create_stack(
        moto, remote_name, canary_template(ENV, region=OTHER, home_region=REGION), region=OTHER
    )
    put_staging_metrics(moto, region=REGION)  # the seven home pairs of config/default.yaml
    recent = datetime.now(UTC) - timedelta(minutes=2)
    for probe in probes:
        put_probe(moto, probe, recent, region=OTHER)
    put_alarms(moto, ENV, region=REGION)
    cloudwatch = moto.client("cloudwatch", OTHER)
    cloudwatch.put_metric_alarm(
        AlarmName=FAILING_ALARM,
        Namespace="StreamPath",
        MetricName="Success",
        Dimensions=[{"Name": "Path", "Value": "cloudfront"}, {"Name": "Protocol", "Value": "h2"}],
        Statistic="Minimum",
        Period=60,
        EvaluationPeriods=5,
        DatapointsToAlarm=3,
        Threshold=1.0,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="breaching",
    )
    cloudwatch.set_alarm_state(
        AlarmName=FAILING_ALARM, StateValue="ALARM", StateReason="Threshold Crossed: 3 of 5"
    )
    return {
        "config": config,
        "other_pairs": pairs,
        "other_probes": probes,
        "home": home,
        "remote": remote,
        "remote_name": remote_name,
    }


def moto_config_dir(config_dir: Path) -> Path:
    directory = config_dir / "regions"
    directory.mkdir(exist_ok=True)
    return directory


def assert_every_problem_names_a_region(lines: list[str]) -> None:
    assert lines
    for line in lines:
        assert any(region in line for region in REGIONS), line


def test_status_json_covers_both_regions(cli: Cli, world: dict[str, Any]) -> None:
    result = cli("status", "--config", str(world["config"]), "--json")
    assert result.code == 1, result.err
    report = json.loads(result.out)
    assert report["regions"] == REGIONS and report["region"] == REGION
    stacks = {(s["unit"], s["region"]): s for s in report["stacks"]}
    assert set(stacks) == {
        ("Nlb", REGION),
        ("CloudFront", REGION),
        ("Canary", REGION),
        (f"Canary-{OTHER}", OTHER),
    }
    remote = stacks[(f"Canary-{OTHER}", OTHER)]
    assert (remote["stack"], remote["state"]) == (world["remote_name"], "CREATE_COMPLETE")
    assert remote["endpoint"] == world["remote"][naming.OUTPUT_DASHBOARD_URL]

    rows = {(r["region"], r["path"], r["protocol"]): r["metrics"] for r in report["results"]}
    assert [key for key in rows if key[0] == OTHER] == [(OTHER, *pair) for pair in world["other_pairs"]]
    assert (REGION, "direct", "h1") in rows and (OTHER, "direct", "h1") not in rows
    for probe in world["other_probes"]:  # us-east-1's own datapoints, not eu-west-1's
        metrics = rows[(OTHER, probe.path, probe.protocol)]
        assert metrics["TimeToFirstByte"]["value"] == pytest.approx(probe.ttfb)
    assert rows[(REGION, "alb", "h1")]["TimeToFirstByte"]["value"] == pytest.approx(41.0)

    alarms = {(a["region"], a["name"]): a["state"] for a in report["alarms"]}
    assert alarms[(OTHER, FAILING_ALARM)] == "ALARM"
    assert alarms[(REGION, f"StreamPath-{ENV}-canary-alb-h2-BufferingDelay")] == "ALARM"
    assert {region for region, _ in alarms} == set(REGIONS)

    problems = report["problems"]
    assert f"path cloudfront h2 in {OTHER}: the last probe failed (Success=0)" in problems
    assert f"path alb h2 in {REGION}: the last probe saw a buffered stream (Buffered=1)" in problems
    assert f"alarm {FAILING_ALARM} in {OTHER} is in ALARM: Threshold Crossed: 3 of 5" in problems
    assert_every_problem_names_a_region(problems)
    assert result.err.splitlines() == [f"streampath status: {p}" for p in problems]


def test_status_table_has_a_region_column(moto: Moto, world: dict[str, Any]) -> None:
    result = run_streampath(["status", "--config", str(world["config"])], moto.env())
    assert result.code == 1, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"StreamPath {ENV}: account 123456789012, {REGION}; canary in {REGION}, {OTHER}"
    assert any(
        line.split()[:4] == [f"Canary-{OTHER}", world["remote_name"], "CREATE_COMPLETE", OTHER]
        for line in lines
    )
    header = next(line.split() for line in lines if line.split()[:2] == ["PATH", "PROTO"])
    assert header[7] == "REGION"
    cloudfront_h2 = [line.split() for line in lines if line.split()[:2] == ["cloudfront", "h2"]]
    assert sorted((row[7], row[2]) for row in cloudfront_h2) == [(REGION, "ok"), (OTHER, "FAIL")]
    assert any(line.split()[:3] == ["ALARM", FAILING_ALARM, OTHER] for line in lines)
    assert_every_problem_names_a_region(
        [line.removeprefix("streampath status: ") for line in result.err.splitlines()]
    )
    assert SECRET_ACCESS_KEY not in result.out + result.err


def test_status_one_region(cli: Cli, world: dict[str, Any]) -> None:
    result = cli("status", "--config", str(world["config"]), "--region", OTHER, "--json")
    report = json.loads(result.out)
    assert report["regions"] == [OTHER]
    assert [(s["unit"], s["region"]) for s in report["stacks"]] == [(f"Canary-{OTHER}", OTHER)]
    assert {r["region"] for r in report["results"]} == {OTHER}
    assert {a["region"] for a in report["alarms"]} == {OTHER}


def test_region_outside_the_canary_is_refused(cli: Cli, world: dict[str, Any]) -> None:
    for command in ("status", "run-canary"):
        result = cli(command, "--config", str(world["config"]), "--region", "ap-southeast-2")
        assert result.code == 2 and result.out == ""
        assert result.err == (
            f"streampath {command}: --region: 'ap-southeast-2' is not one of config {ENV}'s canary Regions "
            f"({REGION}, {OTHER})\n"
        )


def queue_runs(moto: Moto, world: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    home_payload = handler_payload(canary_pairs(world["config"]))
    other_payload = handler_payload(world["other_pairs"])
    other_payload["results"][-1].update(ok=False, verdict="error", error_kind="timeout")
    moto.queue_lambda_results(json.dumps(home_payload), region=REGION)
    moto.queue_lambda_results(json.dumps(other_payload), region=OTHER)
    return home_payload, other_payload


def test_run_canary_invokes_every_region(cli: Cli, moto: Moto, world: dict[str, Any]) -> None:
    queue_runs(moto, world)
    result = cli("run-canary", "--config", str(world["config"]))
    assert result.code == 1, result.err
    lines = result.out.splitlines()
    home_function = world["home"]["Canary"][naming.OUTPUT_CANARY_FUNCTION_NAME]
    other_function = world["remote"][naming.OUTPUT_CANARY_FUNCTION_NAME]
    home_pairs, pairs = canary_pairs(world["config"]), world["other_pairs"]
    assert (
        lines[0]
        == f"Canary {home_function} ({REGION}): {len(home_pairs)} probe(s), failed 0, duration_ms 2290.4"
    )
    assert (
        lines[1] == f"Canary {other_function} ({OTHER}): {len(pairs)} probe(s), failed 0, duration_ms 2290.4"
    )
    assert lines[2].split()[:4] == ["VERDICT", "PATH", "PROTOCOL", "REGION"]
    rows = [line.split() for line in lines[3:]]
    assert [(row[3], row[1], row[2]) for row in rows] == [
        *((REGION, path, proto) for path, proto in home_pairs),
        *((OTHER, path, proto) for path, proto in pairs),
    ]
    assert rows[-1][0] == "error"


def test_run_canary_json_and_one_region(cli: Cli, moto: Moto, world: dict[str, Any]) -> None:
    _, other_payload = queue_runs(moto, world)
    document = json.loads(cli("run-canary", "--config", str(world["config"]), "--json").out)
    assert [run["region"] for run in document["runs"]] == REGIONS and document["refused"] == []
    assert document["runs"][1]["results"] == other_payload["results"]

    moto.queue_lambda_results(json.dumps(other_payload), region=OTHER)
    result = cli("run-canary", "--config", str(world["config"]), "--region", OTHER, "--json")
    single = json.loads(result.out)
    assert (single["region"], single["function"]) == (
        OTHER,
        world["remote"][naming.OUTPUT_CANARY_FUNCTION_NAME],
    )


def test_a_region_without_its_stack_is_named(cli: Cli, moto: Moto, config_dir: Path) -> None:
    deploy(moto, "half", units=("Canary",))
    path = write_config(moto_config_dir(config_dir), "half")
    data = yaml.safe_load(path.read_text())
    data["canary"]["regions"] = REGIONS
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    moto.queue_lambda_results(json.dumps(handler_payload()), region=REGION)
    result = cli("run-canary", "--config", str(path))
    assert result.code == 2
    assert result.out.splitlines()[1] == f"Canary in {OTHER}: not run (see the error below)"
    assert result.err == (
        f"streampath run-canary: stack StreamPath-half-Canary-{OTHER} is not deployed in {OTHER}: "
        f"run `cdk deploy -c config=half StreamPath-half-Canary-{OTHER}` "
        "(or check the config's region and your AWS account)\n"
    )
