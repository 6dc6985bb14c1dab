"""Per-stream values kept exactly, in flat arrays: percentiles of any subset or union are exact.

Memory stays flat in the sense that matters: 8 bytes per stream and metric (100,000 streams x 4
metrics = 3.2 MB), never a result object per stream. Merging two runs concatenates their arrays, so a
merged percentile equals the percentile of one run over the union of the streams.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Final, Literal, get_args

from ..shape import percentile

PercentileKey = Literal["p50", "p90", "p99", "max"]
PERCENTILE_KEYS: Final[tuple[PercentileKey, ...]] = get_args(PercentileKey)
_QUANTILES: Final[dict[PercentileKey, float]] = {"p50": 0.50, "p90": 0.90, "p99": 0.99, "max": 1.0}


class Samples:
    """One metric's values, one per stream that measured it."""

    def __init__(self, values: Iterable[float] = ()) -> None:
        self.values = array("d", values)

    def add(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def merge(self, other: Samples) -> None:
        self.values.extend(other.values)

    def __len__(self) -> int:
        return len(self.values)

    def percentiles(self) -> dict[str, float | None]:
        """``{p50, p90, p99, max}`` (linear between ranks, as ``streamprobe.shape``); ``None`` if empty."""
        if not self.values:
            return dict.fromkeys(PERCENTILE_KEYS)
        ordered = sorted(self.values)
        return {key: round(percentile(ordered, q), 3) for key, q in _QUANTILES.items()}

    def quantile(self, q: float) -> float | None:
        return percentile(sorted(self.values), q) if self.values else None
