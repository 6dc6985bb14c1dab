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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    AlarmThresholds,
    PathSpec,
)

#: How the dashboard draws an alarm's threshold on the alarm's own metric.
THRESHOLD_LABEL: Final = "alarm threshold"


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
class AnnotatedAlarm:
    """An alarm on one canary metric with what a graph of that metric draws for it (None: nothing)."""

    alarm: cw.Alarm
    metric_name: str
    threshold: float
    annotation: cw.HorizontalAnnotation | None


@dataclass(frozen=True)
class PathAlarms:
    """The alarms of one path, by protocol, and the composite over them (one status per path)."""

    buffering: Mapping[str, AnnotatedAlarm]
    first_event: Mapping[str, AnnotatedAlarm]
    success: Mapping[str, AnnotatedAlarm]
    #: "this path is degraded": any of the above.
    degraded: cw.CompositeAlarm

    def annotated(self) -> list[AnnotatedAlarm]:
        return [*self.buffering.values(), *self.first_event.values(), *self.success.values()]

    def all(self) -> list[cw.Alarm]:
        return [annotated.alarm for annotated in self.annotated()]


@dataclass(frozen=True)
class _AlarmRule:
    """One kind of per-path alarm: which metric, statistic and comparison, and what it tells on-call."""

    id_prefix: str
    metric_name: str
    statistic: str
    comparison: cw.ComparisonOperator
    #: Drawn on the metric's graphs (a 0/1 Success line at 1 would only hide the datapoints: not drawn).
    drawn: bool
    why: str


def _rules(thresholds: AlarmThresholds) -> tuple[_AlarmRule, _AlarmRule, _AlarmRule]:
    """The three per-path alarms, in the order they are created (buffering, first event, success)."""
    above = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
    return (
        _AlarmRule(
            "Buffering", BUFFERING_DELAY, "Maximum", above, True,
            f"events arrive bunched (buffering delay > {thresholds.buffering_delay_ms} ms). "
            "A proxy, compression or the front door holds the stream. Run `streamprobe doctor` on the URL.",
        ),
        _AlarmRule(
            "FirstEvent", TIME_TO_FIRST_EVENT, "Maximum", above, True,
            f"the first event takes > {thresholds.time_to_first_event_ms} ms (or never arrives). "
            "Compare TimeToFirstByte: a slow TTFB is the backend, a fast TTFB with a slow first event is "
            "buffering.",
        ),
        _AlarmRule(
            "Success", SUCCESS, "Minimum", cw.ComparisonOperator.LESS_THAN_THRESHOLD, False,
            "probes fail (Success < 1) or the canary stopped publishing. The error kind is in the canary's "
            "log line for the probe (field result.error.kind).",
        ),
    )  # fmt: skip


def _threshold(thresholds: AlarmThresholds, metric_name: str) -> int:
    return {
        BUFFERING_DELAY: thresholds.buffering_delay_ms,
        TIME_TO_FIRST_EVENT: thresholds.time_to_first_event_ms,
        SUCCESS: 1,
    }[metric_name]


def degraded_alarm_name(prefix: str) -> str:
    """The name of the top "streaming degraded" composite (the one that notifies)."""
    return f"{prefix}-StreamingDegraded"


