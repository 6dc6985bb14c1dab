"""The canary dashboard: a summary an on-call engineer reads at a glance, then one row per path.

The summary (top): the intro (what the metrics mean, the alarm rules, what to do when a path buffers:
written once) | one graph of the buffering delay of every path and protocol on one axis and with one
statistic (Maximum, as everywhere on the dashboard): one hue per path, dark for h1 and light for h2
(h3 green, as everywhere), the legend on the right so ten paths stay legible | the canary function's
health; then a row of each path's Degraded status, with the function's alarms.

Per-path rows (24 columns), h1 and h2 (and h3 where probed) side by side in every graph:
TimeToFirstByte | TimeToFirstEvent | BufferingDelay | inter-event gaps (InterEventGapP99,
MaxInterEventGap) | Success | alarm status. Only a path probed over h3 adds a note of its own (what only
h3 buffering means); the rest is said once, in the intro.

With canaries in several Regions (``regions``) the one dashboard, in the home Region, shows them all:
CloudWatch dashboards are global and every metric names its Region, so nothing refers to another Region's
stack (metrics by namespace, name, dimensions and Region only). The header row shows each Region's
function; then a comparison row per pair of paths: buffering delay and time to first event with one line
per Region (over the path's browser protocol: h2 where probed); then the per-path rows, one line per
Region x protocol. Alarms are regional: the alarm widgets show the home Region's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from streampath_canary.contract import (
    BUFFERING_DELAY,
    INTER_EVENT_GAP_P99,
    MAX_INTER_EVENT_GAP,
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

_PROTOCOL_COLORS: dict[ProtocolName, str] = {"h1": cw.Color.BLUE, "h2": cw.Color.ORANGE, "h3": cw.Color.GREEN}
#: The lighter shade of each protocol's colour, for the max gap next to the p99.
_PROTOCOL_MAX_COLORS: dict[ProtocolName, str] = {"h1": "#aec7e8", "h2": "#ffbb78", "h3": "#98df8a"}
#: One hue per Region (in config order), a dark shade for h1 and a light one for h2; cycles after ten.
REGION_COLORS: Final = (
    ("#1f77b4", "#aec7e8"),
    ("#ff7f0e", "#ffbb78"),
    ("#2ca02c", "#98df8a"),
    ("#d62728", "#ff9896"),
    ("#9467bd", "#c5b0d5"),
    ("#8c564b", "#c49c94"),
    ("#e377c2", "#f7b6d2"),
    ("#7f7f7f", "#c7c7c7"),
    ("#bcbd22", "#dbdb8d"),
    ("#17becf", "#9edae5"),
)
#: Graph widgets of the multi-Region layout: 6 per 24-column row.
GRAPH_WIDTH: Final = 4
GRAPH_HEIGHT: Final = 6


@dataclass(frozen=True)
class RegionSeries:
    """One Region's canary as the dashboard shows it: the Region, the paths it probes, and its function's
    name (None: the dashboard's own ``function``, the home Region's)."""

    region: str
    paths: Sequence[AlarmedPath]
    function_name: str | None = None

    def protocols_of(self, path: str) -> tuple[ProtocolName, ...]:
        for alarmed in self.paths:
            if alarmed.name == path:
                return tuple(alarmed.protocols)
        return ()


def region_color(index: int, protocol: ProtocolName) -> str:
    """The Region's dark shade for h1, its light one for h2, and halfway between them for h3."""
    dark, light = REGION_COLORS[index % len(REGION_COLORS)]
    if protocol == "h3":
        mixed = (round((int(dark[i : i + 2], 16) + int(light[i : i + 2], 16)) / 2) for i in (1, 3, 5))
        return "#" + "".join(f"{channel:02x}" for channel in mixed)
    return dark if protocol == "h1" else light


def browser_protocol(protocols: Sequence[ProtocolName]) -> ProtocolName:
    """What a browser would use of the probed protocols: h2 where probed (HTTPS), else h1."""
    return "h2" if "h2" in protocols else "h1"


