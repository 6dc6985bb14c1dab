"""The lab's story, end to end: trace every chain, name the hop that holds the stream, apply the fixes the
trace gives for that hop, and trace again.

Each chain is traced by ``streamprobe trace``'s own code (``run_trace``: the hops one after another, the
doctor on the first hop that buffers). The chains run concurrently with each other, each chain's hops in
turn: every chain has its own app and server blocks. Measured on the 2 shared cores (20 events x 150 ms,
load ~3): one chain at a time took 117 s, its 23 streaming readings 0.9 ms median, 160 ms worst; four at
once took 41 s, 3.7 ms median, 108 ms worst, with the same verdict on every hop and the same hop named
in every chain. A few ms against a 285 ms streaming bound: concurrency does not change the answer.

The chains have no concurrency cap (the load row's ``capped-haproxy`` has one), so the traces here skip
the few streams at once that look for one (``concurrent_streams=0``): the story stays as quick as before.

A fix is applied only where the lab knows how (``LAB_FIXES``: re-render that nginx's config and reload
it, or restart the app with the fix), the chain traced again, and the fix reverted, so each fix is tried
alone from the chain's faulty state.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

from streamprobe import ProbeOptions
from streamprobe.fixes import HopFix
from streamprobe.output import render_trace
from streamprobe.progress import Progress
from streamprobe.trace import TraceReport, run_trace

from lab.chains import CHAINS, HOP_STANDS_FOR, HOPS, ChainLab, ChainSpec, Faults

#: (hop, fix id) -> (the change in the chain's faults, what it means in the lab). The hop names the
#: component: ``nginx.proxy_buffering_off`` at ``alb-like`` is the ALB stand-in's nginx.
LAB_FIXES: Final[dict[tuple[str, str], tuple[Callable[[Faults], Faults], str]]] = {
    ("direct", "app.starlette_gzip"): (
        lambda f: dataclasses.replace(f, app_holds_gzip=False),
        "the app's holding gzip middleware replaced by Starlette's own GZipMiddleware (>= 0.46)",
    ),
    ("nginx", "nginx.gzip_types"): (
        lambda f: dataclasses.replace(f, nginx_gzip_sse=False),
        "gzip_types without text/event-stream (application/json still compressed)",
    ),
    ("nginx", "nginx.proxy_buffering_off"): (
        lambda f: dataclasses.replace(f, nginx_buffering=False),
        "proxy_buffering off (gzip for text/event-stream left on)",
    ),
    ("alb-like", "nginx.proxy_buffering_off"): (
        lambda f: dataclasses.replace(f, alb_buffering=False),
        "proxy_buffering off",
    ),
}
#: Fixes with nothing to apply in the lab, and why.
NOT_APPLIED: Final[dict[str, str]] = {
    "nginx.upstream_http11": 'every lab nginx already has proxy_http_version 1.1 and Connection ""',
    "nginx.read_timeout": "every lab nginx already reads for longer than the stream's silences",
    "app.compression_exclude": "the lab's app has no other compressing middleware",
}


@dataclass
class FixAttempt:
    fix: HopFix
    applied: bool
    how: str  # what the lab changed (and how it was reloaded), or why it did not
    after: TraceReport | None = None  # the chain traced again with the fix

    @property
    def streams_after(self) -> bool:
        return self.after is not None and all(h.result.verdict == "streaming" for h in self.after.hops)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.fix.to_dict(),
            "applied": self.applied,
            "how": self.how,
            "streams_after": self.streams_after if self.applied else None,
            "after": None if self.after is None else self.after.to_dict(),
        }


@dataclass
class ChainStory:
    spec: ChainSpec
    trace: TraceReport
    attempts: list[FixAttempt] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "stands_for": self.spec.stands_for,
            "fault_hop": self.spec.fault_hop,
            "trace": self.trace.to_dict(),
            "fixes": [a.to_dict() for a in self.attempts],
        }


@dataclass
class StoryReport:
    events: int
    interval_ms: int
    chains: list[ChainStory] = field(default_factory=list)
    elapsed_s: float = 0.0

    def chain(self, name: str) -> ChainStory:
        return next(c for c in self.chains if c.spec.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "interval_ms": self.interval_ms,
            "hops": list(HOPS),
            "chains": [c.to_dict() for c in self.chains],
            "elapsed_s": round(self.elapsed_s, 2),
        }


def _try_fix(
    lab: ChainLab,
    spec: ChainSpec,
    fix: HopFix,
    options: ProbeOptions,
    events: int,
    interval_ms: int,
    progress: Progress,
) -> FixAttempt:
    key = (fix.hop, fix.fix.id)
    if key not in LAB_FIXES:
        why = NOT_APPLIED.get(fix.fix.id, f"the lab cannot apply {fix.fix.id} at {fix.hop}")
        return FixAttempt(fix, False, why)
    change, meaning = LAB_FIXES[key]
    faulty = lab.faults[spec.name]
    if change(faulty) == faulty:
        return FixAttempt(fix, False, f"already so at {fix.hop}: {meaning}")
    done = lab.set_faults(spec.name, change(faulty))
    try:
        progress.note(f"fix {fix.fix.id} at {fix.hop} applied: tracing again")
        after = run_trace(
            lab.hops(spec.name, events, interval_ms), options, concurrent_streams=0, progress=progress
        )
    finally:
        lab.set_faults(spec.name, faulty)
    return FixAttempt(fix, True, f"{meaning}: {'; '.join(done)}", after)


def tell_chain(
    lab: ChainLab, spec: ChainSpec, options: ProbeOptions, events: int, interval_ms: int, progress: Progress
) -> ChainStory:
    """Trace the chain; for the first hop that buffers, try each of its fixes alone and trace again."""
    traced = run_trace(
        lab.hops(spec.name, events, interval_ms), options, concurrent_streams=0, progress=progress
    )
    story = ChainStory(spec, traced)
    if traced.first_buffering_hop is not None:
        for fix in traced.fixes:
            story.attempts.append(_try_fix(lab, spec, fix, options, events, interval_ms, progress))
    return story


def run_story(
    lab: ChainLab,
    *,
    events: int = 20,
    interval_ms: int = 100,
    timeout: float = 10.0,
    workers: int = len(CHAINS),
    progress: Progress | None = None,
) -> StoryReport:
    """Every chain, ``workers`` at a time (each chain's hops in turn)."""
    assert lab.tls is not None
    progress = progress or Progress.off()
    started = time.monotonic()
    options = ProbeOptions(verify=str(lab.tls.ca_pem), timeout=timeout, max_duration=timeout * 6)
    report = StoryReport(events, interval_ms)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lab-story") as pool:
        jobs = [
            pool.submit(tell_chain, lab, spec, options, events, interval_ms, progress.child(f"{spec.name}: "))
            for spec in CHAINS
        ]
        report.chains = [job.result() for job in jobs]
    report.elapsed_s = time.monotonic() - started
    return report


def _indent(text: str) -> list[str]:
    return ["  " + line for line in text.splitlines()]


def render_story(report: StoryReport) -> str:
    lines = [
        "Where does the buffering start? Each chain traced from the application outward "
        f"({' -> '.join(HOPS)}), {report.events} events x {report.interval_ms} ms:",
        "  " + "; ".join(f"{hop}: {what}" for hop, what in HOP_STANDS_FOR.items()),
    ]
    for story in report.chains:
        lines += ["", f"{story.spec.name}: {story.spec.stands_for}"]
        lines += _indent(render_trace(story.trace))
        for attempt in story.attempts:
            head = f"  fix {attempt.fix.fix.id} at {attempt.fix.hop}: "
            if not attempt.applied:
                lines.append(head + f"not applied ({attempt.how})")
                continue
            assert attempt.after is not None
            outcome = (
                "every hop streams now"
                if attempt.streams_after
                else f"still buffers: {attempt.after.summary}"
            )
            row = next(h for h in attempt.after.hops if h.hop.name == attempt.fix.hop)
            lines.append(
                head + f"{attempt.how}; traced again: {attempt.fix.hop} {row.result.verdict}, {outcome}"
            )
    lines += ["", f"({len(report.chains)} chains traced in {report.elapsed_s:.1f} s)"]
    return "\n".join(lines)
