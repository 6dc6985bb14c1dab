"""The pure verdict functions, at and around the thresholds of docs/contracts/result.md."""

from __future__ import annotations

import pytest
from streamprobe import verdict as v


def test_buffering_delay_is_lag_spread_and_clock_offset_cancels() -> None:
    sent = [0.0, 100.0, 200.0]
    assert v.buffering_delay_ms([5.0, 105.0, 205.0], sent) == 0.0
    assert v.buffering_delay_ms([1005.0, 1105.0, 1205.0], sent) == 0.0  # offset cancels
    assert v.buffering_delay_ms([205.0, 205.0, 205.0], sent) == 200.0  # all at the end


def test_buffering_delay_needs_pairs() -> None:
    with pytest.raises(ValueError):
        v.buffering_delay_ms([], [])
    with pytest.raises(ValueError):
        v.buffering_delay_ms([1.0], [1.0, 2.0])


@pytest.mark.parametrize(
    ("delay", "duration", "expected"),
    [
        (50.0, 100.0, "streaming"),  # max(50, 10 %) = 50
        (50.1, 100.0, "partial"),
        (100.0, 1000.0, "streaming"),  # 10 % of 1000
        (100.1, 1000.0, "partial"),
        (799.9, 1000.0, "partial"),
        (800.0, 1000.0, "buffered"),  # 80 %
        (2000.0, 1000.0, "buffered"),
        (10.0, 0.0, "streaming"),
    ],
)
def test_streamcheck_verdict_thresholds(delay: float, duration: float, expected: str) -> None:
    assert v.streamcheck_verdict(delay, duration) == expected


def test_judge_picks_streamcheck_mode_when_sent_ms_present() -> None:
    sent = [float(i * 100) for i in range(11)]
    arrive = [s + 3.0 for s in sent]
    j = v.judge(arrive, sent, 1.0)
    assert (j.mode, j.verdict) == ("streamcheck", "streaming")
    held = v.judge([1003.0] * 11, sent, 1.0)
    assert (held.verdict, held.buffering_delay_ms) == ("buffered", 1000.0)
    assert "1000 ms" in held.explanation


def test_judge_streamcheck_with_one_event_is_inconclusive() -> None:
    j = v.judge([10.0], [0.0], 1.0)
    assert (j.mode, j.verdict, j.buffering_delay_ms) == ("streamcheck", "inconclusive", None)


def test_generic_streaming_buffered_inconclusive() -> None:
    spread = [float(i * 100) for i in range(10)]
    assert v.judge(spread, [None] * 10, 0.0).verdict == "streaming"
    burst = [1000.0 + i for i in range(10)]
    j = v.judge(burst, [None] * 10, 0.0)
    assert (j.mode, j.verdict) == ("generic", "buffered")
    fast_and_early = [5.0 + i for i in range(10)]  # one burst but no wait: could just be a fast server
    assert v.judge(fast_and_early, [None] * 10, 0.0).verdict == "inconclusive"
    clumps = [t + i for t in (0.0, 300.0, 600.0) for i in range(4)]  # 4 KiB-style clumps
    assert v.judge(clumps, [None] * 12, 0.0).verdict == "partial"  # blocks between silences
    assert v.judge([1.0, 2.0], [None, None], 0.0).verdict == "inconclusive"


def test_largest_burst() -> None:
    assert v.largest_burst([0, 10, 20, 100, 110]) == 3
    assert v.largest_burst([]) == 0
