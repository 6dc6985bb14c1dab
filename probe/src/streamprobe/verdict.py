"""Pure functions that turn event arrival times into a buffering delay and a verdict
(docs/contracts/result.md).

streamcheck mode (events carry the server's ``sent_ms``)::

    lag_i = arrive_ms_i - sent_ms_i            (the clocks' offset is a constant and cancels)
    buffering_delay_ms = max(lag) - min(lag)
    streaming  if delay <= max(50, 10 % of the stream's duration)
    buffered   if delay >= 80 % of the stream's duration
    partial    otherwise

The stream's duration is the server's schedule: last ``sent_ms`` minus first ``sent_ms``.

generic mode (any SSE stream, no ``sent_ms``) can only judge by the arrival pattern:
``buffered`` when every event arrived in one short burst after a wait, ``streaming`` when the
arrivals spread over the stream with no burst holding much of it, else ``inconclusive``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .result import Mode

#: A verdict judged from arrivals (``error`` comes from the read, never from the arrivals).
Judged = Literal["streaming", "partial", "buffered", "inconclusive"]

JITTER_MS = 50.0  # network jitter allowance: the "max(50, ...)" of the streaming threshold
STREAMING_FRACTION = 0.10
BUFFERED_FRACTION = 0.80
# generic mode
BURST_WINDOW_MS = 50.0  # arrivals within this window count as one burst
MIN_WAIT_MS = 200.0  # "after a wait": first event at least this long after the request was sent
MIN_SPREAD_MS = 100.0  # "spread over the stream": first to last event at least this long
MAX_BURST_SHARE = 0.25  # ...and no burst holds more than this share of the events


@dataclass(frozen=True)
class Judgement:
    mode: Mode
    verdict: Judged
    buffering_delay_ms: float | None
    explanation: str  # one sentence a person can check the verdict against


def buffering_delay_ms(arrive_ms: Sequence[float], sent_ms: Sequence[float]) -> float:
    """max(lag) - min(lag) with lag = arrival - send time, over pairs of equal index."""
    if len(arrive_ms) != len(sent_ms) or not arrive_ms:
        raise ValueError("need the same, non-zero number of arrival and send times")
    lags = [a - s for a, s in zip(arrive_ms, sent_ms, strict=True)]
    return max(lags) - min(lags)


def streamcheck_thresholds(stream_duration_ms: float) -> tuple[float, float]:
    """(streaming at or below, buffered at or above) for a stream of this duration."""
    return max(JITTER_MS, STREAMING_FRACTION * stream_duration_ms), BUFFERED_FRACTION * stream_duration_ms


def streamcheck_verdict(delay_ms: float, stream_duration_ms: float) -> Judged:
    streaming_max, buffered_min = streamcheck_thresholds(stream_duration_ms)
    if delay_ms <= streaming_max:
        return "streaming"
    if delay_ms >= buffered_min:
        return "buffered"
    return "partial"


def judge_streamcheck(arrive_ms: Sequence[float], sent_ms: Sequence[float]) -> Judgement:
    if len(arrive_ms) < 2:
        return Judgement(
            "streamcheck",
            "inconclusive",
            None,
            f"{len(arrive_ms)} event(s) with sent_ms: at least 2 are needed to measure buffering",
        )
    delay = buffering_delay_ms(arrive_ms, sent_ms)
    duration = max(sent_ms) - min(sent_ms)
    streaming_max, buffered_min = streamcheck_thresholds(duration)
    verdict = streamcheck_verdict(delay, duration)
    return Judgement(
        "streamcheck",
        verdict,
        delay,
        f"the server sent {len(sent_ms)} events over {duration:.0f} ms; buffering delay {delay:.1f} ms "
        f"(streaming <= {streaming_max:.0f} ms, buffered >= {buffered_min:.0f} ms)",
    )


def largest_burst(arrive_ms: Sequence[float], window_ms: float = BURST_WINDOW_MS) -> int:
    """The most events that arrived within any window of ``window_ms``."""
    times = sorted(arrive_ms)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] > window_ms:
            start += 1
        best = max(best, end - start + 1)
    return best


def generic_verdict(arrive_ms: Sequence[float], request_sent_ms: float) -> tuple[Judged, str]:
    """(verdict, explanation) from arrival times alone; ``request_sent_ms`` on the same clock."""
    n = len(arrive_ms)
    if n < 3:
        return "inconclusive", f"{n} event(s): at least 3 are needed to judge by arrival pattern"
    first, last = min(arrive_ms), max(arrive_ms)
    spread = last - first
    wait = first - request_sent_ms
    burst = largest_burst(arrive_ms)
    facts = (
        f"{n} events arrived over {spread:.0f} ms, the first {wait:.0f} ms after the request; "
        f"at most {burst} within {BURST_WINDOW_MS:.0f} ms"
    )
    if spread <= BURST_WINDOW_MS and wait >= MIN_WAIT_MS:
        return "buffered", facts + " (one burst after a wait)"
    if spread >= MIN_SPREAD_MS and burst <= max(3, MAX_BURST_SHARE * n):
        return "streaming", facts + " (spread out)"
    return "inconclusive", facts + " (neither one late burst nor spread out)"


def judge(arrive_ms: Sequence[float], sent_ms: Sequence[float | None], request_sent_ms: float) -> Judgement:
    """streamcheck mode when any event carries sent_ms (judged on those), else generic mode."""
    pairs = [(a, s) for a, s in zip(arrive_ms, sent_ms, strict=True) if s is not None]
    if pairs:
        return judge_streamcheck([a for a, _ in pairs], [s for _, s in pairs])
    verdict, explanation = generic_verdict(arrive_ms, request_sent_ms)
    return Judgement("generic", verdict, None, explanation)
