"""Judging a chain of hops read from the application outward: where does the buffering start?

A hop buffers when its verdict is partial or buffered and the hop before it streamed (the first hop
has nothing before it: the application itself). Its added delay is its buffering delay minus the
previous hop's. A hop that was not judged (its probe failed, or there is no reading of it) ends the
judgement: nothing beyond it can be told. A buffering hop right after an inconclusive one is not named.

Standard library only: ``streamprobe trace`` judges the hops it probed with it, and the canary
(``streampath_canary.chain``) judges its ``canary.chain`` on one run's results and ``streampath status``
on the newest metrics, neither importing the probe's HTTP stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol, get_args

from .result import Verdict

BUFFERING: Final[tuple[Verdict, ...]] = ("partial", "buffered")
#: The verdicts a hop can be judged by; any other (``error``, or a reading with no result) stops.
JUDGED: Final[tuple[Verdict, ...]] = ("streaming", *BUFFERING, "inconclusive")
#: How far the judgement got: a hop named, every hop streams, an unjudged hop stopped it, a hop could
#: not be judged (generic mode) right before a buffering one, or some hops only inconclusive.
ChainOutcome = Literal["buffering", "streams", "error", "ambiguous", "inconclusive"]
CHAIN_OUTCOMES: Final[tuple[ChainOutcome, ...]] = get_args(ChainOutcome)


class HopResult(Protocol):
    """What the judgement reads of a hop: a :class:`~streamprobe.result.ProbeResult`, or the canary's
    reading of one (its verdict and buffering delay)."""

    @property
    def verdict(self) -> str: ...

    @property
    def buffering_delay_ms(self) -> float | None: ...


@dataclass(frozen=True)
class ChainJudgement:
    outcome: ChainOutcome
    added_delay_ms: list[float | None]  # per hop, in order; the first hop's is its own delay
    first_buffering: int | None = None  # index of the first hop that buffers
    stopped_at: int | None = None  # index of the hop that was not judged (outcome "error")
    ambiguous_at: int | None = None  # a buffering hop after an inconclusive one (outcome "ambiguous")
    unsure: list[int] = field(default_factory=list)  # hops judged "inconclusive" before the answer
    out_of_order: list[int] = field(default_factory=list)  # streaming hops after the first buffering one

    def previous(self) -> int | None:
        """The hop before the first buffering one (None when it is the first hop, or nothing buffers)."""
        if self.first_buffering is None or self.first_buffering == 0:
            return None
        return self.first_buffering - 1


def added_delays(results: Sequence[HopResult]) -> list[float | None]:
    """Each hop's buffering delay minus the previous hop's; the first hop's is its own delay."""
    out: list[float | None] = []
    for i, r in enumerate(results):
        mine = r.buffering_delay_ms
        if i == 0:
            out.append(mine)
            continue
        before = results[i - 1].buffering_delay_ms
        out.append(None if mine is None or before is None else mine - before)
    return out


def judge_chain(results: Sequence[HopResult]) -> ChainJudgement:
    """The first hop that buffers, or why there is none (``results`` ordered from the app outward)."""
    delays = added_delays(results)
    unsure: list[int] = []
    for i, r in enumerate(results):
        if r.verdict not in JUDGED:
            return ChainJudgement("error", delays, stopped_at=i, unsure=unsure)
        if r.verdict in BUFFERING:
            if i == 0 or results[i - 1].verdict == "streaming":
                late = [j for j in range(i + 1, len(results)) if results[j].verdict == "streaming"]
                return ChainJudgement(
                    "buffering", delays, first_buffering=i, unsure=unsure, out_of_order=late
                )
            return ChainJudgement("ambiguous", delays, ambiguous_at=i, unsure=unsure)
        if r.verdict != "streaming":
            unsure.append(i)
    return ChainJudgement("inconclusive" if unsure else "streams", delays, unsure=unsure)
