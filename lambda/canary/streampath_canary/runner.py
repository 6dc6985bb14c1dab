"""Run every path x protocol probe concurrently, each bounded, the whole run bounded by a deadline.

A probe that is not done by the deadline is reported as a ``timeout`` error and is never waited for:
its worker thread is abandoned (``shutdown(wait=False)``) and ends on the probe's own bounds
(``timeout`` / ``max_duration``), so a stalled path cannot delay the others or the invocation.
A probe's ``max_duration`` never reaches past the run's deadline by more than :data:`ABANDON_GRACE_S`,
so an abandoned probe stops itself soon after the run (it does not go on reading, or burning a core,
into the next invocation).
A path whose auth secret cannot be read fails with error kind ``other``; the others still run.
Secrets (header values, the auth secret, URL credentials) are redacted from every string that leaves
this module, in every form a server can echo them (the probe's ``streamprobe.redact``), and each string
is bounded (:data:`MAX_STRING_CHARS`); a URL is shown with its userinfo masked.

The probe library (streamprobe, httpx, httpcore, h2) is imported by the first run, before its probes
start (:func:`load_probe`), and so is its HTTP/3 stack (aioquic and the certificate check, with the CA
stores the h3 paths trust) when a path probes h3 (:func:`load_http3`): importing this module does not pay
for them, a canary without h3 paths never loads aioquic, and no probe's timings include them (the run's
budget does).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final, Protocol

from streamprobe.redact import mask_userinfo

from streampath_canary.auth_secrets import SecretCache, SecretError
from streampath_canary.contract import (
    PROTOCOL_LABELS,
    CanarySpec,
    PathSpec,
    ProtocolName,
    request_options,
)

MAX_WORKERS: Final = 64
#: How long after the run's deadline an abandoned probe may still run (its max_duration is cut to it).
ABANDON_GRACE_S: Final = 1.0
#: The longest string a result carries out of the runner (a message, a note).
MAX_STRING_CHARS: Final = 1000
_TIMING_KEYS: Final = ("dns", "connect", "tls", "ttfb", "first_event", "total")
_GAP_KEYS: Final = ("p50", "p99", "max")


class ProbeFn(Protocol):
    """One probe: the keyword arguments are the probe's options; returns its result as JSON-ready dict
    (docs/contracts/result.md)."""

    def __call__(
        self,
        url: str,
        *,
        name: str,
        http: ProtocolName,
        headers: dict[str, str],
        timeout: float,
        max_duration: float,
        verify: bool | str,
        method: str = "GET",
        body: str | None = None,
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ProbeRun:
    """One probe of one path over one protocol in a canary run: its result (docs/contracts/result.md)."""

    path: PathSpec
    protocol: ProtocolName  # the Protocol dimension
    result: dict[str, Any]
    elapsed_ms: float


def error_result(path: PathSpec, protocol: ProtocolName, kind: str, message: str) -> dict[str, Any]:
    """A result (docs/contracts/result.md) for a probe that failed before or outside the probe library."""
    return {
        "url": mask_userinfo(path.url),
        "path_name": path.name,
        "protocol": PROTOCOL_LABELS[protocol],
        "status": None,
        "ok": False,
        "error": {"kind": kind, "message": message},
        "timings_ms": dict.fromkeys(_TIMING_KEYS),
        "events": 0,
        "mode": "streamcheck" if "/streamcheck" in path.url else "generic",
        "buffering_delay_ms": None,
        "verdict": "error",
        "gaps_ms": dict.fromkeys(_GAP_KEYS),
        "events_per_s": None,
    }


@functools.cache
def load_probe() -> ModuleType:
    """Import the probe library once per container and return the ``streamprobe`` module.

    This is every import the first probe needs: ``streamprobe.probing`` imports httpx and httpcore, and
    httpcore imports h2 (its HTTP/2 connection) with them. ``import streamprobe`` alone loads nothing of
    that (the package is lazy), so the probing module is imported here, outside any probe's timing.
    """
    import streamprobe
    import streamprobe.probing  # the HTTP stack, loaded here rather than inside a timed probe

    return streamprobe


def load_http3(spec: CanarySpec) -> None:
    """Import the probe's HTTP/3 stack once per container (aioquic, pylsqpack, cryptography, pyOpenSSL,
    service-identity, certifi: what an h3 probe imports) and load the CA store each h3 path verifies
    against (the probe loads one once per process, inside the first h3 probe otherwise)."""
    from streamprobe.http3 import session, transport, trust

    del transport  # imported for its imports: the rest of the stack an h3 probe needs
    for path in spec.paths:
        if "h3" in path.protocols and path.verify is not False:
            trust.ca_store(session.cafile_of(path.verify))


def streamprobe_probe(
    url: str,
    *,
    name: str,
    http: ProtocolName,
    headers: dict[str, str],
    timeout: float,
    max_duration: float,
    verify: bool | str,
    method: str = "GET",
    body: str | None = None,
) -> dict[str, Any]:
    """The real probe; it sends ``X-Streampath-Stamp: 1``, so an app with ``StampMiddleware`` is judged
    exactly (``mode: stamped``)."""
    streamprobe = load_probe()
    options = streamprobe.ProbeOptions(
        name=name,
        headers=headers,
        timeout=timeout,
        max_duration=max_duration,
        verify=verify,
        **request_options(http, method, body),
    )
    result: dict[str, Any] = streamprobe.probe(url, options).to_dict()
    return result


Redact = Callable[[str, Iterable[str]], str]


@functools.cache
def _redaction() -> tuple[Redact, Callable[[str], list[str]]]:
    """The probe's ``redact`` and ``url_secrets`` (imported when first needed, like the probe: an asset
    without the probe library fails its runs as canary bugs, showing nothing)."""
    from streamprobe.redact import redact, url_secrets

    return redact, url_secrets


def _scrub(value: Any, secrets: Iterable[str]) -> Any:
    """Every string of a JSON-like structure redacted of ``secrets`` (in every form), then bounded."""
    if isinstance(value, str):
        text = _redaction()[0](value, secrets)
        return text if len(text) <= MAX_STRING_CHARS else text[: MAX_STRING_CHARS - 1] + "…"
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value


def request_headers(path: PathSpec, secrets: SecretCache) -> tuple[dict[str, str], list[str], str | None]:
    """The headers a request to ``path`` sends (its auth secret's included), the values to redact from
    whatever comes back, and why the auth secret could not be read (then the headers lack it)."""
    headers = dict(path.headers)
    sensitive = [v for v in headers.values() if len(v) >= 4] + _redaction()[1](path.url)
    if path.auth_secret is not None:
        try:
            value = secrets.header_value(path.auth_secret.arn, path.auth_secret.json_key)
        except SecretError as exc:
            return headers, sensitive, f"auth secret for header {path.auth_secret.header}: {exc}"
        headers[path.auth_secret.header] = value
        sensitive.append(value)
    return headers, sensitive, None


def _probe_one(
    path: PathSpec,
    protocol: ProtocolName,
    spec: CanarySpec,
    secrets: SecretCache,
    probe_fn: ProbeFn,
    deadline: float,
) -> dict[str, Any]:
    headers, sensitive, secret_problem = request_headers(path, secrets)
    if secret_problem is not None:
        failed = error_result(path, protocol, "other", secret_problem)
        scrubbed_error: dict[str, Any] = _scrub(failed, sensitive)
        return scrubbed_error
    # An abandoned probe must not outlive the run by more than the grace: it stops itself then.
    max_duration = min(spec.max_duration_s, max(0.1, deadline - time.monotonic() + ABANDON_GRACE_S))
    try:
        result = probe_fn(
            path.url,
            name=path.name,
            http=protocol,
            headers=headers,
            timeout=spec.probe_timeout_s,
            max_duration=max_duration,
            verify=path.verify,
            method=path.method,
            body=path.body,
        )
    except Exception as exc:  # a bad option (ValueError) or a probe bug: this path fails, others go on
        result = error_result(path, protocol, "other", f"probe raised {type(exc).__name__}: {exc}")
    scrubbed: dict[str, Any] = _scrub(result, sensitive)
    return scrubbed


def run_probes(
    spec: CanarySpec,
    *,
    budget_s: float,
    secrets: SecretCache,
    probe_fn: ProbeFn = streamprobe_probe,
) -> list[ProbeRun]:
    """Probe all paths x protocols concurrently; return one run per pair, in spec order.

    Returns after at most ``budget_s`` seconds (plus thread start-up), whatever the probes do; with the
    real probe, the first run of a container imports it first (:func:`load_probe`).
    """
    start = time.monotonic()
    if probe_fn is streamprobe_probe:
        # Once, here: threads would otherwise queue on the import lock inside their first probe. An
        # asset that cannot import the probe fails each probe below (kind "other"), as any probe error.
        with contextlib.suppress(Exception):
            load_probe()
        if "h3" in spec.protocols:
            # A CA file that cannot be read fails that path's h3 probes (kind "tls"), not the others.
            with contextlib.suppress(Exception):
                load_http3(spec)
    jobs = [(path, protocol) for path in spec.paths for protocol in path.protocols]
    executor = cf.ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(jobs)), thread_name_prefix="probe")
    finished: dict[int, float] = {}

    def run(index: int, path: PathSpec, protocol: ProtocolName) -> dict[str, Any]:
        try:
            return _probe_one(path, protocol, spec, secrets, probe_fn, start + budget_s)
        finally:
            finished[index] = (time.monotonic() - start) * 1000

    futures = [executor.submit(run, i, path, protocol) for i, (path, protocol) in enumerate(jobs)]
    try:
        cf.wait(futures, timeout=max(0.0, budget_s - (time.monotonic() - start)))
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    runs: list[ProbeRun] = []
    for i, ((path, protocol), future) in enumerate(zip(jobs, futures, strict=True)):
        if future.done() and not future.cancelled():
            exc = future.exception()
            result = (
                future.result()
                if exc is None
                else error_result(path, protocol, "other", f"canary bug: {type(exc).__name__}")
            )
            elapsed = finished.get(i, (time.monotonic() - start) * 1000)
        else:
            result = error_result(
                path,
                protocol,
                "timeout",
                f"not finished within the canary's {budget_s:.1f} s budget for this run (abandoned)",
            )
            elapsed = (time.monotonic() - start) * 1000
        runs.append(ProbeRun(path=path, protocol=protocol, result=result, elapsed_ms=round(elapsed, 1)))
    return runs
