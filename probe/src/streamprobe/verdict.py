"""Pure functions that turn event arrival times into a buffering delay and a verdict
(docs/contracts/result.md).

streamcheck mode (events carry the server's ``sent_ms``)::

    lag_i = arrive_ms_i - sent_ms_i            (the clocks' offset is a constant and cancels)
    buffering_delay_ms = max(lag) - min(lag)
    streaming  if delay <= max(50, 10 % of the stream's duration)
    buffered   if delay >= 80 % of the stream's duration
    partial    otherwise

The stream's duration is the server's schedule: last ``sent_ms`` minus first ``sent_ms``.

stamped mode (``StampMiddleware``'s ``: sp-sent=<ms>`` comment lines, docs/contracts/stamps.md) is
judged by exactly the same rules, with the stamp as each event's send time.

generic mode (any SSE stream, no send times) judges by the arrival pattern alone. It splits the
arrivals at every *long silence* -- longer than max(50 ms, 10 % of the arrivals' spread), the same
allowance as the streaming threshold above -- and calls a run of at least ``BLOCK_MIN_EVENTS`` events
that arrived within ``BLOCK_SPAN_MS`` a *block*. ``clumping`` is the share of events that arrived in
blocks. Then:

    buffered      every event arrived within 50 ms, at least 200 ms after the request (one late burst)
    partial       clumping >= 0.5 in at least 2 blocks: a hop forwards the stream in blocks
    streaming     arrivals spread over >= 100 ms, no 50 ms window holding more than max(3, 25 %) of them
    inconclusive  anything else (one early burst looks the same from a fast server and from a buffer)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .result import Mode
from .shape import gaps, segments

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
BLOCK_SPAN_MS = 50.0  # a block: events that arrived within this long of each other, between silences...
BLOCK_MIN_EVENTS = 3  # ...at least this many (two events read together are common on a busy reader)
CLUMPED_SHARE = 0.5  # partial: at least this share of the events arrived in blocks...
MIN_BLOCKS = 2  # ...and in at least this many blocks (one block after a wait is "buffered")


@dataclass(frozen=True)
class Judgement:
    mode: Mode
    verdict: Judged
    buffering_delay_ms: float | None
    explanation: str  # one sentence a person can check the verdict against
    clumping: float | None = None  # share of events that arrived in blocks (generic mode's measure)


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


def judge_streamcheck(
    arrive_ms: Sequence[float], sent_ms: Sequence[float], mode: Mode = "streamcheck"
) -> Judgement:
    """Judge events with send times: streamcheck's ``sent_ms``, or stamps (``mode="stamped"``)."""
    what = "a stamp" if mode == "stamped" else "sent_ms"
    if len(arrive_ms) < 2:
        return Judgement(
            mode,
            "inconclusive",
            None,
            f"{len(arrive_ms)} event(s) with {what}: at least 2 are needed to measure buffering",
        )
    delay = buffering_delay_ms(arrive_ms, sent_ms)
    duration = max(sent_ms) - min(sent_ms)
    streaming_max, buffered_min = streamcheck_thresholds(duration)
    verdict = streamcheck_verdict(delay, duration)
    sent = "stamped" if mode == "stamped" else "sent"
    return Judgement(
        mode,
        verdict,
        delay,
        f"the server {sent} {len(sent_ms)} events over {duration:.0f} ms; buffering delay {delay:.1f} ms "
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


def long_silence_ms(spread_ms: float) -> float:
    """A silence longer than this, between arrivals spread over ``spread_ms``, is a hold."""
    return max(JITTER_MS, STREAMING_FRACTION * spread_ms)


def blocks(arrive_ms: Sequence[float]) -> list[int]:
    """The sizes of the blocks: runs between long silences of at least ``BLOCK_MIN_EVENTS`` events that
    arrived within ``BLOCK_SPAN_MS``."""
    if not arrive_ms:
        return []
    silence = long_silence_ms(max(arrive_ms) - min(arrive_ms))
    return [n for n, span in segments(arrive_ms, silence) if n >= BLOCK_MIN_EVENTS and span <= BLOCK_SPAN_MS]


def clumping(arrive_ms: Sequence[float]) -> float | None:
    """The share of events that arrived in blocks (0..1); ``None`` with fewer than 3 events."""
    if len(arrive_ms) < 3:
        return None
    return sum(blocks(arrive_ms)) / len(arrive_ms)


def generic_verdict(arrive_ms: Sequence[float], request_sent_ms: float) -> tuple[Judged, str]:
    """(verdict, explanation) from arrival times alone; ``request_sent_ms`` on the same clock."""
    n = len(arrive_ms)
    if n < 3:
        return "inconclusive", f"{n} event(s): at least 3 are needed to judge by arrival pattern"
    first, last = min(arrive_ms), max(arrive_ms)
    spread = last - first
    wait = first - request_sent_ms
    burst = largest_burst(arrive_ms)
    found = blocks(arrive_ms)
    share = sum(found) / n
    longest = max(gaps(arrive_ms), default=0.0)
    facts = (
        f"{n} events arrived over {spread:.0f} ms, the first {wait:.0f} ms after the request; "
        f"at most {burst} within {BURST_WINDOW_MS:.0f} ms; {share:.0%} in {len(found)} block(s) "
        f"between silences over {long_silence_ms(spread):.0f} ms (longest {longest:.0f} ms)"
    )
    if spread <= BURST_WINDOW_MS and wait >= MIN_WAIT_MS:
        return "buffered", facts + " (one burst after a wait)"
    if share >= CLUMPED_SHARE and len(found) >= MIN_BLOCKS:
        return "partial", facts + " (arrived in blocks: a hop forwards the stream in pieces, not as sent)"
    if spread >= MIN_SPREAD_MS and burst <= max(3, MAX_BURST_SHARE * n):
        return "streaming", facts + " (spread out)"
    return "inconclusive", facts + " (neither one late burst, nor blocks, nor spread out)"


def judge(
    arrive_ms: Sequence[float],
    sent_ms: Sequence[float | None],
    request_sent_ms: float,
    stamp_ms: Sequence[float | None] | None = None,
) -> Judgement:
    """streamcheck mode when any event carries ``sent_ms`` (judged on those), else stamped mode when any
    carries a stamp, else generic mode. ``clumping`` is measured in every mode."""
    clumped = clumping(arrive_ms)
    pairs = [(a, s) for a, s in zip(arrive_ms, sent_ms, strict=True) if s is not None]
    mode: Mode = "streamcheck"
    if not pairs and stamp_ms is not None:
        pairs = [(a, s) for a, s in zip(arrive_ms, stamp_ms, strict=True) if s is not None]
        mode = "stamped"
    if pairs:
        j = judge_streamcheck([a for a, _ in pairs], [s for _, s in pairs], mode)
        return Judgement(j.mode, j.verdict, j.buffering_delay_ms, j.explanation, clumped)
    verdict, explanation = generic_verdict(arrive_ms, request_sent_ms)
    return Judgement("generic", verdict, None, explanation, clumped)
