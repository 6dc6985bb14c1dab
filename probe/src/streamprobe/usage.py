"""A usage error: a command line the program cannot run (exit status 2, one line on stderr)."""

from __future__ import annotations


class UsageError(Exception):
    pass
