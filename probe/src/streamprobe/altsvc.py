"""The ``Alt-Svc`` response header (RFC 7838): which alternative services a server advertises.

A server reached over HTTP/1.1 or HTTP/2 says ``Alt-Svc: h3=":443"; ma=86400`` when it also serves
HTTP/3 over QUIC; browsers switch to it on later requests. The probe reports the header as it came
(``alt_svc`` in the result) and says "h3 advertised" when it names ``h3``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

#: The ALPN token of HTTP/3 (RFC 9114); draft tokens such as ``h3-29`` are not HTTP/3 any more.
H3 = "h3"


@dataclass(frozen=True)
class AltService:
    protocol: str  # ALPN protocol id, e.g. "h3"
    host: str  # "" means the origin's own host
    port: int | None
    max_age_s: int | None  # ``ma``; None when the header gave none (24 h by the RFC's default)


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double-quoted strings."""
    parts, current, quoted, escaped = [], [], False, False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            current.append(ch)
            escaped = True
        elif ch == '"':
            quoted = not quoted
            current.append(ch)
        elif ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def parse_alt_svc(value: str | None) -> list[AltService]:
    """The services an ``Alt-Svc`` value lists; ``[]`` for none, ``clear`` or a value that does not parse."""
    if not value or value.strip().lower() == "clear":
        return []
    services: list[AltService] = []
    for entry in _split(value, ","):
        fields = _split(entry, ";")
        protocol, eq, authority = (fields[0] if fields else "").partition("=")
        if not eq:
            continue
        host, colon, port_text = _unquote(authority).rpartition(":")
        if not colon or not port_text.isdigit():
            continue
        max_age: int | None = None
        for param in fields[1:]:
            name, _, raw = param.partition("=")
            if name.strip().lower() == "ma" and _unquote(raw).isdigit():
                max_age = int(_unquote(raw))
        services.append(AltService(unquote(protocol.strip()), host.strip("[]"), int(port_text), max_age))
    return services


def advertises_h3(value: str | None) -> bool:
    """Whether an ``Alt-Svc`` value offers HTTP/3."""
    return any(s.protocol == H3 for s in parse_alt_svc(value))
