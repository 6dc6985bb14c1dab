"""Template assertions for the canary stack (synthesised with cdk-nag, offline, local bundling)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from stacks.canary_stack import CanaryStack, CanaryStackProps
from streampath import naming
from streampath.config.canary import CanaryConfig, RegionalCanary
from streampath_cdk import nag
from tests.canary.support import DESIGN_DIMENSIONS, DESIGN_METRICS
from tests.support.cdk import cdk_context, synth_app

pytestmark = pytest.mark.slow

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:canary/token-AbCdEf"
NAMESPACE = "StreamPath"


def canary_config(**overrides: Any) -> CanaryConfig:
    doc: dict[str, Any] = {
        "namespace": NAMESPACE,
        "schedule_minutes": 1,
        "memory_mb": 512,
        "timeout_seconds": 60,
        "log_retention_days": 30,
        "alarms": {
            "buffering_delay_ms": 1000,
            "time_to_first_event_ms": 5000,
            "evaluation_periods": 5,
            "datapoints_to_alarm": 3,
        },
        "notify_emails": ["oncall@example.com"],
        "paths": [
            {"name": "alb", "url": "https://api.example.com/api/streamcheck?events=20&interval_ms=100"},
            {
                "name": "nlb",
                "front_door": "nlb",
                "path": "/api/streamcheck?events=20",
                "auth_secret": {"arn": SECRET_ARN, "header": "Authorization", "json_key": "token"},
            },
            {"name": "direct", "url": "http://core-api.internal:8080/api/streamcheck", "protocols": ["h1"]},
        ],
    }
    doc.update(overrides)
    return CanaryConfig.model_validate(doc)


def synth(cfg: CanaryConfig, tmp: Path) -> tuple[Template, dict[str, Any]]:
    app = cdk.App(context=cdk_context(), outdir=str(tmp))
    stack = CanaryStack(
        app,
        naming.stack_name("test", "Canary"),
        props=CanaryStackProps(
            env_name="test",
            canary=cfg,
            deployment=RegionalCanary.only(cfg, "eu-west-1"),
            home_region="eu-west-1",
            front_door_base_urls={"nlb": "https://nlb.example.com"},
        ),
        env=cdk.Environment(account="123456789012", region="eu-west-1"),
    )
    nag.apply(app)  # any unacknowledged cdk-nag finding fails app.synth()
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    return Template.from_json(template), template


@pytest.fixture(scope="module")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, dict[str, Any], Path]:
    tmp = tmp_path_factory.mktemp("cdk-canary")
    template, raw = synth(canary_config(), tmp)
    return template, raw, tmp


def resources(raw: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in raw["Resources"].items() if v["Type"] == kind}


def test_function_runtime_architecture_and_sizing(synthesised: tuple[Template, dict[str, Any], Path]) -> None:
    template, raw, _ = synthesised
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "streampath_canary.handler.handler",
            "MemorySize": 512,
            "Timeout": 60,
            "ReservedConcurrentExecutions": 1,
            "LoggingConfig": {"LogGroup": {"Ref": Match.string_like_regexp("CanaryLogGroup")}},
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "POWERTOOLS_SERVICE_NAME": "streampath-canary",
                        "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
                    }
                )
            },
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}
    )
    (function,) = resources(raw, "AWS::Lambda::Function").values()
    assert "VpcConfig" not in function["Properties"]


def test_canary_config_env_is_what_the_handler_validates(
    synthesised: tuple[Template, dict[str, Any], Path],
) -> None:
    from streampath_canary.contract import CanarySpec

    _, raw, _ = synthesised
    (function,) = resources(raw, "AWS::Lambda::Function").values()
    text = function["Properties"]["Environment"]["Variables"]["CANARY_CONFIG"]
    assert isinstance(text, str)  # no tokens with literal front-door URLs
    cfg = CanarySpec.from_json(text)
    assert cfg.deadline_s == 50 and cfg.probe_timeout_s == 10 and cfg.max_duration_s == 30
    by_name = {p.name: p for p in cfg.paths}
    assert by_name["nlb"].url == "https://nlb.example.com/api/streamcheck?events=20"
    assert by_name["nlb"].auth_secret is not None and by_name["nlb"].auth_secret.json_key == "token"
    assert by_name["direct"].protocols == ("h1",)


def test_schedule(synthesised: tuple[Template, dict[str, Any], Path]) -> None:
    template, _, _ = synthesised
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": Match.object_like(
                {
                    "Arn": {"Fn::GetAtt": [Match.string_like_regexp("CanaryFunction"), "Arn"]},
                    "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60},
                }
            ),
        },
    )


def _statements(raw: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for res in resources(raw, "AWS::IAM::Policy").values():
        found += res["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_roles_least_privilege(synthesised: tuple[Template, dict[str, Any], Path]) -> None:
    template, raw, _ = synthesised
    for role in resources(raw, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"], "no managed policies"
        assert "Policies" not in role["Properties"]
    statements = _statements(raw)
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), f"wildcard action in {statement}"
    by_sid = {s.get("Sid"): s for s in statements}
    logs = by_sid["OwnLogGroupOnly"]
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    (logical_id, attribute) = logs["Resource"]["Fn::GetAtt"]
    assert logical_id.startswith("CanaryLogGroup") and attribute == "Arn"
    assert by_sid["ReadNamedAuthSecrets"] == {
        "Sid": "ReadNamedAuthSecrets",
        "Action": "secretsmanager:GetSecretValue",
        "Effect": "Allow",
        "Resource": SECRET_ARN,
    }
    assert "VpcEniManagement" not in by_sid
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "scheduler.amazonaws.com"}})]}
            )
        },
    )


def test_alarms_treat_missing_data_as_breaching(synthesised: tuple[Template, dict[str, Any], Path]) -> None:
    _, raw, _ = synthesised
    alarms = resources(raw, "AWS::CloudWatch::Alarm")
    canary_alarms = {
        k: v["Properties"] for k, v in alarms.items() if v["Properties"].get("Namespace") == NAMESPACE
    }
    # alb h1+h2, nlb h1+h2, direct h1 = 5 pairs x (buffering, first event, success)
    assert len(canary_alarms) == 15
    expected = {
        "BufferingDelay": ("Maximum", "GreaterThanThreshold", 1000),
        "TimeToFirstEvent": ("Maximum", "GreaterThanThreshold", 5000),
        "Success": ("Minimum", "LessThanThreshold", 1),
    }
    pairs = set()
    for props in canary_alarms.values():
        statistic, operator, threshold = expected[props["MetricName"]]
        assert props["TreatMissingData"] == "breaching"
        assert (props["Statistic"], props["ComparisonOperator"], props["Threshold"]) == (
            statistic,
            operator,
            threshold,
        )
        assert (props["EvaluationPeriods"], props["DatapointsToAlarm"], props["Period"]) == (5, 3, 60)
        dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        assert sorted(dims) == sorted(DESIGN_DIMENSIONS)
        pairs.add((dims["Path"], dims["Protocol"], props["MetricName"]))
    assert {(p, proto) for p, proto, _ in pairs} == {
        ("alb", "h1"),
        ("alb", "h2"),
        ("nlb", "h1"),
        ("nlb", "h2"),
        ("direct", "h1"),
    }
    function_alarms = {
        v["Properties"]["MetricName"]
        for v in alarms.values()
        if v["Properties"].get("Namespace") == "AWS/Lambda"
    }
    assert function_alarms == {"Errors", "Throttles"}


def test_composite_alarm_and_encrypted_topic(synthesised: tuple[Template, dict[str, Any], Path]) -> None:
    template, raw, _ = synthesised
    composites = {
        v["Properties"]["AlarmName"]: v["Properties"]
        for v in resources(raw, "AWS::CloudWatch::CompositeAlarm").values()
    }
    top = composites["StreamPath-test-canary-StreamingDegraded"]
    topic_ref = {"Ref": Match.string_like_regexp("AlarmsTopic")}
    assert set(composites) == {
        "StreamPath-test-canary-StreamingDegraded",
        "StreamPath-test-canary-alb-Degraded",
        "StreamPath-test-canary-nlb-Degraded",
        "StreamPath-test-canary-direct-Degraded",
    }
    rule = json.dumps(top["AlarmRule"])
    for path in ("alb", "nlb", "direct"):
        assert "Degraded" in rule and path in rule
    assert "FunctionErrors" in rule and "FunctionThrottles" in rule
    template.has_resource_properties(
        "AWS::CloudWatch::CompositeAlarm",
        {
            "AlarmName": "StreamPath-test-canary-StreamingDegraded",
            "AlarmActions": [topic_ref],
            "OKActions": [topic_ref],
        },
    )
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("AlarmsTopicKey"), "Arn"]}},
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                            )
                        ]
                    )
                }
            )
        },
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "oncall@example.com"}
    )


def dashboard_body(raw: dict[str, Any]) -> dict[str, Any]:
    (dashboard,) = resources(raw, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, dict):  # Fn::Join with tokens (region, alarm ARNs): tokens sit inside strings
        body = "".join(part if isinstance(part, str) else "TOKEN" for part in body["Fn::Join"][1])
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def test_dashboard_references_exactly_the_published_metrics(
    synthesised: tuple[Template, dict[str, Any], Path],
) -> None:
    _, raw, _ = synthesised
    widgets = dashboard_body(raw)["widgets"]
    seen: dict[tuple[str, str], set[str]] = {}
    for widget in widgets:
        for metric in widget.get("properties", {}).get("metrics", []):
            namespace, name, *rest = metric
            dims = [x for x in rest if not isinstance(x, dict)]
            if namespace == "AWS/Lambda":
                continue
            assert namespace == NAMESPACE
            assert name in DESIGN_METRICS
            assert dims[0::2] == DESIGN_DIMENSIONS, f"dimensions of {metric}"
            seen.setdefault((dims[1], name), set()).add(dims[3])
    for path, protocols in (("alb", {"h1", "h2"}), ("nlb", {"h1", "h2"}), ("direct", {"h1"})):
        for name in ("TimeToFirstByte", "TimeToFirstEvent", "BufferingDelay", "Success"):
            assert seen[(path, name)] == protocols, (path, name)
    types = [w["type"] for w in widgets]
    assert types.count("alarm") == 1 + 3  # the Degraded row (with the function's alarms) + one per path
    assert types.count("text") == 1  # said once, in the intro (only an h3 path has a note of its own)


def test_dashboard_shows_the_inter_event_gaps_next_to_buffering_delay(
    synthesised: tuple[Template, dict[str, Any], Path],
) -> None:
    _, raw, _ = synthesised
    widgets = dashboard_body(raw)["widgets"]
    for path, protocols in (("alb", {"h1", "h2"}), ("nlb", {"h1", "h2"}), ("direct", {"h1"})):
        titled = [w for w in widgets if str(w.get("properties", {}).get("title", "")).startswith(f"{path}: ")]
        titles = [w["properties"]["title"] for w in titled]
        at = titles.index(f"{path}: buffering delay (max)")
        assert titles[at + 1] == f"{path}: inter-event gap (p99, max)"
        gaps = titled[at + 1]
        assert gaps["y"] == titled[at]["y"] and gaps["x"] == titled[at]["x"] + titled[at]["width"]
        lines = {(m[1], m[3], m[5]) for m in gaps["properties"]["metrics"]}
        assert lines == {
            (name, path, p) for name in ("InterEventGapP99", "MaxInterEventGap") for p in protocols
        }
    rows: dict[int, int] = {}
    for widget in widgets:
        rows[widget["y"]] = rows.get(widget["y"], 0) + widget["width"]
    assert all(width <= 24 for width in rows.values())


def test_outputs(synthesised: tuple[Template, dict[str, Any], Path]) -> None:
    _, raw, _ = synthesised
    outputs = raw["Outputs"]
    for key in (
        naming.OUTPUT_CANARY_FUNCTION_NAME,
        naming.OUTPUT_DASHBOARD_URL,
        naming.OUTPUT_ALARM_TOPIC_ARN,
        naming.OUTPUT_METRIC_NAMESPACE,
    ):
        assert key in outputs
    assert outputs[naming.OUTPUT_METRIC_NAMESPACE]["Value"] == NAMESPACE
    assert "#dashboards:name=" in json.dumps(outputs[naming.OUTPUT_DASHBOARD_URL]["Value"])


def test_cfn_lint_error_level(synthesised: tuple[Template, dict[str, Any], Path]) -> None:
    _, _, tmp = synthesised
    template = tmp / f"{naming.stack_name('test', 'Canary')}.template.json"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--non-zero-exit-code", "error", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_vpc_placement_adds_eni_permissions_only_then(tmp_path: Path) -> None:
    cfg = canary_config(
        vpc_placement={
            "subnet_ids": ["subnet-0123456789abcdef0"],
            "security_group_ids": ["sg-0123456789abcdef0"],
        },
        schedule_minutes=5,
        timeout_seconds=120,
    )
    template, raw = synth(cfg, tmp_path)  # still cdk-nag clean (ENI '*' acknowledged on the role only)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "VpcConfig": {
                "SubnetIds": ["subnet-0123456789abcdef0"],
                "SecurityGroupIds": ["sg-0123456789abcdef0"],
            }
        },
    )
    template.has_resource_properties("AWS::Scheduler::Schedule", {"ScheduleExpression": "rate(5 minutes)"})
    eni = {s.get("Sid"): s for s in _statements(raw)}["VpcEniManagement"]
    assert eni["Resource"] == "*" and "ec2:CreateNetworkInterface" in eni["Action"]


def test_timeout_longer_than_the_period_is_refused() -> None:
    with pytest.raises(ValueError, match="schedule period"):
        canary_config(timeout_seconds=120)


def test_whole_default_app_is_cdk_nag_clean(tmp_path: Path) -> None:
    result = synth_app("default", tmp_path, nag=True)  # as `cdk synth` does: cdk.json context, cdk-nag on
    assert "Canary" in result.stacks
    function = result.template("Canary").find_resources("AWS::Lambda::Function")
    assert len(function) == 1


def _env_bytes(variables: dict[str, Any], token_bytes: int) -> int:
    """Size of a synthesised Lambda environment, each CloudFormation token counted as ``token_bytes``."""

    def size(value: Any) -> int:
        if isinstance(value, str):
            return len(value.encode("utf-8"))
        if isinstance(value, dict) and "Fn::Join" in value:
            return sum(size(part) for part in value["Fn::Join"][1])
        return token_bytes  # Fn::GetStackOutput, Ref, Fn::GetAtt: a value known at deploy time

    return sum(len(key) + size(value) for key, value in variables.items())


@pytest.mark.parametrize("config_name", ["default", "staging", "production"])
def test_environment_estimate_bounds_the_synthesised_environment(config_name: str, tmp_path: Path) -> None:
    """Config validation refuses a canary whose environment would exceed Lambda's 4 KB; its estimate must
    not be smaller than what the stack really writes (tokens counted as the estimate counts hosts)."""
    from streampath.config import UNRESOLVED_HOST_BYTES, load_config_by_name

    built = synth_app(config_name, tmp_path, nag=False)
    template = built.template("Canary").to_json()
    [function] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    actual = _env_bytes(function["Properties"]["Environment"]["Variables"], UNRESOLVED_HOST_BYTES)
    estimate = load_config_by_name(config_name).canary_environment_bytes_estimate
    assert actual <= estimate < actual + 400, (actual, estimate)
