"""The canary function's ``load`` event: ``streamprobe load`` against one configured path, from inside
the function, so that many invocations at once (``streampath run-load``) load a path from beyond one
machine. Lambda is the engine: each invocation runs ``concurrency`` streams and returns its part.

Event::

    {"load": {"path": "cloudfront", "concurrency": 200, "streams": 400 | "duration": 30,
              "protocol": "h2", "connections": 1, "ramp": 0, "slo": "first_event<=2000,buffering<=500"}}

The path's URL, headers, auth secret, TLS trust, method and body come from the function's validated
config, never from the event: the event chooses which configured path, how many streams and how hard.
The answer is ``{"load": <part>}``: the run's summary (docs/contracts/load.md) plus every stream's
values, which ``streamprobe.load.merge_parts`` merges exactly. The run stops at the invocation's budget
(an interrupted part holds the streams that had finished). The probe library is imported here, when
the first load event arrives, never by ``import handler``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from streampath_canary.auth_secrets import SecretCache
from streampath_canary.contract import PROTOCOLS, CanarySpec, ProtocolName, request_options
from streampath_canary.runner import request_headers

#: The event key that asks for a load run instead of a canary run.
LOAD_EVENT_KEY: Final = "load"
_FIELDS: Final = {"path", "concurrency", "streams", "duration", "protocol", "connections", "ramp", "slo"}


class LoadEventError(ValueError):
    """A load event the function cannot run (one line naming the field)."""


@dataclass(frozen=True)
class LoadRequest:
    path: str
    concurrency: int
    streams: int | None
    duration: float | None
    protocol: ProtocolName | None  # None: the path's first configured protocol
    connections: int
    ramp: float
    slo: str | None  # None: the default SLO

    @classmethod
    def from_event(cls, raw: object) -> LoadRequest:
        if not isinstance(raw, Mapping):
            raise LoadEventError(f"{LOAD_EVENT_KEY}: must be an object")
        unknown = sorted(set(raw) - _FIELDS)
        if unknown:
            raise LoadEventError(
                f"{LOAD_EVENT_KEY}.{unknown[0]}: unknown field (known: {', '.join(sorted(_FIELDS))})"
            )
        path = raw.get("path")
        if not isinstance(path, str) or not path:
            raise LoadEventError(f"{LOAD_EVENT_KEY}.path: must name a configured path")
        protocol = raw.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            raise LoadEventError(f"{LOAD_EVENT_KEY}.protocol: must be one of {', '.join(PROTOCOLS)}")
        return cls(
            path=path,
            concurrency=_integer(raw, "concurrency", None),
            streams=_integer(raw, "streams", 0) or None,
            duration=_number(raw, "duration"),
            protocol=protocol,
            connections=_integer(raw, "connections", 1),
            ramp=_number(raw, "ramp") or 0.0,
            slo=_text(raw, "slo"),
        )


def _integer(raw: Mapping[str, Any], key: str, default: int | None) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise LoadEventError(f"{LOAD_EVENT_KEY}.{key}: must be an integer")
    return value


def _number(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise LoadEventError(f"{LOAD_EVENT_KEY}.{key}: must be a number of seconds")
    return float(value)


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise LoadEventError(f"{LOAD_EVENT_KEY}.{key}: must be a string")
    return value


def run_load_event(spec: CanarySpec, raw: object, *, budget_s: float, secrets: SecretCache) -> dict[str, Any]:
    """Run the event's load against its configured path within ``budget_s``; ``{"load": part}``.
    :class:`LoadEventError` (or the probe's ValueError) for an event that cannot run."""
    from streamprobe.load import run_load
    from streamprobe.load.plan import plan_from
    from streamprobe.options import ProbeOptions

    request = LoadRequest.from_event(raw)
    path = next((p for p in spec.paths if p.name == request.path), None)
    if path is None:
        names = ", ".join(p.name for p in spec.paths)
        raise LoadEventError(
            f"{LOAD_EVENT_KEY}.path: no configured path {request.path!r} (configured: {names})"
        )
    headers, _, secret_problem = request_headers(path, secrets)
    if secret_problem is not None:
        raise LoadEventError(f"path {path.name!r}: {secret_problem}")
    plan = plan_from(dataclasses.asdict(request))
    options = ProbeOptions(
        name=path.name,
        headers=headers,
        timeout=spec.probe_timeout_s,
        max_duration=min(spec.max_duration_s, budget_s),
        verify=path.verify,
        **request_options(request.protocol or path.protocols[0], path.method, path.body),
    )
    stop = threading.Event()
    timer = threading.Timer(budget_s, stop.set)  # the invocation's budget ends the run
    timer.daemon = True
    timer.start()
    try:
        summary = run_load(path.url, options, plan, stop=stop)
    finally:
        timer.cancel()
    return {LOAD_EVENT_KEY: summary.to_part()}
