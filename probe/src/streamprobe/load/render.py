"""A load run for a person: what ran, how streams were judged, the goodput, the percentiles."""

from __future__ import annotations

from ..output import ms
from ..result import VERDICTS
from .stats import PERCENTILE_KEYS
from .summary import PERCENTILE_METRICS, LoadSummary

_LABELS = {"ttfb": "ttfb", "first_event": "first event", "buffering_delay": "buffering", "gap_p99": "gap p99"}


def render_load(s: LoadSummary) -> str:
    d = s.to_dict()
    reuse = (
        f"{s.connections} connection{'s' if s.connections != 1 else ''} shared by the streams"
        if s.connection_reuse == "shared"
        else f"a connection per stream ({s.connections} opened)"
    )
    head = "INTERRUPTED: " if s.interrupted else ""
    lines = [
        f"{head}load {s.url}",
        f"  streams    {s.started} started, {s.finished} finished, {s.concurrency} at once; "
        f"{d['protocol']}, {reuse}; {ms(s.duration_ms)}",
        "  verdicts   " + ", ".join(f"{v} {s.verdicts[v]}" for v in VERDICTS),
    ]
    if s.errors:
        lines.append("  errors     " + ", ".join(f"{k} {n}" for k, n in s.errors.most_common()))
    ratio = "-" if s.ratio is None else f"{s.ratio:.1%}"
    lines.append(f"  goodput    {s.good} of {s.finished} good ({ratio}) against {s.slo.spec}")
    lines.append("  " + " " * 13 + "".join(f"{k:>11}" for k in PERCENTILE_KEYS))
    for metric in PERCENTILE_METRICS:
        row = d["percentiles_ms"][metric]
        lines.append(f"  {_LABELS[metric]:<13}" + "".join(f"{ms(row[k]):>11}" for k in PERCENTILE_KEYS))
    if d["events_per_s"] is not None:
        lines.append(f"  events     {s.events} ({d['events_per_s']:.1f} per second)")
    if s.cap is not None:
        lines.append(f"diagnosis: {s.cap.message}")
        lines += [f.line() for f in s.fixes]
    return "\n".join(lines)
