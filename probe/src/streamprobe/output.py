"""Human-readable output: the verdict first, then the numbers that support it."""

from __future__ import annotations

from .altsvc import advertises_h3
from .concurrency import ConcurrencyCheck
from .doctor import ENCODINGS, ROW_LABELS, DoctorReport, Encoding, HttpRow
from .repeat import RepeatReport
from .result import ProbeResult
from .trace import TraceReport, added_text


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f} ms" if value < 10_000 else f"{value / 1000:.2f} s"


def headline(r: ProbeResult) -> str:
    if r.error is not None:
        return f"ERROR ({r.error.kind}): {r.error.message}"
    if r.buffering_delay_ms is not None:
        return f"{r.verdict.upper()}: buffering delay {ms(r.buffering_delay_ms)}"
    return f"{r.verdict.upper()} ({r.mode} mode: judged by arrival pattern)"


def timings_line(t: dict[str, float | None]) -> str:
    names = (("dns", "dns"), ("connect", "connect"), ("tls", "tls"), ("ttfb", "ttfb"))
    parts = [f"{label} {ms(t.get(key))}" for key, label in names]
    parts += [f"first event {ms(t.get('first_event'))}", f"total {ms(t.get('total'))}"]
    return "  ".join(parts)


def shape_line(r: ProbeResult) -> str:
    """Gaps between events (p50, p99, max), events per second and clumping: the stream's shape."""
    g = r.gaps_ms
    rate = "-" if r.events_per_s is None else f"{r.events_per_s:.1f}"
    clumping = "-" if r.clumping is None else f"{r.clumping:.0%}"
    return (
        f"gaps p50 {ms(g.get('p50'))}  p99 {ms(g.get('p99'))}  max {ms(g.get('max'))}  "
        f"{rate} events/s  clumping {clumping}"
    )


def render_result(r: ProbeResult) -> str:
    lines = [
        headline(r),
        f"  url        {r.url}",
        f"  path       {r.path_name}    protocol {r.protocol}"
        f"{' (h3 advertised)' if r.protocol != 'HTTP/3' and advertises_h3(r.alt_svc) else ''}    "
        f"status {r.status if r.status is not None else '-'}    "
        + (
            f"WebSocket, close code {r.close_code if r.close_code is not None else '-'}"
            if r.transport == "websocket"
            else f"content-encoding {r.content_encoding or 'identity'}"
        ),
        f"  events     {r.events} ({r.mode} mode)",
        f"  timings    {timings_line(r.timings_ms)}",
    ]
    if r.events:
        lines.append(f"  shape      {shape_line(r)}")
    if r.header_names:
        lines.append(f"  headers    {', '.join(r.header_names)} (values not shown)")
    lines += [f"  note       {note}" for note in r.notes]
    return "\n".join(lines)


def render_repeat(rep: RepeatReport) -> str:
    delay = rep.worst_buffering_delay_ms
    head = f"{rep.verdict.upper()} (worst of {len(rep.results)} runs)"
    if delay is not None:
        head += f": worst buffering delay {ms(delay)}, median {ms(rep.median_buffering_delay_ms)}"
    lines = [
        head,
        f"  url        {rep.url}",
        f"  verdicts   {', '.join(f'{k} {n}' for k, n in rep.verdict_counts.items())}",
    ]
    lines.append(f"  medians    {timings_line(rep.median_timings_ms)}")
    lines.append("  runs")
    lines.append(
        f"    {'#':>3}  {'verdict':<12} {'protocol':<9} {'delay':>10} {'ttfb':>10} "
        f"{'first event':>12} {'total':>10}  error"
    )
    for i, r in enumerate(rep.results, 1):
        t = r.timings_ms
        err = f"{r.error.kind}: {r.error.message}" if r.error else ""
        lines.append(
            f"    {i:>3}  {r.verdict:<12} {r.protocol:<9} {ms(r.buffering_delay_ms):>10} {ms(t['ttfb']):>10} "
            f"{ms(t['first_event']):>12} {ms(t['total']):>10}  {err}"
        )
    return "\n".join(lines)


