"""One probe's result as Prometheus metrics (docs/contracts/exporter-metrics.md).

Where a number means what it means in blackbox_exporter, it carries blackbox_exporter's name, so its
dashboards and alerts work unchanged: those are always present (0 where the probe did not get that far,
as blackbox_exporter does). The stream's own numbers are ``streamprobe_*`` and are left out when the probe
did not measure them: a missing buffering delay must not read as a perfect 0 on a dashboard.
Every value is in seconds (the result's milliseconds / 1000).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from ..redact import mask_url_text
from ..result import VERDICTS, ProbeResult, ProtocolLabel

#: blackbox_exporter's ``probe_http_version``: the response's HTTP version as a number.
HTTP_VERSION: Final[dict[ProtocolLabel, float]] = {"HTTP/1.1": 1.1, "HTTP/2": 2.0, "HTTP/3": 3.0}
#: blackbox_exporter's phases of ``probe_http_duration_seconds``, in order.
PHASES: Final = ("resolve", "connect", "tls", "processing", "transfer")


@dataclass(frozen=True)
class Measured:
    """A probe's result and how long the whole probe took (the exporter's clock, like blackbox's)."""

    result: ProbeResult
    duration_s: float


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000.0


def _phases(r: ProbeResult) -> dict[str, float]:
    """blackbox_exporter's phases from the probe's timings: resolve, connect and tls are durations;
    processing runs from the connection's readiness to the first response byte; transfer from there to
    the end of the read. A phase the probe did not reach is 0."""
    t = r.timings_ms
    setup = sum(t.get(k) or 0.0 for k in ("dns", "connect", "tls"))
    ttfb, total = t.get("ttfb"), t.get("total")
    processing = max(0.0, ttfb - setup) if ttfb is not None else 0.0
    transfer = max(0.0, total - ttfb) if ttfb is not None and total is not None else 0.0
    ms = {"resolve": t.get("dns") or 0.0, "connect": t.get("connect") or 0.0, "tls": t.get("tls") or 0.0}
    ms.update(processing=processing, transfer=transfer)
    return {phase: ms[phase] / 1000.0 for phase in PHASES}


def _responded(r: ProbeResult) -> bool:
    return r.status is not None


@dataclass(frozen=True)
class Gauge:
    """One unlabelled gauge: its name, help, unit and how it is read from a measurement (None: left out)."""

    name: str
    help: str
    unit: str
    value: Callable[[Measured], float | None]


#: blackbox_exporter's names, always present.
BLACKBOX_GAUGES: Final = (
    Gauge(
        "probe_success",
        "Whether the probe got an SSE stream (1) or failed (0)",
        "",
        lambda m: float(m.result.ok),
    ),
    Gauge("probe_duration_seconds", "How long the probe took", "seconds", lambda m: m.duration_s),
    Gauge(
        "probe_http_status_code",
        "The response's HTTP status code (0: no response)",
        "",
        lambda m: float(m.result.status or 0),
    ),
    Gauge(
        "probe_http_version",
        "The response's HTTP version (1.1, 2 or 3; 0: no response)",
        "",
        lambda m: HTTP_VERSION[m.result.protocol] if _responded(m.result) else 0.0,
    ),
    Gauge(
        "probe_http_ssl",
        "Whether the response came over TLS (1) or not (0)",
        "",
        lambda m: float(_responded(m.result) and m.result.url.startswith("https://")),
    ),
    Gauge(
        "probe_dns_lookup_time_seconds",
        "How long the name lookup took (0: none was made)",
        "seconds",
        lambda m: (m.result.timings_ms.get("dns") or 0.0) / 1000.0,
    ),
)
#: The stream's own numbers, present only when measured.
STREAM_GAUGES: Final = (
    Gauge(
        "streamprobe_ttfb_seconds",
        "From sending the request to the first response byte (curl's time_starttransfer)",
        "seconds",
        lambda m: _seconds(m.result.timings_ms.get("ttfb")),
    ),
    Gauge(
        "streamprobe_first_event_seconds",
        "From sending the request to the first complete SSE event",
        "seconds",
        lambda m: _seconds(m.result.timings_ms.get("first_event")),
    ),
    Gauge(
        "streamprobe_buffering_delay_seconds",
        "max(lag) - min(lag) over the events' send and arrival times: about 0 when the path streams",
        "seconds",
        lambda m: _seconds(m.result.buffering_delay_ms),
    ),
    Gauge(
        "streamprobe_gap_p99_seconds",
        "99th percentile of the time between consecutive events' arrivals",
        "seconds",
        lambda m: _seconds(m.result.gaps_ms.get("p99")),
    ),
    Gauge("streamprobe_events", "SSE events received", "", lambda m: float(m.result.events)),
)
HTTP_DURATION: Final = "probe_http_duration_seconds"
VERDICT: Final = "streamprobe_verdict"
#: Every metric name a probe's exposition may hold (the contract's table lists exactly these).
METRIC_NAMES: Final = (
    *(g.name for g in BLACKBOX_GAUGES),
    HTTP_DURATION,
    *(g.name for g in STREAM_GAUGES),
    VERDICT,
)


