"""What every console script (``streamprobe``, ``streampath``) does at its edges: ``--version``, and a
reader that closed stdout early ends it quietly.

``streamprobe URL | head -1`` writes its report after the stream, when ``head`` may have exited. The
write then fails with EPIPE; a Unix tool ends there, silently, as if SIGPIPE had ended it. Python
ignores SIGPIPE (and it must stay ignored: the probe's own sockets raise EPIPE too, which are results,
not reasons to die), so the script catches the ``BrokenPipeError`` itself, points the dead stream at
``/dev/null`` so that the interpreter's last flush at exit cannot fail again (the recipe of the Python
documentation's ``signal`` page), and exits with the status a shell reports for a writer SIGPIPE ended.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final, NoReturn, TextIO

from ._version import package_version

#: 128 + SIGPIPE (13): what ``yes | head -1`` reports for ``yes``, so ``set -o pipefail`` scripts see
#: the same from these scripts as from any other tool writing into a closed pipe.
EXIT_CLOSED_PIPE: Final = 141


def run_console_script(run: Callable[[], int]) -> int:
    """``run()``'s exit status, or :data:`EXIT_CLOSED_PIPE` when stdout (or stderr) was a pipe the
    reader closed: no traceback, no "Exception ignored" line at exit."""
    try:
        try:
            return run()
        finally:
            # Whatever is still buffered is written here, inside the guard, not at interpreter exit
            # (also after ``--help`` or ``--version``, which end in SystemExit).
            sys.stdout.flush()
    except BrokenPipeError:
        for stream in (sys.stdout, sys.stderr):
            _discard_if_broken(stream)
        return EXIT_CLOSED_PIPE


def _discard_if_broken(stream: TextIO) -> None:
    try:
        stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


class VersionAction(argparse.Action):
    """``--version``: ``<distribution> <version>`` as installed, read only when asked for.
    ``parser.add_argument("--version", action=VersionAction, distribution="streampath")``."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, distribution: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)
        self.distribution = distribution

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        print(f"{self.distribution} {package_version(self.distribution)}")
        parser.exit()
