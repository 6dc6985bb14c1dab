"""The package's version: read from its installed metadata (pyproject.toml is the one source)."""

from __future__ import annotations

import functools


@functools.cache
def package_version() -> str:
    """``streamprobe``'s version as installed; ``0+unknown`` when run from a tree never installed."""
    # Imported here: importlib.metadata costs milliseconds that `import streamprobe` need not pay.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("streamprobe")
    except PackageNotFoundError:
        return "0+unknown"
