"""The lab's table (text), and its chart (PNG, matplotlib)."""

from __future__ import annotations

from pathlib import Path

from streamprobe import ProbeResult

from lab.run import COLUMNS, IDLE_INTERVAL_MS, ChatRow, LabReport
from lab.topology import APIGW_IDLE_TIMEOUT_S

CELL_WIDTH = 44
#: The table's columns, left to right: the probe's (``COLUMNS``), then headless Chromium's.
TABLE_COLUMNS = (*COLUMNS, "browser")


#: Why a column has no reading on a path (h2 has one reason of its own: a cleartext path offers none).
NOT_OFFERED = {"h3": "n/a: no HTTP/3 front", "ws": "n/a: a REST API has no WebSocket"}


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _cell(result: ProbeResult | None, column: str) -> tuple[str, str | None]:
    """(the cell's text, a footnote or None)."""
    if result is None:
        return NOT_OFFERED.get(column, "n/a: cleartext, no HTTP/2 to offer"), None
    t = result.timings_ms
    if result.error is not None:
        return f"error ({result.error.kind})", f"{result.path_name} {column}: {result.error.message}"
    verdict: str = result.verdict
    footnote = None
    if column == "browser":  # --- browser column: which protocol Chromium got ---
        verdict += {"HTTP/2": " (h2)", "HTTP/3": " (h3)"}.get(result.protocol, " (h1)")
    elif column == "h2" and result.protocol != "HTTP/2":
        verdict += "*"
        footnote = f"{result.path_name}: offered h2, the front end negotiated {result.protocol} (ALPN)"
    text = (
        f"{_ms(t.get('ttfb')):>7} {_ms(t.get('first_event')):>8} "
        f"{_ms(result.buffering_delay_ms):>8}  {verdict}"
    )
    return text, footnote


# --- browser column ---
def _browser_disagreement(cells: dict[str, ProbeResult | None]) -> str | None:
    """A sentence when the browser's verdict differs from the probe's on the protocol Chromium got."""
    seen = cells.get("browser")
    if seen is None:
        return None
    probe_column = "h3" if seen.protocol == "HTTP/3" else "h2" if cells.get("h2") is not None else "h1"
    probed = cells.get(probe_column)
    if probed is None or probed.verdict == seen.verdict:
        return None
    return f"the browser saw {seen.verdict} over {seen.protocol}, the probe ({probe_column}) {probed.verdict}"


# --- end browser column ---


def _stamped_cell(r: ProbeResult) -> str:
    if r.error is not None:
        return f"error ({r.error.kind})"
    mode = "" if r.mode == "stamped" else f" [{r.mode}]"
    return f"{_ms(r.buffering_delay_ms):>8}  {r.verdict}{mode}"


def _generic_cell(r: ProbeResult) -> str:
    if r.error is not None:
        return f"error ({r.error.kind})"
    clumping = "-" if r.clumping is None else f"{r.clumping:.0%}"
    return f"{r.verdict:<13} clumping {clumping:>4}, max gap {_ms(r.gaps_ms.get('max'))}"


def _curl_cell(row: ChatRow) -> str:
    c = row.curl
    if c is None:
        return row.curl_note or "not run"
    return f"{_ms(c.delay_ms):>8}  {c.verdict}"


def render_upgrade_row(report: LabReport) -> list[str]:
    """The upgrade row: SSE and the WebSocket through an nginx without the upgrade headers."""
    row = report.upgrade
    if row is None:
        return []
    sse, _ = _cell(row.sse, "h1")
    websocket = row.websocket
    refused = websocket.error.message if websocket.error is not None else f"no error: {websocket.verdict}"
    lines = [
        "",
        f"Upgrade row: {row.path.name} ({row.path.hops}):",
        f"  SSE        {sse.strip()}",
        f"  WebSocket  {refused}",
        f"  doctor     {row.diagnosis or '(not run)'}",
    ]
    fixes = (row.doctor or {}).get("websocket") or {}
    lines += [f"  try: {fix['hop']}: {fix['change']}" for fix in fixes.get("fixes", [])]
    return lines


def render_load_row(report: LabReport) -> list[str]:
    """The load row: streams at once through the capped hop, and the cap ``streamprobe load`` names."""
    s = report.load
    if s is None:
        return []
    ttfb = s.values.ttfb.percentiles()
    lines = [
        "",
        f"Load: streamprobe load --concurrency {s.concurrency} --streams {s.started} through capped-haproxy:",
        f"  {s.good} of {s.finished} good ({s.slo.spec}); TTFB p50 {_ms(ttfb['p50'])}, "
        f"p90 {_ms(ttfb['p90'])}, max {_ms(ttfb['max'])}",
    ]
    if s.cap is not None:
        lines.append(f"  diagnosis: {s.cap.message}")
        lines += [f"  {fix.line()}" for fix in s.fixes]
    doctor = report.capped_doctor
    if doctor is not None and doctor.concurrency is not None:
        lines.append(
            f"streamprobe doctor on capped-haproxy ({doctor.concurrency.streams} streams at once after its "
            f"matrix): {doctor.diagnosis}"
        )
    return lines


