"""One canary stack per Region and one dashboard for all, synthesised offline with cdk-nag on.

- config/default.yaml plus ``canary.regions: [eu-west-1, us-east-1, ap-southeast-2]`` and nothing else;
- 3 Regions x 5 paths with per-Region secrets (readability of the dashboard, secrets per Region);
- config/default.yaml as shipped: the same stack names, logical ids and resource names as before Regions
  existed (``single_region_ids.json``, saved from a synth of the code before this feature), so an upgrade
  replaces nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from streampath_canary.contract import PROTOCOLS

from streampath import naming
from streampath.config import CONFIG_DIR, load_config, load_config_by_name
from tests.regions.support import (
    ACCOUNT,
    HOME,
    THREE_REGIONS,
    Synthesised,
    config_data,
    dashboard_body,
    load,
    resources,
    secret_arn,
    synth,
)

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).with_name("single_region_ids.json")
HOME_STACK = "StreamPath-default-Canary"
REMOTE = {r: f"StreamPath-default-Canary-{r}" for r in THREE_REGIONS[1:]}


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    """config/default.yaml with its commented ``regions`` line switched on, and no other change."""
    tmp = tmp_path_factory.mktemp("three-regions")
    text = (CONFIG_DIR / "default.yaml").read_text()
    commented = f"  # regions: [{', '.join(THREE_REGIONS)}]\n"
    assert text.count(commented) == 1
    path = tmp / "default.yaml"
    path.write_text(text.replace(commented, commented.replace("# ", "", 1)))
    cfg = load_config(path)
    assert cfg.canary_regions == tuple(THREE_REGIONS)
    return synth(cfg, tmp / "cdk.out")


def five_paths(data: dict[str, Any]) -> None:
    paths = data["canary"]["paths"]
    paths.append({"name": "edge", "url": "https://stream.example.org/api/streamcheck?events=20"})
    paths[0]["auth_secret"] = {"arns": {r: secret_arn(r) for r in THREE_REGIONS}, "json_key": "token"}


@pytest.fixture(scope="module")
def three_by_five(tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    tmp = tmp_path_factory.mktemp("three-by-five")
    return synth(load(tmp, config_data(THREE_REGIONS, five_paths)), tmp / "cdk.out")


def function_of(template: dict[str, Any]) -> dict[str, Any]:
    (function,) = resources(template, "AWS::Lambda::Function").values()
    props: dict[str, Any] = function["Properties"]
    return props


def canary_config_paths(template: dict[str, Any]) -> list[str]:
    """The path names in the function's CANARY_CONFIG (tokens blanked)."""
    value = function_of(template)["Environment"]["Variables"]["CANARY_CONFIG"]
    if isinstance(value, dict):
        value = "".join(p if isinstance(p, str) else "d.cloudfront.net" for p in value["Fn::Join"][1])
    return [path["name"] for path in json.loads(value)["paths"]]


def test_one_stack_per_region_each_in_its_own_environment(three: Synthesised) -> None:
    assert three.environments == {
        "StreamPath-default-Nlb": f"{ACCOUNT}/{HOME}",
        "StreamPath-default-CloudFront": f"{ACCOUNT}/{HOME}",
        HOME_STACK: f"{ACCOUNT}/{HOME}",
        REMOTE["us-east-1"]: f"{ACCOUNT}/us-east-1",
        REMOTE["ap-southeast-2"]: f"{ACCOUNT}/ap-southeast-2",
    }
    for region, name in REMOTE.items():
        assert name == naming.canary_stack_name("default", region, HOME)
        template = three.templates[name]
        for kind in ("AWS::Lambda::Function", "AWS::Scheduler::Schedule", "AWS::SNS::Topic"):
            assert len(resources(template, kind)) == 1, (name, kind)
        assert resources(template, "AWS::CloudWatch::CompositeAlarm"), name
        assert not resources(template, "AWS::CloudWatch::Dashboard"), "one dashboard, in the home Region"


