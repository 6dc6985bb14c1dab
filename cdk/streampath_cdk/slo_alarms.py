"""Multi-window, multi-burn-rate alarms on the stream SLO (docs/slo.md), per path.

For each window pair of ``streampath_canary.burn_rates.BURN_RATE_WINDOWS`` (14.4x over 1 h and 5 min, 6x
over 6 h and 30 min: page; 1x over 3 d and 6 h: ticket) two metric alarms on the path's error rate
(``slo_metrics.error_rate``), each one period as long as its window (``EvaluationPeriods`` 1: CloudWatch
evaluates every minute over the trailing period, so a 1 h period is a rolling hour; 3 d is 259,200 s, under
the 7-day cap on period x evaluation periods), and a composite ``ALARM(long) AND ALARM(short)`` that
notifies. Only the composites have actions.

- Threshold: burn rate x (1 - objective / 100), an error rate, so it follows the path's objective.
- Missing data is **not breaching**: no probe is no evidence of a bad stream, and a burn-rate alarm that
  fired on silence would page at 14.4x for a canary deploy. Silence is its own alarm: the heartbeat
  (``Success`` SampleCount below 1, missing data breaching) per path and protocol, with the function's
  Errors alarm of ``CanaryAlarms``; the heartbeat is built when the threshold alarms (whose ``Success``
  alarm breaches on missing data already) do not page.
- A faster pair suppresses the slower ones' actions (``ActionsSuppressor``): the 14.4x composite the 6x
  one, and "paging" (14.4x or 6x) the 1x ticket. Wait period: the fastest pair's short window (5 min),
  how long the faster alarm may need to confirm once the slower one fires, so one incident is one page.
  Extension period: the suppressed pair's own short window (30 min, 6 h), how long it can stay in ALARM
  after the incident ends (its short window draining): without it the slower alarm would page (or open
  a ticket) for an incident already paged and over.

Another Region's page composites (and its heartbeat composite) page at home the way its threshold
composite does (docs/regions.md): an alarm action must be an SNS topic in the alarm's own Region, so
``CanaryStack`` forwards their state changes to the home Region's default event bus with EventBridge
(:class:`~streampath_cdk.canary_alarms.ForwardAlarmState`, over ``.page_alarms``), and the home Region's
rule (:class:`~streampath_cdk.canary_alarms.PageForRemoteAlarms`, over :func:`page_alarm_names`, the
same names without a reference to the other stack) publishes them to its page topic. EventBridge, not one
topic per Region that the team subscribes to: that is how the threshold alarms already reach the team, so
one subscription (the home topic's) sees every Region's page, whichever kind of alarm it comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct
from streampath_canary.burn_rates import BURN_RATE_WINDOWS, BurnRateWindow, window_label
from streampath_canary.contract import DEFAULT_DATAPOINTS_TO_ALARM, DEFAULT_EVALUATION_PERIODS, SUCCESS

from streampath_cdk.canary_alarms import allow_alarms_to_publish, canary_metric
from streampath_cdk.slo_metrics import SloPath, error_rate


def burn_alarm_name(prefix: str, path: str, window: BurnRateWindow) -> str:
    """The name of a path's composite for one window pair (the one that notifies)."""
    return f"{prefix}-{path}-Slo{window.name}"


def silent_alarm_name(prefix: str) -> str:
    """The name of the heartbeat composite ("the canary publishes nothing for a path")."""
    return f"{prefix}-CanarySilent"


def page_alarm_names(prefix: str, paths: Sequence[str], *, heartbeat: bool) -> list[str]:
    """The names of the alarms :class:`SloAlarms` pages with (its ``.page_alarms``, in that order), for
    a stack that refers to them by name only (another Region's)."""
    names = [
        burn_alarm_name(prefix, path, window)
        for path in paths
        for window in BURN_RATE_WINDOWS
        if window.severity == "page"
    ]
    return [*names, silent_alarm_name(prefix)] if heartbeat else names


@dataclass(frozen=True)
class BurnRateAlarm:
    """One window pair of one path: its two metric alarms, the composite that notifies, its threshold
    (an error rate, 0..1) and the annotation a graph draws it with."""

    window: BurnRateWindow
    threshold: float
    long: cw.Alarm
    short: cw.Alarm
    composite: cw.CompositeAlarm

    @property
    def annotation(self) -> cw.HorizontalAnnotation:
        return cw.HorizontalAnnotation(
            value=self.window.burn_rate,
            label=f"{self.window.name} {self.window.burn_rate:g}x ({self.window.severity})",
            color=cw.Color.RED if self.window.severity == "page" else cw.Color.ORANGE,
        )


