"""The classification of httpx / httpcore / ssl / socket exceptions into the result's error kinds."""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator

import h2.exceptions
import httpcore
import httpx

from .exceptions import ProbeFailure
from .messages import Phase, timeout_error
from .redact import redact, sanitise
from .result import ErrorInfo

__all__ = ["classify", "describe_ssl_error", "redact", "sanitise", "timeout_error"]


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _first(
    exc: BaseException, types: type[BaseException] | tuple[type[BaseException], ...]
) -> BaseException | None:
    for e in _chain(exc):
        if isinstance(e, types):
            return e
    return None


def describe_ssl_error(err: BaseException) -> str:
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {err.verify_message or err.reason}"
    reason = getattr(err, "reason", None)
    return str(reason or err).replace("_", " ").lower()


def classify(exc: BaseException, *, phase: Phase, where: str, timeout: float) -> ErrorInfo:
    """Turn an exception raised while probing into a ErrorInfo.

    ``phase`` is how far the probe got: "connect", "tls", "headers" (request sent, no response
    yet) or "body" (headers received, reading the stream). ``where`` names the peer.
    """
    if isinstance(exc, ProbeFailure):
        return exc.error
    ssl_err = _first(exc, ssl.SSLError)
    if ssl_err is not None and "NO_APPLICATION_PROTOCOL" in str(getattr(ssl_err, "reason", "") or ssl_err):
        return ErrorInfo(
            "protocol", f"{where} refused every offered protocol (ALPN): {describe_ssl_error(ssl_err)}"
        )
    if isinstance(exc, httpx.TimeoutException | httpcore.TimeoutException) or _first(exc, socket.timeout):
        return timeout_error(phase, where, timeout)
    if phase == "connect":
        refused = _first(exc, ConnectionRefusedError)
        if refused is not None:
            return ErrorInfo("connect", f"connection refused by {where}: nothing listens on that port")
        os_err = _first(exc, OSError)
        detail = _os_detail(os_err) if os_err is not None else str(exc)
        return ErrorInfo("connect", f"could not connect to {where}: {detail}")
    if phase == "tls" and ssl_err is not None:
        return ErrorInfo("tls", f"TLS handshake with {where} failed: {describe_ssl_error(ssl_err)}")
    if phase == "tls":
        os_err = _first(exc, OSError)
        detail = _os_detail(os_err) if os_err is not None else str(exc) or type(exc).__name__
        return ErrorInfo("tls", f"TLS handshake with {where} failed: {detail}")
    if _first(exc, h2.exceptions.ProtocolError) is not None or isinstance(
        exc, httpx.RemoteProtocolError | httpcore.RemoteProtocolError | httpx.LocalProtocolError
    ):
        if phase == "body":
            return ErrorInfo("protocol", f"the stream from {where} broke the HTTP framing: {_short(exc)}")
        return ErrorInfo("protocol", f"{where} did not answer with valid HTTP: {_short(exc)}")
    if isinstance(exc, httpx.DecodingError):
        return ErrorInfo("protocol", f"could not decode the response body from {where}: {_short(exc)}")
    if isinstance(exc, httpx.TransportError | httpcore.NetworkError) or _first(exc, OSError):
        os_err = _first(exc, OSError)
        detail = _os_detail(os_err) if os_err is not None else _short(exc)
        if phase == "body":
            return ErrorInfo("protocol", f"the connection to {where} broke mid-stream: {detail}")
        return ErrorInfo("protocol", f"the connection to {where} broke before a response: {detail}")
    return ErrorInfo("other", f"unexpected {type(exc).__name__} while probing {where}: {_short(exc)}")


def _os_detail(err: BaseException) -> str:
    if isinstance(err, ssl.SSLError):
        return describe_ssl_error(err)
    if isinstance(err, OSError) and err.errno is not None:
        if err.errno in (errno.ECONNRESET, errno.EPIPE):
            return "connection reset by peer"
        return f"{err.strerror or errno.errorcode.get(err.errno, '?')} (errno {err.errno})"
    text = str(err)
    return text or type(err).__name__


def _short(exc: BaseException, limit: int = 200) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
