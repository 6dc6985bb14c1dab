"""Progress on stderr while a long command runs: which hop or cell runs now, and each result as it lands.

Only on a terminal: a script reading stderr, a CI log or a pipe gets nothing, and stdout (the table or
the ``--json`` object) never carries a progress line. With ``--json`` on a terminal whose stdout is that
same terminal, progress stays off too, so the JSON a person copies from the screen is whole.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

from .result import ProbeResult

_CLEAR = "\r\x1b[K"  # back to the line's start, erase it (the "running ..." line is replaced)


def result_text(result: ProbeResult) -> str:
    """A result in a few words: the verdict and its delay, or the error kind."""
    if result.error is not None:
        return f"error ({result.error.kind})"
    if result.buffering_delay_ms is None:
        return result.verdict
    return f"{result.verdict} {result.buffering_delay_ms:.0f} ms"


def _same_terminal(a: TextIO, b: TextIO) -> bool:
    try:
        sa, sb = os.fstat(a.fileno()), os.fstat(b.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (sa.st_dev, sa.st_ino, sa.st_rdev) == (sb.st_dev, sb.st_ino, sb.st_rdev)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False


class _Screen:
    """What several ``Progress`` writers to one stream share: a lock, and whether a line is pending."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending = False  # a "running ..." line is on screen, to be replaced


class Progress:
    """Thread-safe lines on ``stream``; a no-op when disabled. ``start`` shows what runs (replaced by the
    next line), ``done`` leaves a line with the outcome. ``child(prefix)`` writes to the same screen
    with its own prefix (one per concurrent job)."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True, prefix: str = "") -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.prefix = prefix
        self._screen = _Screen()

    def child(self, prefix: str) -> Progress:
        other = Progress(self.stream, enabled=self.enabled, prefix=self.prefix + prefix)
        other._screen = self._screen
        return other

    @classmethod
    def for_terminal(cls, prefix: str, *, json_output: bool = False) -> Progress:
        """Enabled when stderr is a terminal (and, with ``json_output``, stdout is not that terminal)."""
        err, out = sys.stderr, sys.stdout
        enabled = _is_tty(err) and not (json_output and _is_tty(out) and _same_terminal(out, err))
        return cls(err, enabled=enabled, prefix=prefix)

    @classmethod
    def off(cls) -> Progress:
        return cls(enabled=False)

    def _write(self, text: str, *, final: bool) -> None:
        if not self.enabled:
            return
        screen = self._screen
        with screen.lock:
            head = _CLEAR if screen.pending else ""
            self.stream.write(f"{head}{self.prefix}{text}" + ("\n" if final else ""))
            self.stream.flush()
            screen.pending = not final

    def start(self, label: str) -> None:
        self._write(f"{label} ...", final=False)

    def done(self, label: str, outcome: str) -> None:
        self._write(f"{label}: {outcome}", final=True)

    def result(self, label: str, result: ProbeResult) -> None:
        self.done(label, result_text(result))

    def note(self, text: str) -> None:
        self._write(text, final=True)
