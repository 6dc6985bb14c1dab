"""A distribution's version: read from its installed metadata (its pyproject.toml is the one source)."""

from __future__ import annotations

import functools
import threading

# Hundreds of load streams start at once: one of them reads the metadata, the others wait for it.
_READING = threading.Lock()


def package_version(distribution: str = "streamprobe") -> str:
    """``distribution``'s version as installed; ``0+unknown`` when run from a tree never installed."""
    with _READING:
        return _read_version(distribution)


@functools.cache
def _read_version(distribution: str) -> str:
    # Imported here: importlib.metadata costs milliseconds that `import streamprobe` need not pay.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "0+unknown"