def test_vpc_paths_and_placement_stay_home(three: Synthesised) -> None:
    home = three.templates[HOME_STACK]
    assert canary_config_paths(home) == ["alb", "nlb", "cloudfront", "direct"]
    assert "VpcConfig" in function_of(home)
    for region, name in REMOTE.items():
        remote = three.templates[name]
        assert canary_config_paths(remote) == ["alb", "nlb", "cloudfront"], region
        props = function_of(remote)
        assert "VpcConfig" not in props
        assert props["FunctionName"] == f"StreamPath-default-canary-{region}"
        text = json.dumps(props["Environment"])
        # the CloudFront URL is read from the home Region's stack at deploy time (no custom resource)
        assert (
            '"Fn::GetStackOutput": {"StackName": "StreamPath-default-CloudFront", "Region": "eu-west-1"'
            in text
        )


def test_alarms_are_regional_and_composites_name_their_region(three: Synthesised) -> None:
    home_names = {
        v["Properties"]["AlarmName"]
        for v in resources(three.templates[HOME_STACK], "AWS::CloudWatch::CompositeAlarm").values()
    }
    assert "StreamPath-default-canary-StreamingDegraded" in home_names
    for region, name in REMOTE.items():
        template = three.templates[name]
        composites = resources(template, "AWS::CloudWatch::CompositeAlarm").values()
        top = [
            c["Properties"] for c in composites if c["Properties"]["AlarmName"].endswith("StreamingDegraded")
        ]
        assert [t["AlarmName"] for t in top] == [f"StreamPath-default-canary-{region}-StreamingDegraded"]
        assert f"(canary in {region})" in top[0]["AlarmDescription"]
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
            assert alarm["Properties"]["AlarmName"].startswith(f"StreamPath-default-canary-{region}-")
        # the composite pages through its own Region's topic (alarm actions are same-Region)
        topic = next(iter(resources(template, "AWS::SNS::Topic")))
        assert top[0]["AlarmActions"] == [{"Ref": topic}]
        assert not resources(template, "AWS::SNS::Subscription"), "the e-mails are on the home topic"


