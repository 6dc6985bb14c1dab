"""streamprobe: measure whether a Server-Sent Events stream really streams (see DESIGN.md)."""

from .probe import ProbeOptions, probe
from .result import EventArrival, ProbeError, ProbeResult

__all__ = ["EventArrival", "ProbeError", "ProbeOptions", "ProbeResult", "probe"]
__version__ = "0.1.0"