INTRO = """\
## streampath canary: does each path stream?
Every {minutes} min the canary opens an SSE stream on each path over {protocols} and measures it. \
Namespace `{namespace}`, dimensions `Path` and `Protocol`.

* **TimeToFirstByte**: request sent -> first response byte (the backend and the network).
* **TimeToFirstEvent**: request sent -> first complete SSE event. Much larger than TTFB = held.
* **BufferingDelay**: spread of (arrival - send time) over the events. ~0 = streamed; about the
  stream's length = fully buffered by something in between.
* **Inter-event gap** p99 (solid) and max (light): time between consecutive events' arrivals (an AI
  chat's inter-token latency). A max near the buffering delay = the stream arrives in blocks.
* **Success**: 1 when the probe got a judged stream, 0 on any error (see the log line's `error.kind`).

Alarms (every path): buffering > {buffering} ms, first event > {first_event} ms, success < 1 ({m} of {n}
periods; no data counts as breaching); a path's **Degraded** is any of them.
**If a path buffers**: check which protocol. Only h2 = the HTTP/2 front end; both = a proxy or
compression. `streamprobe trace` (or `canary.chain`, read by `streampath status`) names the hop where
it starts; `streamprobe doctor <url>` gives the cause and the fix.
"""
SUMMARY_TITLE = "Buffering delay: every path and protocol (max)"
DEGRADED_TITLE = "Degraded: each path, and the canary function"

PATH_TEXT = """\
### {name}
Alarms: buffering > {buffering} ms, first event > {first_event} ms, success < 1
({m} of {n} periods; no data counts as breaching).{regions}

**If it buffers**: check which protocol. Only h2 = the HTTP/2 front end; both = a proxy or
compression. Run `streamprobe doctor <url>` and read its diagnosis.
"""
#: The intro's protocols: h3 is named only on a dashboard with an h3 path.
INTRO_PROTOCOLS = "HTTP/1.1 (**h1**, blue) and\nHTTP/2 (**h2**, orange)"
INTRO_PROTOCOLS_H3 = "HTTP/1.1 (**h1**, blue),\nHTTP/2 (**h2**, orange) and HTTP/3 (**h3**, green)"
#: The note of a path probed over h3 (the only per-path note): ``### <name>`` then this.
PATH_TEXT_H3 = """\
Only h3 = the HTTP/3 (QUIC) edge: browsers that switched to it from the `Alt-Svc` get the stream
held; `streamprobe doctor <url>` adds an HTTP/3 row.
"""
MULTI_REGION_INTRO_H3 = "HTTP/3 (**h3**) lines take the shade halfway between the two.\n"


def path_text_h3(protocols: Sequence[ProtocolName]) -> str:
    """:data:`PATH_TEXT_H3` for a path probed over h3, else nothing."""
    return PATH_TEXT_H3 if "h3" in protocols else ""


#: The summary's hues, one per path (dark for h1, light for h2), cycling after ten: no green (h3 is green
#: on the whole dashboard) and no red (the alarm threshold's).
PATH_COLORS: Final = (
    ("#1f77b4", "#aec7e8"),
    ("#ff7f0e", "#ffbb78"),
    ("#9467bd", "#c5b0d5"),
    ("#8c564b", "#c49c94"),
    ("#e377c2", "#f7b6d2"),
    ("#7f7f7f", "#c7c7c7"),
    ("#bcbd22", "#dbdb8d"),
    ("#17becf", "#9edae5"),
    ("#393b79", "#9c9ede"),
    ("#843c39", "#e7969c"),
)


def path_color(index: int, protocol: ProtocolName) -> str:
    """A summary line's colour: the path's hue, dark for h1 and light for h2; h3 is the dashboard's green."""
    if protocol == "h3":
        return _PROTOCOL_COLORS["h3"]
    dark, light = PATH_COLORS[index % len(PATH_COLORS)]
    return dark if protocol == "h1" else light


