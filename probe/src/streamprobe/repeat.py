"""Run the same probe N times: medians of the timings and the worst buffering delay."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Final

from .exceptions import InvalidRequest
from .options import ProbeOptions, prepare_url
from .probing import probe
from .redact import display_url
from .result import TIMING_KEYS, ProbeResult, Verdict

# worst first: the order in which one bad run outweighs good ones
SEVERITY: Final[tuple[Verdict, ...]] = ("error", "buffered", "partial", "inconclusive", "streaming")


def worst_verdict(verdicts: list[Verdict]) -> Verdict:
    return min(verdicts, key=SEVERITY.index) if verdicts else "inconclusive"


@dataclass
class RepeatReport:
    url: str
    results: list[ProbeResult]

    @property
    def verdict(self) -> Verdict:
        return worst_verdict([r.verdict for r in self.results])

    @property
    def verdict_counts(self) -> dict[Verdict, int]:
        counts: dict[Verdict, int] = {v: 0 for v in reversed(SEVERITY)}
        for r in self.results:
            counts[r.verdict] += 1
        return {k: n for k, n in counts.items() if n}

    @property
    def median_timings_ms(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for key in TIMING_KEYS:
            values = [r.timings_ms[key] for r in self.results if r.timings_ms.get(key) is not None]
            out[key] = statistics.median(v for v in values if v is not None) if values else None
        return out

    def _delays(self) -> list[float]:
        return [r.buffering_delay_ms for r in self.results if r.buffering_delay_ms is not None]

    @property
    def median_buffering_delay_ms(self) -> float | None:
        delays = self._delays()
        return statistics.median(delays) if delays else None

    @property
    def worst_buffering_delay_ms(self) -> float | None:
        delays = self._delays()
        return max(delays) if delays else None

    def to_dict(self) -> dict[str, Any]:
        def rnd(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {
            "url": self.url,
            "repeat": len(self.results),
            "ok": all(r.ok for r in self.results),
            "verdict": self.verdict,
            "verdicts": self.verdict_counts,
            "median_timings_ms": {k: rnd(v) for k, v in self.median_timings_ms.items()},
            "median_buffering_delay_ms": rnd(self.median_buffering_delay_ms),
            "worst_buffering_delay_ms": rnd(self.worst_buffering_delay_ms),
            "runs": [r.to_dict() for r in self.results],
        }


def run_repeat(url: str, options: ProbeOptions, count: int) -> RepeatReport:
    if count < 1:
        raise InvalidRequest("repeat must be >= 1")
    shown = display_url(prepare_url(url, ProbeOptions(add_nonce=False)))  # InvalidRequest for a bad URL
    results = [probe(url, options) for _ in range(count)]
    return RepeatReport(results[0].url if count == 1 else shown, results)
