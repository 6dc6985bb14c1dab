"""The burn-rate policy's numbers, and docs/slo.md's table checked against the function that makes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from streampath_canary.burn_rates import (
    BURN_RATE_WINDOWS,
    SHOWN_BURN_WINDOWS_S,
    budget_left,
    burn_rate,
    error_budget,
    objective_problem,
    policy_table,
    render_policy_table,
    window_label,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "slo.md"


def test_the_three_pairs() -> None:
    assert [(w.name, w.severity, w.burn_rate, w.long_s, w.short_s) for w in BURN_RATE_WINDOWS] == [
        ("FastBurn", "page", 14.4, 3_600, 300),
        ("SlowBurn", "page", 6.0, 21_600, 1_800),
        ("BudgetBurn", "ticket", 1.0, 259_200, 21_600),
    ]
    assert SHOWN_BURN_WINDOWS_S == (3_600, 21_600)
    assert [window_label(s) for s in (300, 1_800, 3_600, 21_600, 259_200)] == [
        "5min",
        "30min",
        "1h",
        "6h",
        "3d",
    ]


def test_the_figures_at_99_5_over_28_days() -> None:
    assert error_budget(99.5) == 0.005 and error_budget(99.9) == 0.001
    fast, slow, ticket = policy_table(99.5, 28)
    # 14.4 x 0.005 = 7.2 % of the 1 h window: 4.32 min of total outage; 14.4 x 1 h / 672 h = 2.14 %.
    assert fast.threshold == 0.072
    assert fast.minutes_to_fire == pytest.approx(4.32)
    assert fast.budget_spent == pytest.approx(14.4 / 672)
    assert fast.smallest_error_rate == pytest.approx(0.072)
    assert slow.threshold == 0.03 and slow.minutes_to_fire == pytest.approx(10.8)
    assert slow.budget_spent == pytest.approx(36 / 672)
    assert ticket.threshold == 0.005 and ticket.minutes_to_fire == pytest.approx(21.6)
    assert ticket.budget_spent == pytest.approx(72 / 672)


def test_budget_and_burn_rate() -> None:
    assert burn_rate(good=54, total=60, objective=99.5) == pytest.approx(20.0)
    assert budget_left(good=5985, total=6000, objective=99.5) == pytest.approx(0.5)
    assert budget_left(good=10, total=10, objective=99.5) == 1.0
    assert burn_rate(good=0, total=0, objective=99.5) is None  # no probes: no evidence either way


def test_objectives_the_alarms_cannot_use() -> None:
    assert objective_problem(99.5) is None and objective_problem(93.1) is None
    assert "strictly between 0 and 100" in (objective_problem(100) or "")
    assert "must be above 93.06" in (objective_problem(93) or "")


@pytest.mark.parametrize("objective", [99.5, 99.9])
def test_docs_table_is_the_functions(objective: float) -> None:
    assert render_policy_table(objective, 28) in DOC.read_text()
