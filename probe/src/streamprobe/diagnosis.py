"""The doctor's diagnosis: a code a script can branch on, and the sentence a person reads.

Codes (a contract, docs/contracts/doctor-trace.md):

| code | the matrix shows |
|---|---|
| ``none`` | every combination streams |
| ``compression`` | buffered only when compression is asked for |
| ``h2_front`` | buffered only over HTTP/2 |
| ``h3_front`` | buffered only over HTTP/3 |
| ``h1_only`` | buffered only over HTTP/1.1 (HTTP/2 streams) |
| ``everything`` | buffered in every combination |
| ``mixed`` | buffered in some combinations that fit none of the above |
| ``inconclusive`` | nothing buffered, but some arrival patterns could not be judged |
| ``idle_timeout`` | every failed combination was a stream cut after a silence (a hop's idle timeout) |
| ``error`` | the probe failed (even the plainest request, or some combinations) |

A diagnosis may name the kind of hop it blames (``hop``): a front door the response headers show
(``streamprobe.fronts``: API Gateway's integration left at ``BUFFERED``, its idle timeout), so the fixes
are that hop's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, get_args

from .idle import idle_cut
from .matrix import BAD, ROW_LABELS, Cell, CellState, HttpRow, cell_state
from .result import ProbeResult

DiagnosisCode = Literal[
    "none",
    "compression",
    "h2_front",
    "h3_front",
    "h1_only",
    "everything",
    "mixed",
    "inconclusive",
    "idle_timeout",
    "error",
]
DIAGNOSIS_CODES: Final[tuple[DiagnosisCode, ...]] = get_args(DiagnosisCode)
#: The codes that mean "something buffers": each has fixes in streamprobe.fixes.
BUFFERING_CODES: Final[frozenset[DiagnosisCode]] = frozenset(
    {"compression", "h2_front", "h3_front", "h1_only", "everything", "mixed"}
)


@dataclass(frozen=True)
class Diagnosis:
    code: DiagnosisCode
    sentence: str
    hop: str | None = None  # the kind of hop blamed (streamprobe.fixes.HopKind), when one is known


def fronts_seen(results: Iterable[ProbeResult]) -> set[str]:
    """Every managed front door the results' headers showed (``result.via``)."""
    return {front for r in results for front in r.via}


def idle_diagnosis(results: Iterable[ProbeResult]) -> Diagnosis | None:
    """``idle_timeout`` when every failed result is a stream cut after a silence (and one failed)."""
    results = list(results)
    failed = [r for r in results if r.error is not None]
    cuts = [idle_cut(r) for r in failed]
    if not failed or any(c is None for c in cuts):
        return None
    silence_s = max(c.silence_ms for c in cuts if c is not None) / 1000
    fronts = fronts_seen(results)
    matches = [m for c in cuts if c is not None for m in c.matches]
    named = [m for m in matches if m.kind in fronts] or matches
    sentence = f"the stream was cut after {silence_s:.1f} s of silence"
    if named:
        sentence += ": the idle timeout of " + " or ".join(
            dict.fromkeys(f"{m.where} ({m.seconds:g} s)" for m in named)
        )
    if "apigateway" in fronts:
        sentence += (
            "; API Gateway answered (x-amz-apigw-id), and it cuts a stream silent for 30 s on an "
            "edge-optimized endpoint, 5 min on a Regional or private one"
        )
    sentence += "; send an SSE comment (': ping') more often than the shortest idle timeout on the path"
    hop = "apigateway" if "apigateway" in fronts else (named[0].kind if named else None)
    return Diagnosis("idle_timeout", sentence, hop)


