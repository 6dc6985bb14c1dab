"""The streaming canary in one construct: the scheduled function, its alarms and its dashboard, composed.

The parts stay constructs of their own, each usable alone, and :class:`StreamingCanary` exposes each
(``.canary``, ``.alarms``, ``.dashboard``), the way
cdk-monitoring-constructs' facades expose what they build. The alarms are built from what the function
publishes (its spec: paths, protocols, namespace; its schedule: one datapoint per run), and the dashboard
from the alarms (their metrics, thresholds and annotations), so no value is passed twice.

:func:`compose_canary` is that composition for a scope of the caller's own: a stack whose resource paths
must not gain a level (the project's canary stacks, whose templates are fixed) composes the same parts
directly in itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Required, TypedDict

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct
from streampath_canary.contract import AlarmThresholds, PathSpec
from typing_extensions import Unpack

from streampath_cdk.canary_alarms import CanaryAlarms
from streampath_cdk.canary_dashboard import CanaryDashboard, RegionSeries
from streampath_cdk.canary_function import CanaryFunction, VpcPlacement
from streampath_cdk.local_bundling import LocalPythonBundler


class CanaryFunctionProps(TypedDict, total=False):
    """:class:`CanaryFunction`'s optional props (each documented, with its default, there)."""

    namespace: str
    schedule_period: cdk.Duration
    timeout: cdk.Duration
    probe_timeout: cdk.Duration
    max_duration: cdk.Duration
    memory_size: int
    log_retention: logs.RetentionDays
    vpc_placement: VpcPlacement | None
    bundler: LocalPythonBundler
    chain: Sequence[str]
    function_name: str | None


@dataclass(frozen=True)
class CanaryParts:
    canary: CanaryFunction
    alarms: CanaryAlarms
    #: None where no dashboard was asked for (``dashboard_name`` None).
    dashboard: CanaryDashboard | None


def compose_canary(
    scope: Construct,
    *,
    paths: Sequence[PathSpec],
    alarm_name_prefix: str,
    dashboard_name: str | None,
    thresholds: AlarmThresholds | None = None,
    notify_emails: Sequence[str] = (),
    region_label: str | None = None,
    other_regions: Sequence[RegionSeries] = (),
    page_on_thresholds: bool = True,
    **function_props: Unpack[CanaryFunctionProps],
) -> CanaryParts:
    """``Canary`` (the function), ``Alarms`` and ``Dashboard`` in ``scope`` (see :class:`StreamingCanary`)."""
    canary = CanaryFunction(scope, "Canary", paths=paths, **function_props)
    alarms = CanaryAlarms(
        scope,
        "Alarms",
        namespace=canary.spec.namespace,
        alarm_name_prefix=alarm_name_prefix,
        paths=canary.spec.paths,
        function=canary.function,
        period=canary.schedule_period,
        thresholds=thresholds,
        notify_emails=notify_emails,
        region_label=region_label,
        page_on_thresholds=page_on_thresholds,
    )
    dashboard = (
        CanaryDashboard(
            scope, "Dashboard", alarms=alarms, dashboard_name=dashboard_name, other_regions=other_regions
        )
        if dashboard_name is not None
        else None
    )
    return CanaryParts(canary, alarms, dashboard)


class StreamingCanaryProps(CanaryFunctionProps, total=False):
    """:class:`StreamingCanary`'s props: :func:`compose_canary`'s keyword arguments."""

    paths: Required[Sequence[PathSpec]]
    alarm_name_prefix: Required[str]
    dashboard_name: Required[str | None]
    thresholds: AlarmThresholds | None
    notify_emails: Sequence[str]
    region_label: str | None
    other_regions: Sequence[RegionSeries]
    page_on_thresholds: bool


class StreamingCanary(Construct):
    """A scheduled streaming canary with its alarms, SNS topic and dashboard.

    Props (keyword-only):

    - ``paths``: what to probe (required; the contract's :class:`PathSpec`, names become the ``Path``
      dimension).
    - ``alarm_name_prefix``: every alarm's name starts with it (required).
    - ``dashboard_name``: the dashboard's name (required; None: no dashboard, as in a canary whose
      metrics another Region's dashboard shows).
    - ``thresholds``: what the alarms fire on. Default: the contract's (1000 ms buffering delay, 5000 ms
      first event, 3 of 5 runs).
    - ``notify_emails``: subscribed to the alarm topic. Default none (subscribe to ``.topic`` yourself).
    - ``region_label``: put into the composite alarms' descriptions (a canary in several Regions).
      Default none.
    - ``other_regions``: the same canary's other Regions, drawn on this dashboard. Default none.
    - Every :class:`CanaryFunction` prop (``namespace``, ``schedule_period``, ``timeout``, ...), with its
      defaults.
    """

    def __init__(self, scope: Construct, construct_id: str, **props: Unpack[StreamingCanaryProps]) -> None:
        super().__init__(scope, construct_id)
        parts = compose_canary(self, **props)
        #: The scheduled function (``.canary.function``, ``.canary.spec``, ``.canary.log_group``, ...).
        self.canary = parts.canary
        #: The alarms (``.alarms.topic``, ``.alarms.composite``, ``.alarms.by_path[name]``, ...).
        self.alarms = parts.alarms
        #: The dashboard (None without ``dashboard_name``).
        self.dashboard = parts.dashboard
