"""What a load run is asked to do, checked before anything is sent."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..slo import DEFAULT_SLO, Slo, parse_slo

#: Concurrency and stream counts above this are a typo, not a test one machine (or one Lambda) runs.
MAX_STREAMS: Final = 100_000
#: The longest ``--duration`` and ``--ramp`` (a day): longer is a soak test for other tools.
MAX_SECONDS: Final = 86_400.0
DEFAULT_MIN_GOODPUT: Final = 100.0


@dataclass(frozen=True)
class LoadPlan:
    """``concurrency`` streams open at once, until ``streams`` have started or ``duration`` seconds have
    passed (exactly one of the two). Stream ``i`` of the first wave starts at ``i * ramp / concurrency``.
    Over HTTP/2 the streams share ``connections`` connections."""

    concurrency: int
    streams: int | None = None
    duration: float | None = None
    ramp: float = 0.0
    connections: int = 1
    slo: Slo = field(default_factory=lambda: parse_slo(DEFAULT_SLO))
    min_goodput: float = DEFAULT_MIN_GOODPUT  # percent

    def validate(self) -> None:
        """ValueError naming the value that cannot be run."""
        _count("concurrency", self.concurrency)
        _count("connections", self.connections)
        if (self.streams is None) == (self.duration is None):
            raise ValueError("give exactly one of streams (--streams M) and duration (--duration S)")
        if self.streams is not None:
            _count("streams", self.streams)
        if self.duration is not None:
            _seconds("duration", self.duration, positive=True)
        _seconds("ramp", self.ramp, positive=False)
        if not 0 <= self.min_goodput <= 100:
            raise ValueError(f"min goodput must be a percentage 0..100, got {self.min_goodput:g}")


def _count(name: str, value: int) -> None:
    if not 1 <= value <= MAX_STREAMS:
        raise ValueError(f"{name} must be 1..{MAX_STREAMS}, got {value}")


def _seconds(name: str, value: float, *, positive: bool) -> None:
    low_ok = value > 0 if positive else value >= 0
    if not (math.isfinite(value) and low_ok and value <= MAX_SECONDS):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be {bound} and at most {MAX_SECONDS:.0f} s, got {value:g}")


def plan_from(values: Mapping[str, Any]) -> LoadPlan:
    """A checked plan from named values (a command line's, an event's): ``concurrency`` and ``streams`` or
    ``duration``; ``ramp``, ``connections``, ``slo`` (a spec) and ``min_goodput`` where given (None or
    absent: the default). Other names are ignored. ValueError naming what cannot run."""

    def given(name: str, default: Any) -> Any:
        value = values.get(name)
        return default if value is None else value

    plan = LoadPlan(
        concurrency=values["concurrency"],
        streams=values.get("streams"),
        duration=values.get("duration"),
        ramp=given("ramp", 0.0),
        connections=given("connections", 1),
        slo=parse_slo(given("slo", DEFAULT_SLO)),
        min_goodput=given("min_goodput", DEFAULT_MIN_GOODPUT),
    )
    plan.validate()
    return plan
