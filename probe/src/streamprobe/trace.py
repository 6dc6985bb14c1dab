"""streamprobe trace: probe each hop of a chain, from the application outward, and name the first one
that buffers, with its added delay, the doctor's cause and the fixes for that kind of hop.

Hops are probed one after another, never concurrently: two streams through the same proxy (or the same
2-core laptop) compete for it, and a reading disturbed by its neighbour would blame the wrong hop.

Each hop is read the way the next hop reads it: the inner hops over HTTP/1.1 (an nginx, an ALB and
CloudFront all talk HTTP/1.1 to their upstream, forwarding the browser's Accept-Encoding), the outermost
the way a browser does (HTTP/2 offered). ``--http1``/``--http2`` read every hop that way instead. The
request headers (secrets included) go to every hop; only their names are ever shown.

Then a few streams at once (``streamprobe.concurrency``) through the outermost hop that streamed: a cap
anywhere inside it limits it too. When its first bytes come in steps, the hops inside it are checked
the same way from the application outward, and the first that shows the cap is named with the cap's
fixes (its own kind's first). Only then: a path without a cap costs one such check.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .chain import ChainJudgement, judge_chain
from .concurrency import (
    ConcurrencyCheck,
    cap_fixes,
    check_concurrency,
    streams_to_open,
)
from .diagnosis import BUFFERING_CODES, DiagnosisCode, idle_diagnosis
from .exceptions import InvalidRequest
from .fixes import HOP_KINDS, HopFix, HopKind, fixes_for, hop_kind, kind_of
from .options import HttpChoice, ProbeOptions, prepare_url
from .probing import probe
from .progress import Progress
from .redact import display_url, mask_url_text
from .result import ProbeResult

MAX_HOPS: Final = 10
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_SCHEMES: Final = ("http://", "https://")


@dataclass(frozen=True)
class Hop:
    name: str
    url: str  # as given (it may carry credentials: shown only through display_url)
    kind: HopKind


def _shown(arg: str) -> str:
    return repr(mask_url_text(arg, 120))


def parse_hop(arg: str, position: int) -> Hop:
    """``[NAME=]URL`` -> a hop (``InvalidRequest`` naming the argument, credentials masked)."""
    if arg.lower().startswith(_SCHEMES):
        name, url = f"hop{position}", arg
    elif "=" in arg:
        name, _, url = arg.partition("=")
        if not _NAME.fullmatch(name):
            raise InvalidRequest(
                f"hop {position} {_shown(arg)}: NAME must be 1-40 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        if not url.lower().startswith(_SCHEMES):
            raise InvalidRequest(
                f"hop {position} {_shown(arg)}: expected NAME=URL with an http:// or https:// URL"
            )
    else:
        raise InvalidRequest(
            f"hop {position} {_shown(arg)}: expected [NAME=]URL (an http:// or https:// URL)"
        )
    try:
        prepare_url(url, ProbeOptions(add_nonce=False))
    except ValueError:
        raise InvalidRequest(f"hop {position} {_shown(arg)}: not a usable URL") from None
    return Hop(name, url, kind_of(name, url))


def parse_hops(args: Sequence[str], kinds: Mapping[str, str] | None = None) -> list[Hop]:
    """Every ``[NAME=]URL`` (1..10, distinct names), with ``kinds`` (NAME -> KIND) overriding the guess."""
    if not args:
        raise InvalidRequest("trace needs at least one [NAME=]URL")
    if len(args) > MAX_HOPS:
        raise InvalidRequest(f"hop {MAX_HOPS + 1} {_shown(args[MAX_HOPS])}: at most {MAX_HOPS} hops")
    hops: list[Hop] = []
    seen: dict[str, int] = {}
    for position, arg in enumerate(args, 1):
        hop = parse_hop(arg, position)
        if hop.name in seen:
            raise InvalidRequest(
                f"hop {position} {_shown(arg)}: duplicate name {hop.name!r} (hop {seen[hop.name]})"
            )
        seen[hop.name] = position
        hops.append(hop)
    for name, kind in (kinds or {}).items():
        if name not in seen:
            raise InvalidRequest(f"--kind {name}={kind}: no hop is named {name!r}")
        known = hop_kind(kind) if kind in HOP_KINDS else None
        if known is None:
            raise InvalidRequest(f"--kind {name}={kind}: KIND must be one of {', '.join(HOP_KINDS)}")
        i = seen[name] - 1
        hops[i] = dataclasses.replace(hops[i], kind=known)
    return hops


@dataclass
class HopReading:
    hop: Hop
    http: HttpChoice  # what the probe asked for
    result: ProbeResult
    added_delay_ms: float | None

    def to_dict(self) -> dict[str, Any]:
        added = None if self.added_delay_ms is None else round(self.added_delay_ms, 3)
        return {
            "name": self.hop.name,
            "url": display_url(prepare_url(self.hop.url, ProbeOptions(add_nonce=False))),
            "kind": self.hop.kind,
            "http": self.http,
            "result": self.result.to_dict(),
            "added_delay_ms": added,
        }


@dataclass
class TraceReport:
    hops: list[HopReading]
    judgement: ChainJudgement
    diagnosis_code: DiagnosisCode
    diagnosis: str
    summary: str  # the line a person reads first: where buffering starts, or why that cannot be told
    fixes: list[HopFix] = field(default_factory=list)
    doctor: Any = None  # the doctor's DoctorReport for the first buffering hop, when it ran
    notes: list[str] = field(default_factory=list)
    #: (hop name, its check): the hop that shows a concurrency cap, else the outermost hop checked;
    #: None when no check ran.
    concurrency: tuple[str, ConcurrencyCheck] | None = None

    @property
    def capped_hop(self) -> str | None:
        """The first hop (from the application outward) whose streams queue behind a cap."""
        if self.concurrency is None or self.concurrency[1].cap is None:
            return None
        return self.concurrency[0]

    @property
    def first_buffering_hop(self) -> str | None:
        i = self.judgement.first_buffering
        return None if i is None else self.hops[i].hop.name

    @property
    def previous_hop(self) -> str | None:
        i = self.judgement.previous()
        return None if i is None else self.hops[i].hop.name

    @property
    def exit_code(self) -> int:
        verdicts = [h.result.verdict for h in self.hops]
        if "error" in verdicts:
            return 2
        return 0 if all(v == "streaming" for v in verdicts) and self.capped_hop is None else 1

    def to_dict(self) -> dict[str, Any]:
        i = self.judgement.first_buffering
        return {
            "hops": [h.to_dict() for h in self.hops],
            "first_buffering_hop": self.first_buffering_hop,
            "previous_hop": self.previous_hop,
            "added_delay_ms": None if i is None else self.hops[i].to_dict()["added_delay_ms"],
            "summary": self.summary,
            "diagnosis_code": self.diagnosis_code,
            "diagnosis": self.diagnosis,
            "fixes": [f.to_dict() for f in self.fixes],
            "notes": list(self.notes),
            "doctor": None if self.doctor is None else self.doctor.to_dict(),
            "concurrency": None
            if self.concurrency is None
            else {"hop": self.concurrency[0], **self.concurrency[1].to_dict()},
        }


def hop_http(options: ProbeOptions, index: int, count: int) -> HttpChoice:
    """Inner hops over HTTP/1.1 (as the next hop reads them) unless a protocol was forced."""
    if options.http != "auto" or index == count - 1:
        return options.http
    return "h1"


def _names(readings: Sequence[HopReading]) -> str:
    return ", ".join(r.hop.name for r in readings)


def added_text(added: float | None) -> str:
    """``+1894 ms`` (rounded first, so a jitter of -0.3 ms reads ``+0 ms``, not ``-0 ms``)."""
    return "-" if added is None else f"{round(added):+d} ms"


def _buffering_summary(report_hops: list[HopReading], j: ChainJudgement) -> str:
    assert j.first_buffering is not None
    hop = report_hops[j.first_buffering]
    after = "" if j.first_buffering == 0 else f" (after {report_hops[j.first_buffering - 1].hop.name})"
    if hop.added_delay_ms is None:
        return f"buffering starts at {hop.hop.name}{after} (judged by arrival pattern: no delay measured)"
    return f"buffering starts at {hop.hop.name}{after}: {added_text(hop.added_delay_ms)}"


def run_trace(
    hops: Sequence[Hop],
    options: ProbeOptions | None = None,
    *,
    concurrent_streams: int | None = None,
    progress: Progress | None = None,
) -> TraceReport:
    """Probe every hop in order, judge the chain, and ask the doctor about the first hop that buffers;
    then look for a concurrency cap with ``concurrent_streams`` streams at once (0: not done; None:
    ``streams_to_open``'s default, none for a request with a body, and a note says so)."""
    options = options or ProbeOptions()
    options.validate()
    concurrent_streams, skipped_check = streams_to_open(concurrent_streams, options)
    progress = progress or Progress.off()
    results: list[ProbeResult] = []
    asked: list[HttpChoice] = []
    for i, hop in enumerate(hops):
        http = hop_http(options, i, len(hops))
        label = f"hop {i + 1}/{len(hops)} {hop.name}"
        progress.start(label)
        result = probe(hop.url, dataclasses.replace(options, name=hop.name, http=http))
        progress.result(label, result)
        results.append(result)
        asked.append(http)
    judgement = judge_chain(results)
    readings = [
        HopReading(hop, http, r, added)
        for hop, http, r, added in zip(hops, asked, results, judgement.added_delay_ms, strict=True)
    ]
    report = _conclude(readings, judgement, options, progress)
    for j in judgement.out_of_order:
        report.notes.append(
            f"{readings[j].hop.name} streamed although {report.first_buffering_hop} before it buffered: "
            "are the hops ordered from the application outward, and does it route through that hop?"
        )
    if concurrent_streams:
        _find_cap(report, options, concurrent_streams, progress)
    if skipped_check:
        report.notes.append(skipped_check)
    return report


def _streamed(judgement: ChainJudgement, count: int) -> int:
    """How many hops, from the application outward, were read without buffering or error."""
    ends = (judgement.first_buffering, judgement.stopped_at, judgement.ambiguous_at)
    return min((i for i in ends if i is not None), default=count)


def _find_cap(report: TraceReport, options: ProbeOptions, streams: int, progress: Progress) -> None:
    """Check the outermost hop that streamed; when it shows a cap, the first hop inside that does too."""
    count = _streamed(report.judgement, len(report.hops))
    if count == 0:
        return

    def check(reading: HopReading) -> ConcurrencyCheck:
        label = f"{reading.hop.name}: {streams} streams at once"
        progress.start(label)
        found = check_concurrency(
            reading.hop.url, dataclasses.replace(options, name=reading.hop.name), streams
        )
        progress.done(label, found.cap.message if found.cap else "no concurrency cap seen")
        return found

    outer = report.hops[count - 1]
    report.concurrency = (outer.hop.name, check(outer))
    if report.concurrency[1].cap is None:
        return
    for reading in report.hops[: count - 1]:
        inner = check(reading)
        if inner.cap is not None:
            report.concurrency = (reading.hop.name, inner)
            break
    name, found = report.concurrency
    assert found.cap is not None
    hop = next(r.hop for r in report.hops if r.hop.name == name)
    report.diagnosis += f"; {name}: {found.cap.message}"
    report.summary += (
        f"; {name} serves about {found.cap.cap} stream{'s' if found.cap.cap != 1 else ''} at a time"
    )
    report.fixes += [f for f in cap_fixes(found, hop.kind, name) if f not in report.fixes]


def _conclude(
    readings: list[HopReading], j: ChainJudgement, options: ProbeOptions, progress: Progress
) -> TraceReport:
    unsure = [readings[i] for i in j.unsure]
    if j.outcome == "buffering":
        assert j.first_buffering is not None
        return _ask_doctor(readings, j, options, progress)
    if j.outcome == "error":
        assert j.stopped_at is not None
        bad = readings[j.stopped_at]
        err = bad.result.error
        assert err is not None
        before = readings[: j.stopped_at]
        head = f"streams through {_names(before)}; " if before and not unsure else ""
        cut = idle_diagnosis([bad.result])
        if cut is not None:
            # A stream cut by a silence at this hop: its idle timeout, named; the fixes for its kind.
            kind = bad.hop.kind if bad.hop.kind != "proxy" else hop_kind(cut.hop)
            return TraceReport(
                readings,
                j,
                "idle_timeout",
                f"{head}{bad.hop.name} cut the stream: {cut.sentence}",
                f"{bad.hop.name} cut the stream after a silence",
                fixes_for("idle_timeout", kind, bad.hop.name, errors=[err.kind]),
            )
        sentence = f"{head}cannot tell beyond {bad.hop.name}: it failed ({err.kind}): {err.message}"
        fixes = fixes_for("error", bad.hop.kind, bad.hop.name, errors=[err.kind])
        return TraceReport(readings, j, "error", sentence, f"cannot tell beyond {bad.hop.name}", fixes)
    if j.outcome == "ambiguous":
        assert j.ambiguous_at is not None
        hop, prior = readings[j.ambiguous_at], readings[j.ambiguous_at - 1]
        sentence = (
            f"{hop.hop.name} buffers, but {prior.hop.name} before it could only be judged by its arrival "
            f"pattern (inconclusive): buffering starts at {prior.hop.name} or {hop.hop.name}; probe a "
            "streamcheck URL, or mount StampMiddleware in the application, for exact verdicts"
        )
        return TraceReport(
            readings, j, "inconclusive", sentence, f"buffering starts at or before {hop.hop.name}"
        )
    if j.outcome == "inconclusive":
        sentence = (
            f"no hop buffered, but {_names(unsure)} could only be judged by arrival pattern (inconclusive): "
            "probe a streamcheck URL, or mount StampMiddleware in the application, for exact verdicts"
        )
        return TraceReport(
            readings, j, "inconclusive", sentence, "no buffering seen (some hops inconclusive)"
        )
    return TraceReport(readings, j, "none", "streams through every hop: no buffering found", "no hop buffers")


def _ask_doctor(
    readings: list[HopReading], j: ChainJudgement, options: ProbeOptions, progress: Progress
) -> TraceReport:
    from .doctor import run_doctor  # the doctor (and its output) only when a hop buffers

    assert j.first_buffering is not None
    hop = readings[j.first_buffering]
    summary = _buffering_summary(readings, j)
    progress.note(f"{summary}; asking the doctor about {hop.hop.name}")
    # The trace looks for a concurrency cap itself (``_find_cap``), across the hops.
    doctor = run_doctor(
        hop.hop.url,
        dataclasses.replace(options, name=hop.hop.name),
        concurrent_streams=0,
        progress=progress,
    )
    code: DiagnosisCode = doctor.diagnosis_code
    sentence = doctor.diagnosis
    if code not in BUFFERING_CODES and code != "error":
        # The hop buffered once, then streamed in the doctor's probes: intermittent, or load-dependent.
        code = "mixed"
        sentence = (
            f"{hop.hop.name} buffered in the trace but the doctor then found: {doctor.diagnosis}; "
            "intermittent buffering (a busy hop or machine): repeat the trace"
        )
    errors = [r.error.kind for r in doctor.cells.values() if r.error is not None]
    # The hop buffered in the trace whatever the doctor then saw: it gets fixes in any case.
    cause: DiagnosisCode = code if code in BUFFERING_CODES else "mixed"
    fixes = fixes_for(cause, hop.hop.kind, hop.hop.name, errors=errors)
    return TraceReport(readings, j, code, sentence, summary, fixes, doctor)
