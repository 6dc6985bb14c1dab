"""The canary's CloudWatch metric contract (DESIGN.md): names, units and dimensions.

One copy for every side of the contract: the canary Lambda publishes these (``canary_metrics``), the
stack alarms on them and draws them (``stacks/constructs/canary_*``), ``streampath status`` reads them.
It lives in ``streamprobe`` because that package is both bundled into the Lambda and installed where
``cdk synth`` and the ops CLI run.
"""

from __future__ import annotations

from typing import Final

DIMENSION_PATH: Final = "Path"
DIMENSION_PROTOCOL: Final = "Protocol"

#: (metric name, CloudWatch unit)
METRICS: Final[tuple[tuple[str, str], ...]] = (
    ("TimeToFirstByte", "Milliseconds"),
    ("TimeToFirstEvent", "Milliseconds"),
    ("BufferingDelay", "Milliseconds"),
    ("StreamDuration", "Milliseconds"),
    ("DnsTime", "Milliseconds"),
    ("ConnectTime", "Milliseconds"),
    ("TlsTime", "Milliseconds"),
    ("EventsReceived", "Count"),
    ("Success", "Count"),
    ("Buffered", "Count"),
)
