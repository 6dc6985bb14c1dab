"""Probe result -> one CloudWatch EMF document (the contract's metric names, units and dimensions).

aws-lambda-powertools ``EphemeralMetrics`` writes the EMF: one instance per path x protocol, so each
document carries exactly the dimensions ``Path`` and ``Protocol``. ``service=""`` stops powertools from
adding its default ``service`` dimension (the stack sets ``POWERTOOLS_SERVICE_NAME`` for the logger),
which would change every metric's identity and break the dashboard and alarms.
"""

from __future__ import annotations

from typing import Any, Final

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from streampath_canary.contract import (
    BUFFERED,
    BUFFERING_DELAY,
    CONNECT_TIME,
    DIMENSION_PATH,
    DIMENSION_PROTOCOL,
    DNS_TIME,
    EVENTS_RECEIVED,
    INTER_EVENT_GAP_P99,
    MAX_INTER_EVENT_GAP,
    METRIC_UNITS,
    PARTIAL,
    STREAM_DURATION,
    SUCCESS,
    TIME_TO_FIRST_BYTE,
    TIME_TO_FIRST_EVENT,
    TLS_TIME,
)

__all__ = ["emf_document", "metric_values", "publish"]

# metric -> the key of the result's timings_ms it publishes (docs/contracts/metrics.md).
_TIMING_METRICS: Final = (
    (TIME_TO_FIRST_BYTE, "ttfb"),
    (TIME_TO_FIRST_EVENT, "first_event"),
    (STREAM_DURATION, "total"),
    (DNS_TIME, "dns"),
    (CONNECT_TIME, "connect"),
    (TLS_TIME, "tls"),
)
# metric -> the key of the result's gaps_ms it publishes (the stream's shape, every mode).
_GAP_METRICS: Final = (
    (INTER_EVENT_GAP_P99, "p99"),
    (MAX_INTER_EVENT_GAP, "max"),
)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def metric_values(result: dict[str, Any]) -> dict[str, float]:
    """The datapoints for one probe result (docs/contracts/result.md).

    ``Success`` is always there (1 when the probe got a judged stream, else 0). A timing the probe did
    not reach (a failed connect has no TTFB) is left out rather than published as 0, so averages stay
    honest; the alarms treat the missing datapoint as breaching. ``Buffered`` and ``Partial`` are published
    only for a judged stream (1 for the verdict ``buffered``, resp. ``partial``: the probe's own verdict,
    so a hop that holds part of the stream is not read as streaming), ``BufferingDelay`` only when the
    probe computed it,
    ``InterEventGapP99`` and ``MaxInterEventGap`` only when two events or more arrived.
    """
    values: dict[str, float] = {}
    ok = bool(result.get("ok")) and result.get("error") is None
    timings = result.get("timings_ms") or {}
    for metric, key in _TIMING_METRICS:
        number = _number(timings.get(key))
        if number is not None:
            values[metric] = number
    delay = _number(result.get("buffering_delay_ms"))
    if delay is not None:
        values[BUFFERING_DELAY] = delay
    gaps = result.get("gaps_ms") or {}
    for metric, key in _GAP_METRICS:
        number = _number(gaps.get(key)) if isinstance(gaps, dict) else None
        if number is not None:
            values[metric] = number
    events = _number(result.get("events"))
    values[EVENTS_RECEIVED] = events if events is not None else 0.0
    values[SUCCESS] = 1.0 if ok else 0.0
    verdict = result.get("verdict")
    if verdict not in (None, "error"):
        values[BUFFERED] = 1.0 if verdict == "buffered" else 0.0
        values[PARTIAL] = 1.0 if verdict == "partial" else 0.0
    return values


def _build(namespace: str, path: str, protocol: str, result: dict[str, Any]) -> EphemeralMetrics:
    metrics = EphemeralMetrics(namespace=namespace, service="")
    metrics.add_dimension(name=DIMENSION_PATH, value=path)
    metrics.add_dimension(name=DIMENSION_PROTOCOL, value=protocol)
    for name, value in metric_values(result).items():
        metrics.add_metric(name=name, unit=MetricUnit(METRIC_UNITS[name]), value=value)
    error = result.get("error")
    if isinstance(error, dict) and error.get("kind"):
        metrics.add_metadata(key="ErrorKind", value=str(error["kind"]))
    verdict = result.get("verdict")
    if isinstance(verdict, str):
        metrics.add_metadata(key="Verdict", value=verdict)
    return metrics


def emf_document(namespace: str, path: str, protocol: str, result: dict[str, Any]) -> dict[str, Any]:
    """The EMF document for one probe (not printed); ``ErrorKind`` and ``Verdict`` ride as metadata."""
    return dict(_build(namespace, path, protocol, result).serialize_metric_set())


def publish(namespace: str, path: str, protocol: str, result: dict[str, Any]) -> None:
    """Print the probe's EMF document to stdout (one line), which Lambda ships to CloudWatch Logs."""
    _build(namespace, path, protocol, result).flush_metrics(raise_on_empty_metrics=True)