def test_one_page_across_regions_through_eventbridge(three: Synthesised) -> None:
    for name in REMOTE.values():
        template = three.templates[name]
        (rule,) = resources(template, "AWS::Events::Rule").values()
        props = rule["Properties"]
        assert props["EventPattern"]["detail-type"] == ["CloudWatch Alarm State Change"]
        (composite_ref,) = props["EventPattern"]["resources"]
        assert composite_ref["Fn::GetAtt"][0].startswith("AlarmsStreamingDegraded")
        (target,) = props["Targets"]
        assert target["Arn"] == f"arn:aws:events:{HOME}:{ACCOUNT}:event-bus/default"
        policies = json.dumps(resources(template, "AWS::IAM::Policy"))
        assert f"arn:aws:events:{HOME}:{ACCOUNT}:event-bus/default" in policies
    home = three.templates[HOME_STACK]
    (rule,) = resources(home, "AWS::Events::Rule").values()
    assert sorted(rule["Properties"]["EventPattern"]["resources"]) == sorted(
        f"arn:aws:cloudwatch:{r}:{ACCOUNT}:alarm:StreamPath-default-canary-{r}-StreamingDegraded"
        for r in REMOTE
    )
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"]["Ref"].startswith("AlarmsTopic")
    key_policy = json.dumps(resources(home, "AWS::KMS::Key"))
    assert "events.amazonaws.com" in key_policy
    (subscription,) = resources(home, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "oncall@example.com"


def graphs(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in body["widgets"] if w["type"] == "metric"]


def metric_regions(widget: dict[str, Any]) -> list[str]:
    return [m[-1]["region"] for m in widget["properties"]["metrics"] if isinstance(m[-1], dict)]


def test_dashboard_names_all_three_regions_without_cross_region_references(three: Synthesised) -> None:
    body, tokens = dashboard_body(three.templates[HOME_STACK])
    text = json.dumps(body)
    for region in THREE_REGIONS:
        assert f'"region": "{region}"' in text, region
    # Tokens are this stack's own (its Region, its function, its alarms): nothing read from another stack.
    for token in tokens:
        (kind,) = token
        assert kind in ("Ref", "Fn::GetAtt"), token
    home = three.templates[HOME_STACK]["Resources"]
    for token in tokens:
        target = token.get("Ref") or token.get("Fn::GetAtt", [None])[0]
        assert target == "AWS::Region" or target in home, token
    # The comparison rows come first, after the header: one line per Region for each public path.
    comparison = [g for g in graphs(body) if "by Region" in g["properties"].get("title", "")]
    titles = [
        g["properties"]["title"]
        for g in comparison
        if g["properties"]["title"].startswith(("alb", "nlb", "cloud"))
    ]
    assert titles == [
        f"{path}: {what} by Region (max)"
        for path in ("alb", "nlb", "cloudfront")
        for what in ("buffering delay", "time to first event")
    ]
    for widget in comparison:
        if widget["properties"]["title"].startswith(("alb", "nlb", "cloudfront")):
            assert sorted(metric_regions(widget)) == sorted(THREE_REGIONS)
            assert {m[5] for m in widget["properties"]["metrics"]} == {"h2"}  # what browsers use
    first_path_row = min(g["y"] for g in graphs(body) if g["properties"]["title"].endswith("(avg)"))
    assert all(g["y"] < first_path_row for g in comparison)


def test_dashboard_stays_readable_with_three_regions_and_five_paths(three_by_five: Synthesised) -> None:
    body, _ = dashboard_body(three_by_five.templates[HOME_STACK])
    widgets = body["widgets"]
    compared = 4  # alb, nlb, cloudfront, edge (direct is probed from the home Region only)
    assert len(widgets) == 4 + 2 * compared + 6 * 5
    rows: dict[int, int] = {}
    for widget in widgets:
        assert widget["x"] + widget["width"] <= 24
        rows[widget["y"]] = rows.get(widget["y"], 0) + widget["width"]
        if widget["type"] == "metric":
            assert widget["width"] >= 4 and widget["height"] >= 6
            lines = widget["properties"]["metrics"]
            assert len(lines) <= 3 * len(PROTOCOLS), widget["properties"]["title"]  # Regions x protocols
    assert all(width <= 24 for width in rows.values())
    assert len(rows) == 1 + 2 + 5  # header, two comparison rows, one row per path
    assert len(json.dumps(body)) < 100_000


def test_each_region_reads_its_own_secret_replica(three_by_five: Synthesised) -> None:
    for region in THREE_REGIONS:
        name = HOME_STACK if region == HOME else REMOTE[region]
        statements = [
            s
            for policy in resources(three_by_five.templates[name], "AWS::IAM::Policy").values()
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if s.get("Sid") == "ReadNamedAuthSecrets"
        ]
        assert [s["Resource"] for s in statements] == [secret_arn(region)], region


@pytest.mark.parametrize("fixture", ["three", "three_by_five"])
def test_cfn_lint_error_level_on_every_template(fixture: str, request: pytest.FixtureRequest) -> None:
    built: Synthesised = request.getfixturevalue(fixture)
    files = built.template_files()
    assert len(files) == 5
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--non-zero-exit-code", "error", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_single_region_keeps_stack_names_logical_ids_and_resource_names(tmp_path: Path) -> None:
    """Every resource of the saved single-Region synth is still there, with the same logical id, type and
    name (a changed one would be replaced on upgrade); features added since may add resources, but nothing
    of the Regions feature appears in a single-Region app."""
    built = synth(load_config_by_name("default"), tmp_path / "cdk.out")
    saved = json.loads(FIXTURE.read_text())["stacks"]
    assert sorted(built.templates) == sorted(saved)
    names = ("AlarmName", "DashboardName", "FunctionName", "TopicName", "ScheduleGroupName")
    for stack, template in built.templates.items():
        now = {
            logical_id: {
                "Type": resource["Type"],
                **{n: resource["Properties"][n] for n in names if n in resource.get("Properties", {})},
            }
            for logical_id, resource in template["Resources"].items()
        }
        for logical_id, before in saved[stack]["resources"].items():
            assert now.get(logical_id) == before, (stack, logical_id)
        assert sorted(template.get("Outputs", {})) == saved[stack]["outputs"], stack
        assert not resources(template, "AWS::Events::Rule"), stack
    home = built.templates[HOME_STACK]
    assert "FunctionName" not in function_of(home)  # the generated name stays
    for alarm in resources(home, "AWS::CloudWatch::CompositeAlarm").values():
        assert "(canary in" not in alarm["Properties"]["AlarmDescription"]
