"""``config/slo.yaml`` in three Regions, synthesised with cdk-nag on: every Region's burn-rate page alarms
reach the home Region's page topic (EventBridge, as the threshold composites do), and the one dashboard
shows each Region's error budget and burn rates, the home Region's first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Match, Template

from streampath.config import CONFIG_DIR
from streampath.config.canary import COMMERCIAL_REGIONS
from streampath_cdk.canary_alarms import (
    ALARM_ARN_MAX_CHARS,
    ALARM_NAME_MAX_CHARS,
    ALARMS_PER_RULE,
    EVENT_PATTERN_MAX_CHARS,
)
from tests.regions.support import ACCOUNT, Synthesised, dashboard_body, load, resources, synth

pytestmark = pytest.mark.slow

HOME = "eu-west-1"
REGIONS = [HOME, "us-east-1", "ap-southeast-2"]
HOME_STACK = "StreamPath-slo-Canary"
REMOTE = {r: f"StreamPath-slo-Canary-{r}" for r in REGIONS[1:]}
PATHS = ("alb", "chat", "cloudfront")
HOME_BUS = f"arn:aws:events:{HOME}:{ACCOUNT}:event-bus/default"


@pytest.fixture(scope="module")
def slo_regions(tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    tmp = tmp_path_factory.mktemp("slo-regions")
    data = yaml.safe_load((CONFIG_DIR / "slo.yaml").read_text())
    data["canary"]["regions"] = REGIONS
    return synth(load(tmp, data), tmp / "cdk.out")  # cdk-nag on: a finding fails the synth


def topic_id(template: dict[str, Any]) -> str:
    """The logical id of the canary's alarm topic (the one the e-mails and pages go to)."""
    (topic,) = [k for k in resources(template, "AWS::SNS::Topic") if k.startswith("AlarmsTopic")]
    return topic


def paging_composites(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> name of the composites whose actions notify the canary's alarm topic."""
    topic = {"Ref": topic_id(template)}
    return {
        logical: props["AlarmName"]
        for logical, alarm in resources(template, "AWS::CloudWatch::CompositeAlarm").items()
        if topic in (props := alarm["Properties"]).get("AlarmActions", [])
    }


def rules(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources(template, "AWS::Events::Rule").values()]


def test_each_remote_region_forwards_every_alarm_that_pages_there_and_no_other(
    slo_regions: Synthesised,
) -> None:
    for region, name in REMOTE.items():
        template = slo_regions.templates[name]
        paging = paging_composites(template)
        prefix = f"StreamPath-slo-canary-{region}"
        assert sorted(paging.values()) == sorted(
            [
                f"{prefix}-StreamingDegraded",
                f"{prefix}-CanarySilent",
                *(f"{prefix}-{p}-Slo{w}" for p in PATHS for w in ("FastBurn", "SlowBurn")),
            ]
        )
        forwarded = [arn for rule in rules(template) for arn in rule["EventPattern"]["resources"]]
        assert sorted(json.dumps(a) for a in forwarded) == sorted(
            json.dumps({"Fn::GetAtt": [logical, "Arn"]}) for logical in paging
        )
        assert len(rules(template)) == -(-len(paging) // ALARMS_PER_RULE)
        assertions = Template.from_json(template)
        assertions.all_resources_properties(
            "AWS::Events::Rule",
            {
                "EventPattern": {
                    "source": ["aws.cloudwatch"],
                    "detail-type": ["CloudWatch Alarm State Change"],
                    "resources": Match.any_value(),
                },
                "Targets": [Match.object_like({"Arn": HOME_BUS, "RoleArn": Match.any_value()})],
            },
        )
        policies = json.dumps(resources(template, "AWS::IAM::Policy"))
        assert HOME_BUS in policies


def test_home_region_pages_for_the_remote_alarms_by_the_names_they_have_there(
    slo_regions: Synthesised,
) -> None:
    home = slo_regions.templates[HOME_STACK]
    expected = sorted(
        f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{alarm_name}"
        for region, name in REMOTE.items()
        for alarm_name in paging_composites(slo_regions.templates[name]).values()
    )
    assert len(expected) == 2 * (2 + 2 * len(PATHS))
    home_rules = rules(home)
    assert sorted(arn for rule in home_rules for arn in rule["EventPattern"]["resources"]) == expected
    for rule in home_rules:
        assert len(rule["EventPattern"]["resources"]) <= ALARMS_PER_RULE
        assert len(json.dumps(rule["EventPattern"])) < EVENT_PATTERN_MAX_CHARS
        # A forwarded page obeys the composite's ActionsSuppressor, as an alarm action does.
        assert rule["EventPattern"]["detail"] == {"state": {"actionsSuppressedBy": [{"exists": False}]}}
    Template.from_json(home).all_resources_properties(
        "AWS::Events::Rule",
        {
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": topic_id(home)},
                        "InputTransformer": Match.object_like(
                            {"InputTemplate": Match.string_like_regexp("is <detail-state-value> in <region>")}
                        ),
                    }
                )
            ]
        },
    )
    # The home Region's own burn-rate pages notify the topic directly (alarm actions, same Region).
    assert "StreamPath-slo-canary-chat-SloFastBurn" in paging_composites(home).values()


