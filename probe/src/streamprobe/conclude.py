"""The last step of every read, the probe's and the browser's: judge the arrivals, then redact.

One function, so the two readers reach a verdict by the same rules and show the same facts.
"""

from __future__ import annotations

from collections.abc import Iterable

from .messages import NO_EVENTS_NOTE
from .redact import redact
from .result import ProbeError, ProbeResult
from .shape import events_per_s, gap_stats
from .verdict import judge


def conclude(result: ProbeResult, secrets: Iterable[str]) -> ProbeResult:
    """Fill ``events``, ``first_event``, ``mode``, ``buffering_delay_ms``, ``verdict`` and the stream's
    shape (``gaps_ms``, ``events_per_s``, ``clumping``) from ``result.arrivals`` and
    ``result.request_sent_ms``; an error makes the verdict ``error``. Then
    redact ``secrets`` from the error message and the notes. Returns ``result`` (changed in place)."""
    r = result
    secrets = list(secrets)
    r.events = len(r.arrivals)
    if r.arrivals:
        arrive = [a.arrive_ms for a in r.arrivals]
        r.timings_ms["first_event"] = arrive[0]
        j = judge(
            arrive,
            [a.sent_ms for a in r.arrivals],
            r.request_sent_ms or 0.0,
            [a.stamp_ms for a in r.arrivals],
        )
        r.mode, r.buffering_delay_ms, r.verdict = j.mode, j.buffering_delay_ms, j.verdict
        r.gaps_ms, r.events_per_s, r.clumping = gap_stats(arrive), events_per_s(arrive), j.clumping
        r.notes.append(f"{j.mode} mode: {j.explanation}")
    elif r.error is None:
        r.verdict = "inconclusive"
        r.notes.append(NO_EVENTS_NOTE)
    if r.error is not None:
        r.verdict = "error"
        r.error = ProbeError(r.error.kind, redact(r.error.message, secrets))
    r.notes = [redact(note, secrets) for note in r.notes]
    return r
