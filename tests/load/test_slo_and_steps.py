"""The SLO spec and its good rule, the concurrency-cap estimate, the plan's bounds and exact merging:
pure functions, no servers."""

from __future__ import annotations

import random
from typing import Any

import pytest
from streamprobe.load import MAX_STREAMS, LoadPlan
from streamprobe.load.stats import Samples
from streamprobe.load.steps import estimate_cap
from streamprobe.shape import percentile
from streamprobe.slo import DEFAULT_SLO, SloSpecError, parse_slo


def result(
    ttfb: float | None = 10.0, first: float | None = 20.0, buffering: float | None = 5.0
) -> dict[str, Any]:
    return {
        "error": None,
        "timings_ms": {"ttfb": ttfb, "first_event": first},
        "buffering_delay_ms": buffering,
        "gaps_ms": {"p99": 100.0},
    }


def test_the_default_spec_round_trips() -> None:
    slo = parse_slo(DEFAULT_SLO)
    assert slo.bounds == (("first_event", 2000.0), ("buffering", 500.0))
    assert slo.spec == DEFAULT_SLO


def test_good_means_no_error_and_every_bound_met() -> None:
    slo = parse_slo("ttfb<=100, first_event<=2000 ,buffering<=500,gap_p99<=150.5")
    assert slo.is_good_result(result())
    assert not slo.is_good_result(result(ttfb=100.01))
    assert not slo.is_good_result({**result(), "error": {"kind": "stalled", "message": "..."}})
    # a bound on a value the stream did not measure (generic mode: no buffering delay) is not met
    assert not slo.is_good_result(result(buffering=None))
    assert parse_slo("ttfb<=100").is_good_result(result(buffering=None))


@pytest.mark.parametrize(
    ("spec", "token"),
    [
        ("first_event<=2000,latency<=5", "latency<=5"),
        ("first_event<2000", "first_event<2000"),
        ("ttfb<=abc", "ttfb<=abc"),
        ("ttfb<=1,,buffering<=2", "(empty)"),
        ("ttfb<=1,ttfb<=2", "ttfb<=2"),
        ("ttfb<=-5", "ttfb<=-5"),
        ("ttfb<=99999999999", "ttfb<=99999999999"),
    ],
)
def test_a_bad_spec_names_the_token(spec: str, token: str) -> None:
    with pytest.raises(SloSpecError) as caught:
        parse_slo(spec)
    assert repr(token) in str(caught.value) and "\n" not in str(caught.value)


def test_first_bytes_in_steps_of_a_stream_name_the_cap() -> None:
    rng = random.Random(7)
    # 10 streams, a cap of 3, each stream 400 ms long: steps at 0, 400, 800, 1200 (the last one partial)
    ttfb = [step * 400 + rng.uniform(0, 15) for step in (0, 0, 0, 1, 1, 1, 2, 2, 2, 3)]
    cap = estimate_cap(ttfb, 400.0, concurrency=10)
    assert cap is not None and (cap.cap, cap.steps) == (3, 4)
    assert "concurrency cap of about 3" in cap.message


@pytest.mark.parametrize(
    ("ttfb", "stream_ms", "concurrency"),
    [
        ([5.0, 6.0, 7.0, 9.0], 400.0, 4),  # all served at once
        ([5.0, 6.0, 1500.0, 1501.0], 400.0, 4),  # steps, but not a stream's length apart
        ([0.0, 0.0, 400.0, 400.0], 400.0, 2),  # the groups are as large as the concurrency: no cap below it
        ([0.0, 20.0, 40.0], 30.0, 3),  # streams too short to tell steps from jitter
    ],
)
def test_no_cap_without_steps_of_a_stream(ttfb: list[float], stream_ms: float, concurrency: int) -> None:
    assert estimate_cap(ttfb, stream_ms, concurrency) is None


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (LoadPlan(concurrency=0, streams=1), "concurrency must be 1..100000, got 0"),
        (LoadPlan(concurrency=MAX_STREAMS + 1, streams=1), "concurrency must be 1..100000"),
        (LoadPlan(concurrency=1, streams=0), "streams must be 1..100000, got 0"),
        (LoadPlan(concurrency=1), "exactly one of streams"),
        (LoadPlan(concurrency=1, streams=1, duration=1.0), "exactly one of streams"),
        (LoadPlan(concurrency=1, duration=0.0), "duration must be > 0"),
        (LoadPlan(concurrency=1, streams=1, ramp=-1), "ramp must be >= 0"),
        (LoadPlan(concurrency=1, streams=1, min_goodput=101), "percentage 0..100"),
    ],
)
def test_a_plan_that_cannot_run_is_refused(plan: LoadPlan, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan.validate()


def test_merged_samples_give_the_percentiles_of_the_union() -> None:
    rng = random.Random(3)
    values = [rng.lognormvariate(4, 1) for _ in range(1001)]
    parts = [Samples(values[:100]), Samples(values[100:700]), Samples(values[700:])]
    merged = Samples()
    for part in parts:
        merged.merge(part)
    ordered = sorted(values)
    expected = {k: round(percentile(ordered, q), 3) for k, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))}
    assert merged.percentiles() == {**expected, "max": round(ordered[-1], 3)}
