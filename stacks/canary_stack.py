"""The canary stack: composes the canary function + schedule, its alarms and its dashboard; outputs.

It translates the YAML's ``canary:`` section into the constructs' props (durations, retention, imported
subnets and security groups, the contract's path specs). Paths with ``front_door`` become
``<front door base URL><path>``; the base URLs come from the front-door stacks (``front_door_base_urls``,
e.g. ``https://<NLB DNS name>``; cross-stack references are fine).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct
from streampath_canary.contract import AuthSecretSpec, PathSpec

from streampath import naming
from streampath.config.canary import CanaryConfig
from streampath_cdk.canary_alarms import AlarmedPath, CanaryAlarms
from streampath_cdk.canary_dashboard import CanaryDashboard
from streampath_cdk.canary_function import CanaryFunction, VpcPlacement

#: The YAML's ``log_retention_days`` (the values CloudWatch Logs accepts) -> the CDK enum.
RETENTION: Final = {
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


def resolve_paths(canary: CanaryConfig, front_door_base_urls: Mapping[str, str]) -> list[PathSpec]:
    """Config paths -> the canary's path specs; a ``front_door`` path needs that front door's base URL."""
    specs: list[PathSpec] = []
    for path in canary.paths:
        if path.front_door is not None:
            base = front_door_base_urls.get(path.front_door)
            if base is None:
                raise ValueError(
                    f"canary path {path.name!r} uses front_door {path.front_door!r}, which is not built"
                )
            url = f"{base.rstrip('/')}{path.path}"
        else:
            assert path.url is not None
            url = path.url
        secret = path.auth_secret
        specs.append(
            PathSpec(
                name=path.name,
                url=url,
                protocols=tuple(path.protocols),
                headers=dict(path.headers),
                auth_secret=(
                    AuthSecretSpec(arn=secret.arn, header=secret.header, json_key=secret.json_key)
                    if secret is not None
                    else None
                ),
            )
        )
    return specs


def vpc_placement(scope: Construct, canary: CanaryConfig) -> VpcPlacement | None:
    """The YAML's subnet and security group ids as imported constructs (no lookup: synth stays offline)."""
    placement = canary.vpc_placement
    if placement is None:
        return None
    subnets = [
        ec2.Subnet.from_subnet_id(scope, f"CanarySubnet{i}", subnet_id)
        for i, subnet_id in enumerate(placement.subnet_ids)
    ]
    for subnet in subnets:
        cdk.Annotations.of(subnet).acknowledge_warning(
            "@aws-cdk/aws-ec2:noSubnetRouteTableId",
            "the canary only places its function in the subnet; nothing reads the subnet's route table",
        )
    return VpcPlacement(
        subnets=subnets,
        security_groups=[
            ec2.SecurityGroup.from_security_group_id(scope, f"CanarySecurityGroup{i}", group_id)
            for i, group_id in enumerate(placement.security_group_ids)
        ],
    )


class CanaryStack(cdk.Stack):
    """``StreamPath-<env>-Canary``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        canary: CanaryConfig,
        front_door_base_urls: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        paths = resolve_paths(canary, front_door_base_urls or {})
        period = cdk.Duration.minutes(canary.schedule_minutes)
        prefix = f"{naming.STACK_PREFIX}-{env_name}-canary"

        self.canary = CanaryFunction(
            self,
            "Canary",
            paths=paths,
            namespace=canary.namespace,
            schedule_period=period,
            timeout=cdk.Duration.seconds(canary.timeout_seconds),
            probe_timeout=cdk.Duration.seconds(canary.probe_timeout_seconds),
            max_duration=cdk.Duration.seconds(canary.max_duration_seconds),
            memory_size=canary.memory_mb,
            log_retention=RETENTION[canary.log_retention_days],
            vpc_placement=vpc_placement(self, canary),
        )
        alarmed = [AlarmedPath.of(path) for path in paths]
        thresholds = canary.alarms
        self.alarms = CanaryAlarms(
            self,
            "Alarms",
            namespace=canary.namespace,
            alarm_name_prefix=prefix,
            paths=alarmed,
            function=self.canary.function,
            period=period,
            buffering_delay_ms=thresholds.buffering_delay_ms,
            time_to_first_event_ms=thresholds.time_to_first_event_ms,
            evaluation_periods=thresholds.evaluation_periods,
            datapoints_to_alarm=thresholds.datapoints_to_alarm,
            notify_emails=list(canary.notify_emails),
        )
        self.dashboard = CanaryDashboard(
            self,
            "Dashboard",
            dashboard_name=prefix,
            namespace=canary.namespace,
            paths=alarmed,
            alarms=self.alarms.by_path,
            function_alarms=[*self.alarms.function_alarms, self.alarms.composite],
            function=self.canary.function,
            period=period,
            buffering_delay_ms=thresholds.buffering_delay_ms,
            time_to_first_event_ms=thresholds.time_to_first_event_ms,
            evaluation_periods=thresholds.evaluation_periods,
            datapoints_to_alarm=thresholds.datapoints_to_alarm,
        )

        cdk.CfnOutput(self, naming.OUTPUT_CANARY_FUNCTION_NAME, value=self.canary.function.function_name)
        cdk.CfnOutput(
            self,
            naming.OUTPUT_DASHBOARD_URL,
            value=(
                f"https://console.aws.amazon.com/cloudwatch/home?region={self.region}"
                f"#dashboards:name={self.dashboard.dashboard.dashboard_name}"
            ),
        )
        cdk.CfnOutput(self, naming.OUTPUT_ALARM_TOPIC_ARN, value=self.alarms.topic.topic_arn)
        cdk.CfnOutput(self, naming.OUTPUT_METRIC_NAMESPACE, value=canary.namespace)