def render_idle_row(report: LabReport) -> list[str]:
    """The idle row: the STREAM stand-in cuts a stream silent longer than its idle timeout."""
    row = report.idle
    if row is None:
        return []
    return [
        "",
        f"Idle: a first event, then {IDLE_INTERVAL_MS / 1000:g} s of silence through {row.path.name} (idle "
        f"timeout {APIGW_IDLE_TIMEOUT_S:g} s here; API Gateway's: 30 s edge-optimized, 5 min Regional):",
        f"  doctor ({row.doctor.diagnosis_code}): {row.doctor.diagnosis}",
        *(f"  {fix.line()}" for fix in row.doctor.fixes),
    ]


def render_chat(report: LabReport) -> list[str]:
    """The chat rows: the app's own stream (no X-Accel-Buffering), stamped and generic side by side."""
    if not report.chat:
        return []
    name_w = max(len(row.path.name) for row in report.chat) + 1
    widths = (24, 46, 24, 20)
    head = (
        "stamped: delay  verdict",
        "generic (no stamps): verdict, shape",
        "curl reading of stamps",
        "gaps p50 / p99 (stamped)",
    )
    lines = [
        "",
        f"Chat endpoint /api/chat/stream?tokens={report.chat_tokens}&interval_ms={report.chat_interval_ms} "
        "(the app's own SSE, no X-Accel-Buffering; StampMiddleware stamps it when asked), HTTP/1.1:",
        f"{'path':<{name_w}}" + "".join(f"| {h:<{w}}" for h, w in zip(head, widths, strict=True)),
        "-" * name_w + "".join("+" + "-" * (w + 1) for w in widths),
    ]
    for row in report.chat:
        g = row.stamped.gaps_ms
        cells = (
            _stamped_cell(row.stamped),
            _generic_cell(row.generic),
            _curl_cell(row),
            f"{_ms(g.get('p50'))} / {_ms(g.get('p99'))}",
        )
        lines.append(
            f"{row.path.name:<{name_w}}" + "".join(f"| {c:<{w}}" for c, w in zip(cells, widths, strict=True))
        )
    lines.append(
        "stamped: the probe with X-Streampath-Stamp: 1, judged like streamcheck; generic: the same stream "
        "without stamps, by arrival pattern (clumping: share of events that arrived in blocks); curl: "
        "`curl -N` read by lab/curl_reference.py, its own arithmetic."
    )
    return lines


def render_table(report: LabReport) -> str:
    stream_s = report.stream_ms / 1000
    lines = [
        f"streampath lab: {report.events} events x {report.interval_ms} ms through each path "
        f"(a {stream_s:.1f} s stream); the probe asks like a browser (Accept-Encoding: gzip, deflate, br)",
        "",
    ]
    name_w = max(len(p.path.name) for p in report.paths) + 1
    head1 = f"{'':{name_w}}| {'HTTP/1.1':<{CELL_WIDTH}}| {'h2 offered (ALPN h2, http/1.1)':<{CELL_WIDTH}}"
    head1 += f"| {'h3 (HTTP/3 over QUIC required)':<{CELL_WIDTH}}"
    head1 += f"| {'WebSocket (ws/wss: HTTP/1.1 upgrade)':<{CELL_WIDTH}}"
    head1 += f"| {'browser (Chromium fetch + getReader)':<{CELL_WIDTH}}"
    sub = f"{'TTFB':>7} {'1st ev':>8} {'delay':>8}  verdict"
    head2 = f"{'path':<{name_w}}" + f"| {sub:<{CELL_WIDTH}}" * len(TABLE_COLUMNS)
    lines += [head1, head2, "-" * name_w + ("+" + "-" * (CELL_WIDTH + 1)) * len(TABLE_COLUMNS)]
    footnotes: list[str] = []
    for p in report.paths:
        cells = []
        for column in TABLE_COLUMNS:
            result = p.cells.get(column)
            if column == "browser" and result is None:
                cells.append("not run")
                continue
            text, note = _cell(result, column)
            cells.append(text)
            if note:
                footnotes.append(note)
        for column, first in p.rechecked.items():
            again = p.cells[column]
            if again is None:
                continue
            note = (
                f"{p.path.name} {column}: first probe partial ({_ms(first.buffering_delay_ms)}), "
                f"probed again alone: {again.verdict} ({_ms(again.buffering_delay_ms)})"
            )
            if again.verdict == "streaming":
                note += ": a stall on a busy machine, not buffering"
            footnotes.append(note)
        disagreement = _browser_disagreement(p.cells)
        if disagreement:
            footnotes.append(f"{p.path.name}: {disagreement}")
        lines.append(f"{p.path.name:<{name_w}}" + "".join(f"| {c:<{CELL_WIDTH}}" for c in cells))
    lines.append("")
    lines.append("TTFB: first response byte; 1st ev: first complete event; delay: buffering delay")
    lines.append("(max - min of arrival minus send time: ~0 streamed, ~the stream's length when held).")
    lines.append(
        "WebSocket: the same events as JSON messages from <prefix>/streamcheck/ws (TTFB: the 101 answer); "
        "the lab's nginx pass upgrades (map $http_upgrade $connection_upgrade), the upgrade row's does not."
    )
    lines.append(
        "browser: headless Chromium read the stream with fetch + getReader() on the path's origin (lab "
        "certificates accepted); (h3)/(h2)/(h1): the protocol it got (QUIC forced on HTTP/3 fronts)."
    )
    if report.browser_note:
        lines.append(f"browser column empty: {report.browser_note}")
    if footnotes:
        lines += ["* " + f for f in footnotes]
    lines += render_chat(report)
    lines += render_upgrade_row(report)
    lines += render_load_row(report)
    lines += render_idle_row(report)
    lines += ["", "Paths:"]
    lines += [f"  {p.path.name:<{name_w}} {p.path.hops}  [{p.path.stands_for}]" for p in report.paths]
    extra = [row.path for row in report.chat if row.path.name not in {p.path.name for p in report.paths}]
    lines += [f"  {path.name:<{name_w}} {path.hops}  [{path.stands_for}] (chat rows)" for path in extra]
    buffered = [p for p in report.paths if p.buffered]
    if buffered:
        lines += ["", "Doctor (HTTP/1.1, HTTP/2 x identity, compressed) for each path that did not stream:"]
        for p in buffered:
            lines.append(f"  {p.path.name:<{name_w}} {p.diagnosis or '(doctor not run)'}")
            fixes = [f["id"] for f in (p.doctor or {}).get("fixes", [])]
            if fixes:
                lines.append(f"  {'':<{name_w}} fixes: {', '.join(fixes)}")
    lines += ["", f"({len(report.paths)} paths probed in {report.elapsed_s:.1f} s)"]
    return "\n".join(lines)


