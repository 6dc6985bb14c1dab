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

One builder draws both: a single Region is the N = 1 case. Every graph is one :meth:`_graph` of lines from
one :meth:`_line` (with one Region a line is labelled and coloured by its protocol; with several, by Region
and protocol) on one palette (:data:`PALETTE`). What the alarms fire on is read from the alarms
(:class:`CanaryAlarms`: each alarm's annotation, the thresholds for the text), never passed twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct
from streampath_canary.contract import (
    BUFFERING_DELAY,
    INTER_EVENT_GAP_P99,
    MAX_INTER_EVENT_GAP,
    METRIC_UNITS,
    SERIES_LABELS,
    SUCCESS,
    TIME_TO_FIRST_BYTE,
    TIME_TO_FIRST_EVENT,
    WEBSOCKET,
    PathSpec,
    ProtocolName,
)

from streampath_cdk.canary_alarms import CanaryAlarms, PathAlarms, canary_metric

#: The dashboard's hues as (dark, light) pairs, in order. Regions take them in turn; paths on the summary
#: too, skipping green (h3's on the whole dashboard) and red (the alarm threshold's).
PALETTE: Final = (
    ("#1f77b4", "#aec7e8"),  # blue: h1
    ("#ff7f0e", "#ffbb78"),  # orange: h2
    ("#2ca02c", "#98df8a"),  # green: h3
    ("#d62728", "#ff9896"),  # red: thresholds
    ("#9467bd", "#c5b0d5"),
    ("#8c564b", "#c49c94"),
    ("#e377c2", "#f7b6d2"),
    ("#7f7f7f", "#c7c7c7"),
    ("#bcbd22", "#dbdb8d"),
    ("#17becf", "#9edae5"),
    ("#393b79", "#9c9ede"),
    ("#843c39", "#e7969c"),
)
#: Each protocol's hue when one Region's lines are told apart by protocol.
PROTOCOL_HUES: Final[dict[ProtocolName, tuple[str, str]]] = {
    "h1": PALETTE[0],
    "h2": PALETTE[1],
    "h3": PALETTE[2],
    "ws": PALETTE[4],
}
PATH_HUES: Final = tuple(hue for hue in PALETTE if hue not in (PALETTE[2], PALETTE[3]))
#: Graphs are 6 high; with several Regions, 4 wide (6 per 24-column row).
GRAPH_WIDTH: Final = 4
GRAPH_HEIGHT: Final = 6


@dataclass(frozen=True)
class RegionSeries:
    """Another Region's canary as the dashboard shows it: its Region, the paths it probes, and its
    function's name (by name: nothing refers to that Region's stack)."""

    region: str
    paths: Sequence[PathSpec]
    function_name: str | None = None

    def protocols_of(self, path: str) -> tuple[ProtocolName, ...]:
        for spec in self.paths:
            if spec.name == path:
                return tuple(spec.protocols)
        return ()


def region_color(index: int, protocol: ProtocolName) -> str:
    """The Region's dark shade for h1, its light one for h2, and halfway between them for h3."""
    dark, light = PALETTE[index % len(PALETTE)]
    if protocol == "h3":
        mixed = (round((int(dark[i : i + 2], 16) + int(light[i : i + 2], 16)) / 2) for i in (1, 3, 5))
        return "#" + "".join(f"{channel:02x}" for channel in mixed)
    return dark if protocol in ("h1", WEBSOCKET) else light


def path_color(index: int, protocol: ProtocolName) -> str:
    """A summary line's colour: the path's hue, dark for h1 and light for h2; h3 is the dashboard's green."""
    if protocol == "h3":
        return PROTOCOL_HUES["h3"][0]
    dark, light = PATH_HUES[index % len(PATH_HUES)]
    return dark if protocol in ("h1", WEBSOCKET) else light


def browser_protocol(protocols: Sequence[ProtocolName]) -> ProtocolName:
    """What a browser would use of the probed protocols: h2 where probed (HTTPS), else h1; a WebSocket
    path's socket."""
    if list(protocols) == [WEBSOCKET]:
        return WEBSOCKET
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
#: Added to the intro of a dashboard with a WebSocket path.
INTRO_WS = (
    "WebSocket paths (**ws**) read the same events as messages over a socket (an HTTP/1.1 upgrade), "
    "beside the SSE paths: a proxy that holds SSE but not the socket shows here.\n"
)
MULTI_REGION_INTRO_H3 = "HTTP/3 (**h3**) lines take the shade halfway between the two.\n"


def path_text_h3(protocols: Sequence[ProtocolName]) -> str:
    """:data:`PATH_TEXT_H3` for a path probed over h3, else nothing."""
    return PATH_TEXT_H3 if "h3" in protocols else ""


MULTI_REGION_INTRO = """\
## streampath canary in {count} Regions: does each path stream from everywhere?
Every {minutes} min a canary in each Region ({regions}) opens an SSE stream on each path over HTTP/1.1
(**h1**, dark) and HTTP/2 (**h2**, light), one colour per Region. Namespace `{namespace}`, dimensions `Path`
and `Protocol`; each Region's canary publishes in its own Region. The first rows compare the Regions
(over h2 where probed); then one row per path. Alarms are regional: the alarm widgets here are {home}'s;
each other Region's stack has its own, and `streampath status` lists them all.
"""


class CanaryDashboard(Construct):
    """``.dashboard``: a CloudWatch dashboard over a canary's metrics and its alarms.

    Props (keyword-only): ``alarms`` (the canary's :class:`CanaryAlarms`: its paths, namespace, period,
    function, thresholds and alarms are what the dashboard draws), ``dashboard_name``. ``other_regions``:
    the same canary in other Regions (their metrics are drawn next to this Region's; alarms are regional,
    so the alarm widgets are this Region's). Default: none, this Region only. ``top_widgets``: one row
    above everything else (the SLO's error budget and burn rates). Default none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarms: CanaryAlarms,
        dashboard_name: str,
        other_regions: Sequence[RegionSeries] = (),
        top_widgets: Sequence[cw.IWidget] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=cdk.Duration.hours(3),
            period_override=cw.PeriodOverride.INHERIT,
        )
        if top_widgets:
            self.dashboard.add_widgets(*top_widgets)
        self._alarms = alarms
        home = RegionSeries(region=cdk.Stack.of(self).region, paths=alarms.paths)
        self._regions = (home, *other_regions)
        # Every path of every Region, in the order the Regions list them (home first).
        self._paths = list(dict.fromkeys(p.name for r in self._regions for p in r.paths))
        for row in (*self._header_rows(), self._comparison_row(), *map(self._path_row, self._paths)):
            if row:
                self.dashboard.add_widgets(*row)

    @property
    def _several(self) -> bool:
        return len(self._regions) > 1

    # --- rows ----------------------------------------------------------------------------------------

    def _header_rows(self) -> list[list[cw.IWidget]]:
        """The intro, the function's health and the alarms' status at a glance; with one Region also the
        summary of every path's buffering delay and a row of each path's Degraded status."""
        alarms = self._alarms
        status = [*alarms.function_alarms, alarms.composite]
        if self._several:
            home = self._regions[0].region
            return [
                [
                    cw.TextWidget(markdown=self._intro(), width=8, height=GRAPH_HEIGHT),
                    *self._function_graphs(),
                    cw.AlarmStatusWidget(
                        title=f"Canary alarms in {home}", alarms=status, width=6, height=GRAPH_HEIGHT
                    ),
                ]
            ]
        degraded = [alarms.by_path[p.name].degraded for p in alarms.paths]
        return [
            [
                cw.TextWidget(markdown=self._intro(), width=7, height=7),
                self._summary(),
                *self._function_graphs(),
            ],
            [cw.AlarmStatusWidget(title=DEGRADED_TITLE, alarms=[*degraded, *status], width=24, height=3)],
        ]

    def _comparison_row(self) -> list[cw.IWidget]:
        """Per path probed from two Regions or more: buffering delay and time to first event, one line per
        Region, over the path's browser protocol (none with one Region)."""
        widgets: list[cw.IWidget] = []
        for path in self._paths:
            probing = [(i, r) for i, r in enumerate(self._regions) if r.protocols_of(path)]
            if len(probing) < 2:
                continue
            for title, metric_name in (
                ("buffering delay", BUFFERING_DELAY),
                ("time to first event", TIME_TO_FIRST_EVENT),
            ):
                lines = []
                for index, series in probing:
                    protocol = browser_protocol(series.protocols_of(path))
                    lines.append(
                        self._metric(metric_name, path, protocol, "Maximum").with_(
                            region=series.region,
                            label=f"{series.region} {protocol}",
                            color=region_color(index, "h1"),
                        )
                    )
                widgets.append(self._graph(f"{path}: {title} by Region (max)", metric_name, path, lines))
        return widgets

    def _path_row(self, path: str) -> list[cw.IWidget]:
        """TTFB | first event | buffering delay | (one Region: inter-event gaps) | success | alarms | note."""
        protocols = [p for r in self._regions for p in r.protocols_of(path)]
        note = path_text_h3(protocols)
        path_alarms = self._alarms.by_path.get(path)
        # With one Region, a path with a note of its own (h3) makes room for it.
        narrow = 3 if note and not self._several else GRAPH_WIDTH

        def graph(title: str, metric_name: str, statistic: str, width: int = narrow) -> cw.GraphWidget:
            lines = [
                self._line(metric_name, path, protocol, statistic, index)
                for index, series in enumerate(self._regions)
                for protocol in series.protocols_of(path)
            ]
            return self._graph(f"{path}: {title}", metric_name, path, lines, width=width)

        widgets: list[cw.IWidget] = [
            graph("time to first byte (avg)", TIME_TO_FIRST_BYTE, "Average"),
            graph("time to first event (max)", TIME_TO_FIRST_EVENT, "Maximum"),
            graph("buffering delay (max)", BUFFERING_DELAY, "Maximum", width=GRAPH_WIDTH),
        ]
        if not self._several:
            widgets.append(self._gaps(path))
        widgets.append(graph("success (min)", SUCCESS, "Minimum"))
        if path_alarms is not None:
            widgets.append(self._path_alarm_status(path, path_alarms, narrow))
        if self._several:
            widgets.append(self._path_text(path, note, wide=path_alarms is None))
        elif note:
            widgets.append(
                cw.TextWidget(markdown=f"### {path}\n" + note, width=GRAPH_WIDTH, height=GRAPH_HEIGHT)
            )
        return widgets

    # --- widgets -------------------------------------------------------------------------------------

    def _intro(self) -> str:
        alarms, t = self._alarms, self._alarms.thresholds
        minutes = f"{alarms.period.to_minutes():g}"
        h3 = any("h3" in p.protocols for r in self._regions for p in r.paths)
        ws = INTRO_WS if any(WEBSOCKET in p.protocols for r in self._regions for p in r.paths) else ""
        if self._several:
            return (
                ws
                + MULTI_REGION_INTRO.format(
                    count=len(self._regions),
                    minutes=minutes,
                    regions=", ".join(r.region for r in self._regions),
                    namespace=alarms.namespace,
                    home=self._regions[0].region,
                )
                + (MULTI_REGION_INTRO_H3 if h3 else "")
            )
        return ws + INTRO.format(
            minutes=minutes,
            namespace=alarms.namespace,
            protocols=INTRO_PROTOCOLS_H3 if h3 else INTRO_PROTOCOLS,
            buffering=t.buffering_delay_ms,
            first_event=t.time_to_first_event_ms,
            m=t.datapoints_to_alarm,
            n=t.evaluation_periods,
        )

    def _summary(self) -> cw.GraphWidget:
        """Every path's buffering delay on one axis, one statistic, one hue per path."""
        return cw.GraphWidget(
            title=SUMMARY_TITLE,
            left=[
                self._metric(
                    BUFFERING_DELAY,
                    path.name,
                    protocol,
                    "Maximum",
                    label=f"{path.name} {SERIES_LABELS[protocol]}",
                ).with_(color=path_color(index, protocol))
                for index, path in enumerate(self._alarms.paths)
                for protocol in path.protocols
            ],
            left_y_axis=cw.YAxisProps(min=0, label="ms", show_units=False),
            left_annotations=self._alarms.annotations(BUFFERING_DELAY),
            legend_position=cw.LegendPosition.RIGHT,
            width=12,
            height=7,
        )

    def _function_graphs(self) -> list[cw.IWidget]:
        """The canary function's errors, throttles and run duration (every Region's, side by side)."""
        function, period = self._alarms.function, self._alarms.period
        if not self._several:
            return [
                cw.GraphWidget(
                    title="Canary function: errors, throttles, duration",
                    left=[function.metric_errors(period=period), function.metric_throttles(period=period)],
                    right=[function.metric_duration(period=period, statistic="Maximum")],
                    width=5,
                    height=7,
                )
            ]
        errors: list[cw.IMetric] = []
        durations: list[cw.IMetric] = []
        for index, series in enumerate(self._regions):
            color = region_color(index, "h1")
            errors.append(self._function_metric(series, "Errors", "Sum").with_(color=color))
            throttles = self._function_metric(series, "Throttles", "Sum")
            errors.append(throttles.with_(color=region_color(index, "h2")))
            durations.append(self._function_metric(series, "Duration", "Maximum").with_(color=color))
        return [
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
        ]

    def _gaps(self, path: str) -> cw.GraphWidget:
        """Next to the buffering delay: the stream's shape, p99 (dark) and max (light) gap between events."""
        (series,) = self._regions
        lines = [
            self._metric(
                metric_name, path, protocol, "Maximum", label=f"{SERIES_LABELS[protocol]} {what}"
            ).with_(color=PROTOCOL_HUES[protocol][shade])
            for protocol in series.protocols_of(path)
            for metric_name, what, shade in ((INTER_EVENT_GAP_P99, "p99", 0), (MAX_INTER_EVENT_GAP, "max", 1))
        ]
        return cw.GraphWidget(
            title=f"{path}: inter-event gap (p99, max)",
            left=lines,
            left_y_axis=cw.YAxisProps(min=0, label="ms", show_units=False),
            width=GRAPH_WIDTH,
            height=GRAPH_HEIGHT,
        )

    def _path_alarm_status(self, path: str, path_alarms: PathAlarms, width: int) -> cw.AlarmStatusWidget:
        where = f" in {self._regions[0].region}" if self._several else ""
        return cw.AlarmStatusWidget(
            title=f"{path}: alarms{where}",
            alarms=[path_alarms.degraded, *path_alarms.all()],
            width=width,
            height=GRAPH_HEIGHT,
        )

    def _path_text(self, path: str, note: str, *, wide: bool) -> cw.TextWidget:
        t = self._alarms.thresholds
        probed_from = [r.region for r in self._regions if r.protocols_of(path)]
        return cw.TextWidget(
            markdown=PATH_TEXT.format(
                name=path,
                buffering=t.buffering_delay_ms,
                first_event=t.time_to_first_event_ms,
                m=t.datapoints_to_alarm,
                n=t.evaluation_periods,
                regions=f"\nProbed from {', '.join(probed_from)}; each Region alarms on its own.",
            )
            + note,
            width=2 * GRAPH_WIDTH if wide else GRAPH_WIDTH,
            height=GRAPH_HEIGHT,
        )

    # --- pieces ----------------------------------------------------------------------------------------

    def _metric(
        self, metric_name: str, path: str, protocol: str, statistic: str, label: str | None = None
    ) -> cw.Metric:
        alarms = self._alarms
        return canary_metric(
            alarms.namespace,
            metric_name,
            path,
            protocol,
            statistic=statistic,
            period=alarms.period,
            label=label,
        )

    def _line(
        self, metric_name: str, path: str, protocol: ProtocolName, statistic: str, index: int
    ) -> cw.Metric:
        """One line of a path's graph: with one Region labelled and coloured by protocol; with several,
        by Region (its hue) and protocol (the shade), read in that Region."""
        if not self._several:
            return self._metric(metric_name, path, protocol, statistic, label=SERIES_LABELS[protocol]).with_(
                color=PROTOCOL_HUES[protocol][0]
            )
        region = self._regions[index].region
        return self._metric(metric_name, path, protocol, statistic).with_(
            region=region, label=f"{region} {protocol}", color=region_color(index, protocol)
        )

    def _graph(
        self,
        title: str,
        metric_name: str,
        path: str,
        lines: Sequence[cw.IMetric],
        *,
        width: int = GRAPH_WIDTH,
    ) -> cw.GraphWidget:
        """A graph of one metric, with the thresholds of the alarms on it (as the alarms draw them)."""
        annotations = self._alarms.annotations(metric_name, [path])
        return cw.GraphWidget(
            title=title,
            left=list(lines),
            left_y_axis=cw.YAxisProps(
                min=0, label="ms" if METRIC_UNITS[metric_name] == "Milliseconds" else "", show_units=False
            ),
            left_annotations=annotations or None,
            width=width,
            height=GRAPH_HEIGHT,
        )

    def _function_metric(self, series: RegionSeries, metric_name: str, statistic: str) -> cw.Metric:
        period = self._alarms.period
        if series.function_name is None:
            metric = self._alarms.function.metric(metric_name, period=period, statistic=statistic)
        else:
            metric = cw.Metric(
                namespace="AWS/Lambda",
                metric_name=metric_name,
                dimensions_map={"FunctionName": series.function_name},
                statistic=statistic,
                period=period,
            )
        return metric.with_(region=series.region, label=f"{series.region} {metric_name}")
