"""``streampath status`` with ``canary.slo``: the error budget left and the burn rates per path, read from
GoodStream datapoints with known good/bad ratios in moto's CloudWatch (over HTTP)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.conftest import Cli
from tests.ops.fake_aws import REGION, ROOT, Moto, deploy, write_config

ENV = "slochat"


def put_good_streams(moto: Moto, path: str, protocol: str, at: datetime, good: int, total: int) -> None:
    """``total`` probes at ``at``, ``good`` of them good (as one aggregated datum, like EMF's)."""
    moto.client("cloudwatch", REGION).put_metric_data(
        Namespace="StreamPath",
        MetricData=[
            {
                "MetricName": "GoodStream",
                "Dimensions": [{"Name": "Path", "Value": path}, {"Name": "Protocol", "Value": protocol}],
                "StatisticValues": {
                    "SampleCount": total,
                    "Sum": good,
                    "Minimum": 0.0 if good < total else 1.0,
                    "Maximum": 1.0 if good else 0.0,
                },
                "Unit": "Count",
                "Timestamp": at,
            }
        ],
    )


@pytest.fixture(scope="module")
def slo_env(moto: Moto, config_dir: Path) -> Path:
    deploy(moto, ENV)
    canary: dict[str, Any] = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())["canary"]
    canary["slo"] = {"objective": 99.5, "window_days": 28}
    canary["alarms"]["mode"] = "slo"
    nlb = next(p for p in canary["paths"] if p["name"] == "nlb")
    nlb["slo"] = {"objective": 99.9}
    config = write_config(config_dir, ENV, canary=canary)
    now = datetime.now(UTC)
    # alb (99.5 %: budget 0.5 %): 6 bad of the last hour's 60 probes (10 %: 20x), none bad in the 300 of 3 h
    # ago (6 h: 6 of 360, 3.33x), 9 bad of 5640 ten days ago (28 d: 15 of 6000 = 0.25 %: half the budget).
    for protocol, (recent, older, oldest) in {"h1": (27, 150, 2811), "h2": (27, 150, 2820)}.items():
        put_good_streams(moto, "alb", protocol, now - timedelta(minutes=30), recent, 30)
        put_good_streams(moto, "alb", protocol, now - timedelta(hours=3), older, 150)
        put_good_streams(moto, "alb", protocol, now - timedelta(days=10), oldest, 2820)
    # nlb (its own 99.9 %: budget 0.1 %): 1 bad of 120 in the last hour, nothing before: 8.33x, overspent.
    put_good_streams(moto, "nlb", "h1", now - timedelta(minutes=20), 59, 60)
    put_good_streams(moto, "nlb", "h2", now - timedelta(minutes=20), 60, 60)
    return config


def test_json_has_the_budget_and_burn_rates_per_path(cli: Cli, slo_env: Path) -> None:
    result = cli("status", "--config", str(slo_env), "--json")
    report = json.loads(result.out)
    slo = {r["path"]: r for r in report["slo"]}
    assert list(slo) == ["alb", "nlb", "cloudfront", "direct"]
    alb, nlb = slo["alb"], slo["nlb"]
    assert (alb["region"], alb["objective"], alb["window_days"]) == (REGION, 99.5, 28)
    assert (alb["good"], alb["total"]) == (5985.0, 6000.0)
    assert alb["budget_left"] == pytest.approx(0.5)
    assert alb["burn_rates"] == {"1h": pytest.approx(20.0), "6h": pytest.approx(10 / 3)}
    assert (nlb["objective"], nlb["good"], nlb["total"]) == (99.9, 119.0, 120.0)
    assert nlb["burn_rates"] == {"1h": pytest.approx(25 / 3), "6h": pytest.approx(25 / 3)}
    assert nlb["budget_left"] == pytest.approx(1 - 25 / 3)
    for quiet in ("cloudfront", "direct"):
        assert slo[quiet]["total"] is None and slo[quiet]["budget_left"] is None
        assert slo[quiet]["burn_rates"] == {"1h": None, "6h": None}
    assert (
        f"path nlb in {REGION}: the error budget of its 99.9 % SLO over 28 d is spent (-733 % left)"
        in report["problems"]
    )
    assert not [p for p in report["problems"] if p.startswith("path alb") and "budget" in p]
    assert result.code == 1


def test_text_prints_one_row_per_path(cli: Cli, slo_env: Path) -> None:
    out = cli("status", "--config", str(slo_env)).out
    section = out.split("SLO (GoodStream over the last 28 d", 1)[1].split("\n\n", 1)[0]
    rows = {line.split()[0]: line.split() for line in section.splitlines()[1:] if line.strip()}
    assert rows["PATH"][:5] == ["PATH", "REGION", "SLO", "GOOD", "/"]
    assert rows["alb"] == ["alb", REGION, "99.5", "%", "5985", "/", "6000", "50.0", "%", "20.00x", "3.33x"]
    assert rows["nlb"] == ["nlb", REGION, "99.9", "%", "119", "/", "120", "-733.3", "%", "8.33x", "8.33x"]
    assert rows["direct"] == ["direct", REGION, "99.5", "%", "no", "data", "-", "-", "-"]