class CanaryAlarms(Construct):
    """``.topic``, ``.key``, ``.composite``, ``.by_path[name]``, ``.function_alarms``; and what it alarms
    on: ``.paths``, ``.function``, ``.namespace``, ``.period``, ``.thresholds`` (a dashboard reads them).

    Props (keyword-only): ``namespace`` and ``paths`` (what the canary publishes), ``alarm_name_prefix``
    (every alarm's name starts with it), ``function`` (the canary function: its errors and throttles),
    ``period`` (one datapoint per run: the schedule period). Defaults: ``thresholds`` the contract's
    (buffering delay 1000 ms, first event 5000 ms, 3 of 5 periods), ``notify_emails`` none (the topic is
    still there to subscribe to), ``region_label`` none (set it when the canary runs in several Regions:
    the composites' descriptions name it), ``page_on_thresholds`` True (False: the per-path alarms stay,
    for the dashboard, but the top composite pages only for the function's alarms; the SLO's burn-rate
    alarms page instead).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namespace: str,
        alarm_name_prefix: str,
        paths: Sequence[PathSpec],
        function: lambda_.IFunction,
        period: cdk.Duration,
        thresholds: AlarmThresholds | None = None,
        notify_emails: Sequence[str] = (),
        region_label: str | None = None,
        page_on_thresholds: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.namespace, self.period, self.function = namespace, period, function
        self.paths = tuple(paths)
        self.thresholds = thresholds or AlarmThresholds()
        self._prefix = alarm_name_prefix
        self._where_run = f" (canary in {region_label})" if region_label else ""
        self.key, self.topic = self._encrypted_topic(notify_emails)
        self.by_path: dict[str, PathAlarms] = {path.name: self._path_alarms(path) for path in self.paths}
        self.errors, self.throttles = self._function_alarms()
        self.function_alarms = [self.errors, self.throttles]
        self.composite = cw.CompositeAlarm(
            self,
            "StreamingDegraded",
            composite_alarm_name=degraded_alarm_name(alarm_name_prefix),
            alarm_description=f"streaming degraded{self._where_run}: at least one path buffers, starts "
            "slowly or fails, or the canary itself is failing. See the canary dashboard for which path and "
            "protocol.",
            alarm_rule=cw.AlarmRule.any_of(
                *[p.degraded for p in self.by_path.values() if page_on_thresholds], *self.function_alarms
            ),
        )
        action = cw_actions.SnsAction(self.topic)
        self.composite.add_alarm_action(action)
        self.composite.add_ok_action(action)

    def annotations(
        self, metric_name: str, paths: Sequence[str] | None = None
    ) -> list[cw.HorizontalAnnotation]:
        """What a graph of ``metric_name`` draws: the annotations of these paths' alarms on it (all paths
        when None, or when none of them is alarmed here: every path shares the thresholds), once each."""
        alarmed = [
            self.by_path[name] for name in paths or () if name in self.by_path
        ] or self.by_path.values()
        drawn: list[cw.HorizontalAnnotation] = []
        for path_alarms in alarmed:
            for annotated in path_alarms.annotated():
                if (
                    annotated.metric_name == metric_name
                    and annotated.annotation is not None
                    and annotated.annotation not in drawn
                ):
                    drawn.append(annotated.annotation)
        return drawn

    # --- parts -----------------------------------------------------------------------------------------

    def _encrypted_topic(self, notify_emails: Sequence[str]) -> tuple[kms.Key, sns.Topic]:
        key = kms.Key(
            self,
            "TopicKey",
            description=f"{self._prefix}: encrypts the canary alarm topic",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # CloudWatch alarms publish to the encrypted topic as the cloudwatch service.
        allow_service_to_use_key(key, "AllowCloudWatchAlarmsToUseTheKey", "cloudwatch.amazonaws.com")
        topic = sns.Topic(
            self,
            "Topic",
            display_name=f"{self._prefix} streaming canary alarms",
            master_key=key,
            enforce_ssl=True,
        )
        allow_alarms_to_publish(topic)
        for email in notify_emails:
            topic.add_subscription(subs.EmailSubscription(email))
        return key, topic

    def _path_alarms(self, path: PathSpec) -> PathAlarms:
        by_metric: dict[str, dict[str, AnnotatedAlarm]] = {}
        rules = _rules(self.thresholds)
        for protocol in path.protocols:
            for alarm_rule in rules:
                by_metric.setdefault(alarm_rule.metric_name, {})[protocol] = self._alarm(
                    alarm_rule, path.name, protocol
                )
        # One composite per path keeps the top-level rule short (CloudWatch caps a rule at 10240
        # characters) and gives the dashboard one status per path.
        degraded = cw.CompositeAlarm(
            self,
            f"Degraded-{path.name}",
            composite_alarm_name=f"{self._prefix}-{path.name}-Degraded",
            alarm_description=(
                f"path {path.name}{self._where_run}: buffers, starts slowly or fails (any protocol)"
            ),
            alarm_rule=cw.AlarmRule.any_of(
                *[by_metric[m][p].alarm for m in (r.metric_name for r in rules) for p in path.protocols]
            ),
        )
        return PathAlarms(
            buffering=by_metric[BUFFERING_DELAY],
            first_event=by_metric[TIME_TO_FIRST_EVENT],
            success=by_metric[SUCCESS],
            degraded=degraded,
        )

    def _alarm(self, alarm_rule: _AlarmRule, path: str, protocol: str) -> AnnotatedAlarm:
        threshold = _threshold(self.thresholds, alarm_rule.metric_name)
        alarm = cw.Alarm(
            self,
            f"{alarm_rule.id_prefix}-{path}-{protocol}",
            alarm_name=f"{self._prefix}-{path}-{protocol}-{alarm_rule.metric_name}",
            alarm_description=f"{path} over {protocol}: {alarm_rule.why}",
            metric=canary_metric(
                self.namespace,
                alarm_rule.metric_name,
                path,
                protocol,
                statistic=alarm_rule.statistic,
                period=self.period,
            ),
            threshold=threshold,
            comparison_operator=alarm_rule.comparison,
            evaluation_periods=self.thresholds.evaluation_periods,
            datapoints_to_alarm=self.thresholds.datapoints_to_alarm,
            # A canary that stops publishing must alarm, not go quiet.
            treat_missing_data=cw.TreatMissingData.BREACHING,
        )
        annotation = (
            cw.HorizontalAnnotation(value=threshold, label=THRESHOLD_LABEL, color=cw.Color.RED)
            if alarm_rule.drawn
            else None
        )
        return AnnotatedAlarm(alarm, alarm_rule.metric_name, threshold, annotation)

    def _function_alarms(self) -> tuple[cw.Alarm, cw.Alarm]:
        function, period = self.function, self.period
        errors = cw.Alarm(
            self,
            "FunctionErrors",
            alarm_name=f"{self._prefix}-FunctionErrors",
            alarm_description="The canary function itself failed (bad CANARY_CONFIG, a bug, a timeout). "
            "Its log group has the message.",
            metric=function.metric_errors(period=period, statistic="Sum"),
            threshold=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=self.thresholds.evaluation_periods,
            datapoints_to_alarm=self.thresholds.datapoints_to_alarm,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        throttles = cw.Alarm(
            self,
            "FunctionThrottles",
            alarm_name=f"{self._prefix}-FunctionThrottles",
            alarm_description="A canary run was throttled: it overlapped the previous run (reserved "
            "concurrency is 1) and was dropped. Runs take too long for the schedule: lower max_duration or "
            "the number of paths, or raise schedule_minutes.",
            metric=function.metric_throttles(period=period, statistic="Sum"),
            threshold=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        return errors, throttles


def allow_alarms_to_publish(topic: sns.Topic) -> None:
    """Let CloudWatch alarms of this account (only) publish to ``topic``."""
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(topic).account}},
        )
    )


def allow_service_to_use_key(key: kms.IKey, sid: str, service: str) -> None:
    """Let an AWS service, acting for this account only, encrypt with ``key`` (to publish to the topic)."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal(service)],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy "*" means this key
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(key).account}},
        )
    )


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