class CanaryDashboard(Construct):
    """``.dashboard``: a CloudWatch dashboard over the canary metrics and alarms.

    Props (keyword-only): ``dashboard_name``, ``namespace``, ``paths``, ``alarms`` (``CanaryAlarms.by_path``),
    ``function_alarms`` (shown in the header row), ``function`` (the canary function), ``period`` (the
    schedule period: one datapoint per run). The thresholds are only drawn and described here; pass the
    alarms' own (same defaults as :class:`CanaryAlarms`: 1000 ms, 5000 ms, 3 of 5 periods).
    ``regions``: every Region's canary, the home Region (this stack's, whose ``paths`` and ``alarms``
    these are) first; two or more give the multi-Region layout. Default: this Region only.
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
        regions: Sequence[RegionSeries] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=cdk.Duration.hours(3),
            period_override=cw.PeriodOverride.INHERIT,
        )
        if len(regions) > 1:
            MultiRegionLayout(
                self.dashboard,
                namespace=namespace,
                regions=regions,
                alarms=alarms,
                function_alarms=function_alarms,
                function=function,
                period=period,
                thresholds=Thresholds(
                    buffering_delay_ms, time_to_first_event_ms, evaluation_periods, datapoints_to_alarm
                ),
            ).add_all()
            return
        intro = INTRO.format(
            minutes=f"{period.to_minutes():g}",
            namespace=namespace,
            protocols=(INTRO_PROTOCOLS_H3 if any("h3" in p.protocols for p in paths) else INTRO_PROTOCOLS),
            buffering=buffering_delay_ms,
            first_event=time_to_first_event_ms,
            m=datapoints_to_alarm,
            n=evaluation_periods,
        )
        summary = cw.GraphWidget(
            title=SUMMARY_TITLE,
            left=[
                canary_metric(
                    namespace,
                    BUFFERING_DELAY,
                    path.name,
                    protocol,
                    statistic="Maximum",
                    period=period,
                    label=f"{path.name} {PROTOCOL_LABELS[protocol]}",
                ).with_(color=path_color(index, protocol))
                for index, path in enumerate(paths)
                for protocol in path.protocols
            ],
            left_y_axis=cw.YAxisProps(min=0, label="ms", show_units=False),
            left_annotations=[
                cw.HorizontalAnnotation(value=buffering_delay_ms, label="alarm threshold", color=cw.Color.RED)
            ],
            legend_position=cw.LegendPosition.RIGHT,
            width=12,
            height=7,
        )
        self.dashboard.add_widgets(
            cw.TextWidget(markdown=intro, width=7, height=7),
            summary,
            cw.GraphWidget(
                title="Canary function: errors, throttles, duration",
                left=[function.metric_errors(period=period), function.metric_throttles(period=period)],
                right=[function.metric_duration(period=period, statistic="Maximum")],
                width=5,
                height=7,
            ),
        )
        degraded = [alarms[p.name].degraded for p in paths if alarms[p.name].degraded is not None]
        self.dashboard.add_widgets(
            cw.AlarmStatusWidget(
                title=DEGRADED_TITLE,
                alarms=[*(a for a in degraded if a is not None), *function_alarms],
                width=24,
                height=3,
            )
        )

        def graph(
            title: str,
            metric_name: str,
            path: AlarmedPath,
            statistic: str,
            threshold: int | None,
            width: int = 4,
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
                width=width,
                height=6,
            )

        def gaps(path: AlarmedPath) -> cw.GraphWidget:
            """Next to the buffering delay: the stream's shape, p99 and max gap between events."""
            lines = [
                canary_metric(
                    namespace,
                    metric_name,
                    path.name,
                    protocol,
                    statistic="Maximum",
                    period=period,
                    label=f"{PROTOCOL_LABELS[protocol]} {what}",
                ).with_(color=color)
                for protocol in path.protocols
                for metric_name, what, color in (
                    (INTER_EVENT_GAP_P99, "p99", _PROTOCOL_COLORS[protocol]),
                    (MAX_INTER_EVENT_GAP, "max", _PROTOCOL_MAX_COLORS[protocol]),
                )
            ]
            return cw.GraphWidget(
                title=f"{path.name}: inter-event gap (p99, max)",
                left=lines,
                left_y_axis=cw.YAxisProps(min=0, label="ms", show_units=False),
                width=4,
                height=6,
            )

        for path in paths:
            path_alarms = alarms[path.name]
            # A path with a note of its own (h3) makes room for it; the others use the whole width.
            note = path_text_h3(path.protocols)
            narrow, wide = (3, 4) if note else (4, 4)
            row: list[cw.IWidget] = [
                graph("time to first byte (avg)", TIME_TO_FIRST_BYTE, path, "Average", None, width=narrow),
                graph(
                    "time to first event (max)",
                    TIME_TO_FIRST_EVENT,
                    path,
                    "Maximum",
                    time_to_first_event_ms,
                    width=narrow,
                ),
                graph(
                    "buffering delay (max)", BUFFERING_DELAY, path, "Maximum", buffering_delay_ms, width=wide
                ),
                gaps(path),
                graph("success (min)", SUCCESS, path, "Minimum", None, width=narrow),
                cw.AlarmStatusWidget(
                    title=f"{path.name}: alarms",
                    alarms=[*([path_alarms.degraded] if path_alarms.degraded else []), *path_alarms.all()],
                    width=narrow,
                    height=6,
                ),
            ]
            if note:
                row.append(cw.TextWidget(markdown=f"### {path.name}\n" + note, width=4, height=6))
            self.dashboard.add_widgets(*row)


