"""The canary stack: composes the canary function + schedule, its alarms and its dashboard; outputs.

It translates the YAML's ``canary:`` section into the constructs' props (durations, retention, imported
subnets and security groups, the contract's path specs). Paths with ``front_door`` become
``<front door base URL><path>``; the base URLs come from the front-door stacks (``front_door_base_urls``,
e.g. ``https://<NLB DNS name>``; cross-stack references are fine, across Regions too: the app's weak
references are ``Fn::GetStackOutput``, which reads another Region's stack output at deploy time).

One stack per Region the canary runs in (docs/regions.md), each given its :class:`RegionalCanary`
(``CanaryStackProps.deployment``). The home Region's keeps the single-Region names and logical ids,
holds the VPC placement and the one dashboard (``other_regions``: the other Regions' canaries, their SLO
rows beside its own), and pages for their alarms that page; another Region's stack names its alarms and
function after its Region and forwards the state changes of its alarms that page (the threshold composite,
and with burn rates paging the SLO's page composites) to the home Region. Both sides list the same alarms:
the home Region's by name (``remote_page_alarm_names``), the other Region's by reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.canary_slo import CanarySlo, add_slo, remote_page_alarm_names
from streampath import naming
from streampath.config.canary import CanaryConfig, RegionalCanary
from streampath_cdk.canary_alarms import (
    ForwardAlarmState,
    PageForRemoteAlarms,
    alarm_arn,
    degraded_alarm_name,
)
from streampath_cdk.canary_dashboard import CanaryDashboard, RegionSeries
from streampath_cdk.canary_function import VpcPlacement
from streampath_cdk.log_retention import RETENTION
from streampath_cdk.streaming_canary import CanaryParts, compose_canary


@dataclass(frozen=True, kw_only=True)
class CanaryStackProps:
    """What one Region's canary stack is built from."""

    #: The environment's name (alarm, dashboard and function names).
    env_name: str
    #: The ``canary:`` section (schedule, sizing, thresholds, VPC placement, e-mails).
    canary: CanaryConfig
    #: This Region's canary: its paths and the secret ARNs it reads.
    deployment: RegionalCanary
    #: The environment's Region, which holds the dashboard and pages for every Region.
    home_region: str
    #: Front door -> ``https://<host>`` (tokens allowed): where ``front_door`` paths point.
    front_door_base_urls: Mapping[str, str] = field(default_factory=dict)
    #: In the home Region: the other Regions' canaries (drawn on the dashboard, paged for). Default none.
    other_regions: Sequence[RegionalCanary] = ()