def result_metrics(measured: Measured, labels: Mapping[str, str] | None = None) -> Iterator[Metric]:
    """The metric families of one probe, in the order of ``METRIC_NAMES``. ``labels`` go on every
    sample: the exporter adds none (Prometheus's relabelling names the target); a one-shot file for
    node_exporter's textfile collector names its probe with them."""
    fixed = dict(labels or {})

    def family(name: str, help: str, unit: str = "", label: str | None = None) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, help, labels=[*fixed, *([label] if label else [])], unit=unit)

    for gauge in BLACKBOX_GAUGES:
        yield _single(family(gauge.name, gauge.help, gauge.unit), fixed, gauge.value(measured))
    phases = family(HTTP_DURATION, "Duration of the HTTP request by phase", "seconds", "phase")
    for phase, seconds in _phases(measured.result).items():
        phases.add_metric([*fixed.values(), phase], seconds)
    yield phases
    for gauge in STREAM_GAUGES:
        value = gauge.value(measured)
        if value is not None:
            yield _single(family(gauge.name, gauge.help, gauge.unit), fixed, value)
    verdict = family(
        VERDICT, "The probe's verdict: 1 for the verdict reached, 0 for the others", label="verdict"
    )
    for name in VERDICTS:
        verdict.add_metric([*fixed.values(), name], float(name == measured.result.verdict))
    yield verdict


def _single(family: GaugeMetricFamily, fixed: Mapping[str, str], value: float | None) -> GaugeMetricFamily:
    assert value is not None  # the blackbox gauges always have a value
    family.add_metric(list(fixed.values()), value)
    return family


class _Families:
    """A collector that yields families made beforehand (one probe's registry holds one of these)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return iter(self._families)


def exposition(
    measured: Measured, *, openmetrics: bool = False, labels: Mapping[str, str] | None = None
) -> bytes:
    """The probe's metrics in the Prometheus text format (0.0.4), or in OpenMetrics 1.0."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(result_metrics(measured, labels)))
    if openmetrics:
        text: bytes = generate_openmetrics(registry)  # type: ignore[no-untyped-call]  # untyped upstream
        return text
    return generate_latest(registry)


def one_shot(measured: Measured, url_text: str) -> str:
    """One probe as a file for node_exporter's textfile collector (OpenMetrics), its samples labelled
    with the probe's name and its URL as given -- credentials masked, and without the nonce the probe
    adds to streamcheck URLs, so each run writes the same series."""
    labels = {"name": measured.result.path_name, "target": mask_url_text(url_text)}
    return exposition(measured, openmetrics=True, labels=labels).decode("utf-8")
