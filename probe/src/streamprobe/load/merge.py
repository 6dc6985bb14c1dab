"""Exact merge of load runs made apart (the canary fleet's invocations, local processes): counts add up,
and every stream's values are concatenated, so the merged percentiles are those of one run over the
union of the streams -- never an average of percentiles."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..slo import parse_slo
from .stats import Samples
from .summary import VALUE_NAMES, LoadSummary


def merge_parts(parts: Sequence[dict[str, Any]]) -> LoadSummary:
    """One summary from ``LoadSummary.to_part()`` dicts of runs against one URL with one SLO.
    ValueError when they cannot be merged."""
    if not parts:
        raise ValueError("nothing to merge")
    specs = {part["goodput"]["slo"] for part in parts}
    if len(specs) != 1:
        raise ValueError(f"the parts were judged against different SLOs: {', '.join(sorted(specs))}")
    first = parts[0]
    merged = LoadSummary(
        url=first["url"],
        protocol=first["protocol"],
        concurrency=sum(part["concurrency"] for part in parts),
        connection_reuse=first["connection_reuse"],
        slo=parse_slo(specs.pop()),
    )
    for part in parts:
        merged.started += part["streams"]["started"]
        merged.finished += part["streams"]["finished"]
        merged.good += part["goodput"]["good"]
        merged.events += part["events"]
        merged.connections += part["connections"]
        merged.duration_ms = max(merged.duration_ms, part["duration_ms"])
        merged.interrupted = merged.interrupted or part["interrupted"]
        merged.errors.update(Counter(part["streams"]["errors"]))
        merged.verdicts.update(Counter({k: n for k, n in part["verdicts"].items() if n}))
        merged.protocols.update(Counter(part["protocols"]))
        for name in VALUE_NAMES:
            getattr(merged.values, name).merge(Samples(part["values"][name]))
    merged.diagnose()
    return merged
