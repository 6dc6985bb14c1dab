"""streamprobe: measure whether a Server-Sent Events stream really streams, and where it is held.

``probe(url, ProbeOptions(...)) -> ProbeResult``; the result's fields are docs/contracts/result.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import HttpChoice, ProbeOptions
from .probe import probe
from .result import (
    ERROR_KINDS,
    MODES,
    PROTOCOLS,
    TIMING_KEYS,
    VERDICTS,
    ErrorKind,
    EventArrival,
    Mode,
    ProbeError,
    ProbeResult,
    Protocol,
    Verdict,
)

__all__ = [
    "ERROR_KINDS",
    "MODES",
    "PROTOCOLS",
    "TIMING_KEYS",
    "VERDICTS",
    "ErrorKind",
    "EventArrival",
    "HttpChoice",
    "Mode",
    "ProbeError",
    "ProbeOptions",
    "ProbeResult",
    "Protocol",
    "Verdict",
    "__version__",
    "probe",
]

if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> str:
    # The version is read from the installed metadata only when asked for: importing
    # importlib.metadata costs milliseconds that `import streamprobe` (the canary's cold start) need not pay.
    if name == "__version__":
        from ._version import package_version

        return package_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