class CanaryStack(cdk.Stack):
    """``StreamPath-<env>-Canary`` (home Region) or ``StreamPath-<env>-Canary-<region>``.

    Composes the canary function, its alarms and (home Region) the dashboard, then the paging across
    Regions and the outputs. ``.canary``, ``.alarms``, ``.dashboard`` (home only).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, props: CanaryStackProps, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.props = props
        deployment = props.deployment
        if deployment.region != self.region or deployment.home != (self.region == props.home_region):
            raise ValueError(
                f"the canary for {deployment.region} (home: {deployment.home}) is not this stack's: "
                f"{self.region}, home Region {props.home_region}"
            )
        parts = self._compose()
        self.canary, self.alarms, self.dashboard = parts.canary, parts.alarms, parts.dashboard
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
        if deployment.home:
            self._page_for_other_regions()
        else:
            paging = [self.alarms.composite, *(self.slo.alarms.page_alarms if self.slo.alarms else [])]
            self.forwarding = ForwardAlarmState(
                self, "ForwardToHome", alarms=paging, home_region=props.home_region
            )
        self._outputs()

    def _compose(self) -> CanaryParts:
        """The function and its threshold alarms, then the SLO's alarms (they page through the threshold
        alarms' topic), then (home Region) the dashboard, whose top row is the SLO's budget."""
        props, canary = self.props, self.props.canary
        deployment, home = props.deployment, props.deployment.home
        several = bool(props.other_regions) or not home
        prefix = naming.canary_alarm_prefix(props.env_name, self.region, props.home_region)
        period = cdk.Duration.minutes(canary.schedule_minutes)
        other_regions = [
            RegionSeries(
                region=other.region,
                paths=other.path_specs(props.front_door_base_urls),
                function_name=naming.canary_function_name(props.env_name, other.region),
            )
            for other in props.other_regions
        ]
        parts = compose_canary(
            self,
            paths=deployment.path_specs(props.front_door_base_urls),
            alarm_name_prefix=prefix,
            dashboard_name=None,
            thresholds=canary.alarms.thresholds,
            page_on_thresholds=canary.alarms.mode != "slo",
            # One page across Regions: the e-mails go to the home Region's topic, which also pages for the
            # other Regions' composites (forwarded through EventBridge); another Region's topic is there
            # for its own subscribers (a chat channel, a pager).
            notify_emails=list(canary.notify_emails) if home else [],
            region_label=self.region if several else None,
            namespace=canary.namespace,
            schedule_period=period,
            timeout=cdk.Duration.seconds(canary.timeout_seconds),
            probe_timeout=cdk.Duration.seconds(canary.probe_timeout_seconds),
            max_duration=cdk.Duration.seconds(canary.max_duration_seconds),
            memory_size=canary.memory_mb,
            log_retention=RETENTION[canary.log_retention_days],
            chain=canary.chain_in(deployment.path_names),
            # Only the home Region's canary runs in the VPC: the VPC (its subnets) is in that Region.
            vpc_placement=vpc_placement(self, canary) if home else None,
            # A known name: the home Region's dashboard shows this function's errors by name and Region.
            function_name=None if home else naming.canary_function_name(props.env_name, self.region),
        )
        self.slo: CanarySlo = add_slo(
            self,
            canary=canary,
            config_paths=deployment.paths,
            specs=parts.canary.spec.paths,
            alarm_name_prefix=prefix,
            threshold_alarms=parts.alarms,
            period=period,
            other_regions=other_regions,
        )
        # One dashboard for every Region, in the home Region.
        dashboard = (
            CanaryDashboard(
                self,
                "Dashboard",
                alarms=parts.alarms,
                dashboard_name=naming.canary_dashboard_name(props.env_name),
                other_regions=other_regions,
                top_widgets=self.slo.widgets,
            )
            if home
            else None
        )
        return CanaryParts(parts.canary, parts.alarms, dashboard)

    def _page_for_other_regions(self) -> None:
        props = self.props
        if not props.other_regions:
            return
        self.paging = PageForRemoteAlarms(
            self,
            "RemotePages",
            topic=self.alarms.topic,
            key=self.alarms.key,
            alarm_arns=[
                alarm_arn(self, other.region, name)
                for other in props.other_regions
                for name in self._paging_alarm_names(other)
            ],
        )

    def _paging_alarm_names(self, other: RegionalCanary) -> list[str]:
        """Another Region's alarms that page, by name: its threshold composite, then its SLO's."""
        props = self.props
        prefix = naming.canary_alarm_prefix(props.env_name, other.region, props.home_region)
        return [
            degraded_alarm_name(prefix),
            *remote_page_alarm_names(props.canary, prefix, other.path_names),
        ]

    def _outputs(self) -> None:
        props = self.props
        cdk.CfnOutput(self, naming.OUTPUT_CANARY_FUNCTION_NAME, value=self.canary.function.function_name)
        # The one dashboard, in the home Region (another Region's stack names it: no reference).
        shown_name = (
            self.dashboard.dashboard.dashboard_name
            if self.dashboard is not None
            else naming.canary_dashboard_name(props.env_name)
        )
        cdk.CfnOutput(
            self,
            naming.OUTPUT_DASHBOARD_URL,
            value=(
                "https://console.aws.amazon.com/cloudwatch/home?"
                f"region={props.home_region}#dashboards:name={shown_name}"
            ),
        )
        cdk.CfnOutput(self, naming.OUTPUT_ALARM_TOPIC_ARN, value=self.alarms.topic.topic_arn)
        cdk.CfnOutput(self, naming.OUTPUT_METRIC_NAMESPACE, value=props.canary.namespace)


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
