"""The canary stack: composes the canary function + schedule, its alarms and its dashboard; outputs.

It translates the YAML's ``canary:`` section into the constructs' props (durations, retention, imported
subnets and security groups, the contract's path specs). Paths with ``front_door`` become
``<front door base URL><path>``; the base URLs come from the front-door stacks (``front_door_base_urls``,
e.g. ``https://<NLB DNS name>``; cross-stack references are fine, across Regions too: the app's weak
references are ``Fn::GetStackOutput``, which reads another Region's stack output at deploy time).

One stack per Region the canary runs in (docs/regions.md), each given its :class:`RegionalCanary`
(``deployment``). The home Region's keeps the single-Region names and logical ids, holds the VPC placement
and the one dashboard (``dashboard_regions``: every Region's canary), and pages for the other Regions'
composite alarms; another Region's stack names its alarms and function after its Region and forwards its
composite's state changes to the home Region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from streampath_canary.contract import AuthSecretSpec, PathSpec

from streampath import naming
from streampath.config.canary import CanaryConfig, CanaryPathConfig, RegionalCanary
from streampath_cdk.canary_alarms import (
    AlarmedPath,
    CanaryAlarms,
    ForwardAlarmState,
    PageForRemoteAlarms,
    alarm_arn,
)
from streampath_cdk.canary_dashboard import CanaryDashboard, RegionSeries
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


def single_region(canary: CanaryConfig, region: str) -> RegionalCanary:
    """The canary of a config section on its own (no ``AppConfig``): every path, in ``region``."""
    arns = {}
    for path in canary.paths:
        secret = path.auth_secret
        if secret is not None:
            arn = secret.arn if secret.arn is not None else (secret.arns or {}).get(region)
            if arn is None:
                raise ValueError(f"canary path {path.name!r} has no auth_secret ARN for {region}")
            arns[path.name] = arn
    return RegionalCanary(region=region, home=True, paths=canary.paths, secret_arns=arns)


def resolve_paths(
    paths: Sequence[CanaryPathConfig],
    front_door_base_urls: Mapping[str, str],
    secret_arns: Mapping[str, str],
) -> list[PathSpec]:
    """Config paths -> the canary's path specs; a ``front_door`` path needs that front door's base URL, a
    path with an auth secret its ARN in this Region (``secret_arns``, by path name)."""
    specs: list[PathSpec] = []
    for path in paths:
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
                    AuthSecretSpec(arn=secret_arns[path.name], header=secret.header, json_key=secret.json_key)
                    if secret is not None
                    else None
                ),
                method=path.method,
                body=path.body_text,
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
    """``StreamPath-<env>-Canary`` (home Region) or ``StreamPath-<env>-Canary-<region>``.

    ``deployment``: this Region's canary (default: every path of ``canary``, in this stack's Region, as
    the home Region). ``home_region``: the environment's Region (default: this stack's).
    ``dashboard_regions``: in the home Region, every Region's canary (the dashboard shows them all and
    the home topic pages for the others); default: this one only.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        canary: CanaryConfig,
        front_door_base_urls: Mapping[str, str] | None = None,
        deployment: RegionalCanary | None = None,
        home_region: str | None = None,
        dashboard_regions: Sequence[RegionalCanary] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        region = self.region
        deployment = deployment or single_region(canary, region)
        home = home_region or region
        if deployment.region != region or deployment.home != (region == home):
            raise ValueError(
                f"the canary for {deployment.region} (home: {deployment.home}) is not this stack's: "
                f"{region}, home Region {home}"
            )
        multi_region = len(dashboard_regions) > 1 or not deployment.home
        paths = resolve_paths(deployment.paths, front_door_base_urls or {}, deployment.secret_arns)
        period = cdk.Duration.minutes(canary.schedule_minutes)
        prefix = naming.canary_alarm_prefix(env_name, region, home)
        dashboard_name = naming.canary_dashboard_name(env_name)

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
            # Only the home Region's canary runs in the VPC: the VPC (its subnets) is in that Region.
            vpc_placement=vpc_placement(self, canary) if deployment.home else None,
            chain=canary.chain_in(deployment.path_names),
        )
        if not deployment.home:
            # A known name: the home Region's dashboard shows this function's errors by name and Region.
            cfn_function = self.canary.function.node.default_child
            assert isinstance(cfn_function, lambda_.CfnFunction)
            cfn_function.function_name = naming.canary_function_name(env_name, region)
        # What an operator's role attaches to run `streampath run-canary` / `run-load`: this one function,
        # invoked and its configuration read (run-load --local runs the handler's code with it), nothing else.
        self.operator_policy = iam.ManagedPolicy(
            self,
            "OperatorInvokePolicy",
            description="streampath run-canary and run-load: invoke this canary function, read its config",
            statements=[
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                    resources=[self.canary.function.function_arn],
                )
            ],
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
            # One page across Regions: the e-mails go to the home Region's topic, which also pages for the
            # other Regions' composites (forwarded through EventBridge); another Region's topic is there
            # for its own subscribers (a chat channel, a pager).
            notify_emails=list(canary.notify_emails) if deployment.home else [],
            region_label=region if multi_region else None,
        )
        if deployment.home:
            remote = [d for d in dashboard_regions if not d.home]
            self.dashboard = CanaryDashboard(
                self,
                "Dashboard",
                dashboard_name=dashboard_name,
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
                regions=[
                    RegionSeries(region=region, paths=alarmed),
                    *(
                        RegionSeries(
                            region=d.region,
                            paths=[AlarmedPath(name=p.name, protocols=tuple(p.protocols)) for p in d.paths],
                            function_name=naming.canary_function_name(env_name, d.region),
                        )
                        for d in remote
                    ),
                ]
                if remote
                else [],
            )
            if remote:
                self.paging = PageForRemoteAlarms(
                    self,
                    "RemotePages",
                    topic=self.alarms.topic,
                    key=self.alarms.key,
                    alarm_arns=[
                        alarm_arn(
                            self,
                            d.region,
                            f"{naming.canary_alarm_prefix(env_name, d.region, home)}-StreamingDegraded",
                        )
                        for d in remote
                    ],
                )
        else:
            self.forwarding = ForwardAlarmState(
                self, "ForwardToHome", alarm=self.alarms.composite, home_region=home
            )

        cdk.CfnOutput(self, naming.OUTPUT_CANARY_FUNCTION_NAME, value=self.canary.function.function_name)
        # The one dashboard, in the home Region (another Region's stack names it: no reference).
        shown_name = self.dashboard.dashboard.dashboard_name if deployment.home else dashboard_name
        cdk.CfnOutput(
            self,
            naming.OUTPUT_DASHBOARD_URL,
            value=(
                f"https://console.aws.amazon.com/cloudwatch/home?region={home}#dashboards:name={shown_name}"
            ),
        )
        cdk.CfnOutput(self, naming.OUTPUT_ALARM_TOPIC_ARN, value=self.alarms.topic.topic_arn)
        cdk.CfnOutput(self, naming.OUTPUT_METRIC_NAMESPACE, value=canary.namespace)