#: EventBridge's default quota on an event pattern, in characters (adjustable per account, not by a stack).
EVENT_PATTERN_MAX_CHARS: Final = 2048
#: CloudWatch's limit on an alarm's name.
ALARM_NAME_MAX_CHARS: Final = 255
#: The longest alarm ARN: ``arn:aws:cloudwatch:<region, at most 14>:<12-digit account>:alarm:<name>``.
ALARM_ARN_MAX_CHARS: Final = (
    len("arn:aws:cloudwatch:ap-southeast-2:123456789012:alarm:") + ALARM_NAME_MAX_CHARS
)
#: What a rule's pattern holds besides its ARNs (source, detail-type, the suppression filter, keys and
#: brackets, with JSON's spaces), rounded up.
PATTERN_OVERHEAD_CHARS: Final = 256
#: ARNs one rule matches, so that its pattern stays under the quota whatever the alarms' names (each
#: ARN quoted and comma-separated): alarms beyond it get another rule.
ALARMS_PER_RULE: Final = (EVENT_PATTERN_MAX_CHARS - PATTERN_OVERHEAD_CHARS) // (ALARM_ARN_MAX_CHARS + 3)


def _rule_id(index: int) -> str:
    """``Rule``, ``Rule2``, ...: the first rule keeps the id it had when one rule was enough."""
    return "Rule" if index == 0 else f"Rule{index + 1}"


