"""What went wrong on a QUIC connection, as the probe's classified errors (``ProbeFailure``).

HTTP/3 that cannot be had is kind ``protocol`` with the reason (no UDP answer, handshake failed, ALPN
refused), as "HTTP/2 was required but not offered" is: a fact about the server or the network path,
not a fault of the stream. A certificate the client does not trust is kind ``tls``, as over TCP.
"""

from __future__ import annotations

from ..errors import sanitise
from ..exceptions import ProbeFailure

CRYPTO_ERROR = 0x100  # QUIC transport error 0x100 + TLS alert (RFC 9001 section 4.8)
ALERT_BAD_CERTIFICATE = 42
ALERT_NO_APPLICATION_PROTOCOL = 120
REQUIRED = "HTTP/3 was required but"

_TLS_ALERTS = {
    40: "handshake failure",
    42: "bad certificate",
    43: "unsupported certificate",
    44: "certificate revoked",
    45: "certificate expired",
    46: "certificate unknown",
    48: "unknown CA",
    70: "protocol version",
    80: "internal error",
    109: "missing extension",
    112: "unrecognized name (SNI)",
    116: "certificate required",
}

_QUIC_ERRORS = {
    0x0: "NO_ERROR",
    0x1: "INTERNAL_ERROR",
    0x2: "CONNECTION_REFUSED",
    0x3: "FLOW_CONTROL_ERROR",
    0x7: "FRAME_ENCODING_ERROR",
    0x8: "TRANSPORT_PARAMETER_ERROR",
    0xA: "PROTOCOL_VIOLATION",
    0xC: "APPLICATION_ERROR",
    0x11: "VERSION_NEGOTIATION_ERROR",
}

_H3_ERRORS = {
    0x100: "H3_NO_ERROR",
    0x101: "H3_GENERAL_PROTOCOL_ERROR",
    0x102: "H3_INTERNAL_ERROR",
    0x104: "H3_CLOSED_CRITICAL_STREAM",
    0x105: "H3_FRAME_UNEXPECTED",
    0x106: "H3_FRAME_ERROR",
    0x107: "H3_EXCESSIVE_LOAD",
    0x10B: "H3_REQUEST_REJECTED",
    0x10C: "H3_REQUEST_CANCELLED",
    0x10D: "H3_REQUEST_INCOMPLETE",
    0x10E: "H3_MESSAGE_ERROR",
    0x110: "H3_VERSION_FALLBACK",
}

_VERSIONS = {0x00000001: "v1", 0x6B3343CF: "v2", 0xFF00001D: "draft-29"}


def version_name(version: int) -> str:
    return _VERSIONS.get(version, f"0x{version:08x}")


def _code(code: int, application: bool) -> str:
    name = (_H3_ERRORS if application else _QUIC_ERRORS).get(code)
    return f"{name} (0x{code:x})" if name else f"0x{code:x}"


def _reason(reason: str) -> str:
    return f": {sanitise(reason, 120)}" if reason else ""


def no_udp_answer(where: str, port: int, timeout: float) -> ProbeFailure:
    return ProbeFailure(
        "protocol",
        f"{REQUIRED} {where} did not answer QUIC on UDP port {port} within {timeout:g} s "
        "(no UDP answer: UDP is blocked on the way, or nothing serves HTTP/3 there)",
    )


def port_unreachable(where: str, port: int) -> ProbeFailure:
    return ProbeFailure(
        "protocol",
        f"{REQUIRED} nothing answers QUIC at {where}: UDP port {port} is unreachable "
        "(no UDP answer: ICMP port unreachable, no HTTP/3 listener there)",
    )


def send_failed(where: str, detail: str) -> ProbeFailure:
    return ProbeFailure("protocol", f"{REQUIRED} no UDP datagram could be sent to {where}: {detail}")


def handshake_stalled(where: str, timeout: float) -> ProbeFailure:
    return ProbeFailure(
        "protocol",
        f"{REQUIRED} the QUIC handshake with {where} did not finish within {timeout:g} s (handshake "
        "failed: the server answered, then its handshake packets stopped arriving)",
    )


def version_mismatch(where: str, theirs: list[int], ours: list[int]) -> ProbeFailure:
    shown = ", ".join(version_name(v) for v in theirs) or "none"
    return ProbeFailure(
        "protocol",
        f"{REQUIRED} the QUIC handshake with {where} failed: the server offers only QUIC version(s) "
        f"{shown}, this client speaks {', '.join(version_name(v) for v in ours)} (version negotiation)",
    )


def alpn_refused(where: str, chosen: str | None) -> ProbeFailure:
    got = f"it chose {chosen!r}" if chosen else "it refused h3 with TLS alert no_application_protocol"
    return ProbeFailure("protocol", f"{REQUIRED} {where} speaks QUIC but not HTTP/3 (ALPN refused: {got})")


def closed(
    where: str, code: int, application: bool, reason: str, *, handshake: bool, by_peer: bool
) -> ProbeFailure:
    """The connection ended with a CONNECTION_CLOSE (sent by the server, or by this client)."""
    if handshake and not application and code - CRYPTO_ERROR == ALERT_NO_APPLICATION_PROTOCOL:
        return alpn_refused(where, None)
    if handshake and not application and CRYPTO_ERROR <= code < CRYPTO_ERROR + 0x100:
        alert = code - CRYPTO_ERROR
        name = _TLS_ALERTS.get(alert, f"alert {alert}")
        detail = sanitise(reason, 160) if reason else name
        side = "the server sent TLS alert " + name if by_peer else detail
        return ProbeFailure("tls", f"TLS handshake with {where} over QUIC failed: {side}")
    who = "the server" if by_peer else "this client"
    what = f"{who} closed the QUIC connection with {_code(code, application)}{_reason(reason)}"
    if handshake:
        return ProbeFailure("protocol", f"{REQUIRED} the QUIC handshake with {where} failed: {what}")
    return ProbeFailure("protocol", f"the QUIC connection to {where} ended before the stream did: {what}")


def stream_reset(where: str, code: int, *, body: bool) -> ProbeFailure:
    when = "mid-stream" if body else "before answering"
    return ProbeFailure("protocol", f"{where} reset the HTTP/3 request stream {when} ({_code(code, True)})")


def stateless_reset(where: str, *, body: bool) -> ProbeFailure:
    when = "mid-stream" if body else "before the response"
    return ProbeFailure(
        "protocol",
        f"the QUIC connection to {where} was ended by a stateless reset {when}: the server no longer "
        "knows the connection (a restart, or a load balancer routing it to another host)",
    )


def invalid_response(where: str, detail: str) -> ProbeFailure:
    return ProbeFailure("protocol", f"{where} did not answer with valid HTTP/3: {detail}")
