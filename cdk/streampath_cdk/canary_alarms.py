"""Alarms over the canary's metrics, a composite "streaming degraded" alarm, and its SNS topic.

Per path x protocol (the contract's metric names, dimensions ``Path`` + ``Protocol``):

- ``BufferingDelay`` (Maximum) above ``buffering_delay_ms`` in M of N periods: the path buffers.
- ``TimeToFirstEvent`` (Maximum) above ``time_to_first_event_ms`` in M of N periods: slow or held start.
- ``Success`` (Minimum) below 1 in M of N periods: probes fail.

All three treat missing data as **breaching**: a canary that stopped running (or a probe that never got a
first event) must alarm, not go quiet. The function's own ``Errors`` and ``Throttles`` alarm too (a throttle
means a run overlapped the previous one). A composite per path
("<path> degraded") and the top composite "streaming degraded" over those and the function alarms; only
the top composite notifies (alarm and OK), so one incident is one e-mail, not six.

Alarms are regional and a composite cannot watch another Region's alarms, so a canary in several Regions
has one ``CanaryAlarms`` per Region (``region_label`` puts the Region into the composites' descriptions).
For one page across Regions (docs/regions.md) CloudWatch alarm actions cannot help (they must target a
topic in the alarm's own Region); EventBridge can: :class:`ForwardAlarmState` sends a Region's top
composite's state changes to the home Region's default event bus, and :class:`PageForRemoteAlarms`
publishes those to the home Region's topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct
from streampath_canary.contract import (
    BUFFERING_DELAY,
    DIMENSION_PATH,
    DIMENSION_PROTOCOL,
    METRIC_UNITS,
    SUCCESS,
    TIME_TO_FIRST_EVENT,
    PathSpec,
    ProtocolName,
)

#: Defaults of the thresholds (the YAML's defaults too).
DEFAULT_BUFFERING_DELAY_MS: Final = 1000
DEFAULT_TIME_TO_FIRST_EVENT_MS: Final = 5000
DEFAULT_EVALUATION_PERIODS: Final = 5
DEFAULT_DATAPOINTS_TO_ALARM: Final = 3


def canary_metric(
    namespace: str,
    metric_name: str,
    path: str,
    protocol: str,
    *,
    statistic: str,
    period: cdk.Duration,
    label: str | None = None,
) -> cw.Metric:
    """A canary metric with exactly the published dimensions."""
    if metric_name not in METRIC_UNITS:
        raise ValueError(f"unknown canary metric {metric_name!r}")
    return cw.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map={DIMENSION_PATH: path, DIMENSION_PROTOCOL: protocol},
        statistic=statistic,
        period=period,
        label=label,
    )


@dataclass(frozen=True)
class AlarmedPath:
    """One path's metric series: its name (the ``Path`` dimension) and the protocols it is probed over."""

    name: str
    protocols: Sequence[ProtocolName]

    @classmethod
    def of(cls, path: PathSpec) -> AlarmedPath:
        return cls(name=path.name, protocols=tuple(path.protocols))


@dataclass
class PathAlarms:
    """The alarms of one path, by protocol."""

    buffering: dict[str, cw.Alarm] = field(default_factory=dict)
    first_event: dict[str, cw.Alarm] = field(default_factory=dict)
    success: dict[str, cw.Alarm] = field(default_factory=dict)
    #: "this path is degraded": any of the above (set once they exist).
    degraded: cw.CompositeAlarm | None = None

    def all(self) -> list[cw.Alarm]:
        return [*self.buffering.values(), *self.first_event.values(), *self.success.values()]


