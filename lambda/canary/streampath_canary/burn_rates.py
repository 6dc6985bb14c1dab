"""The stream SLO's error budget and its multi-window, multi-burn-rate alerting policy (docs/slo.md).

Which streams are *good* is ``streamprobe.slo`` (the spec and the rule); this module owns what follows
from an objective: the error budget, the three burn-rate window pairs (Google SRE Workbook, "Alerting on
SLOs"), each pair's error-rate threshold, and the figures docs/slo.md tabulates (time to fire on a total
outage, budget spent before firing, smallest sustained error rate caught). The alarms, the dashboard,
``streampath status`` and the docs all read it, so each number has one owner.

Standard library only: ``streampath status`` reads it without the CDK.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

#: The objective and window an SLO gets when the config names none (percent of good streams, days).
DEFAULT_OBJECTIVE: Final = 99.5
DEFAULT_WINDOW_DAYS: Final = 28

Severity = Literal["page", "ticket"]


@dataclass(frozen=True)
class BurnRateWindow:
    """One window pair: alarm when the error rate over *both* windows exceeds ``burn_rate`` x budget.

    The long window says the budget is really burning; the short one says it is still burning now, so
    the alarm resets minutes after the incident ends instead of hours."""

    #: Stable id: the alarms' names and construct ids end with it.
    name: str
    severity: Severity
    burn_rate: float
    long_s: int
    short_s: int

    def threshold(self, objective: float) -> float:
        """The error rate (0..1) both windows must exceed: burn rate x error budget."""
        return round(self.burn_rate * error_budget(objective), 10)

    def minutes_to_fire_on_outage(self, objective: float) -> float:
        """Time to fire when every stream fails: the long window's error rate reaches the threshold after
        threshold x long window (the short window, all bad at once, is over it long before)."""
        return min(1.0, self.threshold(objective)) * self.long_s / 60

    def budget_spent_before_firing(self, window_days: int) -> float:
        """Fraction of the window's budget spent at exactly this burn rate by the time the long window
        shows it: burn rate x long window / SLO window."""
        return self.burn_rate * self.long_s / (window_days * 86_400)

    def smallest_error_rate(self, objective: float) -> float:
        """The smallest sustained error rate (0..1) that fires the alarm (capped at 1)."""
        return min(1.0, self.threshold(objective))


#: The three pairs, fastest first. A faster pair's alarm suppresses the slower pairs' actions.
BURN_RATE_WINDOWS: Final[tuple[BurnRateWindow, ...]] = (
    BurnRateWindow("FastBurn", "page", 14.4, 3_600, 300),
    BurnRateWindow("SlowBurn", "page", 6.0, 21_600, 1_800),
    BurnRateWindow("BudgetBurn", "ticket", 1.0, 259_200, 21_600),
)
#: The burn rates the dashboard and ``streampath status`` show: over the page pairs' long windows.
SHOWN_BURN_WINDOWS_S: Final[tuple[int, ...]] = tuple(
    w.long_s for w in BURN_RATE_WINDOWS if w.severity == "page"
)
#: The highest burn rate any pair alarms at: its threshold must be an error rate below 100 %.
MAX_BURN_RATE: Final = max(w.burn_rate for w in BURN_RATE_WINDOWS)
#: The longest window of any pair (the SLO window must be longer).
LONGEST_WINDOW_S: Final = max(w.long_s for w in BURN_RATE_WINDOWS)


def error_budget(objective: float) -> float:
    """The fraction of streams allowed to be bad: 1 - objective / 100 (99.5 -> 0.005, rounded so the
    alarms' thresholds read as written, not 0.0050000000000000044)."""
    return round(1.0 - objective / 100.0, 10)


def objective_problem(objective: float) -> str | None:
    """Why ``objective`` (percent) cannot drive the burn-rate alarms, or None."""
    if not 0 < objective < 100:
        return f"must be a percentage strictly between 0 and 100, got {objective:g}"
    if MAX_BURN_RATE * error_budget(objective) >= 1:
        lowest = 100 * (1 - 1 / MAX_BURN_RATE)
        return (
            f"must be above {lowest:.2f} (got {objective:g}): the fastest alarm fires at {MAX_BURN_RATE:g}x "
            "the error budget, which must be an error rate below 100 %"
        )
    return None


def error_rate(good: float, total: float) -> float | None:
    """1 - good / total: the fraction of bad streams (None: no streams)."""
    return None if total <= 0 else 1.0 - good / total


def burn_rate(good: float, total: float, objective: float) -> float | None:
    """How many times faster than sustainable the budget burns: error rate / budget (None: no data)."""
    rate = error_rate(good, total)
    return None if rate is None else rate / error_budget(objective)


def budget_left(good: float, total: float, objective: float) -> float | None:
    """The fraction of the window's error budget left: 1 - error rate / budget (negative: overspent)."""
    burn = burn_rate(good, total, objective)
    return None if burn is None else 1.0 - burn


def window_label(seconds: int) -> str:
    """3600 -> ``1h``, 300 -> ``5min``, 259200 -> ``3d`` (docs, widget labels, status columns)."""
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400}d"
    if seconds % 3_600 == 0:
        return f"{seconds // 3_600}h"
    return f"{seconds // 60}min"


@dataclass(frozen=True)
class PolicyRow:
    """One row of docs/slo.md's table."""

    window: BurnRateWindow
    threshold: float
    minutes_to_fire: float
    budget_spent: float
    smallest_error_rate: float


def policy_table(objective: float, window_days: int) -> list[PolicyRow]:
    """docs/slo.md's table for one objective and window (a test checks the doc against it)."""
    return [
        PolicyRow(
            window=w,
            threshold=w.threshold(objective),
            minutes_to_fire=w.minutes_to_fire_on_outage(objective),
            budget_spent=w.budget_spent_before_firing(window_days),
            smallest_error_rate=w.smallest_error_rate(objective),
        )
        for w in BURN_RATE_WINDOWS
    ]


def render_policy_table(objective: float, window_days: int, windows: Sequence[BurnRateWindow] = ()) -> str:
    """The Markdown table of docs/slo.md (``windows``: a subset; default all)."""
    names = {w.name for w in windows} if windows else None
    lines = [
        "| alarm | severity | burn rate | long / short window | error-rate threshold "
        "| fires on a total outage after | budget spent before it fires | smallest sustained error rate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in policy_table(objective, window_days):
        w = row.window
        if names is not None and w.name not in names:
            continue
        lines.append(
            f"| {w.name} | {w.severity} | {w.burn_rate:g}x | {window_label(w.long_s)} / "
            f"{window_label(w.short_s)} | {row.threshold * 100:.2f} % | {row.minutes_to_fire:.1f} min "
            f"| {row.budget_spent * 100:.1f} % | {row.smallest_error_rate * 100:.1f} % |"
        )
    return "\n".join(lines)
