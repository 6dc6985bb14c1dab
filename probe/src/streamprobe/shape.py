"""The shape of a stream from its events' arrival times alone, in every mode (docs/contracts/result.md).

* ``gaps_ms``: the time between consecutive events' arrivals, as p50, p99 and max -- what AI-chat teams
  read as inter-token latency (ITL) when one event carries one token. Percentiles interpolate linearly
  between the closest ranks (numpy's default).
* ``events_per_s``: ``(events - 1) / (last arrival - first arrival)``, the rate after the first event
  (the inverse of the mean gap); ``None`` with fewer than 2 events or when they all arrived at once.
* ``segments``: the arrivals split at every silence longer than a given threshold, each segment as
  (events, span). :mod:`streamprobe.verdict` calls a tight segment a block and measures clumping with
  it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from .result import Gaps, empty_gaps


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of an ascending, non-empty sequence, interpolated between ranks."""
    if not ordered:
        raise ValueError("percentile of no values")
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def gaps(arrive_ms: Sequence[float]) -> list[float]:
    """The time between each pair of consecutive arrivals (``len - 1`` values)."""
    times = sorted(arrive_ms)
    return [b - a for a, b in itertools.pairwise(times)]


def gap_stats(arrive_ms: Sequence[float]) -> Gaps:
    """``{"p50", "p99", "max"}`` of the gaps; every value ``None`` with fewer than 2 arrivals."""
    ordered = sorted(gaps(arrive_ms))
    if not ordered:
        return empty_gaps()
    return {"p50": percentile(ordered, 0.50), "p99": percentile(ordered, 0.99), "max": ordered[-1]}


def events_per_s(arrive_ms: Sequence[float]) -> float | None:
    """Events per second after the first one; ``None`` with fewer than 2 or a zero span."""
    if len(arrive_ms) < 2:
        return None
    span = max(arrive_ms) - min(arrive_ms)
    return (len(arrive_ms) - 1) / (span / 1000.0) if span > 0 else None


def segments(arrive_ms: Sequence[float], silence_ms: float) -> list[tuple[int, float]]:
    """The arrivals split at every gap longer than ``silence_ms``: ``(events, first to last ms)`` per run,
    in order."""
    runs: list[tuple[int, float]] = []
    times = sorted(arrive_ms)
    if not times:
        return runs
    start = prev = times[0]
    count = 0
    for t in times:
        if t - prev > silence_ms:
            runs.append((count, prev - start))
            start, count = t, 0
        count += 1
        prev = t
    runs.append((count, prev - start))
    return runs
