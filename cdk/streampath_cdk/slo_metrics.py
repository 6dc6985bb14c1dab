"""The SLO's metric math over ``GoodStream`` (the alarms and the dashboard widgets build on these).

A path's error rate over a window is ``1 - SUM(GoodStream) / SAMPLE_COUNT(GoodStream)`` with one period
equal to the window, summed over the protocols it is probed over: every probe is one event of the SLO
whatever its protocol. ``SUM([...])`` of an array adds the series that have data, so a protocol without
a datapoint in the window does not blank the path, and a path with no data at all gives no datapoint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from streampath_canary.burn_rates import error_budget, window_label
from streampath_canary.contract import GOOD_STREAM, ProtocolName

from streampath_cdk.canary_alarms import canary_metric


@dataclass(frozen=True)
class SloPath:
    """One path's SLO: its name (the ``Path`` dimension), its protocols and its objective (percent)."""

    name: str
    protocols: Sequence[ProtocolName]
    objective: float


def _good_ratio(namespace: str, path: SloPath, period: cdk.Duration) -> tuple[str, dict[str, cw.IMetric]]:
    """``SUM(good) / SUM(count)`` over the path's protocols, and the metrics it uses."""
    # Ids unique per path and protocol: one graph draws several paths' expressions.
    stem = re.sub(r"[^A-Za-z0-9]", "_", path.name)
    using: dict[str, cw.IMetric] = {}
    for prefix, statistic in (("good", "Sum"), ("count", "SampleCount")):
        for protocol in path.protocols:
            using[f"{prefix}_{stem}_{protocol}"] = canary_metric(
                namespace, GOOD_STREAM, path.name, protocol, statistic=statistic, period=period
            )
    good = ", ".join(f"good_{stem}_{p}" for p in path.protocols)
    count = ", ".join(f"count_{stem}_{p}" for p in path.protocols)
    return f"SUM([{good}]) / SUM([{count}])", using


def _math(
    namespace: str, path: SloPath, period: cdk.Duration, template: str, label: str
) -> cw.MathExpression:
    """``template`` with ``{bad}`` standing for the error rate over one ``period``."""
    ratio, using = _good_ratio(namespace, path, period)
    return cw.MathExpression(
        expression=template.format(bad=f"1 - {ratio}", budget=f"{error_budget(path.objective):g}"),
        using_metrics=using,
        period=period,
        label=label,
    )


def error_rate(namespace: str, path: SloPath, period: cdk.Duration) -> cw.MathExpression:
    """The fraction of bad streams (0..1) over one ``period`` (the window)."""
    return _math(namespace, path, period, "{bad}", f"{path.name} error rate ({_window(period)})")


def burn_rate(namespace: str, path: SloPath, period: cdk.Duration) -> cw.MathExpression:
    """How many times faster than sustainable the budget burns over ``period``: error rate / budget."""
    return _math(namespace, path, period, "({bad}) / {budget}", f"{path.name} {_window(period)}")


def budget_left(namespace: str, path: SloPath, period: cdk.Duration) -> cw.MathExpression:
    """The fraction of the error budget left over ``period`` (the SLO window): 1 - burn rate, in %."""
    return _math(
        namespace, path, period, "100 * (1 - ({bad}) / {budget})", f"{path.name} ({path.objective:g} %)"
    )


def _window(period: cdk.Duration) -> str:
    return window_label(int(period.to_seconds()))