class CanaryAlarms(Construct):
    """``.topic``, ``.composite``, ``.by_path[name]``, ``.function_alarms``.

    Props (keyword-only): ``namespace`` and ``paths`` (what the canary publishes), ``alarm_name_prefix``
    (every alarm's name starts with it), ``function`` (the canary function: its errors and throttles),
    ``period`` (one datapoint per run: the schedule period). Defaults: ``buffering_delay_ms`` 1000,
    ``time_to_first_event_ms`` 5000, ``evaluation_periods`` 5, ``datapoints_to_alarm`` 3 (M of N),
    ``notify_emails`` none (the topic is still there to subscribe to), ``region_label`` none (set it when
    the canary runs in several Regions: the composites' descriptions name it).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namespace: str,
        alarm_name_prefix: str,
        paths: Sequence[AlarmedPath],
        function: lambda_.IFunction,
        period: cdk.Duration,
        buffering_delay_ms: int = DEFAULT_BUFFERING_DELAY_MS,
        time_to_first_event_ms: int = DEFAULT_TIME_TO_FIRST_EVENT_MS,
        evaluation_periods: int = DEFAULT_EVALUATION_PERIODS,
        datapoints_to_alarm: int = DEFAULT_DATAPOINTS_TO_ALARM,
        notify_emails: Sequence[str] = (),
        region_label: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        where_run = f" (canary in {region_label})" if region_label else ""
        key = kms.Key(
            self,
            "TopicKey",
            description=f"{alarm_name_prefix}: encrypts the canary alarm topic",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # CloudWatch alarms publish to the encrypted topic as the cloudwatch service.
        self.key = key
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToUseTheKey",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"{alarm_name_prefix} streaming canary alarms",
            master_key=key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            )
        )
        for email in notify_emails:
            self.topic.add_subscription(subs.EmailSubscription(email))

        self.by_path: dict[str, PathAlarms] = {}
        for path in paths:
            alarms = PathAlarms()
            for protocol in path.protocols:
                base = f"{alarm_name_prefix}-{path.name}-{protocol}"
                where = f"{path.name} over {protocol}"
                # (alarms of this kind, construct id prefix, metric, statistic, threshold, comparison, why)
                specs = (
                    (
                        alarms.buffering, "Buffering", BUFFERING_DELAY, "Maximum", buffering_delay_ms,
                        cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                        f"{where}: events arrive bunched (buffering delay > {buffering_delay_ms} ms). "
                        "A proxy, compression or the front door holds the stream. "
                        "Run `streamprobe doctor` on the URL.",
                    ),
                    (
                        alarms.first_event, "FirstEvent", TIME_TO_FIRST_EVENT, "Maximum",
                        time_to_first_event_ms, cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                        f"{where}: the first event takes > {time_to_first_event_ms} ms (or never arrives). "
                        "Compare TimeToFirstByte: a slow TTFB is the backend, a fast TTFB with a slow first "
                        "event is buffering.",
                    ),
                    (
                        alarms.success, "Success", SUCCESS, "Minimum", 1,
                        cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                        f"{where}: probes fail (Success < 1) or the canary stopped publishing. "
                        "The error kind is in the canary's log line for the probe (field result.error.kind).",
                    ),
                )  # fmt: skip
                for by_protocol, id_prefix, metric_name, statistic, threshold, comparison, why in specs:
                    by_protocol[protocol] = cw.Alarm(
                        self,
                        f"{id_prefix}-{path.name}-{protocol}",
                        alarm_name=f"{base}-{metric_name}",
                        alarm_description=why,
                        metric=canary_metric(
                            namespace, metric_name, path.name, protocol, statistic=statistic, period=period
                        ),
                        threshold=threshold,
                        comparison_operator=comparison,
                        evaluation_periods=evaluation_periods,
                        datapoints_to_alarm=datapoints_to_alarm,
                        # A canary that stops publishing must alarm, not go quiet.
                        treat_missing_data=cw.TreatMissingData.BREACHING,
                    )
            # One composite per path keeps the top-level rule short (CloudWatch caps a rule at 10240
            # characters) and gives the dashboard one status per path.
            alarms.degraded = cw.CompositeAlarm(
                self,
                f"Degraded-{path.name}",
                composite_alarm_name=f"{alarm_name_prefix}-{path.name}-Degraded",
                alarm_description=(
                    f"path {path.name}{where_run}: buffers, starts slowly or fails (any protocol)"
                ),
                alarm_rule=cw.AlarmRule.any_of(*alarms.all()),
            )
            self.by_path[path.name] = alarms

        self.errors = cw.Alarm(
            self,
            "FunctionErrors",
            alarm_name=f"{alarm_name_prefix}-FunctionErrors",
            alarm_description="The canary function itself failed (bad CANARY_CONFIG, a bug, a timeout). "
            "Its log group has the message.",
            metric=function.metric_errors(period=period, statistic="Sum"),
            threshold=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.throttles = cw.Alarm(
            self,
            "FunctionThrottles",
            alarm_name=f"{alarm_name_prefix}-FunctionThrottles",
            alarm_description="A canary run was throttled: it overlapped the previous run (reserved "
            "concurrency is 1) and was dropped. Runs take too long for the schedule: lower max_duration or "
            "the number of paths, or raise schedule_minutes.",
            metric=function.metric_throttles(period=period, statistic="Sum"),
            threshold=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.function_alarms = [self.errors, self.throttles]
        every: list[cw.IAlarm] = [p.degraded for p in self.by_path.values() if p.degraded is not None]
        every += self.function_alarms
        self.composite = cw.CompositeAlarm(
            self,
            "StreamingDegraded",
            composite_alarm_name=f"{alarm_name_prefix}-StreamingDegraded",
            alarm_description=f"streaming degraded{where_run}: at least one path buffers, starts slowly or "
            "fails, or the canary itself is failing. See the canary dashboard for which path and protocol.",
            alarm_rule=cw.AlarmRule.any_of(*every),
        )
        action = cw_actions.SnsAction(self.topic)
        self.composite.add_alarm_action(action)
        self.composite.add_ok_action(action)


#: EventBridge's event for any alarm's state change (composite alarms included).
ALARM_STATE_CHANGE: Final = "CloudWatch Alarm State Change"


def alarm_arn(scope: Construct, region: str, alarm_name: str) -> str:
    """An alarm's ARN from its Region and name (this stack's account and partition): no reference to the
    stack that creates it, so another Region's stack can use it."""
    return cdk.Stack.of(scope).format_arn(
        service="cloudwatch",
        region=region,
        resource="alarm",
        resource_name=alarm_name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


class ForwardAlarmState(Construct):
    """Sends ``alarm``'s state changes to the default event bus of ``home_region`` (same account).

    EventBridge delivers to an event bus in another Region; the rule assumes a role allowed to put events
    on that one bus only.
    """

    def __init__(self, scope: Construct, construct_id: str, *, alarm: cw.IAlarm, home_region: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        bus_arn = stack.format_arn(
            service="events", region=home_region, resource="event-bus", resource_name="default"
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"streampath canary: forward the composite alarm's state to {home_region}",
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"streampath canary: the composite alarm's state changes to {home_region}",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=[ALARM_STATE_CHANGE],
                resources=[alarm.alarm_arn],
            ),
            targets=[
                events_targets.EventBus(
                    events.EventBus.from_event_bus_arn(self, "HomeBus", bus_arn), role=role
                )
            ],
        )


class PageForRemoteAlarms(Construct):
    """Publishes the state changes of other Regions' composite alarms (forwarded to this Region's default
    event bus by :class:`ForwardAlarmState`) to ``topic``: one page per incident, whichever Region it is in.

    ``alarm_arns``: the remote composites (see :func:`alarm_arn`). ``key``: the topic's KMS key, which
    EventBridge must be allowed to use.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        key: kms.IKey,
        alarm_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        account = cdk.Stack.of(self).account
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEventBridgeToUseTheKey",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
        field = events.EventField.from_path
        message = events.RuleTargetInput.from_text(
            f"{field('$.detail.alarmName')} is {field('$.detail.state.value')} in {field('$.region')}: "
            f"{field('$.detail.state.reason')}"
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description="streampath canary: page for the other Regions' composite alarms",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"], detail_type=[ALARM_STATE_CHANGE], resources=list(alarm_arns)
            ),
            targets=[events_targets.SnsTopic(topic, message=message)],
        )