def test_rules_of_the_longest_alarm_arns_stay_under_eventbridges_pattern_quota() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns

    from streampath_cdk.canary_alarms import PageForRemoteAlarms

    longest_region = max(COMMERCIAL_REGIONS, key=len)
    arn = f"arn:aws:cloudwatch:{longest_region}:{ACCOUNT}:alarm:{'a' * ALARM_NAME_MAX_CHARS}"
    assert len(arn) <= ALARM_ARN_MAX_CHARS
    stack = cdk.Stack(cdk.App(), "Home", env=cdk.Environment(account=ACCOUNT, region=HOME))
    key = kms.Key(stack, "Key")
    PageForRemoteAlarms(
        stack,
        "Pages",
        topic=sns.Topic(stack, "Topic", master_key=key),
        key=key,
        alarm_arns=[arn] * (ALARMS_PER_RULE + 1),
    )
    patterns = [r["EventPattern"] for r in rules(dict(Template.from_stack(stack).to_json()))]
    assert [len(p["resources"]) for p in patterns] == [ALARMS_PER_RULE, 1]
    assert all(len(json.dumps(p)) <= EVENT_PATTERN_MAX_CHARS for p in patterns)
    assert ALARMS_PER_RULE >= 1


def test_the_dashboard_shows_each_regions_slo_in_its_region_home_first(slo_regions: Synthesised) -> None:
    body, _ = dashboard_body(slo_regions.templates[HOME_STACK])
    widgets = body["widgets"]
    rows: dict[str, list[dict[str, Any]]] = {}
    for region in REGIONS:
        rows[region] = [
            w
            for w in widgets
            if f" in {region}, last " in w["properties"].get("title", "")
            or w["properties"].get("title") == f"Burn rate per hour in {region}, last 2 days"
        ]
        row = rows[region]
        assert [w["properties"]["title"] for w in row] == [
            f"Error budget left in {region}, last 28 d (%)",
            f"Burn rate in {region}, last 1h (1 = on budget)",
            f"Burn rate in {region}, last 6h (1 = on budget)",
            f"Burn rate per hour in {region}, last 2 days",
        ]
        assert {w["properties"]["region"] for w in row} == {region}
        assert len({w["y"] for w in row}) == 1 and sum(w["width"] for w in row) == 24
        text = json.dumps(row)
        for path in PATHS:
            assert f"good_{path}_h1" in text, (region, path)
        assert "/ 0.001)" in text  # chat's own objective (99.9 %) in every Region
    ys = [rows[r][0]["y"] for r in REGIONS]
    assert ys == sorted(ys) and len(set(ys)) == len(REGIONS)
    # The SLO rows are the top of the dashboard: everything else comes below them.
    slo_widgets = {id(w) for row in rows.values() for w in row}
    assert all(w["y"] > ys[-1] for w in widgets if id(w) not in slo_widgets)
    annotations = json.dumps(rows["us-east-1"][-1]["properties"]["annotations"])
    assert "FastBurn 14.4x (page)" in annotations and "SlowBurn 6x (page)" in annotations


def test_cfn_lint_has_no_errors_on_the_canary_templates(slo_regions: Synthesised) -> None:
    files = [str(p) for p in slo_regions.template_files() if "-Canary" in p.name]
    assert len(files) == len(REGIONS)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--non-zero-exit-code", "error", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
