"""The canary stack's SLO part: ``canary.slo`` and ``canary.alarms.mode`` -> the SLO constructs' props.

- ``mode`` ``slo`` or ``both``: :class:`SloAlarms` per path (the page composites notify the canary's alarm
  topic, the ticket composites ``canary.slo.ticket_topic`` or a topic of their own); in ``slo`` mode also
  the heartbeat, since the threshold alarms (whose ``Success`` alarm breaches on silence) no longer page.
- Any mode with ``canary.slo``: the error-budget row of the dashboard (:func:`slo_widgets`), and with
  ``application_signals`` an Application Signals SLO per path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_sns as sns
from constructs import Construct
from streampath_canary.contract import PathSpec

from streampath.config.canary import CanaryConfig, CanaryPathConfig
from streampath_cdk.canary_alarms import CanaryAlarms
from streampath_cdk.slo_alarms import SloAlarms
from streampath_cdk.slo_application_signals import ApplicationSignalsSlos
from streampath_cdk.slo_metrics import SloPath
from streampath_cdk.slo_widgets import slo_widgets


def slo_paths(
    canary: CanaryConfig, config_paths: Sequence[CanaryPathConfig], specs: Sequence[PathSpec]
) -> list[SloPath]:
    """Each probed path with its objective (its own ``slo.objective`` or ``canary.slo``'s)."""
    assert canary.slo is not None
    objectives = {p.name: canary.slo.for_path(p.slo).objective for p in config_paths}
    return [SloPath(name=s.name, protocols=tuple(s.protocols), objective=objectives[s.name]) for s in specs]


@dataclass
class CanarySlo:
    """What :func:`add_slo` built (None / empty where the config asks for none)."""

    alarms: SloAlarms | None = None
    application_signals: ApplicationSignalsSlos | None = None
    widgets: list[cw.IWidget] = field(default_factory=list)


def add_slo(
    scope: Construct,
    *,
    canary: CanaryConfig,
    config_paths: Sequence[CanaryPathConfig],
    specs: Sequence[PathSpec],
    alarm_name_prefix: str,
    threshold_alarms: CanaryAlarms,
    period: cdk.Duration,
) -> CanarySlo:
    slo = canary.slo
    if slo is None:
        return CanarySlo()
    paths = slo_paths(canary, config_paths, specs)
    built = CanarySlo()
    region = cdk.Stack.of(scope).region
    if canary.alarms.mode in ("slo", "both"):
        # An existing topic serves only its own Region (alarm actions are same-Region topics).
        ticket = (
            sns.Topic.from_topic_arn(scope, "SloTicketTopic", slo.ticket_topic)
            if slo.ticket_topic is not None and slo.ticket_topic.split(":")[3] == region
            else None
        )
        silence_watched = canary.alarms.mode == "both"
        built.alarms = SloAlarms(
            scope,
            "SloAlarms",
            namespace=canary.namespace,
            alarm_name_prefix=alarm_name_prefix,
            paths=paths,
            page_topic=threshold_alarms.topic,
            ticket_topic=ticket,
            topic_key=threshold_alarms.key,
            heartbeat_period=None if silence_watched else period,
            heartbeat_evaluation_periods=canary.alarms.evaluation_periods,
            heartbeat_datapoints_to_alarm=canary.alarms.datapoints_to_alarm,
            heartbeat_suppressor=threshold_alarms.composite,
        )
    if slo.application_signals:
        built.application_signals = ApplicationSignalsSlos(
            scope,
            "ApplicationSignalsSlos",
            namespace=canary.namespace,
            name_prefix=alarm_name_prefix,
            paths=paths,
            window_days=slo.window_days,
        )
    built.widgets = slo_widgets(
        namespace=canary.namespace,
        paths=paths,
        window_days=slo.window_days,
        annotations=[b for p in built.alarms.by_path.values() for b in p.burn.values()]
        if built.alarms
        else [],
    )
    return built
