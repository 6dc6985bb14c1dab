"""The stream SLO: which streams count as *good* (docs/contracts/load.md).

A spec is comma-separated upper bounds in milliseconds on the values one read measures::

    first_event<=2000,buffering<=500            (the default)
    ttfb<=300,first_event<=1500,buffering<=200,gap_p99<=250

A stream is good when it was judged without an error and meets every bound. A bound on a value the
read did not measure (``buffering`` of a stream judged by arrival pattern alone, ``gap_p99`` of a
stream of one event) is not met: the SLO asks for something the stream cannot show.

Standard library only, so that the canary's contract (its SLO and ``GoodStream`` metric) can import it
too: one parser and one rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

SloMetric = Literal["ttfb", "first_event", "buffering", "gap_p99"]
SLO_METRICS: Final[tuple[SloMetric, ...]] = get_args(SloMetric)
DEFAULT_SLO: Final = "first_event<=2000,buffering<=500"
#: A bound above a day is a typo, not an objective.
MAX_BOUND_MS: Final = 86_400_000.0

_TOKEN = re.compile(r"^\s*([a-z_0-9]+)\s*<=\s*([0-9]+(?:\.[0-9]+)?)\s*$")


class SloSpecError(ValueError):
    """A spec that does not parse; the message names the token."""


@dataclass(frozen=True)
class Slo:
    """Upper bounds in ms, in the order the spec gave them (each metric at most once)."""

    bounds: tuple[tuple[SloMetric, float], ...]

    @property
    def spec(self) -> str:
        return ",".join(f"{metric}<={_number(limit)}" for metric, limit in self.bounds)

    def is_good(self, failed: bool, values: Mapping[str, float | None]) -> bool:
        """``failed``: the read ended in an error. ``values``: the measured value per metric."""
        if failed:
            return False
        for metric, limit in self.bounds:
            value = values.get(metric)
            if value is None or not value <= limit:
                return False
        return True

    def is_good_result(self, result: Mapping[str, Any]) -> bool:
        """The rule applied to a probe result's JSON (docs/contracts/result.md)."""
        return self.is_good(result.get("error") is not None, result_values(result))


def result_values(result: Mapping[str, Any]) -> dict[str, float | None]:
    """The SLO's metrics read from a probe result's JSON."""
    timings = result.get("timings_ms") or {}
    gaps = result.get("gaps_ms") or {}
    return {
        "ttfb": timings.get("ttfb"),
        "first_event": timings.get("first_event"),
        "buffering": result.get("buffering_delay_ms"),
        "gap_p99": gaps.get("p99"),
    }


def parse_slo(spec: str) -> Slo:
    """Parse a spec; ``SloSpecError`` naming the first token that is wrong."""
    if not spec.strip():
        raise SloSpecError("empty SLO spec: expected e.g. " + DEFAULT_SLO)
    bounds: list[tuple[SloMetric, float]] = []
    seen: set[str] = set()
    for token in spec.split(","):
        shown = token.strip() or "(empty)"
        match = _TOKEN.match(token)
        if match is None:
            raise SloSpecError(f"SLO token {shown!r}: expected METRIC<=MS, e.g. first_event<=2000")
        name, number = match.group(1), float(match.group(2))
        metric = next((m for m in SLO_METRICS if m == name), None)
        if metric is None:
            raise SloSpecError(
                f"SLO token {shown!r}: unknown metric {name!r} (one of {', '.join(SLO_METRICS)})"
            )
        if name in seen:
            raise SloSpecError(f"SLO token {shown!r}: {name} is bounded twice")
        if not math.isfinite(number) or number > MAX_BOUND_MS:
            raise SloSpecError(f"SLO token {shown!r}: the bound must be at most {MAX_BOUND_MS:.0f} ms")
        seen.add(name)
        bounds.append((metric, number))
    return Slo(tuple(bounds))


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)
