"""The command line's usage error: a bad argument, told in one line on stderr with exit status 2."""

from __future__ import annotations

from .exceptions import StreamprobeError


class UsageError(StreamprobeError):
    """A command line the probe cannot run: the message names the argument and never shows a secret."""