VERDICT_COLOURS = {
    "streaming": "#2e7d32",
    "partial": "#f9a825",
    "buffered": "#c62828",
    "inconclusive": "#757575",
    "error": "#424242",
}


#: How each column's bar is told apart beside the verdict colour (a column without one is drawn plain).
COLUMN_HATCHES = {"h1": "", "h2": "//", "h3": "..", "ws": "xx"}
COLUMN_LEGEND = {
    "h1": "HTTP/1.1",
    "h2": "h2 offered (ALPN)",
    "h3": "HTTP/3 required",
    "ws": "WebSocket",
}


def render_chart(report: LabReport, out: Path) -> None:
    """Grouped bars: buffering delay per path, one bar per column the lab measures (COLUMNS, in order),
    coloured by verdict and hatched by column; "n/a" where a path has no such front (no TLS for h2, no
    QUIC front for h3). Each value is written upright above its own bar, so neighbours never overlap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    names = [p.path.name for p in report.paths]
    fig, ax = plt.subplots(figsize=(12, 6.2), dpi=110)
    width = 0.84 / len(COLUMNS)
    top = max(report.stream_ms * 1.3, 1.0)
    for c, column in enumerate(COLUMNS):
        offset = (c - (len(COLUMNS) - 1) / 2) * width
        hatch = COLUMN_HATCHES.get(column, "")
        for i, p in enumerate(report.paths):
            result = p.cells.get(column)
            x = i + offset
            if result is None:
                ax.text(
                    x, top * 0.01, "n/a", ha="center", va="bottom", fontsize=7, color="#9e9e9e", rotation=90
                )
                continue
            delay = result.buffering_delay_ms or 0.0
            colour = VERDICT_COLOURS.get(result.verdict, "#424242")
            shown = max(delay, top * 0.015)  # a streamed path's few ms would not show at all
            ax.bar(x, shown, width, color=colour, hatch=hatch, edgecolor="white")
            label = "error" if result.error is not None else f"{delay:.0f} ms"
            if column == "h2" and result.error is None and result.protocol != "HTTP/2":
                label += " (got h1)"
            ax.text(
                x, shown + top * 0.01, label, ha="center", va="bottom", fontsize=7, color=colour, rotation=90
            )
    ax.axhline(report.stream_ms, color="#c62828", linestyle=":", linewidth=1)
    ax.text(
        -0.45,
        report.stream_ms * 1.01,
        "stream length",
        va="bottom",
        ha="left",
        fontsize=8,
        color="#c62828",
    )
    ax.set_xticks(range(len(names)), names, rotation=15, ha="right")
    ax.set_ylim(0, top)
    ax.set_ylabel("buffering delay (ms)")
    ax.set_title(
        f"Buffering delay per path ({report.events} events x {report.interval_ms} ms): "
        "0 = streamed, stream length = held to the end",
        fontsize=11,
    )
    legend = [Patch(color=c, label=v) for v, c in VERDICT_COLOURS.items() if v != "inconclusive"]
    legend += [
        Patch(
            facecolor="white",
            edgecolor="black",
            hatch=COLUMN_HATCHES.get(column, ""),
            label=f"{n}. bar: {COLUMN_LEGEND.get(column, column)}",
        )
        for n, column in enumerate(COLUMNS, start=1)
    ]
    ax.legend(handles=legend, loc="upper center", fontsize=8, ncols=4, bbox_to_anchor=(0.5, -0.16))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
