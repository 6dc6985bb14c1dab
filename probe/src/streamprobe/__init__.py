"""streamprobe: measure whether a Server-Sent Events stream really streams, and where it is held.

``probe(url, ProbeOptions(...)) -> ProbeResult``; the result's fields are docs/contracts/result.md. A
network or server problem is the result's ``error`` (an ``ErrorInfo`` value); what the probe raises is a
``StreamprobeError`` (``InvalidRequest`` for an unusable URL or option).

Importing the package imports nothing else: each public name is loaded on first use (PEP 562), so a
standard-library-only module (``streamprobe.chain``, ``.body``, ``.redact``, ``.result``) can be
imported without the HTTP stack (httpx, h2) -- the canary's contract and ``streampath status`` do.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .exceptions import InvalidRequest, StreamprobeError
    from .options import HttpChoice, ProbeOptions
    from .probing import probe
    from .result import (
        ERROR_KINDS,
        MODES,
        PROTOCOL_LABELS,
        TIMING_KEYS,
        VERDICTS,
        ErrorInfo,
        ErrorKind,
        EventArrival,
        Mode,
        ProbeResult,
        ProtocolLabel,
        Verdict,
    )

    __version__: str

#: The modules that define the public names, searched in this order: the standard-library-only ones
#: first, so that a value or an exception never loads the HTTP stack.
_HOMES: Final = (".result", ".exceptions", ".options", ".probing")

__all__ = [
    "ERROR_KINDS",
    "MODES",
    "PROTOCOL_LABELS",
    "TIMING_KEYS",
    "VERDICTS",
    "ErrorInfo",
    "ErrorKind",
    "EventArrival",
    "HttpChoice",
    "InvalidRequest",
    "Mode",
    "ProbeOptions",
    "ProbeResult",
    "ProtocolLabel",
    "StreamprobeError",
    "Verdict",
    "__version__",
    "probe",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # Read from the installed metadata only when asked for: importlib.metadata costs milliseconds.
        from ._version import package_version

        return package_version()
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for home in _HOMES:
        module = importlib.import_module(home, __name__)
        if hasattr(module, name):
            value = getattr(module, name)
            globals()[name] = value  # once loaded, a plain attribute
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")  # pragma: no cover


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
