"""A few streams at once: does a hop on the path serve only K of them at a time?

A concurrency cap (an ALB Target Optimizer's ``maxConcurrency``, HAProxy ``maxconn``, uvicorn
``--limit-concurrency``, a pool of sync workers) leaves a single probe untouched: one stream always
finds a free slot. Only streams open at the same time show it, by first bytes that come in steps of one
stream's length. So the doctor and trace open ``DEFAULT_CONCURRENT_STREAMS`` streams at once (for a request
without a body, unless told otherwise: see ``streams_to_open``) and read
their first bytes with ``streamprobe load``'s rule (``streamprobe.load.steps.estimate_cap``, the one
owner of that rule): with 4 streams a cap of 1, 2 or 3 shows (the ALB Target Optimizer's default is
1); a larger one needs ``streamprobe load --concurrency N`` with N above it.

The streams are the user's request over HTTP/1.1 without compression, each on a connection of its own
(the way a cap counts: one slot per request). Bounded: they run at the same time, each within the
probe's ``--timeout`` (waiting for its head, queued included) and ``--max-duration``, so the check costs
about one stream per step of the cap; a queued stream whose wait outlasts ``--timeout`` is a ``timeout``
error, not a hang.

With so few streams a stall of the client's machine (a busy CPU delaying two TLS handshakes) can look like
a step, so a cap seen is checked once more and named only when the same cap shows again: a real cap
repeats, a stall seldom does. A path without a cap costs one round of streams, a capped one two.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

from .exceptions import InvalidRequest
from .fixes import HopFix, HopKind, concurrency_cap_fixes
from .load import LoadPlan, LoadSummary, run_load
from .load.steps import CapEstimate
from .options import ProbeOptions

#: Streams the doctor and trace open at once (``--concurrent-streams``): caps below it show.
DEFAULT_CONCURRENT_STREAMS: Final = 4
#: More at once is a load test (``streamprobe load``), not a diagnosis.
MAX_CONCURRENT_STREAMS: Final = 8


def streams_to_open(asked: int | None, options: ProbeOptions) -> tuple[int, str | None]:
    """The streams the doctor or trace opens at once, and why none when the default chose none.

    ``asked`` is ``--concurrent-streams`` (None: not given). Not given, a request without a body gets
    ``DEFAULT_CONCURRENT_STREAMS``; a request with one gets none: a POST to a chat endpoint starts a model
    answer (paid tokens, a row in someone's history) each time, so it is only repeated when asked for.
    """
    if asked is not None:
        check_stream_count(asked)
        return asked, None
    if options.data is not None:
        return 0, (
            "no concurrency check: the request has a body and each stream would be another answer; "
            f"--concurrent-streams {DEFAULT_CONCURRENT_STREAMS} runs it"
        )
    return DEFAULT_CONCURRENT_STREAMS, None


def check_stream_count(streams: int) -> None:
    """InvalidRequest unless ``streams`` is 0 (no check) or 2..MAX_CONCURRENT_STREAMS (one shows no cap)."""
    if streams != 0 and not 2 <= streams <= MAX_CONCURRENT_STREAMS:
        raise InvalidRequest(
            f"concurrent streams must be 0 (no check) or 2..{MAX_CONCURRENT_STREAMS}, got {streams}"
        )


@dataclass(frozen=True)
class ConcurrencyCheck:
    """``streams`` opened at once, one round or two (``rounds``), and what their first bytes showed."""

    streams: int
    rounds: tuple[LoadSummary, ...]

    @property
    def summary(self) -> LoadSummary:
        """The last round (the one a cap is confirmed by)."""
        return self.rounds[-1]

    @property
    def cap(self) -> CapEstimate | None:
        """The cap every round showed alike, else None."""
        caps = [r.cap for r in self.rounds]
        first = caps[0]
        if first is None or any(c is None or c.cap != first.cap for c in caps):
            return None
        return self.summary.cap

    def to_dict(self) -> dict[str, Any]:
        s = self.summary
        return {
            "streams": self.streams,
            "rounds": len(self.rounds),
            "finished": s.finished,
            "errors": {kind: n for kind, n in s.errors.items() if n},
            "ttfb_ms": s.values.ttfb.percentiles(),
            "cap": None if self.cap is None else self.cap.to_dict(),
        }


def check_concurrency(
    url: str, options: ProbeOptions, streams: int = DEFAULT_CONCURRENT_STREAMS
) -> ConcurrencyCheck:
    """Open ``streams`` streams of ``url`` at once (HTTP/1.1, identity) and estimate a cap; once more
    when one shows, to confirm it."""
    check_stream_count(streams)
    one = dataclasses.replace(options, http="h1", accept_encoding="identity")
    plan = LoadPlan(concurrency=streams, streams=streams)
    first = run_load(url, one, plan)
    if first.cap is None:
        return ConcurrencyCheck(streams, (first,))
    return ConcurrencyCheck(streams, (first, run_load(url, one, plan)))


def cap_fixes(
    check: ConcurrencyCheck | None, kind: HopKind = "proxy", hop: str | None = None
) -> list[HopFix]:
    """The fixes when ``check`` found a cap (none otherwise): ``kind``'s own first, named ``hop``."""
    if check is None or check.cap is None:
        return []
    return concurrency_cap_fixes(kind, hop)
