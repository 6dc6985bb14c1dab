"""``streamprobe load``: many streams at once, each measured and judged like a single probe; percentiles,
goodput against an SLO, and the diagnosis of a concurrency cap (docs/contracts/load.md)."""

from __future__ import annotations

from .engine import CapacityError, run_load
from .merge import merge_parts
from .plan import MAX_STREAMS, LoadPlan
from .records import Records, RecordsError
from .summary import LoadSummary

__all__ = [
    "MAX_STREAMS",
    "CapacityError",
    "LoadPlan",
    "LoadSummary",
    "Records",
    "RecordsError",
    "merge_parts",
    "run_load",
]