def doctor_cell(rep: DoctorReport, http: HttpRow, encoding: Encoding) -> str:
    state = rep.state(http, encoding)
    if state in ("not offered", "skipped"):
        return state
    r = rep.cells[(http, encoding)]
    if r.error is not None:
        return f"error ({r.error.kind})"
    text: str = state
    if r.buffering_delay_ms is not None:
        text += f" {ms(r.buffering_delay_ms)}"
    if encoding == "compressed":
        text += f" [{r.content_encoding or 'not compressed'}]"
    return text


def render_doctor(rep: DoctorReport) -> str:
    widths = (10, 28, 40)
    header = ["", "identity", f"compressed ({rep.compressed_encoding})"]
    lines = [
        f"doctor {rep.url}",
        ("  " + "".join(h.ljust(w) for h, w in zip(header, widths, strict=True))).rstrip(),
    ]
    for http in rep.rows:
        row = [ROW_LABELS[http]] + [doctor_cell(rep, http, e) for e in ENCODINGS]
        lines.append("  " + "".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if rep.websocket is not None:  # one read: a WebSocket has no Accept-Encoding
        r = rep.websocket.result
        delay = ms(r.buffering_delay_ms)
        state = f"error ({r.error.kind})" if r.error is not None else f"{r.verdict} {delay}"
        lines.append(f"  {'WebSocket':<{widths[0]}}{state}")
    errors = [
        f"  {ROW_LABELS[h]} {e}: {r.error.kind}: {r.error.message}"
        for (h, e), r in rep.cells.items()
        if r.error is not None and rep.state(h, e) != "not offered"
    ]
    if errors:
        lines.append("errors")
        lines += errors
    if rep.concurrency is not None:
        lines.append(at_once_line(rep.concurrency))
    if rep.websocket is not None:  # its own finding, before the diagnosis of the HTTP matrix
        lines.append(f"websocket: {rep.websocket.sentence}")
        lines += [f.line() for f in rep.websocket.fixes]
    lines.append(f"diagnosis: {rep.diagnosis}")
    lines += [f.line() for f in rep.fixes]
    lines += [f"note: {n}" for n in rep.notes]
    return "\n".join(lines)


def at_once_line(check: ConcurrencyCheck, hop: str | None = None) -> str:
    """The concurrency check in one line: how many streams, and when their first bytes came."""
    ttfb = check.summary.values.ttfb.percentiles()
    where = f" through {hop}" if hop else ""
    line = f"at once{where}: {check.streams} streams, first bytes {ms(ttfb['p50'])} (p50) .. "
    line += f"{ms(ttfb['max'])} (max)"
    errors = {kind: n for kind, n in check.summary.errors.items() if n}
    if errors:
        line += "; errors: " + ", ".join(f"{kind} {n}" for kind, n in errors.items())
    return line


def render_trace(rep: TraceReport) -> str:
    """One row per hop (from the application outward), then where buffering starts, its cause, the fixes."""
    name_w = max(4, *(len(h.hop.name) for h in rep.hops)) + 2
    head = (
        f"  {'hop':<{name_w}}{'protocol':<10}{'encoding':<10}{'ttfb':>10}{'1st event':>11}"
        f"{'delay':>11}{'added':>11}  verdict"
    )
    lines = [
        f"trace: {len(rep.hops)} hop{'s' if len(rep.hops) != 1 else ''}, from the application outward",
        head,
    ]
    for h in rep.hops:
        r, t = h.result, h.result.timings_ms
        verdict = f"error ({r.error.kind})" if r.error is not None else r.verdict
        lines.append(
            f"  {h.hop.name:<{name_w}}{r.protocol:<10}{(r.content_encoding or 'identity'):<10}"
            f"{ms(t.get('ttfb')):>10}{ms(t.get('first_event')):>11}{ms(r.buffering_delay_ms):>11}"
            f"{added_text(h.added_delay_ms):>11}  {verdict}"
        )
    errors = [
        f"  {h.hop.name}: {h.result.error.kind}: {h.result.error.message}" for h in rep.hops if h.result.error
    ]
    if errors:
        lines += ["errors", *errors]
    lines.append(rep.summary)
    if rep.concurrency is not None:
        lines.append(at_once_line(rep.concurrency[1], rep.concurrency[0]))
    lines.append(f"cause: {rep.diagnosis}" if rep.first_buffering_hop else f"diagnosis: {rep.diagnosis}")
    lines += [f.line() for f in rep.fixes]
    lines += [f"note: {n}" for n in rep.notes]
    return "\n".join(lines)