def classify(cells: Mapping[Cell, ProbeResult]) -> Diagnosis:
    """Read a doctor matrix (at least the HTTP/1.1 identity cell); cells absent were skipped."""
    state: dict[Cell, CellState] = {key: cell_state(r, key[0]) for key, r in cells.items()}
    cut = idle_diagnosis(r for key, r in cells.items() if state[key] != "not offered")
    if cut is not None:
        return cut
    base = cells[("h1", "identity")]
    if base.error is not None:
        return Diagnosis(
            "error",
            "the probe fails even over HTTP/1.1 without compression "
            f"({base.error.kind}): {base.error.message}",
        )
    failed = [
        (h, e, r.error) for (h, e), r in cells.items() if r.error is not None and state[(h, e)] == "error"
    ]
    if failed:
        shown = ", ".join(f"{ROW_LABELS[h]} {e} ({err.kind})" for h, e, err in failed)
        return Diagnosis("error", f"some combinations fail: {shown}; see their messages")
    offered = {k: s for k, s in state.items() if s != "not offered"}
    missing: set[HttpRow] = {h for (h, _), s in state.items() if s == "not offered"}
    h2_note = "".join(f" (the server does not offer {ROW_LABELS[h]})" for h in ("h2", "h3") if h in missing)
    bad = {k for k, s in offered.items() if s in BAD}
    if not bad:
        if any(s == "inconclusive" for s in offered.values()):
            return Diagnosis(
                "inconclusive",
                "no buffering seen, but the arrival pattern was inconclusive: probe a streamcheck URL, "
                "or mount StampMiddleware in the application, for an exact verdict" + h2_note,
            )
        return Diagnosis("none", "streams in every combination tried: no buffering found" + h2_note)
    if bad == set(offered) and "apigateway" in fronts_seen(cells.values()):
        return Diagnosis(
            "everything",
            "buffered in every combination, and the response came through API Gateway (x-amz-apigw-id): "
            "an integration left at ResponseTransferMode BUFFERED (API Gateway's default) holds the whole "
            "response; set it to STREAM (unless the service behind it holds the stream too: trace it)"
            + h2_note,
            "apigateway",
        )
    if bad == set(offered):
        return Diagnosis(
            "everything",
            "buffered in every combination: a buffering proxy or the application itself holds the stream, "
            "whatever the protocol and compression" + h2_note,
        )
    if all(e == "compressed" for _, e in bad) and all(
        s == "streaming" for (_, e), s in offered.items() if e == "identity"
    ):
        return Diagnosis(
            "compression",
            "buffered only when compression is requested: a compressing proxy or middleware holds the stream "
            "(exclude text/event-stream from compression)",
        )
    if all(h == "h2" for h, _ in bad) and all(s == "streaming" for (h, _), s in offered.items() if h == "h1"):
        return Diagnosis(
            "h2_front",
            "buffered only over HTTP/2: the HTTP/2 front end (load balancer or CDN) holds the stream; "
            "serve HTTP/1.1 to clients (ALPN HTTP1Only) or fix that hop",
        )
    if all(h == "h3" for h, _ in bad) and all(s == "streaming" for (h, _), s in offered.items() if h != "h3"):
        return Diagnosis(
            "h3_front",
            "buffered only over HTTP/3: the HTTP/3 front end (the CDN's QUIC edge) holds the stream while "
            "HTTP/1.1 and HTTP/2 stream; browsers that switched to h3 (Alt-Svc) see it buffered: fix that "
            "hop, or stop advertising HTTP/3 (CloudFront http_version HTTP2)",
        )
    if all(h == "h1" for h, _ in bad) and all(s == "streaming" for (h, _), s in offered.items() if h == "h2"):
        return Diagnosis(
            "h1_only",
            "buffered only over HTTP/1.1: a hop buffers HTTP/1.1 responses (e.g. a TLS-terminating "
            "nginx left at proxy_buffering on) while HTTP/2 streams; browsers on h2 see it stream, "
            "HTTP/1.1 clients (curl, an HTTP1Only front door) do not: turn that hop's buffering off",
        )
    shown = ", ".join(f"{ROW_LABELS[h]} {e}: {state[(h, e)]}" for h, e in sorted(bad))
    return Diagnosis(
        "mixed",
        f"buffering in some combinations ({shown}): more than one cause, or an intermittent one; "
        "repeat with --repeat",
    )
