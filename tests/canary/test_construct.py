"""``CanaryFunction`` as another CDK app uses it: CDK-typed props, documented defaults, an app with none of
this project's feature flags (a bare ``cdk.App()``), cdk-nag clean."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template
from streampath_canary.contract import AuthSecretSpec, CanarySpec, PathSpec

from streampath_cdk import nag
from streampath_cdk.canary_function import HANDLER, CanaryFunction, VpcPlacement

pytestmark = pytest.mark.slow

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:probe-token-AbCdEf"
PATHS = [
    PathSpec(name="api", url="https://api.example.com/api/streamcheck"),
    PathSpec(
        name="internal",
        url="http://10.0.0.10:8080/api/streamcheck",
        protocols=["h1"],
        auth_secret=AuthSecretSpec(arn=SECRET_ARN),
    ),
]


def synth(
    tmp: Path, props: Callable[[cdk.Stack], dict[str, Any]] = lambda _: {}
) -> tuple[Template, CanaryFunction]:
    app = cdk.App(outdir=str(tmp))  # no context: the consumer's flags are CDK's defaults
    stack = cdk.Stack(app, "Consumer", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    canary = CanaryFunction(stack, "Canary", paths=PATHS, **props(stack))
    nag.apply(app)  # any unacknowledged cdk-nag finding fails app.synth()
    template = app.synth().get_stack_by_name("Consumer").template
    return Template.from_json(template), canary


@pytest.fixture(scope="module")
def defaults(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, CanaryFunction]:
    return synth(tmp_path_factory.mktemp("consumer"))


def test_documented_defaults(defaults: tuple[Template, CanaryFunction]) -> None:
    template, canary = defaults
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": HANDLER,
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "MemorySize": 512,
            "Timeout": 60,
            "ReservedConcurrentExecutions": 1,
            "Environment": {"Variables": Match.object_like({"POWERTOOLS_METRICS_NAMESPACE": "StreamPath"})},
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    template.has_resource_properties("AWS::Scheduler::Schedule", {"ScheduleExpression": "rate(1 minute)"})
    assert canary.spec == CanarySpec(
        paths=PATHS, probe_timeout_s=10, max_duration_s=30, deadline_s=50, namespace="StreamPath"
    )
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    assert (
        CanarySpec.from_json(function["Properties"]["Environment"]["Variables"]["CANARY_CONFIG"])
        == canary.spec
    )
    assert "VpcConfig" not in function["Properties"]


def test_no_managed_policies_even_without_the_projects_flags(
    defaults: tuple[Template, CanaryFunction],
) -> None:
    template, _ = defaults
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Sid": "ReadNamedAuthSecrets", "Resource": SECRET_ARN})]
                )
            }
        },
    )


def test_cdk_typed_props(tmp_path: Path) -> None:
    def props(stack: cdk.Stack) -> dict[str, Any]:
        return {
            "namespace": "Shop/Streaming",
            "schedule_period": cdk.Duration.minutes(5),
            "timeout": cdk.Duration.minutes(2),
            "probe_timeout": cdk.Duration.seconds(5),
            "max_duration": cdk.Duration.seconds(45),
            "memory_size": 1024,
            "log_retention": logs.RetentionDays.TWO_WEEKS,
            "vpc_placement": VpcPlacement(  # imported by id: no lookup, synth stays offline
                subnets=[ec2.Subnet.from_subnet_id(stack, "A", "subnet-0123456789abcdef0")],
                security_groups=[
                    ec2.SecurityGroup.from_security_group_id(stack, "G", "sg-0123456789abcdef0")
                ],
            ),
        }

    template, canary = synth(tmp_path, props)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "MemorySize": 1024,
            "Timeout": 120,
            "VpcConfig": {
                "SubnetIds": ["subnet-0123456789abcdef0"],
                "SecurityGroupIds": ["sg-0123456789abcdef0"],
            },
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 14})
    template.has_resource_properties("AWS::Scheduler::Schedule", {"ScheduleExpression": "rate(5 minutes)"})
    assert (canary.spec.probe_timeout_s, canary.spec.max_duration_s, canary.spec.deadline_s) == (5, 45, 110)
    assert canary.spec.namespace == "Shop/Streaming"


def test_refusals() -> None:
    stack = cdk.Stack(cdk.App(), "Refused")
    with pytest.raises(ValueError, match="timeout: must be at most the schedule period"):
        CanaryFunction(stack, "Overlap", paths=PATHS, timeout=cdk.Duration.seconds(90))
    with pytest.raises(ValueError, match="at least one subnet and one security group"):
        VpcPlacement(subnets=[], security_groups=[])
