"""The dashboard's summary: one buffering-delay graph of every path and protocol (one axis, one statistic),
a row of each path's Degraded status, per-path rows without a repeated note; readable with 10 paths.
Also: ``canary.chain`` reaches CANARY_CONFIG. One synth with cdk-nag, offline."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streampath_cdk.canary_dashboard import DEGRADED_TITLE, SUMMARY_TITLE
from tests.canary.test_stack import canary_config, dashboard_body, resources, synth

pytestmark = pytest.mark.slow

NAMES = [f"path{i}" for i in range(10)]


@pytest.fixture(scope="module")
def ten(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    paths = [
        {
            "name": n,
            "url": f"https://{n}.example.com/api/streamcheck",
            **({"protocols": ["h1"]} if i == 9 else {}),
        }
        for i, n in enumerate(NAMES)
    ]
    _, raw = synth(canary_config(paths=paths, chain=NAMES[:4]), tmp_path_factory.mktemp("cdk-ten"))
    return raw


def protocols_of(name: str) -> list[str]:
    return ["h1"] if name == "path9" else ["h1", "h2"]


def test_the_summary_comes_first_and_holds_every_path_and_protocol(ten: dict[str, Any]) -> None:
    widgets = dashboard_body(ten)["widgets"]
    summary = next(w for w in widgets if w["properties"].get("title") == SUMMARY_TITLE)
    assert summary["y"] == 0 and widgets[0]["type"] == "text"  # the top row, after the intro
    lines = summary["properties"]["metrics"]
    seen = [(m[1], m[3], m[5]) for m in lines]
    assert seen == [("BufferingDelay", n, p) for n in NAMES for p in protocols_of(n)]
    options = [m[-1] for m in lines]
    assert {o["stat"] for o in options} == {"Maximum"}  # one statistic everywhere
    assert all(o.get("yAxis", "left") == "left" for o in options)  # one axis
    colours = [o["color"] for o in options]
    assert len(set(colours)) == len(colours)  # every line its own colour, ten paths
    assert [o["label"] for o in options][:2] == ["path0 HTTP/1.1", "path0 HTTP/2"]
    props = summary["properties"]
    assert props["legend"] == {"position": "right"} and props["yAxis"]["left"]["min"] == 0
    assert props["annotations"]["horizontal"][0]["value"] == 1000  # the alarm threshold
    # the per-path buffering graphs use the same statistic
    per_path = [w for w in widgets if w["properties"].get("title", "").endswith(": buffering delay (max)")]
    assert len(per_path) == 10 and {m[-1]["stat"] for w in per_path for m in w["properties"]["metrics"]} == {
        "Maximum"
    }


def test_a_row_of_each_paths_degraded_status_under_the_summary(ten: dict[str, Any]) -> None:
    widgets = dashboard_body(ten)["widgets"]
    degraded = next(w for w in widgets if w["properties"].get("title") == DEGRADED_TITLE)
    assert degraded["type"] == "alarm" and degraded["width"] == 24 and degraded["y"] == 7
    # alarm ARNs are tokens in the body: read the composite alarms' names from the template
    composites = [
        r["Properties"]["AlarmName"] for r in resources(ten, "AWS::CloudWatch::CompositeAlarm").values()
    ]
    assert sum(1 for name in composites if name.endswith("-Degraded")) == 10
    # each path's Degraded, then the function's alarms (errors, throttles) and the top composite
    assert len(degraded["properties"]["alarms"]) == 10 + 2 + 1
    first_path_row = min(w["y"] for w in widgets if w["properties"].get("title", "").endswith("(avg)"))
    assert first_path_row == degraded["y"] + degraded["height"]


def test_per_path_rows_fill_the_width_without_a_repeated_note(ten: dict[str, Any]) -> None:
    body = dashboard_body(ten)
    widgets = body["widgets"]
    assert [w["type"] for w in widgets].count("text") == 1
    rows: dict[int, int] = {}
    for widget in widgets:
        assert widget["x"] + widget["width"] <= 24
        rows[widget["y"]] = rows.get(widget["y"], 0) + widget["width"]
    assert len(rows) == 2 + 10 and all(width == 24 for width in rows.values())
    intro = widgets[0]["properties"]["markdown"]
    assert "buffering > 1000 ms" in intro and "streamprobe trace" in intro
    assert len(json.dumps(body)) < 100_000


def test_the_chain_reaches_canary_config(ten: dict[str, Any]) -> None:
    (function,) = [
        f for f in resources(ten, "AWS::Lambda::Function").values() if "CANARY_CONFIG" in json.dumps(f)
    ]
    config = function["Properties"]["Environment"]["Variables"]["CANARY_CONFIG"]
    text = config if isinstance(config, str) else json.dumps(config)
    assert '"chain":["path0","path1","path2","path3"]' in text.replace('\\"', '"')
