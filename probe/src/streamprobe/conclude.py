"""The last step of every read, the probe's and the browser's: judge the arrivals, then redact.

One function, so the two readers reach a verdict by the same rules and show the same facts.
"""

from __future__ import annotations

from collections.abc import Iterable

from .messages import NO_EVENTS_NOTE, bounded_message
from .result import ErrorInfo, ProbeResult
from .shape import events_per_s, gap_stats
from .verdict import judge


def conclude(result: ProbeResult, secrets: Iterable[str]) -> ProbeResult:
    """Fill ``events``, ``first_event``, ``mode``, ``buffering_delay_ms``, ``verdict`` and the stream's
    shape (``gaps_ms``, ``events_per_s``, ``clumping``) from ``result.arrivals`` and
    ``result.request_sent_ms``; an error makes the verdict ``error``. Then redact ``secrets`` from
    every text the result shows from the server (Content-Encoding, Alt-Svc, error message, notes) and
    bound each (``messages.MESSAGE_CHARS``). Returns ``result`` (changed in place)."""
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
        r.error = ErrorInfo(r.error.kind, bounded_message(r.error.message, secrets))
    r.notes = [bounded_message(note, secrets) for note in r.notes]
    # Already redacted where they were read; once more here, the one place every text passes.
    if r.content_encoding is not None:
        r.content_encoding = bounded_message(r.content_encoding, secrets)
    if r.alt_svc is not None:
        r.alt_svc = bounded_message(r.alt_svc, secrets)
    return r