def _groups(arns: Sequence[str]) -> list[list[str]]:
    return [list(arns[i : i + ALARMS_PER_RULE]) for i in range(0, len(arns), ALARMS_PER_RULE)]


def _state_changes(arns: Sequence[str], *, when_actions_run: bool = False) -> events.EventPattern:
    """The state changes of these alarms; ``when_actions_run``: only those on which the alarm's own
    actions run. A composite whose actions its ``ActionsSuppressor`` holds back still changes state, and
    its event says so (``detail.state.actionsSuppressedBy``: ``Alarm``, ``WaitPeriod`` or
    ``ExtensionPeriod``); when the wait period ends without the suppressor firing, a new event (ALARM to
    ALARM) comes without it (CloudWatch's "Alarm events and EventBridge" examples). Matching on its
    absence makes a forwarded page obey the suppressor as an alarm action does: one page per incident,
    not one per burn-rate pair."""
    return events.EventPattern(
        source=["aws.cloudwatch"],
        detail_type=[ALARM_STATE_CHANGE],
        resources=list(arns),
        detail={"state": {"actionsSuppressedBy": [{"exists": False}]}} if when_actions_run else None,
    )


class ForwardAlarmState(Construct):
    """Sends the state changes of ``alarms`` (this Region's alarms that page) to the default event bus of
    ``home_region`` (same account).

    Why EventBridge: an alarm action must be an SNS topic in the alarm's own Region, and SNS does not
    deliver to a topic in another Region; one topic per Region with the same e-mails subscribed would
    mean one confirmation per Region and pages from several places. EventBridge delivers to an event bus
    in another Region; each rule assumes one role, allowed to put events on that one bus only. A rule
    matches at most :data:`ALARMS_PER_RULE` alarms (the quota on a pattern's size): ``.rules``, in
    order.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, alarms: Sequence[cw.IAlarm], home_region: str
    ) -> None:
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
        home_bus = events_targets.EventBus(
            events.EventBus.from_event_bus_arn(self, "HomeBus", bus_arn), role=role
        )
        self.rules = [
            events.Rule(
                self,
                _rule_id(index),
                description=f"streampath canary: the composite alarm's state changes to {home_region}",
                event_pattern=_state_changes(group),
                targets=[home_bus],
            )
            for index, group in enumerate(_groups([alarm.alarm_arn for alarm in alarms]))
        ]


class PageForRemoteAlarms(Construct):
    """Publishes the state changes of other Regions' alarms that page (forwarded to this Region's default
    event bus by :class:`ForwardAlarmState`) to ``topic``: one page per incident, whichever Region it is in.

    ``alarm_arns``: the remote alarms (see :func:`alarm_arn`), matched by exact ARN, so an alarm another
    tool forwards here pages only if it is one of them. ``key``: the topic's KMS key, which EventBridge
    must be allowed to use. A rule matches at most :data:`ALARMS_PER_RULE` alarms: ``.rules``, in order.
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
        allow_service_to_use_key(key, "AllowEventBridgeToUseTheKey", "events.amazonaws.com")
        field = events.EventField.from_path
        message = events.RuleTargetInput.from_text(
            f"{field('$.detail.alarmName')} is {field('$.detail.state.value')} in {field('$.region')}: "
            f"{field('$.detail.state.reason')}"
        )
        self.rules = [
            events.Rule(
                self,
                _rule_id(index),
                description="streampath canary: page for the other Regions' composite alarms",
                event_pattern=_state_changes(group, when_actions_run=True),
                targets=[events_targets.SnsTopic(topic, message=message)],
            )
            for index, group in enumerate(_groups(alarm_arns))
        ]
