"""The canary dashboard: one row per path, h1 and h2 side by side in every graph.

Row layout (24 columns): TimeToFirstByte | TimeToFirstEvent | BufferingDelay | Success | alarm status |
what-to-do text. A header row explains the metrics and shows the function's own health.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from streampath_canary.contract import (
    BUFFERING_DELAY,
    METRIC_UNITS,
    PROTOCOL_LABELS,
    SUCCESS,
    TIME_TO_FIRST_BYTE,
    TIME_TO_FIRST_EVENT,
    ProtocolName,
)

from streampath_cdk.canary_alarms import (
    DEFAULT_BUFFERING_DELAY_MS,
    DEFAULT_DATAPOINTS_TO_ALARM,
    DEFAULT_EVALUATION_PERIODS,
    DEFAULT_TIME_TO_FIRST_EVENT_MS,
    AlarmedPath,
    PathAlarms,
    canary_metric,
)

_PROTOCOL_COLORS: dict[ProtocolName, str] = {"h1": cw.Color.BLUE, "h2": cw.Color.ORANGE}

INTRO = """\
## streampath canary: does each path stream?
Every {minutes} min the canary opens an SSE stream on each path over HTTP/1.1 (**h1**, blue) and
HTTP/2 (**h2**, orange) and measures it. Namespace `{namespace}`, dimensions `Path` and `Protocol`.

* **TimeToFirstByte**: request sent -> first response byte (the backend and the network).
* **TimeToFirstEvent**: request sent -> first complete SSE event. Much larger than TTFB = held.
* **BufferingDelay**: spread of (arrival - send time) over the events. ~0 = streamed; about the
  stream's length = fully buffered by something in between.
* **Success**: 1 when the probe got a judged stream, 0 on any error (see the log line's `error.kind`).
"""

PATH_TEXT = """\
### {name}
Alarms: buffering > {buffering} ms, first event > {first_event} ms, success < 1
({m} of {n} periods; no data counts as breaching).

**If it buffers**: check which protocol. Only h2 = the HTTP/2 front end; both = a proxy or
compression. Run `streamprobe doctor <url>` and read its diagnosis.
"""


class CanaryDashboard(Construct):
    """``.dashboard``: a CloudWatch dashboard over the canary metrics and alarms.

    Props (keyword-only): ``dashboard_name``, ``namespace``, ``paths``, ``alarms`` (``CanaryAlarms.by_path``),
    ``function_alarms`` (shown in the header row), ``function`` (the canary function), ``period`` (the
    schedule period: one datapoint per run). The thresholds are only drawn and described here; pass the
    alarms' own (same defaults as :class:`CanaryAlarms`: 1000 ms, 5000 ms, 3 of 5 periods).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        namespace: str,
        paths: Sequence[AlarmedPath],
        alarms: Mapping[str, PathAlarms],
        function_alarms: Sequence[cw.IAlarm],
        function: lambda_.IFunction,
        period: cdk.Duration,
        buffering_delay_ms: int = DEFAULT_BUFFERING_DELAY_MS,
        time_to_first_event_ms: int = DEFAULT_TIME_TO_FIRST_EVENT_MS,
        evaluation_periods: int = DEFAULT_EVALUATION_PERIODS,
        datapoints_to_alarm: int = DEFAULT_DATAPOINTS_TO_ALARM,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=cdk.Duration.hours(3),
            period_override=cw.PeriodOverride.INHERIT,
        )
        self.dashboard.add_widgets(
            cw.TextWidget(
                markdown=INTRO.format(minutes=f"{period.to_minutes():g}", namespace=namespace),
                width=12,
                height=6,
            ),
            cw.GraphWidget(
                title="Canary function: errors, throttles, duration",
                left=[function.metric_errors(period=period), function.metric_throttles(period=period)],
                right=[function.metric_duration(period=period, statistic="Maximum")],
                width=6,
                height=6,
            ),
            cw.AlarmStatusWidget(
                title="Canary function alarms", alarms=list(function_alarms), width=6, height=6
            ),
        )

        def graph(
            title: str, metric_name: str, path: AlarmedPath, statistic: str, threshold: int | None
        ) -> cw.GraphWidget:
            return cw.GraphWidget(
                title=f"{path.name}: {title}",
                left=[
                    canary_metric(
                        namespace,
                        metric_name,
                        path.name,
                        protocol,
                        statistic=statistic,
                        period=period,
                        label=PROTOCOL_LABELS[protocol],
                    ).with_(color=_PROTOCOL_COLORS[protocol])
                    for protocol in path.protocols
                ],
                left_y_axis=cw.YAxisProps(
                    min=0, label="ms" if METRIC_UNITS[metric_name] == "Milliseconds" else "", show_units=False
                ),
                left_annotations=(
                    [cw.HorizontalAnnotation(value=threshold, label="alarm threshold", color=cw.Color.RED)]
                    if threshold is not None
                    else None
                ),
                width=4,
                height=6,
            )

        for path in paths:
            path_alarms = alarms[path.name]
            self.dashboard.add_widgets(
                graph("time to first byte (avg)", TIME_TO_FIRST_BYTE, path, "Average", None),
                graph(
                    "time to first event (max)", TIME_TO_FIRST_EVENT, path, "Maximum", time_to_first_event_ms
                ),
                graph("buffering delay (max)", BUFFERING_DELAY, path, "Maximum", buffering_delay_ms),
                graph("success (min)", SUCCESS, path, "Minimum", None),
                cw.AlarmStatusWidget(
                    title=f"{path.name}: alarms",
                    alarms=[*([path_alarms.degraded] if path_alarms.degraded else []), *path_alarms.all()],
                    width=4,
                    height=6,
                ),
                cw.TextWidget(
                    markdown=PATH_TEXT.format(
                        name=path.name,
                        buffering=buffering_delay_ms,
                        first_event=time_to_first_event_ms,
                        m=datapoints_to_alarm,
                        n=evaluation_periods,
                    ),
                    width=4,
                    height=6,
                ),
            )
