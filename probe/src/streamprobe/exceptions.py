"""What the probe raises, apart from the values it reports (``streamprobe.result.ErrorInfo``), as h2
keeps its exceptions apart from its error codes. Everything the probe raises to a caller is a
:class:`StreamprobeError`; a network or server problem is never raised by ``probe()``, it is the
result's ``error``.

Standard library only (the classes carry the result's values).
"""

from __future__ import annotations

from .result import ErrorInfo, ErrorKind


class StreamprobeError(Exception):
    """The base of every exception the probe raises to a caller."""


class InvalidRequest(StreamprobeError, ValueError):
    """A URL, an option or an argument no read can use (the CLI's exit 2). The message names it and never
    shows a secret. A ``ValueError`` too, as the probe documented before it had its own exceptions."""


class BrowserUnavailable(StreamprobeError, RuntimeError):
    """Chromium or Playwright is not installed; the message says what to install (CLI exit 2)."""


class ProbeFailure(StreamprobeError):
    """Raised inside a read to end it with an error already classified: ``probe()`` returns it as the
    result's ``error`` (:class:`~streamprobe.result.ErrorInfo`)."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.error = ErrorInfo(kind, message)

    @classmethod
    def of(cls, error: ErrorInfo) -> ProbeFailure:
        return cls(error.kind, error.message)
