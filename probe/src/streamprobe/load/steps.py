"""The load-specific diagnosis: streams that queue behind a concurrency cap.

A hop that serves at most K streams at once (HAProxy ``maxconn``, an ALB Target Optimizer's
``maxConcurrency``, uvicorn ``--limit-concurrency``, a worker pool) holds every further stream until
one ends. Each stream holds its slot for its whole length L, so first bytes come in steps: about K
at once, K more about L later, and so on. The estimate: sort the first-byte times, split them where
two consecutive ones are more than L/2 apart; when there are at least two groups, their starts are
about L apart (0.6 L .. 1.5 L, median spacing), and the full groups hold fewer streams than were open
at once, the cap is the median size of the full groups (the last group may be partial).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

#: Shorter streams leave no room between steps for network jitter to stay out of.
MIN_STREAM_MS: Final = 50.0
STEP_LOW, STEP_HIGH = 0.6, 1.5  # the median spacing of steps, as a share of one stream's length


@dataclass(frozen=True)
class CapEstimate:
    cap: int  # streams served at once, about
    steps: int  # groups of first bytes
    step_ms: float  # median spacing of the groups
    stream_ms: float  # median length of a stream after its first byte

    @property
    def message(self) -> str:
        return (
            f"streams queue behind a concurrency cap of about {self.cap}: first bytes came in "
            f"{self.steps} steps about {self.step_ms:.0f} ms apart, the length of one stream "
            f"({self.stream_ms:.0f} ms after its first byte)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": "concurrency_cap",
            "cap": self.cap,
            "steps": self.steps,
            "step_ms": round(self.step_ms, 3),
            "stream_ms": round(self.stream_ms, 3),
            "message": self.message,
        }


def estimate_cap(ttfb_ms: Sequence[float], stream_ms: float | None, concurrency: int) -> CapEstimate | None:
    """The cap the first-byte times show, or None when they do not come in steps of a stream's length."""
    if stream_ms is None or stream_ms < MIN_STREAM_MS or len(ttfb_ms) < 2:
        return None
    groups: list[list[float]] = []
    for t in sorted(ttfb_ms):
        if groups and t - groups[-1][-1] <= stream_ms / 2:
            groups[-1].append(t)
        else:
            groups.append([t])
    if len(groups) < 2:
        return None
    step = statistics.median(b[0] - a[0] for a, b in itertools.pairwise(groups))
    if not STEP_LOW * stream_ms <= step <= STEP_HIGH * stream_ms:
        return None
    cap = round(statistics.median(len(g) for g in groups[:-1]))
    if cap >= concurrency:
        return None
    return CapEstimate(cap, len(groups), step, stream_ms)