@dataclass
class PathSloAlarms:
    """A path's burn-rate alarms by window name (``FastBurn``, ``SlowBurn``, ``BudgetBurn``), and the
    composite "paging" (any page pair) that suppresses the ticket."""

    burn: dict[str, BurnRateAlarm] = field(default_factory=dict)
    paging: cw.CompositeAlarm | None = None

    def composites(self) -> list[cw.CompositeAlarm]:
        return [b.composite for b in self.burn.values()]


class SloAlarms(Construct):
    """``.by_path[name]`` (:class:`PathSloAlarms`), ``.ticket_topic``, ``.heartbeats``, ``.silent``,
    ``.page_alarms`` (the alarms that notify ``page_topic``, named as :func:`page_alarm_names` says).

    Props (keyword-only): ``namespace``, ``alarm_name_prefix``, ``paths`` (each with its objective),
    ``page_topic`` (the page composites notify it, alarm and OK), ``ticket_topic`` (the 1x composites;
    default None: a topic of its own, encrypted with ``topic_key``, SSL only), ``topic_key`` (needed when
    ``ticket_topic`` is None). ``heartbeat_period`` (default None: no heartbeat, the threshold alarms
    watch for silence) with ``heartbeat_evaluation_periods`` / ``heartbeat_datapoints_to_alarm`` (M of N,
    default the contract's, 3 of 5) and ``heartbeat_suppressor`` (an alarm that already pages for a
    failing canary).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namespace: str,
        alarm_name_prefix: str,
        paths: Sequence[SloPath],
        page_topic: sns.ITopic,
        ticket_topic: sns.ITopic | None = None,
        topic_key: kms.IKey | None = None,
        heartbeat_period: cdk.Duration | None = None,
        heartbeat_evaluation_periods: int = DEFAULT_EVALUATION_PERIODS,
        heartbeat_datapoints_to_alarm: int = DEFAULT_DATAPOINTS_TO_ALARM,
        heartbeat_suppressor: cw.IAlarm | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if ticket_topic is None:
            if topic_key is None:
                raise ValueError("SloAlarms: topic_key is required when no ticket_topic is given")
            ticket_topic = self._own_ticket_topic(alarm_name_prefix, topic_key)
        self.ticket_topic = ticket_topic
        page_action = cw_actions.SnsAction(page_topic)
        ticket_action = cw_actions.SnsAction(ticket_topic)
        fastest = BURN_RATE_WINDOWS[0]

        self.by_path: dict[str, PathSloAlarms] = {}
        for path in paths:
            alarms = PathSloAlarms()
            for window in BURN_RATE_WINDOWS:
                faster = alarms.composites()
                if len(faster) > 1 and alarms.paging is None:
                    alarms.paging = cw.CompositeAlarm(
                        self,
                        f"Paging-{path.name}",
                        composite_alarm_name=f"{alarm_name_prefix}-{path.name}-SloPaging",
                        alarm_description=(
                            f"path {path.name}: a faster burn-rate alarm is firing (suppresses the slower)"
                        ),
                        alarm_rule=cw.AlarmRule.any_of(*faster),
                    )
                suppressor = alarms.paging if len(faster) > 1 else (faster[0] if faster else None)
                burn = self._pair(
                    namespace, alarm_name_prefix, path, window, suppressor, wait_s=fastest.short_s
                )
                alarms.burn[window.name] = burn
                action = page_action if window.severity == "page" else ticket_action
                burn.composite.add_alarm_action(action)
                burn.composite.add_ok_action(action)
            self.by_path[path.name] = alarms

        self.heartbeats: list[cw.Alarm] = []
        self.silent: cw.CompositeAlarm | None = None
        if heartbeat_period is not None:
            self._heartbeat(
                namespace,
                alarm_name_prefix,
                paths,
                heartbeat_period,
                heartbeat_evaluation_periods,
                heartbeat_datapoints_to_alarm,
                heartbeat_suppressor,
                page_action,
            )

    @property
    def page_alarms(self) -> list[cw.IAlarm]:
        """The composites that page: each path's page pairs, then the heartbeat's (when built)."""
        pages: list[cw.IAlarm] = [
            burn.composite
            for alarms in self.by_path.values()
            for burn in alarms.burn.values()
            if burn.window.severity == "page"
        ]
        return [*pages, self.silent] if self.silent is not None else pages

    def _pair(
        self,
        namespace: str,
        prefix: str,
        path: SloPath,
        window: BurnRateWindow,
        suppressor: cw.IAlarm | None,
        *,
        wait_s: int,
    ) -> BurnRateAlarm:
        threshold = window.threshold(path.objective)
        legs: dict[str, cw.Alarm] = {}
        for leg, seconds in (("Long", window.long_s), ("Short", window.short_s)):
            legs[leg] = cw.Alarm(
                self,
                f"{window.name}{leg}-{path.name}",
                alarm_name=f"{prefix}-{path.name}-{window.name}-{window_label(seconds)}",
                alarm_description=(
                    f"path {path.name}: error rate over {window_label(seconds)} above {threshold:.4g} "
                    f"({window.burn_rate:g}x the {path.objective:g} % SLO's budget). No actions: the "
                    f"composite {window.name} pairs it with the other window."
                ),
                metric=error_rate(namespace, path, cdk.Duration.seconds(seconds)),
                threshold=threshold,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                datapoints_to_alarm=1,
                # No probe is no evidence of a bad stream; silence has its own alarm (the heartbeat).
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
        long, short = legs["Long"], legs["Short"]
        composite = cw.CompositeAlarm(
            self,
            f"{window.name}-{path.name}",
            composite_alarm_name=burn_alarm_name(prefix, path.name, window),
            alarm_description=(
                f"{window.severity.upper()}: path {path.name} burns its error budget at over "
                f"{window.burn_rate:g}x ({window_label(window.long_s)} and {window_label(window.short_s)} "
                f"error rates above {threshold:.4g}; SLO {path.objective:g} %). Check the canary "
                "dashboard's error budget row, then the path's probe log lines (result.error.kind, verdict)."
            ),
            alarm_rule=cw.AlarmRule.all_of(long, short),
            actions_suppressor=suppressor,
            actions_suppressor_wait_period=cdk.Duration.seconds(wait_s) if suppressor else None,
            # As long as this pair can stay in ALARM once the incident is over: its short window.
            actions_suppressor_extension_period=cdk.Duration.seconds(window.short_s) if suppressor else None,
        )
        return BurnRateAlarm(window=window, threshold=threshold, long=long, short=short, composite=composite)

    def _heartbeat(
        self,
        namespace: str,
        prefix: str,
        paths: Sequence[SloPath],
        period: cdk.Duration,
        evaluation_periods: int,
        datapoints_to_alarm: int,
        suppressor: cw.IAlarm | None,
        action: cw_actions.SnsAction,
    ) -> None:
        for path in paths:
            for protocol in path.protocols:
                self.heartbeats.append(
                    cw.Alarm(
                        self,
                        f"Heartbeat-{path.name}-{protocol}",
                        alarm_name=f"{prefix}-{path.name}-{protocol}-Heartbeat",
                        alarm_description=(
                            f"{path.name} over {protocol}: no probe results (the canary stopped running or "
                            "publishing). The burn-rate alarms treat silence as no evidence; this one "
                            "does not."
                        ),
                        metric=canary_metric(
                            namespace, SUCCESS, path.name, protocol, statistic="SampleCount", period=period
                        ),
                        threshold=1,
                        comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                        evaluation_periods=evaluation_periods,
                        datapoints_to_alarm=datapoints_to_alarm,
                        treat_missing_data=cw.TreatMissingData.BREACHING,
                    )
                )
        self.silent = cw.CompositeAlarm(
            self,
            "CanarySilent",
            composite_alarm_name=silent_alarm_name(prefix),
            alarm_description=(
                "The canary publishes nothing for a path: the SLO is blind. Check the canary function's "
                "schedule and its log group."
            ),
            alarm_rule=cw.AlarmRule.any_of(*self.heartbeats),
            # A failing function already pages (its Errors alarm): one page, not two.
            actions_suppressor=suppressor,
            actions_suppressor_wait_period=cdk.Duration.seconds(period.to_seconds() * datapoints_to_alarm)
            if suppressor is not None
            else None,
            actions_suppressor_extension_period=cdk.Duration.seconds(period.to_seconds() * evaluation_periods)
            if suppressor is not None
            else None,
        )
        self.silent.add_alarm_action(action)
        self.silent.add_ok_action(action)

    def _own_ticket_topic(self, prefix: str, key: kms.IKey) -> sns.Topic:
        topic = sns.Topic(
            self,
            "TicketTopic",
            display_name=f"{prefix} stream SLO tickets",
            master_key=key,
            enforce_ssl=True,
        )
        allow_alarms_to_publish(topic)
        return topic
