"""``SloAlarms`` and the stack's SLO wiring in a small stack (no canary asset): what each option changes."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from streampath_canary.contract import PathSpec

from stacks.canary_slo import add_slo
from streampath.config.canary import CanaryConfig
from streampath_cdk.canary_alarms import CanaryAlarms
from streampath_cdk.slo_alarms import SloAlarms
from streampath_cdk.slo_metrics import SloPath

TICKETS = "arn:aws:sns:eu-west-1:123456789012:tickets"
PATH = SloPath(name="chat", protocols=("h1", "h2"), objective=99.0)


def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "T", env=cdk.Environment(account="123456789012", region="eu-west-1"))


def alarms_template(**props: Any) -> Template:
    scope = stack()
    page = sns.Topic(scope, "Page")
    SloAlarms(scope, "Slo", namespace="NS", alarm_name_prefix="p", paths=[PATH], page_topic=page, **props)
    return Template.from_stack(scope)


def test_an_existing_ticket_topic_and_no_heartbeat() -> None:
    scope = stack()
    tickets = sns.Topic.from_topic_arn(scope, "Tickets", TICKETS)
    page = sns.Topic(scope, "Page")
    SloAlarms(
        scope,
        "Slo",
        namespace="NS",
        alarm_name_prefix="p",
        paths=[PATH],
        page_topic=page,
        ticket_topic=tickets,
    )
    template = Template.from_stack(scope)
    template.resource_count_is("AWS::SNS::Topic", 1)  # the page topic only: no ticket topic of its own
    template.has_resource_properties(
        "AWS::CloudWatch::CompositeAlarm",
        {"AlarmName": "p-chat-SloBudgetBurn", "AlarmActions": [TICKETS], "OKActions": [TICKETS]},
    )
    # 99 %: a budget of 1 %, so the fast pair alarms at 14.4 % and the slow one at 6 %.
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "p-chat-FastBurn-1h", "Threshold": 0.144}
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "p-chat-SlowBurn-30min", "Threshold": 0.06}
    )
    assert not template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "Success"}})
    template.resource_count_is("AWS::CloudWatch::Alarm", 6)
    template.resource_count_is("AWS::CloudWatch::CompositeAlarm", 4)


def test_its_own_ticket_topic_needs_a_key() -> None:
    with pytest.raises(ValueError, match="topic_key is required"):
        alarms_template()
    scope = stack()
    key = kms.Key(scope, "Key")
    SloAlarms(
        scope,
        "Slo",
        namespace="NS",
        alarm_name_prefix="p",
        paths=[PATH],
        page_topic=sns.Topic(scope, "P"),
        topic_key=key,
    )
    Template.from_stack(scope).has_resource_properties(
        "AWS::SNS::Topic", {"DisplayName": "p stream SLO tickets", "KmsMasterKeyId": Match.any_value()}
    )


def canary(mode: str, **slo: Any) -> CanaryConfig:
    return CanaryConfig.model_validate(
        {
            "alarms": {"mode": mode},
            "slo": {"objective": 99.5, **slo},
            "paths": [{"name": "chat", "url": "https://chat.example.com/api/streamcheck"}],
        }
    )


def wired(config: CanaryConfig) -> tuple[Template, Any]:
    scope = stack()
    function = lambda_.Function(
        scope,
        "F",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
    )
    period = cdk.Duration.minutes(1)
    specs = [PathSpec(name="chat", url="https://chat.example.com/api/streamcheck")]
    threshold_alarms = CanaryAlarms(
        scope,
        "Alarms",
        namespace="StreamPath",
        alarm_name_prefix="p",
        paths=specs,
        function=function,
        period=period,
        page_on_thresholds=config.alarms.mode != "slo",
    )
    built = add_slo(
        scope,
        canary=config,
        config_paths=config.paths,
        specs=specs,
        alarm_name_prefix="p",
        threshold_alarms=threshold_alarms,
        period=period,
    )
    return Template.from_stack(scope), built


def test_thresholds_mode_shows_the_budget_without_burn_rate_alarms() -> None:
    template, built = wired(canary("thresholds"))
    assert built.alarms is None and built.application_signals is None
    assert len(built.widgets) == 4
    assert not template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": Match.string_like_regexp("Burn")}}
    )


def test_both_mode_pages_on_both_without_a_second_heartbeat() -> None:
    template, built = wired(canary("both", ticket_topic=TICKETS, application_signals=True))
    assert built.alarms is not None and built.alarms.heartbeats == [] and built.alarms.silent is None
    template.has_resource_properties(
        "AWS::CloudWatch::CompositeAlarm", {"AlarmName": "p-chat-SloBudgetBurn", "AlarmActions": [TICKETS]}
    )
    template.resource_count_is("AWS::ApplicationSignals::ServiceLevelObjective", 1)
    rule = str(
        template.find_resources(
            "AWS::CloudWatch::CompositeAlarm", {"Properties": {"AlarmName": "p-StreamingDegraded"}}
        )
    )
    assert "Degraded" in rule.replace("StreamingDegraded", "")  # the per-path Degraded still pages


def test_a_ticket_topic_in_another_region_is_not_used_there() -> None:
    template, _ = wired(canary("slo", ticket_topic="arn:aws:sns:us-east-1:123456789012:tickets"))
    template.has_resource_properties("AWS::SNS::Topic", {"DisplayName": "p stream SLO tickets"})
