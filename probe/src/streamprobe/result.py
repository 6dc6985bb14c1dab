"""Probe results: typed dataclasses whose ``to_dict()`` is the result JSON (docs/contracts/result.md).

The closed sets of values are ``Literal`` types; the runtime tuples are derived from them, so each
set is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from .fronts import Front

ErrorKind = Literal[
    "dns",
    "connect",
    "tls",
    "timeout",
    "http_status",
    "content_type",
    "protocol",
    "stalled",
    "too_large",
    "other",
]
Verdict = Literal["streaming", "partial", "buffered", "inconclusive", "error"]
#: How the verdict was reached: by streamcheck's own send times, by send-time stamps
#: (docs/contracts/stamps.md), or by the arrival pattern alone.
Mode = Literal["streamcheck", "stamped", "generic"]
#: The protocol a result reports (the one used, or attempted when the probe failed early).
ProtocolLabel = Literal["HTTP/1.1", "HTTP/2", "HTTP/3"]
#: What carried the stream: an HTTP response body (SSE), or a WebSocket opened by an HTTP/1.1 upgrade.
Transport = Literal["http", "websocket"]
TimingKey = Literal["dns", "connect", "tls", "ttfb", "first_event", "total"]
#: The percentiles of ``gaps_ms`` (time between consecutive events' arrivals).
GapKey = Literal["p50", "p99", "max"]

ERROR_KINDS: Final[tuple[ErrorKind, ...]] = get_args(ErrorKind)
VERDICTS: Final[tuple[Verdict, ...]] = get_args(Verdict)
MODES: Final[tuple[Mode, ...]] = get_args(Mode)
PROTOCOL_LABELS: Final[tuple[ProtocolLabel, ...]] = get_args(ProtocolLabel)
TRANSPORTS: Final[tuple[Transport, ...]] = get_args(Transport)
TIMING_KEYS: Final[tuple[TimingKey, ...]] = get_args(TimingKey)
GAP_KEYS: Final[tuple[GapKey, ...]] = get_args(GapKey)

#: Keyed by ``TIMING_KEYS`` (plain ``str`` keys, so callers index it with any string they hold).
Timings = dict[str, float | None]
#: Keyed by ``GAP_KEYS``; every value ``None`` with fewer than 2 events.
Gaps = dict[str, float | None]


def empty_timings() -> Timings:
    return dict.fromkeys(TIMING_KEYS)


def empty_gaps() -> Gaps:
    return dict.fromkeys(GAP_KEYS)


@dataclass(frozen=True)
class ErrorInfo:
    """What went wrong: one of ``ERROR_KINDS`` and a sentence a person understands."""

    kind: ErrorKind
    message: str

    def __post_init__(self) -> None:
        # A Literal is not checked at run time; a caller without a type checker still gets told.
        if self.kind not in ERROR_KINDS:
            raise ValueError(f"unknown error kind {self.kind!r}")

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class EventArrival:
    """One complete SSE event, timestamped when its terminating blank line was read."""

    arrive_ms: float  # since the probe's clock started (just before the request)
    event: str  # event type ("message" when the stream named none)
    sent_ms: float | None = None  # streamcheck: the server's send time (its own clock)
    seq: int | None = None
    size: int = 0  # bytes of data
    stamp_ms: float | None = None  # a send-time stamp (docs/contracts/stamps.md), the server's clock


@dataclass
class ProbeResult:
    """One probe (or one browser read) of one URL; ``to_dict()`` is the result JSON."""

    url: str  # as shown: URL credentials masked
    path_name: str
    protocol: ProtocolLabel
    status: int | None = None
    error: ErrorInfo | None = None
    timings_ms: Timings = field(default_factory=empty_timings)
    events: int = 0
    mode: Mode = "generic"
    buffering_delay_ms: float | None = None
    verdict: Verdict = "error"
    gaps_ms: Gaps = field(default_factory=empty_gaps)  # between consecutive events' arrivals
    events_per_s: float | None = None  # (events - 1) / (last arrival - first arrival)
    clumping: float | None = None  # share of events that arrived in blocks (streamprobe.verdict)
    notes: list[str] = field(default_factory=list)
    content_encoding: str | None = None
    header_names: list[str] = field(default_factory=list)
    alt_svc: str | None = None  # the response's Alt-Svc header: the alternative services it advertised
    via: list[Front] = field(default_factory=list)  # managed fronts the headers show (streamprobe.fronts)
    transport: Transport = "http"
    close_code: int | None = None  # a WebSocket's close code (1006: ended without a close frame)
    # Not serialised: the raw material for benchmarks and the judge.
    arrivals: list[EventArrival] = field(default_factory=list, repr=False)
    request_sent_ms: float | None = field(default=None, repr=False)
    clock_origin: float | None = field(default=None, repr=False)  # time.perf_counter() when the clock started

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "path_name": self.path_name,
            "protocol": self.protocol,
            "status": self.status,
            "ok": self.ok,
            "error": None if self.error is None else self.error.to_dict(),
            "timings_ms": {k: _round(self.timings_ms.get(k)) for k in TIMING_KEYS},
            "events": self.events,
            "mode": self.mode,
            "buffering_delay_ms": _round(self.buffering_delay_ms),
            "verdict": self.verdict,
            "gaps_ms": {k: _round(self.gaps_ms.get(k)) for k in GAP_KEYS},
            "events_per_s": _round(self.events_per_s),
            "clumping": _round(self.clumping),
            "notes": list(self.notes),
            "content_encoding": self.content_encoding,
            "header_names": list(self.header_names),
            "alt_svc": self.alt_svc,
            "via": list(self.via),
            "transport": self.transport,
            "close_code": self.close_code,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
