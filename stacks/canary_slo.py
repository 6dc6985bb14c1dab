"""The canary stack's SLO part: ``canary.slo`` and ``canary.alarms.mode`` -> the SLO constructs' props.

- ``mode`` ``slo`` or ``both``: :class:`SloAlarms` per path (the page composites notify the canary's alarm
  topic, the ticket composites ``canary.slo.ticket_topic`` or a topic of their own); in ``slo`` mode also
  the heartbeat, since the threshold alarms (whose ``Success`` alarm breaches on silence) no longer page.
- Any mode with ``canary.slo``: the error-budget row of the dashboard (:func:`slo_widgets`), one per
  Region the canary runs in (the home Region's first), and with ``application_signals`` an Application
  Signals SLO per path.

In several Regions each Region's stack builds its own SLO alarms (alarms are regional); the home Region's
pages for the others' by name (:func:`remote_page_alarm_names`), as it does for their threshold
composites (``CanaryStack``: EventBridge forwarding, docs/regions.md).
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
from streampath_cdk.canary_dashboard import RegionSeries
from streampath_cdk.slo_alarms import SloAlarms, page_alarm_names
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


def burn_rates_page(canary: CanaryConfig) -> bool:
    """Whether the burn-rate alarms are built (and page): ``canary.slo`` set, mode ``slo`` or ``both``."""
    return canary.slo is not None and canary.alarms.mode in ("slo", "both")


def heartbeat_pages(canary: CanaryConfig) -> bool:
    """Whether the SLO's heartbeat pages for silence: in ``slo`` mode only (in ``both`` the threshold
    alarms, which breach on missing data, still page for it)."""
    return burn_rates_page(canary) and canary.alarms.mode == "slo"


def remote_page_alarm_names(canary: CanaryConfig, alarm_name_prefix: str, paths: Sequence[str]) -> list[str]:
    """The names of the SLO alarms that page in a Region whose alarms start with ``alarm_name_prefix``
    and probe ``paths`` (none when the burn rates do not page)."""
    if not burn_rates_page(canary):
        return []
    return page_alarm_names(alarm_name_prefix, paths, heartbeat=heartbeat_pages(canary))


@dataclass
class CanarySlo:
    """What :func:`add_slo` built (None / empty where the config asks for none)."""

    alarms: SloAlarms | None = None
    application_signals: ApplicationSignalsSlos | None = None
    #: The dashboard's top: the home Region's row of widgets, then each other Region's.
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
    other_regions: Sequence[RegionSeries] = (),
) -> CanarySlo:
    """The SLO's alarms and Application Signals SLOs for this Region's paths, and the dashboard rows of
    this Region and ``other_regions`` (the home Region's stack passes the others' canaries)."""
    slo = canary.slo
    if slo is None:
        return CanarySlo()
    paths = slo_paths(canary, config_paths, specs)
    built = CanarySlo()
    region = cdk.Stack.of(scope).region
    if burn_rates_page(canary):
        # An existing topic serves only its own Region (alarm actions are same-Region topics).
        ticket = (
            sns.Topic.from_topic_arn(scope, "SloTicketTopic", slo.ticket_topic)
            if slo.ticket_topic is not None and slo.ticket_topic.split(":")[3] == region
            else None
        )
        built.alarms = SloAlarms(
            scope,
            "SloAlarms",
            namespace=canary.namespace,
            alarm_name_prefix=alarm_name_prefix,
            paths=paths,
            page_topic=threshold_alarms.topic,
            ticket_topic=ticket,
            topic_key=threshold_alarms.key,
            heartbeat_period=period if heartbeat_pages(canary) else None,
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
    annotations = [b for p in built.alarms.by_path.values() for b in p.burn.values()] if built.alarms else []
    rows = [
        slo_widgets(
            namespace=canary.namespace,
            paths=region_paths,
            window_days=slo.window_days,
            annotations=annotations,
            region=region,
        )
        for region, region_paths in (
            # The home Region's row names its Region too when other Regions' rows follow it.
            (region if other_regions else None, paths),
            *((o.region, slo_paths(canary, canary.paths, o.paths)) for o in other_regions),
        )
    ]
    # Each row is the grid's full 24 columns, so the dashboard (whose row wraps at 24) lays out one
    # Region a line.
    built.widgets = [widget for row in rows for widget in row]
    return built
