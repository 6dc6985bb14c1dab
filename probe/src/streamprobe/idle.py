"""A stream cut by a hop's idle timeout: how long it was silent before the connection broke, and which
known idle timeouts fit that silence.

A hop that cuts an idle stream closes the connection mid-response: the probe sees the framing break
(``protocol``) after the last event, and the silence is the time from that event (or the response head)
to the break. A silence the probe's own ``--timeout`` ended first is ``stalled`` instead, so to see a
30 s cut, probe with ``--timeout`` above 30.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .result import ProbeResult


@dataclass(frozen=True)
class IdleTimeout:
    """A hop's idle timeout: ``kind`` is the hop kind of ``streamprobe.fixes``."""

    kind: str
    where: str
    seconds: float


#: The idle timeouts of the hops streampath knows, shortest first (AWS sources in the README).
IDLE_TIMEOUTS: Final[tuple[IdleTimeout, ...]] = (
    IdleTimeout("apigateway", "an edge-optimized API Gateway endpoint", 30.0),
    IdleTimeout("cloudfront", "CloudFront's default origin response timeout", 30.0),
    IdleTimeout("alb", "the ALB's default idle timeout", 60.0),
    IdleTimeout("nginx", "nginx's default proxy_read_timeout", 60.0),
    IdleTimeout("apigateway", "a Regional or private API Gateway endpoint", 300.0),
    IdleTimeout("nlb", "an NLB TLS listener's fixed idle timeout", 350.0),
)
#: A break after less silence than this is not taken for an idle cut (a crash, a reset).
MIN_IDLE_CUT_MS: Final = 1000.0


@dataclass(frozen=True)
class IdleCut:
    silence_ms: float
    #: The known idle timeouts within 10% (at least 1 s) of the silence.
    matches: tuple[IdleTimeout, ...]


def idle_cut(result: ProbeResult) -> IdleCut | None:
    """The cut, when ``result`` is a stream that broke after a silence of at least ``MIN_IDLE_CUT_MS``."""
    if result.error is None or result.error.kind != "protocol" or result.status is None:
        return None
    total = result.timings_ms.get("total")
    last = result.arrivals[-1].arrive_ms if result.arrivals else result.timings_ms.get("ttfb")
    if total is None or last is None or total - last < MIN_IDLE_CUT_MS:
        return None
    silence_s = (total - last) / 1000
    matches = tuple(t for t in IDLE_TIMEOUTS if abs(silence_s - t.seconds) <= max(1.0, 0.1 * t.seconds))
    return IdleCut(total - last, matches)
