"""Dashboard widgets of the stream SLO: the row an on-call engineer reads first.

Per path: the error budget left over the SLO window, the burn rates over the page pairs' long windows
(1 h, 6 h), and the hourly burn rate of the last two days against the alarms' own burn rates. Each number
widget has its own time range (``start``) and takes its period from it, so "budget left" is over exactly
the rolling SLO window whatever range the dashboard shows (a widget is not bound by a metric query's
limits on datapoints: one period of 28 days is one datapoint).

A canary in several Regions gets one such row per Region (``region``), the home Region's first: every
widget of a row is evaluated in its Region (the widget's ``region``: its metrics and its math are there,
where that Region's canary publishes), and its titles name the Region. CloudWatch dashboards are global,
so the home Region's dashboard reads the other Regions' metrics by Region and name, with no reference to
their stacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from streampath_canary.burn_rates import SHOWN_BURN_WINDOWS_S, window_label

from streampath_cdk.slo_alarms import BurnRateAlarm
from streampath_cdk.slo_metrics import SloPath, budget_left, burn_rate

#: The burn-rate graph: one point per hour over the last two days.
HISTORY_START: Final = "-P2D"
HISTORY_PERIOD: Final = cdk.Duration.hours(1)


def _iso_duration(seconds: int) -> str:
    """A widget's relative start: 3600 -> ``-PT1H``, 28 days -> ``-P28D``."""
    return f"-P{seconds // 86_400}D" if seconds % 86_400 == 0 else f"-PT{seconds // 3_600}H"


def slo_widgets(
    *,
    namespace: str,
    paths: Sequence[SloPath],
    window_days: int,
    annotations: Sequence[BurnRateAlarm] = (),
    region: str | None = None,
) -> list[cw.IWidget]:
    """One 24-column row: budget left (window) | burn rate per long window | hourly burn rate graph.

    ``annotations``: the burn-rate alarms whose burn rates the graph draws (one per window is enough;
    the burn rates are the same in every Region). ``region``: the Region whose canary the row shows,
    named in its titles (default None: the dashboard's own Region, titles without a Region)."""
    window_s = window_days * 86_400
    where = f" in {region}" if region else ""
    widgets: list[cw.IWidget] = [
        _number(
            f"Error budget left{where}, last {window_days} d (%)",
            budget_left,
            namespace,
            paths,
            window_s,
            8,
            region,
        )
    ]
    for seconds in SHOWN_BURN_WINDOWS_S:
        title = f"Burn rate{where}, last {window_label(seconds)} (1 = on budget)"
        widgets.append(_number(title, burn_rate, namespace, paths, seconds, 5, region))
    seen: set[str] = set()
    lines = []
    for alarm in annotations:
        if alarm.window.name not in seen and alarm.window.severity == "page":
            seen.add(alarm.window.name)
            lines.append(alarm.annotation)
    widgets.append(
        cw.GraphWidget(
            title=f"Burn rate per hour{where}, last 2 days",
            left=[burn_rate(namespace, p, HISTORY_PERIOD) for p in paths],
            left_y_axis=cw.YAxisProps(min=0, show_units=False),
            left_annotations=lines or None,
            start=HISTORY_START,
            width=24 - 8 - 5 * len(SHOWN_BURN_WINDOWS_S),
            height=4,
            region=region,
        )
    )
    return widgets


def _number(
    title: str,
    expression: Callable[[str, SloPath, cdk.Duration], cw.MathExpression],
    namespace: str,
    paths: Sequence[SloPath],
    seconds: int,
    width: int,
    region: str | None,
) -> cw.SingleValueWidget:
    """One value per path over the last ``seconds`` (the widget's own range and period)."""
    return cw.SingleValueWidget(
        title=title,
        metrics=[expression(namespace, p, cdk.Duration.seconds(seconds)) for p in paths],
        start=_iso_duration(seconds),
        set_period_to_time_range=True,
        width=width,
        height=4,
        region=region,
    )
