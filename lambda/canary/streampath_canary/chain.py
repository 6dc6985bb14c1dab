"""Where buffering starts along the canary's chain (``canary.chain``: path names from the app outward).

Per protocol, the chain's paths probed over that protocol are read in chain order and judged by the
rule of ``streamprobe trace`` (:func:`streamprobe.chain.judge_chain`, standard library only): the first
that buffers after one that streamed -- or the first path itself -- is where the buffering starts, with
the delay it adds. This module names the answer in the canary's terms (path names, a protocol, a
sentence, its JSON in the run's summary); the handler judges its run with it and ``streampath status``
its latest metrics, neither importing the probe's HTTP stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from streamprobe.chain import CHAIN_OUTCOMES, ChainOutcome, judge_chain

#: A reading with no result at all (``streampath status`` before the canary published): like a failure,
#: nothing beyond it can be told.
NO_DATA: Final = "no data"


@dataclass(frozen=True)
class HopReading:
    name: str  # the path's name
    verdict: str  # streaming | partial | buffered | inconclusive | error | NO_DATA
    buffering_delay_ms: float | None = None


@dataclass(frozen=True)
class ChainAnswer:
    """One protocol's answer for one run (or one reading of the metrics)."""

    protocol: str
    hops: tuple[str, ...]  # the chain's paths judged, in order
    outcome: ChainOutcome
    first_buffering_hop: str | None = None
    previous_hop: str | None = None
    added_delay_ms: float | None = None
    stopped_at: str | None = None  # the failed hop (outcome "error") or the ambiguous one
    no_data: bool = False  # the hop it stopped at had no result (rather than a failed probe)

    def sentence(self) -> str:
        """``buffering starts at alb (h1, after direct): +1894 ms``, or what stands instead."""
        if self.outcome == "buffering":
            after = f", after {self.previous_hop}" if self.previous_hop else ""
            delay = "" if self.added_delay_ms is None else f": {round(self.added_delay_ms):+d} ms"
            return f"buffering starts at {self.first_buffering_hop} ({self.protocol}{after}){delay}"
        if self.outcome == "error":
            why = "no data for it yet" if self.no_data else "its probe failed"
            return f"cannot tell beyond {self.stopped_at} ({self.protocol}): {why}"
        if self.outcome == "ambiguous":
            return (
                f"buffering starts at or before {self.stopped_at} ({self.protocol}): the path before it "
                "was judged by arrival pattern only"
            )
        if self.outcome == "inconclusive":
            return (
                f"no buffering seen along {', '.join(self.hops)} ({self.protocol}), some paths inconclusive"
            )
        return f"streams through {', '.join(self.hops)} ({self.protocol})"

    @classmethod
    def from_dict(cls, doc: object) -> ChainAnswer | None:
        """An answer as :meth:`to_dict` wrote it (a run's summary), or None when it is not one; names are
        cut to one short line each (the summary comes back through Lambda's payload)."""
        if not isinstance(doc, Mapping):
            return None
        outcome, hops, delay = doc.get("outcome"), doc.get("hops"), doc.get("added_delay_ms")
        if outcome not in CHAIN_OUTCOMES or not isinstance(hops, list):
            return None

        def name(value: object) -> str | None:
            return None if value is None else " ".join(str(value).split())[:64]

        return cls(
            protocol=name(doc.get("protocol")) or "?",
            hops=tuple(name(h) or "?" for h in hops),
            outcome=outcome,
            first_buffering_hop=name(doc.get("first_buffering_hop")),
            previous_hop=name(doc.get("previous_hop")),
            added_delay_ms=float(delay)
            if isinstance(delay, int | float) and not isinstance(delay, bool)
            else None,
            stopped_at=name(doc.get("stopped_at")),
            no_data=doc.get("no_data") is True,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "hops": list(self.hops),
            "outcome": self.outcome,
            "first_buffering_hop": self.first_buffering_hop,
            "previous_hop": self.previous_hop,
            "added_delay_ms": None if self.added_delay_ms is None else round(self.added_delay_ms, 3),
            "stopped_at": self.stopped_at,
            "no_data": self.no_data,
            "summary": self.sentence(),
        }


def judge(protocol: str, readings: Sequence[HopReading]) -> ChainAnswer:
    """The answer for ``readings`` (ordered from the app outward)."""
    hops = tuple(r.name for r in readings)
    judgement = judge_chain(readings)
    if judgement.outcome == "error" and judgement.stopped_at is not None:
        stopped = readings[judgement.stopped_at]
        return ChainAnswer(
            protocol, hops, "error", stopped_at=stopped.name, no_data=stopped.verdict == NO_DATA
        )
    if judgement.outcome == "ambiguous" and judgement.ambiguous_at is not None:
        return ChainAnswer(protocol, hops, "ambiguous", stopped_at=hops[judgement.ambiguous_at])
    first, previous = judgement.first_buffering, judgement.previous()
    if judgement.outcome == "buffering" and first is not None:
        return ChainAnswer(
            protocol,
            hops,
            "buffering",
            first_buffering_hop=hops[first],
            previous_hop=None if previous is None else hops[previous],
            added_delay_ms=judgement.added_delay_ms[first],
        )
    return ChainAnswer(protocol, hops, judgement.outcome)


def answers(
    chain: Sequence[str], protocols: Sequence[str], reading: Callable[[str, str], HopReading | None]
) -> list[ChainAnswer]:
    """One answer per protocol over the chain's paths that have a reading for it (``reading(path,
    protocol)``: None where the path was not probed over it); protocols with no reading are left out."""
    out = []
    for protocol in protocols:
        readings = [r for name in chain if (r := reading(name, protocol)) is not None]
        if readings:
            out.append(judge(protocol, readings))
    return out


def from_results(
    chain: Sequence[str], protocols: Sequence[str], results: Mapping[tuple[str, str], Mapping[str, Any]]
) -> list[ChainAnswer]:
    """Answers from one run's probe results (docs/contracts/result.md), keyed by (path, protocol)."""

    def reading(name: str, protocol: str) -> HopReading | None:
        result = results.get((name, protocol))
        if result is None:
            return None
        delay = result.get("buffering_delay_ms")
        return HopReading(
            name, str(result.get("verdict") or "error"), float(delay) if delay is not None else None
        )

    return answers(chain, protocols, reading)
