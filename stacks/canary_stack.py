"""The canary stack: composes the canary function + schedule, its alarms and its dashboard; outputs.

Paths with ``front_door`` become ``<front door base URL><path>``; the base URLs come from the front-door
stacks (``front_door_base_urls``, e.g. ``https://<NLB DNS name>``; cross-stack references are fine).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from streampath import naming
from streampath.config.canary import CanaryConfig
from streampath_cdk.canary_alarms import AlarmedPath, CanaryAlarms
from streampath_cdk.canary_dashboard import CanaryDashboard
from streampath_cdk.canary_function import CanaryFunction, CanaryPathTarget, VpcPlacement


def resolve_targets(canary: CanaryConfig, front_door_base_urls: Mapping[str, str]) -> list[CanaryPathTarget]:
    """Config paths -> handler targets; a ``front_door`` path needs that front door's base URL."""
    targets: list[CanaryPathTarget] = []
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
        targets.append(
            CanaryPathTarget(
                name=path.name,
                url=url,
                protocols=tuple(path.protocols),
                headers=dict(path.headers),
                secret_arn=secret.arn if secret else None,
                secret_header=secret.header if secret else "Authorization",
                secret_json_key=secret.json_key if secret else None,
            )
        )
    return targets


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
        targets = resolve_targets(canary, front_door_base_urls or {})
        period = cdk.Duration.minutes(canary.schedule_minutes)
        prefix = f"{naming.STACK_PREFIX}-{env_name}-canary"

        self.canary = CanaryFunction(
            self,
            "Canary",
            namespace=canary.namespace,
            paths=targets,
            schedule_minutes=canary.schedule_minutes,
            memory_mb=canary.memory_mb,
            timeout_seconds=canary.timeout_seconds,
            probe_timeout_seconds=canary.probe_timeout_seconds,
            max_duration_seconds=canary.max_duration_seconds,
            log_retention_days=canary.log_retention_days,
            vpc_placement=(
                VpcPlacement(
                    subnet_ids=list(canary.vpc_placement.subnet_ids),
                    security_group_ids=list(canary.vpc_placement.security_group_ids),
                )
                if canary.vpc_placement
                else None
            ),
        )
        alarmed = [AlarmedPath(name=t.name, protocols=tuple(t.protocols)) for t in targets]
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
            schedule_minutes=canary.schedule_minutes,
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
