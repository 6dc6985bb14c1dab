"""What a load run found, gathered stream by stream as each finishes (thread-safe), and its JSON
(docs/contracts/load.md)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ..fixes import HopFix, concurrency_cap_fixes
from ..result import ERROR_KINDS, VERDICTS, ErrorKind, ProbeResult, Verdict
from ..slo import Slo, result_values
from .stats import Samples
from .steps import CapEstimate, estimate_cap

#: ``shared``: HTTP/2 streams multiplexed on ``connections`` connections; ``per-stream``: each stream
#: on a connection of its own (HTTP/1.1, HTTP/3).
ConnectionReuse = Literal["shared", "per-stream"]
#: The metrics of ``percentiles_ms``, in order.
PERCENTILE_METRICS: Final = ("ttfb", "first_event", "buffering_delay", "gap_p99")
#: Every per-stream value a summary keeps (the percentiles' metrics and how long streams held a slot).
VALUE_NAMES: Final = (*PERCENTILE_METRICS, "after_first_byte")


@dataclass
class StreamValues:
    """The per-stream values a summary keeps (one flat array each)."""

    ttfb: Samples = field(default_factory=Samples)
    first_event: Samples = field(default_factory=Samples)
    buffering_delay: Samples = field(default_factory=Samples)
    gap_p99: Samples = field(default_factory=Samples)
    #: From first byte to the end, per stream judged without an error: how long it held its slot.
    after_first_byte: Samples = field(default_factory=Samples)

    def merge(self, other: StreamValues) -> None:
        for name in VALUE_NAMES:
            getattr(self, name).merge(getattr(other, name))


@dataclass
class LoadSummary:
    url: str
    protocol: str  # the protocol asked for, until streams say which one they used
    concurrency: int
    connection_reuse: ConnectionReuse
    slo: Slo
    started: int = 0
    finished: int = 0
    good: int = 0
    events: int = 0
    connections: int = 0
    duration_ms: float = 0.0
    interrupted: bool = False
    errors: Counter[ErrorKind] = field(default_factory=Counter)
    verdicts: Counter[Verdict] = field(default_factory=Counter)
    protocols: Counter[str] = field(default_factory=Counter)
    values: StreamValues = field(default_factory=StreamValues)
    cap: CapEstimate | None = None
    fixes: list[HopFix] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def stream_started(self) -> None:
        with self._lock:
            self.started += 1

    def add(self, result: ProbeResult, result_json: dict[str, Any]) -> bool:
        """Count one finished stream; returns whether it was good."""
        good = self.slo.is_good_result(result_json)
        measured = result_values(result_json)
        with self._lock:
            self.finished += 1
            self.good += good
            self.events += result.events
            self.verdicts[result.verdict] += 1
            self.protocols[result.protocol] += 1
            if result.error is not None:
                self.errors[result.error.kind] += 1
            v = self.values
            v.ttfb.add(measured["ttfb"])
            v.first_event.add(measured["first_event"])
            v.buffering_delay.add(measured["buffering"])
            v.gap_p99.add(measured["gap_p99"])
            ttfb, total = measured["ttfb"], result.timings_ms.get("total")
            if result.error is None and ttfb is not None and total is not None:
                v.after_first_byte.add(total - ttfb)
        return good

    def snapshot(self) -> tuple[int, int, int, float | None]:
        """(started, finished, good, p90 first event ms) for progress lines."""
        with self._lock:
            return self.started, self.finished, self.good, self.values.first_event.quantile(0.90)

    @property
    def ratio(self) -> float | None:
        return None if self.finished == 0 else self.good / self.finished

    @property
    def all_failed(self) -> bool:
        """Nothing was judged: no stream finished, or every one that did ended in an error."""
        return self.finished == 0 or self.verdicts["error"] == self.finished

    def exit_code(self, min_goodput: float) -> int:
        """0 goodput >= min_goodput (percent), 1 below (or interrupted), 2 every stream failed."""
        if self.all_failed and not self.interrupted:
            return 2
        if self.interrupted or self.ratio is None:
            return 1
        return 0 if self.ratio * 100 >= min_goodput - 1e-9 else 1

    def diagnose(self) -> None:
        """Name a concurrency cap when the first bytes came in steps of one stream (``steps``)."""
        after = self.values.after_first_byte.quantile(0.5)
        self.cap = estimate_cap(self.values.ttfb.values, after, self.concurrency)
        self.fixes = concurrency_cap_fixes() if self.cap is not None else []

    def to_part(self) -> dict[str, Any]:
        """``to_dict()`` plus what an exact merge needs (``streamprobe.load.merge``): the counts and every
        stream's values."""
        return {
            **self.to_dict(),
            "events": self.events,
            "protocols": dict(self.protocols),
            "values": {name: list(getattr(self.values, name).values) for name in VALUE_NAMES},
        }

    def used_protocol(self) -> str:
        return self.protocols.most_common(1)[0][0] if self.protocols else self.protocol

    def to_dict(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "url": self.url,
            "protocol": self.used_protocol(),
            "concurrency": self.concurrency,
            "connections": self.connections,
            "connection_reuse": self.connection_reuse,
            "streams": {
                "started": self.started,
                "finished": self.finished,
                "errors": {kind: self.errors[kind] for kind in ERROR_KINDS if self.errors[kind]},
            },
            "verdicts": {verdict: self.verdicts[verdict] for verdict in VERDICTS},
            "percentiles_ms": {
                metric: getattr(self.values, metric).percentiles() for metric in PERCENTILE_METRICS
            },
            "goodput": {
                "slo": self.slo.spec,
                "good": self.good,
                "total": self.finished,
                "ratio": None if ratio is None else round(ratio, 6),
            },
            "events_per_s": round(self.events / (self.duration_ms / 1000), 3)
            if self.duration_ms > 0
            else None,
            "duration_ms": round(self.duration_ms, 3),
            "diagnosis": None if self.cap is None else self.cap.to_dict(),
            "fixes": [f.to_dict() for f in self.fixes],
            "interrupted": self.interrupted,
        }
