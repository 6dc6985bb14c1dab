"""The probe as a Prometheus exporter (docs/exporter.md): ``streamprobe exporter --listen HOST:PORT``.

This package's own modules import ``prometheus_client`` and PyYAML, the ``[exporter]`` extra; this
file does not, so the command line can say what to install when they are missing.
"""

from __future__ import annotations

import importlib.util
from typing import Final

#: Probes at once unless told otherwise (``--max-concurrent``): each holds a thread and a connection.
DEFAULT_MAX_CONCURRENT: Final = 8
INSTALL_HINT: Final = (
    "the exporter and --format openmetrics need the [exporter] extra: pip install 'streamprobe[exporter]'"
)


def check_available() -> None:
    """ValueError (a usage error) when the extra's packages are not installed."""
    if any(importlib.util.find_spec(name) is None for name in ("prometheus_client", "yaml")):
        raise ValueError(INSTALL_HINT)