@dataclass(frozen=True)
class Thresholds:
    buffering_delay_ms: int
    time_to_first_event_ms: int
    evaluation_periods: int
    datapoints_to_alarm: int


MULTI_REGION_INTRO = """\
## streampath canary in {count} Regions: does each path stream from everywhere?
Every {minutes} min a canary in each Region ({regions}) opens an SSE stream on each path over HTTP/1.1
(**h1**, dark) and HTTP/2 (**h2**, light), one colour per Region. Namespace `{namespace}`, dimensions `Path`
and `Protocol`; each Region's canary publishes in its own Region. The first rows compare the Regions
(over h2 where probed); then one row per path. Alarms are regional: the alarm widgets here are {home}'s;
each other Region's stack has its own, and `streampath status` lists them all.
"""


class MultiRegionLayout:
    """The widgets of a dashboard over several Regions' canaries (see the module docstring)."""

    def __init__(
        self,
        dashboard: cw.Dashboard,
        *,
        namespace: str,
        regions: Sequence[RegionSeries],
        alarms: Mapping[str, PathAlarms],
        function_alarms: Sequence[cw.IAlarm],
        function: lambda_.IFunction,
        period: cdk.Duration,
        thresholds: Thresholds,
    ) -> None:
        self.dashboard = dashboard
        self.namespace = namespace
        self.regions = tuple(regions)
        self.alarms = alarms
        self.function_alarms = list(function_alarms)
        self.function = function
        self.period = period
        self.thresholds = thresholds
        # Every path of every Region, in the order the Regions list them (home first).
        self.paths: list[str] = list(dict.fromkeys(p.name for r in self.regions for p in r.paths))

    def add_all(self) -> None:
        self.dashboard.add_widgets(*self.header())
        self.dashboard.add_widgets(*self.comparison())
        for path in self.paths:
            self.dashboard.add_widgets(*self.path_row(path))

    # --- rows ----------------------------------------------------------------------------------------

    def header(self) -> list[cw.IWidget]:
        home = self.regions[0].region
        intro = MULTI_REGION_INTRO.format(
            count=len(self.regions),
            minutes=f"{self.period.to_minutes():g}",
            regions=", ".join(r.region for r in self.regions),
            namespace=self.namespace,
            home=home,
        )
        if any("h3" in p.protocols for r in self.regions for p in r.paths):
            intro += MULTI_REGION_INTRO_H3
        errors: list[cw.IMetric] = []
        durations: list[cw.IMetric] = []
        for index, series in enumerate(self.regions):
            color = region_color(index, "h1")
            errors.append(self._function_metric(series, "Errors", "Sum").with_(color=color))
            throttles = self._function_metric(series, "Throttles", "Sum")
            errors.append(throttles.with_(color=region_color(index, "h2")))
            durations.append(self._function_metric(series, "Duration", "Maximum").with_(color=color))
        return [
            cw.TextWidget(markdown=intro, width=8, height=GRAPH_HEIGHT),
            cw.GraphWidget(
                title="Canary functions: errors (dark) and throttles (light) by Region",
                left=errors,
                left_y_axis=cw.YAxisProps(min=0, show_units=False),
                width=5,
                height=GRAPH_HEIGHT,
            ),
            cw.GraphWidget(
                title="Canary functions: run duration (max) by Region",
                left=durations,
                left_y_axis=cw.YAxisProps(min=0, label="ms", show_units=False),
                width=5,
                height=GRAPH_HEIGHT,
            ),
            cw.AlarmStatusWidget(
                title=f"Canary alarms in {home}", alarms=self.function_alarms, width=6, height=GRAPH_HEIGHT
            ),
        ]

    def comparison(self) -> list[cw.IWidget]:
        """Per path probed from two Regions or more: buffering delay and time to first event, one line per
        Region, over the path's browser protocol."""
        widgets: list[cw.IWidget] = []
        for path in self.paths:
            probing = [(i, r) for i, r in enumerate(self.regions) if r.protocols_of(path)]
            if len(probing) < 2:
                continue
            for title, metric_name, threshold in (
                ("buffering delay", BUFFERING_DELAY, self.thresholds.buffering_delay_ms),
                ("time to first event", TIME_TO_FIRST_EVENT, self.thresholds.time_to_first_event_ms),
            ):
                lines = []
                for index, series in probing:
                    protocol = browser_protocol(series.protocols_of(path))
                    lines.append(
                        self._canary_metric(metric_name, path, protocol, series.region, "Maximum").with_(
                            label=f"{series.region} {protocol}", color=region_color(index, "h1")
                        )
                    )
                widgets.append(self._graph(f"{path}: {title} by Region (max)", metric_name, lines, threshold))
        return widgets

    def path_row(self, path: str) -> list[cw.IWidget]:
        def graph(title: str, metric_name: str, statistic: str, threshold: int | None) -> cw.GraphWidget:
            lines = [
                self._canary_metric(metric_name, path, protocol, series.region, statistic).with_(
                    label=f"{series.region} {protocol}", color=region_color(index, protocol)
                )
                for index, series in enumerate(self.regions)
                for protocol in series.protocols_of(path)
            ]
            return self._graph(f"{path}: {title}", metric_name, lines, threshold)

        probed_from = [r.region for r in self.regions if r.protocols_of(path)]
        t = self.thresholds
        widgets: list[cw.IWidget] = [
            graph("time to first byte (avg)", TIME_TO_FIRST_BYTE, "Average", None),
            graph("time to first event (max)", TIME_TO_FIRST_EVENT, "Maximum", t.time_to_first_event_ms),
            graph("buffering delay (max)", BUFFERING_DELAY, "Maximum", t.buffering_delay_ms),
            graph("success (min)", SUCCESS, "Minimum", None),
        ]
        path_alarms = self.alarms.get(path)
        home = self.regions[0].region
        if path_alarms is not None:
            widgets.append(
                cw.AlarmStatusWidget(
                    title=f"{path}: alarms in {home}",
                    alarms=[*([path_alarms.degraded] if path_alarms.degraded else []), *path_alarms.all()],
                    width=GRAPH_WIDTH,
                    height=GRAPH_HEIGHT,
                )
            )
        widgets.append(
            cw.TextWidget(
                markdown=PATH_TEXT.format(
                    name=path,
                    buffering=t.buffering_delay_ms,
                    first_event=t.time_to_first_event_ms,
                    m=t.datapoints_to_alarm,
                    n=t.evaluation_periods,
                    regions=f"\nProbed from {', '.join(probed_from)}; each Region alarms on its own.",
                )
                + path_text_h3([p for r in self.regions for p in r.protocols_of(path)]),
                width=GRAPH_WIDTH if path_alarms is not None else 2 * GRAPH_WIDTH,
                height=GRAPH_HEIGHT,
            )
        )
        return widgets

    # --- pieces ----------------------------------------------------------------------------------------

    def _canary_metric(
        self, metric_name: str, path: str, protocol: str, region: str, statistic: str
    ) -> cw.Metric:
        return canary_metric(
            self.namespace, metric_name, path, protocol, statistic=statistic, period=self.period
        ).with_(region=region)

    def _function_metric(self, series: RegionSeries, metric_name: str, statistic: str) -> cw.Metric:
        if series.function_name is None:
            metric = self.function.metric(metric_name, period=self.period, statistic=statistic)
        else:
            metric = cw.Metric(
                namespace="AWS/Lambda",
                metric_name=metric_name,
                dimensions_map={"FunctionName": series.function_name},
                statistic=statistic,
                period=self.period,
            )
        return metric.with_(region=series.region, label=f"{series.region} {metric_name}")

    def _graph(
        self, title: str, metric_name: str, lines: Sequence[cw.IMetric], threshold: int | None
    ) -> cw.GraphWidget:
        return cw.GraphWidget(
            title=title,
            left=list(lines),
            left_y_axis=cw.YAxisProps(
                min=0, label="ms" if METRIC_UNITS[metric_name] == "Milliseconds" else "", show_units=False
            ),
            left_annotations=(
                [cw.HorizontalAnnotation(value=threshold, label="alarm threshold", color=cw.Color.RED)]
                if threshold is not None
                else None
            ),
            width=GRAPH_WIDTH,
            height=GRAPH_HEIGHT,
        )
