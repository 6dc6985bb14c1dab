"""``canary.slo`` and ``canary.alarms.mode``: defaults, a path's override, one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from streampath.config import load_config_by_name
from tests.config.mutations import Mutation, all_of, problems_of, setting

SLO = {"objective": 99.5, "window_days": 28, "good": "first_event<=2000,buffering<=500"}


def with_slo(**slo: Any) -> Mutation:
    return setting("canary", "slo", value={**SLO, **slo})


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            setting("canary", "alarms", "mode", value="slo"),
            "canary.alarms.mode: 'slo' needs a canary.slo section (objective, window_days, good)",
        ),
        (
            setting("canary", "alarms", "mode", value="burn"),
            "canary.alarms.mode: must be one of 'thresholds', 'slo' or 'both', got 'burn'",
        ),
        (
            with_slo(objective=100),
            "canary.slo.objective: must be a percentage strictly between 0 and 100, got 100",
        ),
        (
            with_slo(objective=90),
            "canary.slo.objective: must be above 93.06 (got 90): the fastest alarm fires at 14.4x the "
            "error budget, which must be an error rate below 100 %",
        ),
        (with_slo(objective="99.5"), "canary.slo.objective: Input should be a valid number"),
        (with_slo(window_days=3), "canary.slo.window_days: must be 7..90, got 3"),
        (
            with_slo(good="first_event<2000"),
            "canary.slo.good: SLO token 'first_event<2000': expected METRIC<=MS, e.g. first_event<=2000",
        ),
        (
            with_slo(good="first_event<=2000,latency<=9"),
            "canary.slo.good: SLO token 'latency<=9': unknown metric 'latency' (one of ttfb, first_event, "
            "buffering, gap_p99)",
        ),
        (with_slo(ticket_topic="tickets"), "canary.slo.ticket_topic: must be an SNS topic ARN"),
        (with_slo(window="28d"), "canary.slo.window: unknown key (allowed: objective, window_days, good, "),
        (
            all_of(with_slo(), setting("canary", "paths", 0, "slo", value={"good": "ttfb<=x"})),
            "canary.paths[0].slo.good: SLO token 'ttfb<=x': expected METRIC<=MS",
        ),
        (
            all_of(with_slo(), setting("canary", "paths", 1, "slo", value={"objective": 0})),
            "canary.paths[1].slo.objective: must be a percentage strictly between 0 and 100, got 0",
        ),
    ],
)
def test_a_bad_slo_is_one_line_naming_the_key(tmp_path: Path, mutate: Mutation, expected: str) -> None:
    problems = problems_of(tmp_path, mutate)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]


def test_shipped_configs_keep_the_threshold_alarms_and_have_no_slo() -> None:
    for name in ("default", "staging", "production"):
        canary = load_config_by_name(name).canary
        assert canary is not None and canary.slo is None and canary.alarms.mode == "thresholds"


def test_the_slo_example_and_a_paths_override() -> None:
    canary = load_config_by_name("slo").canary
    assert canary is not None and canary.slo is not None and canary.alarms.mode == "slo"
    slo = canary.slo
    assert (slo.objective, slo.window_days, slo.good) == (99.5, 28, "first_event<=2000,buffering<=500")
    assert slo.ticket_topic is None and slo.application_signals is True
    by_name = {p.name: slo.for_path(p.slo) for p in canary.paths}
    assert (by_name["alb"].objective, by_name["alb"].good) == (99.5, slo.good)
    assert (by_name["chat"].objective, by_name["chat"].good) == (
        99.9,
        "ttfb<=500,first_event<=1500,buffering<=300",
    )
