"""The load engine: ``concurrency`` streams at once, each one read by ``streamprobe.probe`` (the same
measuring and judging as a single probe), on one thread each.

Threads, not an event loop: the probe is the synchronous reader every other command uses, and a
thread blocked in ``recv`` costs no CPU; the benchmark (bench/load_bench.py) measures how many
streams one core holds and how exact their arrival times stay.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from ..conclude import conclude
from ..options import HttpChoice, ProbeOptions
from ..probing import check_request, probe
from ..progress import Progress
from ..redact import display_url
from ..result import ErrorInfo, ProbeResult, ProtocolLabel
from ..shared import SharedConnections, can_share
from ..timing import now
from .plan import LoadPlan
from .records import Records
from .summary import LoadSummary

#: The protocol a run reports before any stream says which one it used.
PROTOCOL_ASKED: Final[dict[HttpChoice, ProtocolLabel]] = {
    "auto": "HTTP/1.1",
    "h1": "HTTP/1.1",
    "h2": "HTTP/2",
    "h3": "HTTP/3",
}
PROGRESS_EVERY_S = 0.5


class CapacityError(ValueError):
    """This machine cannot open the threads the run asks for (reported like a usage error)."""


@dataclass
class _Dispatch:
    """Hands out stream numbers until the plan's count or deadline is reached, or the run is stopped."""

    plan: LoadPlan
    started_at: float
    stop: threading.Event
    issued: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> int | None:
        with self._lock:
            if self.stop.is_set():
                return None
            if self.plan.streams is not None and self.issued >= self.plan.streams:
                return None
            if self.plan.duration is not None and now() >= self.started_at + self.plan.duration:
                return None
            self.issued += 1
            return self.issued - 1


def run_load(
    url: str,
    options: ProbeOptions,
    plan: LoadPlan,
    *,
    records: Records | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    on_tick: Callable[[LoadSummary], None] | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> LoadSummary:
    """Run the plan against ``url``. ValueError for an unusable URL, option or plan (before anything is
    sent). Ctrl-C (KeyboardInterrupt in the calling thread) or ``stop`` ends the run: the summary holds
    the streams that had finished, with ``interrupted`` set. ``on_result`` gets each stream's result
    (arrivals included) as it finishes, on the stream's thread; ``on_tick`` the summary twice a
    second, on the calling thread."""
    plan.validate()
    target = check_request(url, options)
    stop = stop or threading.Event()
    progress = progress or Progress.off()
    shared = (
        SharedConnections(url, options, count=plan.connections, per_connection_streams=plan.concurrency)
        if can_share(url, options)
        else None
    )
    summary = LoadSummary(
        url=display_url(target.copy_remove_param("nonce") if options.add_nonce else target),
        protocol=PROTOCOL_ASKED[options.http],
        concurrency=plan.concurrency,
        connection_reuse="shared" if shared is not None else "per-stream",
        slo=plan.slo,
    )
    return _run(url, options, plan, shared, summary, records, progress, stop, on_tick, on_result)


def _run(
    url: str,
    options: ProbeOptions,
    plan: LoadPlan,
    shared: SharedConnections | None,
    summary: LoadSummary,
    records: Records | None,
    progress: Progress,
    stop: threading.Event,
    on_tick: Callable[[LoadSummary], None] | None,
    on_result: Callable[[ProbeResult], None] | None,
) -> LoadSummary:
    started_at = now()
    dispatch = _Dispatch(plan, started_at, stop)
    own_connections = [0]
    lock = threading.Lock()

    def one_stream(number: int) -> None:
        summary.stream_started()
        begun = now()
        try:
            result = probe(url, options, connections=shared)
        except Exception as exc:  # a defect, not the server's trouble: counted, never lost
            result = _failed(summary.url, options, exc)
        if stop.is_set():
            return  # finished after the run was stopped: not part of its summary
        result_json = result.to_dict()
        good = summary.add(result, result_json)
        if shared is None and result.timings_ms.get("connect") is not None:
            with lock:
                own_connections[0] += 1
        if records is not None:
            records.write(number, (begun - started_at) * 1000, good, result_json)
        if on_result is not None:
            on_result(result)

    def worker(index: int) -> None:
        if plan.ramp and stop.wait(index * plan.ramp / plan.concurrency):
            return
        while (number := dispatch.next()) is not None:
            one_stream(number)

    threads = [
        threading.Thread(target=worker, args=(i,), name=f"streamprobe-load-{i}", daemon=True)
        for i in range(plan.concurrency)
    ]
    try:
        try:
            for i, thread in enumerate(threads):
                try:
                    thread.start()
                except RuntimeError:
                    stop.set()
                    raise CapacityError(
                        f"cannot open {plan.concurrency} streams at once here (the thread limit was reached "
                        f"at {i}): lower --concurrency"
                    ) from None
            last_tick = 0.0
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.1)
                    if now() - last_tick >= PROGRESS_EVERY_S:
                        last_tick = now()
                        _tick(progress, summary)
                        if on_tick is not None:
                            on_tick(summary)
        except KeyboardInterrupt:
            summary.interrupted = True
            stop.set()
        if stop.is_set() and not summary.interrupted:
            summary.interrupted = True  # stopped from outside
        summary.duration_ms = (now() - started_at) * 1000
    finally:
        if shared is not None:
            shared.close()  # an interrupted run's streams on it end now
            summary.connections = shared.opened
        else:
            summary.connections = own_connections[0]
    summary.diagnose()
    started, finished, good, _ = summary.snapshot()
    progress.done("done", f"{finished} of {started} streams finished, {good} good")
    return summary


def _tick(progress: Progress, summary: LoadSummary) -> None:
    started, finished, good, p90 = summary.snapshot()
    p90_text = "-" if p90 is None else f"{p90:.0f} ms"
    progress.start(f"started {started}  finished {finished}  good {good}  p90 first event {p90_text}")


def _failed(url: str, options: ProbeOptions, exc: Exception) -> ProbeResult:
    """A read that raised instead of returning a result: an ``other`` error naming the exception."""
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {where.name}" if where else ""
    result = ProbeResult(url=url, path_name=options.name, protocol=PROTOCOL_ASKED[options.http])
    result.error = ErrorInfo("other", f"the read failed{at}: {type(exc).__name__}")
    return conclude(result, [])
