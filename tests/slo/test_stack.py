"""``config/slo.yaml`` synthesised: burn-rate alarms per path, composites, suppressors, topics, the
heartbeat, the dashboard's error-budget row and the Application Signals SLOs; cfn-lint clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template
from streampath_canary.burn_rates import BURN_RATE_WINDOWS

from tests.support.cdk import Synthesised

pytestmark = pytest.mark.slow
PREFIX = "StreamPath-slo-canary"
# Path -> (objective, protocols) as config/slo.yaml sets them (chat overrides the objective).
PATHS = {"alb": (99.5, ["h1", "h2"]), "chat": (99.9, ["h1", "h2"]), "cloudfront": (99.5, ["h1", "h2", "h3"])}


def canary(app: Synthesised) -> Template:
    template: Template = app.template("Canary")
    return template


def resources(app: Synthesised, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in app.templates["Canary"]["Resources"].items() if v["Type"] == kind}


def logical_id(app: Synthesised, kind: str, name: str) -> str:
    found = [k for k, v in resources(app, kind).items() if v["Properties"].get("AlarmName") == name]
    assert len(found) == 1, (name, found)
    return found[0]


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("window", BURN_RATE_WINDOWS, ids=lambda w: w.name)
def test_each_window_is_one_alarm_over_the_error_rate_with_the_threshold_from_the_objective(
    slo_app: Synthesised, path: str, window: Any
) -> None:
    objective, protocols = PATHS[path]
    budget = {99.5: 0.005, 99.9: 0.001}[objective]
    for seconds, label in ((window.long_s, _label(window.long_s)), (window.short_s, _label(window.short_s))):
        expression = Capture()
        canary(slo_app).has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "AlarmName": f"{PREFIX}-{path}-{window.name}-{label}",
                "Threshold": round(window.burn_rate * budget, 10),
                "ComparisonOperator": "GreaterThanThreshold",
                "EvaluationPeriods": 1,
                "DatapointsToAlarm": 1,
                "TreatMissingData": "notBreaching",
                "Metrics": Match.array_with(
                    [Match.object_like({"Expression": expression, "ReturnData": True})]
                ),
                "AlarmActions": Match.absent(),
            },
        )
        good = ", ".join(f"good_{path}_{p}" for p in protocols)
        count = ", ".join(f"count_{path}_{p}" for p in protocols)
        assert expression.as_string() == f"1 - SUM([{good}]) / SUM([{count}])"
        alarm = resources(slo_app, "AWS::CloudWatch::Alarm")[
            logical_id(slo_app, "AWS::CloudWatch::Alarm", f"{PREFIX}-{path}-{window.name}-{label}")
        ]
        stats = {
            (m["Id"], m["MetricStat"]["Stat"], m["MetricStat"]["Period"])
            for m in alarm["Properties"]["Metrics"]
            if "MetricStat" in m
        }
        assert stats == {
            *((f"good_{path}_{p}", "Sum", seconds) for p in protocols),
            *((f"count_{path}_{p}", "SampleCount", seconds) for p in protocols),
        }
        for m in alarm["Properties"]["Metrics"]:
            if "MetricStat" in m:
                assert m["MetricStat"]["Metric"]["MetricName"] == "GoodStream"
                assert {d["Name"]: d["Value"] for d in m["MetricStat"]["Metric"]["Dimensions"]}[
                    "Path"
                ] == path


def _label(seconds: int) -> str:
    return {300: "5min", 1800: "30min", 3600: "1h", 21600: "6h", 259200: "3d"}[seconds]


def _arn_of(logical: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical, "Arn"]}


def _rule(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_composites_need_both_windows_and_faster_ones_suppress_slower(
    slo_app: Synthesised, path: str
) -> None:
    def alarm(name: str) -> str:
        return logical_id(slo_app, "AWS::CloudWatch::Alarm", name)

    def composite(name: str) -> str:
        return logical_id(slo_app, "AWS::CloudWatch::CompositeAlarm", name)

    composites = resources(slo_app, "AWS::CloudWatch::CompositeAlarm")
    topics = resources(slo_app, "AWS::SNS::Topic")
    page_topic = next(
        k for k, v in topics.items() if "canary alarms" in v["Properties"].get("DisplayName", "")
    )
    ticket_topic = next(
        k for k, v in topics.items() if "SLO tickets" in v["Properties"].get("DisplayName", "")
    )
    fast, slow, ticket = (composite(f"{PREFIX}-{path}-Slo{w.name}") for w in BURN_RATE_WINDOWS)
    paging = composite(f"{PREFIX}-{path}-SloPaging")
    for window, logical in zip(BURN_RATE_WINDOWS, (fast, slow, ticket), strict=True):
        props = composites[logical]["Properties"]
        long = alarm(f"{PREFIX}-{path}-{window.name}-{_label(window.long_s)}")
        short = alarm(f"{PREFIX}-{path}-{window.name}-{_label(window.short_s)}")
        assert props["AlarmRule"] == _rule('(ALARM("', _arn_of(long), '") AND ALARM("', _arn_of(short), '"))')
        topic = page_topic if window.severity == "page" else ticket_topic
        assert props["AlarmActions"] == props["OKActions"] == [{"Ref": topic}]
    assert "ActionsSuppressor" not in composites[fast]["Properties"]
    assert {k: composites[slow]["Properties"][k] for k in _SUPPRESSOR_KEYS} == {
        "ActionsSuppressor": _arn_of(fast),
        "ActionsSuppressorWaitPeriod": 300,
        "ActionsSuppressorExtensionPeriod": 1800,
    }
    assert {k: composites[ticket]["Properties"][k] for k in _SUPPRESSOR_KEYS} == {
        "ActionsSuppressor": _arn_of(paging),
        "ActionsSuppressorWaitPeriod": 300,
        "ActionsSuppressorExtensionPeriod": 21600,
    }
    assert composites[paging]["Properties"]["AlarmRule"] == _rule(
        '(ALARM("', _arn_of(fast), '") OR ALARM("', _arn_of(slow), '"))'
    )
    assert "AlarmActions" not in composites[paging]["Properties"]


_SUPPRESSOR_KEYS = ("ActionsSuppressor", "ActionsSuppressorWaitPeriod", "ActionsSuppressorExtensionPeriod")


def test_the_ticket_topic_is_encrypted_and_ssl_only(slo_app: Synthesised) -> None:
    template = canary(slo_app)
    key = Capture()
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"DisplayName": f"{PREFIX} stream SLO tickets", "KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]}},
    )
    assert resources(slo_app, "AWS::KMS::Key")[key.as_string()]["Properties"]["EnableKeyRotation"] is True
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                "Principal": "*",
                            }
                        ),
                        Match.object_like(
                            {"Action": "sns:Publish", "Principal": {"Service": "cloudwatch.amazonaws.com"}}
                        ),
                    ]
                )
            },
            "Topics": [{"Ref": Match.string_like_regexp("SloAlarmsTicketTopic")}],
        },
    )


def test_in_slo_mode_silence_pages_through_the_heartbeat_and_thresholds_do_not(slo_app: Synthesised) -> None:
    composites = resources(slo_app, "AWS::CloudWatch::CompositeAlarm")
    degraded = logical_id(slo_app, "AWS::CloudWatch::CompositeAlarm", f"{PREFIX}-StreamingDegraded")
    rule = json.dumps(composites[degraded]["Properties"]["AlarmRule"])
    assert "FunctionErrors" in rule and "FunctionThrottles" in rule
    assert "Degradedalb" not in rule and "Degraded-" not in rule, "threshold alarms do not page in slo mode"
    template = canary(slo_app)
    for path, (_, protocols) in PATHS.items():
        for protocol in protocols:
            template.has_resource_properties(
                "AWS::CloudWatch::Alarm",
                {
                    "AlarmName": f"{PREFIX}-{path}-{protocol}-Heartbeat",
                    "MetricName": "Success",
                    "Statistic": "SampleCount",
                    "Threshold": 1,
                    "ComparisonOperator": "LessThanThreshold",
                    "EvaluationPeriods": 5,
                    "DatapointsToAlarm": 3,
                    "TreatMissingData": "breaching",
                },
            )
    silent = composites[logical_id(slo_app, "AWS::CloudWatch::CompositeAlarm", f"{PREFIX}-CanarySilent")]
    assert silent["Properties"]["ActionsSuppressor"] == _arn_of(degraded)
    assert silent["Properties"]["AlarmActions"] == silent["Properties"]["OKActions"]
    assert json.dumps(silent["Properties"]["AlarmRule"]).count("Heartbeat") == 7


def test_each_path_carries_its_good_spec_to_the_canary(slo_app: Synthesised) -> None:
    functions = resources(slo_app, "AWS::Lambda::Function")
    (document,) = [
        f["Properties"]["Environment"]["Variables"]["CANARY_CONFIG"]
        for f in functions.values()
        if "CANARY_CONFIG" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    text = json.dumps(document)
    assert "ttfb<=500,first_event<=1500,buffering<=300" in text
    assert text.count("first_event<=2000,buffering<=500") == 2  # alb and cloudfront: canary.slo.good


def test_the_dashboard_starts_with_the_error_budget_and_burn_rates(slo_app: Synthesised) -> None:
    (dashboard,) = resources(slo_app, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    first = body.index("Error budget left, last 28 d")
    assert first < body.index("Burn rate, last 1h") < body.index("Burn rate, last 6h")
    assert first < body.index("Buffering delay: every path and protocol")
    assert "-P28D" in body and "-PT1H" in body and "-PT6H" in body
    assert (
        "100 * (1 - (1 - SUM([good_chat_h1, good_chat_h2]) / SUM([count_chat_h1, count_chat_h2])) / 0.001)"
        in body
    )
    assert "(1 - SUM([good_alb_h1, good_alb_h2]) / SUM([count_alb_h1, count_alb_h2])) / 0.005" in body
    assert "FastBurn 14.4x (page)" in body and "SlowBurn 6x (page)" in body


def test_application_signals_slo_per_path(slo_app: Synthesised) -> None:
    slos = resources(slo_app, "AWS::ApplicationSignals::ServiceLevelObjective")
    assert len(slos) == len(PATHS)
    template = canary(slo_app)
    for path, (objective, protocols) in PATHS.items():
        ids = ", ".join(f"m{i}" for i in range(len(protocols)))
        template.has_resource_properties(
            "AWS::ApplicationSignals::ServiceLevelObjective",
            {
                "Name": f"{PREFIX}-{path}",
                "Goal": {
                    "AttainmentGoal": objective,
                    "Interval": {"RollingInterval": {"Duration": 28, "DurationUnit": "DAY"}},
                },
                "RequestBasedSli": {
                    "RequestBasedSliMetric": {
                        "MonitoredRequestCountMetric": {
                            "GoodCountMetric": Match.array_with(
                                [{"Id": "total", "Expression": f"SUM([{ids}])", "ReturnData": True}]
                            )
                        },
                        "TotalRequestCountMetric": Match.array_with(
                            [
                                Match.object_like(
                                    {"Id": "m0", "MetricStat": Match.object_like({"Stat": "SampleCount"})}
                                )
                            ]
                        ),
                    }
                },
                "BurnRateConfigurations": [{"LookBackWindowMinutes": m} for m in (5, 30, 60, 360, 4320)],
            },
        )


def test_cfn_lint_has_no_errors_on_the_slo_templates(slo_app: Synthesised) -> None:
    files = [str(path) for path in slo_app.template_files()]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--non-zero-exit-code", "error", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
