"""Probe results: plain dataclasses whose ``to_dict()`` is DESIGN.md's result JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR_KINDS = (
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
)
VERDICTS = ("streaming", "partial", "buffered", "inconclusive", "error")
TIMING_KEYS = ("dns", "connect", "tls", "ttfb", "first_event", "total")


@dataclass(frozen=True)
class ProbeError:
    """What went wrong, as one of ``ERROR_KINDS`` and a sentence a person understands.

    Reads like an object (``err.kind``) and like the JSON dict (``err["kind"]``).
    """

    kind: str
    message: str

    def __post_init__(self) -> None:
        if self.kind not in ERROR_KINDS:
            raise ValueError(f"unknown error kind {self.kind!r}")

    def __getitem__(self, key: str) -> str:
        if key == "kind":
            return self.kind
        if key == "message":
            return self.message
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

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


@dataclass
class ProbeResult:
    url: str
    path_name: str
    protocol: str  # "HTTP/1.1" | "HTTP/2": the one used (or attempted, when it failed early)
    status: int | None = None
    error: ProbeError | None = None
    timings_ms: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(TIMING_KEYS))
    events: int = 0
    mode: str = "generic"  # "streamcheck" | "generic"
    buffering_delay_ms: float | None = None
    verdict: str = "error"
    notes: list[str] = field(default_factory=list)
    content_encoding: str | None = None
    header_names: list[str] = field(default_factory=list)
    # Not serialised: the raw material for benchmarks and the browser-side judge.
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
            "notes": list(self.notes),
            "content_encoding": self.content_encoding,
            "header_names": list(self.header_names),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
