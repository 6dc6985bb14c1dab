"""The canary Lambda: function, explicit log group, least-privilege role, optional VPC placement, schedule.

Keyword-only typed props, no environment values. The role has no managed policies: it may write to its
own log group, read exactly the named secrets and (only with VPC placement) manage its ENIs.

Overlapping runs are avoided by construction: reserved concurrency 1 (a second concurrent run is
throttled instead of racing the first), the function's timeout is at most the schedule period, and the
asynchronous invoke config drops a throttled or failed event instead of retrying it later
(``retry_attempts=0``, ``max_event_age`` = 60 s, the minimum), as does the scheduler target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from constructs import Construct

from streampath_cdk import nag
from streampath_cdk.local_bundling import REPO_ROOT, python_asset_code

CANARY_SOURCE_DIR: Final = REPO_ROOT / "lambda" / "canary"
#: The newest Python runtime aws-cdk-lib 2.275.0 knows (cdk-nag AwsSolutions-L1 wants the newest).
RUNTIME: Final = lambda_.Runtime.PYTHON_3_14
RUNTIME_PYTHON_VERSION: Final = "3.14"
#: Pure-Python runtime dependencies bundled into the asset (boto3 is part of the Lambda Python runtime).
#: Pinned to the versions the tests run against.
REQUIREMENTS: Final = ("httpx[http2]==0.28.1", "aws-lambda-powertools==3.37.0")
SERVICE_NAME: Final = "streampath-canary"
#: Seconds kept between the handler's own deadline and the Lambda timeout.
DEADLINE_MARGIN_S: Final = 10

# The AWSLambdaVPCAccessExecutionRole actions, written out (no managed policies).
VPC_ENI_ACTIONS: Final = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


@dataclass(frozen=True)
class VpcPlacement:
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]


@dataclass(frozen=True)
class CanaryPathTarget:
    """One probed path as the handler sees it (``url`` may contain CloudFormation tokens)."""

    name: str
    url: str
    protocols: Sequence[str]
    headers: Mapping[str, str]
    secret_arn: str | None = None
    secret_header: str = "Authorization"
    secret_json_key: str | None = None


def handler_config(
    *,
    namespace: str,
    probe_timeout_s: int,
    max_duration_s: int,
    deadline_s: int,
    paths: Sequence[CanaryPathTarget],
) -> dict[str, Any]:
    """The ``CANARY_CONFIG`` document (docs/INTERFACES.md)."""
    return {
        "namespace": namespace,
        "probe_timeout_s": probe_timeout_s,
        "max_duration_s": max_duration_s,
        "deadline_s": deadline_s,
        "paths": [
            {
                "name": p.name,
                "url": p.url,
                "protocols": list(p.protocols),
                "headers": dict(p.headers),
                "auth_secret": (
                    {"arn": p.secret_arn, "header": p.secret_header, "json_key": p.secret_json_key}
                    if p.secret_arn
                    else None
                ),
            }
            for p in paths
        ],
    }


class CanaryFunction(Construct):
    """The scheduled canary function. ``.function``, ``.log_group``, ``.role``, ``.schedule``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namespace: str,
        paths: Sequence[CanaryPathTarget],
        schedule_minutes: int,
        memory_mb: int,
        timeout_seconds: int,
        probe_timeout_seconds: int,
        max_duration_seconds: int,
        log_retention_days: int,
        vpc_placement: VpcPlacement | None = None,
        source_dir: Path = CANARY_SOURCE_DIR,
    ) -> None:
        super().__init__(scope, construct_id)
        if timeout_seconds > schedule_minutes * 60:
            raise ValueError(
                f"timeout_seconds ({timeout_seconds}) must not exceed the schedule period "
                f"({schedule_minutes * 60} s): runs would overlap"
            )
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=_retention(log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="streampath canary: write its own logs, read its auth secrets",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="OwnLogGroupOnly",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                # The log group's Arn attribute ends in ':*', which covers its streams and nothing else.
                resources=[self.log_group.log_group_arn],
            )
        )
        secret_arns = sorted({p.secret_arn for p in paths if p.secret_arn})
        if secret_arns:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadNamedAuthSecrets",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=secret_arns,
                )
            )
        if vpc_placement is not None:
            self.role.add_to_policy(
                iam.PolicyStatement(sid="VpcEniManagement", actions=list(VPC_ENI_ACTIONS), resources=["*"])
            )
            nag.acknowledge(
                self.role,
                "AwsSolutions-IAM5[Resource::*]",
                "Lambda VPC placement: the ec2 ENI actions of AWSLambdaVPCAccessExecutionRole, written out; "
                "Describe* cannot be scoped and Lambda creates the ENIs before their ids exist.",
            )

        deadline_s = timeout_seconds - DEADLINE_MARGIN_S
        config = handler_config(
            namespace=namespace,
            probe_timeout_s=probe_timeout_seconds,
            max_duration_s=max_duration_seconds,
            deadline_s=max(deadline_s, max_duration_seconds),
            paths=paths,
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description="streampath canary: probes each path over HTTP/1.1 and HTTP/2, publishes EMF metrics",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="streampath_canary.handler.handler",
            code=python_asset_code(
                source_dir, requirements=REQUIREMENTS, python_version=RUNTIME_PYTHON_VERSION
            ),
            memory_size=memory_mb,
            timeout=cdk.Duration.seconds(timeout_seconds),
            role=self.role,
            log_group=self.log_group,
            reserved_concurrent_executions=1,
            retry_attempts=0,
            max_event_age=cdk.Duration.seconds(60),
            environment={
                "CANARY_CONFIG": cdk.Stack.of(self).to_json_string(config),
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": namespace,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        if vpc_placement is not None:
            # Subnet/SG ids straight from config: no Vpc.from_lookup, so synth stays offline.
            cfn = self.function.node.default_child
            assert isinstance(cfn, lambda_.CfnFunction)
            cfn.add_property_override(
                "VpcConfig",
                {
                    "SubnetIds": list(vpc_placement.subnet_ids),
                    "SecurityGroupIds": list(vpc_placement.security_group_ids),
                },
            )

        # The scheduler's own role (not the stack-level one LambdaInvoke would create), so that the
        # acknowledgement below sits on this construct only.
        self.schedule_role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            ),
            description="streampath canary schedule: invoke the canary function",
        )
        stack = cdk.Stack.of(self)
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        function_logical_id = stack.resolve(stack.get_logical_id(cfn_function))
        nag.acknowledge(
            self.schedule_role,
            f"AwsSolutions-IAM5[Resource::<{function_logical_id}.Arn>:*]",
            "LambdaInvoke's grantInvoke adds '<function arn>:*' (this one function's versions and aliases) "
            "next to the function ARN; no other function is covered.",
        )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description="streampath canary run",
            schedule=scheduler.ScheduleExpression.rate(cdk.Duration.minutes(schedule_minutes)),
            time_window=scheduler.TimeWindow.off(),
            target=targets.LambdaInvoke(
                self.function,
                retry_attempts=0,
                max_event_age=cdk.Duration.seconds(60),
                role=self.schedule_role,
            ),
        )


_RETENTION: Final = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def _retention(days: int) -> logs.RetentionDays:
    if days not in _RETENTION:
        raise ValueError(
            f"log retention {days} days is not one CloudWatch Logs accepts: {sorted(_RETENTION)}"
        )
    return _RETENTION[days]


def prefetch_wheels() -> Path:
    """Fill the wheel cache for the canary's asset now (the only step that needs PyPI).

    `make bootstrap` calls this so that `make synth` itself never reaches a network.
    """
    from streampath_cdk.local_bundling import LocalPythonBundler

    bundler = LocalPythonBundler(
        source_dir=CANARY_SOURCE_DIR, requirements=REQUIREMENTS, python_version=RUNTIME_PYTHON_VERSION
    )
    return bundler.site_packages()


if __name__ == "__main__":
    print(f"canary asset dependencies ready in {prefetch_wheels()}")
