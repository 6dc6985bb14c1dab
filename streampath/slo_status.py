"""The stream SLO in ``streampath status``: per path, the error budget left and the current burn rates.

Read with GetMetricData: ``Sum`` and ``SampleCount`` of ``GoodStream`` per path x protocol with one period
as long as the window (the SLO window, then each burn-rate window the dashboard shows), added over the
path's protocols, as the alarms' metric math does. The figures are ``streampath_canary.burn_rates``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from streampath_canary.burn_rates import SHOWN_BURN_WINDOWS_S, budget_left, burn_rate, window_label
from streampath_canary.contract import DIMENSION_PATH, DIMENSION_PROTOCOL, GOOD_STREAM

from streampath.aws import Aws, aws_errors
from streampath.render import table

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef

MAX_QUERIES = 500  # GetMetricData's limit per call
_STATS = ("Sum", "SampleCount")


@dataclass(frozen=True)
class SloTarget:
    """One path's SLO as the config sets it: its protocols and objective."""

    path: str
    protocols: tuple[str, ...]
    objective: float


@dataclass
class SloReading:
    """One path's SLO in one Region: the window's good and total probes, the budget left (a fraction;
    negative: overspent) and the burn rate per window label (``1h``, ``6h``); None: no data."""

    path: str
    region: str
    objective: float
    window_days: int
    good: float | None = None
    total: float | None = None
    budget_left: float | None = None
    burn_rates: dict[str, float | None] = field(default_factory=dict)


def read_slo(
    aws: Aws, namespace: str, targets: Sequence[SloTarget], window_days: int, end: datetime
) -> list[SloReading]:
    """Every target's reading in ``aws``'s Region (one GetMetricData call per window and 500 queries)."""
    readings = [
        SloReading(path=t.path, region=aws.region, objective=t.objective, window_days=window_days)
        for t in targets
    ]
    window_s = window_days * 86_400
    totals = _totals(aws, namespace, targets, window_s, end)
    for reading, (good, total) in zip(readings, totals, strict=True):
        if total > 0:
            reading.good, reading.total = good, total
            reading.budget_left = budget_left(good, total, reading.objective)
    for seconds in SHOWN_BURN_WINDOWS_S:
        for reading, (good, total) in zip(
            readings, _totals(aws, namespace, targets, seconds, end), strict=True
        ):
            reading.burn_rates[window_label(seconds)] = burn_rate(good, total, reading.objective)
    return readings


def _totals(
    aws: Aws, namespace: str, targets: Sequence[SloTarget], seconds: int, end: datetime
) -> list[tuple[float, float]]:
    """(good, total) per target over the ``seconds`` before ``end``."""
    queries: list[MetricDataQueryTypeDef] = []
    owner: dict[str, tuple[int, str]] = {}
    for i, target in enumerate(targets):
        for j, protocol in enumerate(target.protocols):
            for stat in _STATS:
                query_id = f"q{i}_{j}_{stat.lower()}"
                owner[query_id] = (i, stat)
                queries.append(
                    {
                        "Id": query_id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": namespace,
                                "MetricName": GOOD_STREAM,
                                "Dimensions": [
                                    {"Name": DIMENSION_PATH, "Value": target.path},
                                    {"Name": DIMENSION_PROTOCOL, "Value": protocol},
                                ],
                            },
                            "Period": seconds,
                            "Stat": stat,
                        },
                        "ReturnData": True,
                    }
                )
    sums = [{"Sum": 0.0, "SampleCount": 0.0} for _ in targets]
    cloudwatch = aws.cloudwatch()
    for first in range(0, len(queries), MAX_QUERIES):
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "MetricDataQueries": queries[first : first + MAX_QUERIES],
                "StartTime": end - timedelta(seconds=seconds),
                "EndTime": end,
            }
            if token:
                kwargs["NextToken"] = token
            with aws_errors("CloudWatch GetMetricData"):
                response = cloudwatch.get_metric_data(**kwargs)
            for item in response.get("MetricDataResults", []):
                i, stat = owner[item["Id"]]
                sums[i][stat] += sum(float(v) for v in item.get("Values", []))
            token = response.get("NextToken")
            if not token:
                break
    return [(s["Sum"], s["SampleCount"]) for s in sums]


def problems(readings: Sequence[SloReading]) -> list[str]:
    """A spent budget, or a page burn rate over 1 (spending faster than the window allows), is a problem."""
    found = []
    for r in readings:
        if r.budget_left is not None and r.budget_left <= 0:
            found.append(
                f"path {r.path} in {r.region}: the error budget of its {r.objective:g} % SLO over "
                f"{r.window_days} d is spent ({r.budget_left * 100:.0f} % left)"
            )
    return found


def render(readings: Sequence[SloReading]) -> list[str]:
    """The text section: one row per path and Region."""
    if not readings:
        return []
    labels = [window_label(s) for s in SHOWN_BURN_WINDOWS_S]
    days = readings[0].window_days
    rows = [
        [
            r.path,
            r.region,
            f"{r.objective:g} %",
            "no data" if r.total is None else f"{r.good:.0f} / {r.total:.0f}",
            _percent(r.budget_left),
            *(_burn(r.burn_rates.get(label)) for label in labels),
        ]
        for r in readings
    ]
    headers = [
        "PATH",
        "REGION",
        "SLO",
        "GOOD / PROBES",
        "BUDGET_LEFT",
        *(f"BURN_{x.upper()}" for x in labels),
    ]
    return [
        "",
        f"SLO (GoodStream over the last {days} d; burn rate 1 = spending the budget exactly)",
        table(headers, rows),
    ]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _burn(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"
