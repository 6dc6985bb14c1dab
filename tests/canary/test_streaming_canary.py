"""``StreamingCanary`` as another CDK app uses it: one construct, each part exposed, and the dashboard
drawing what the alarms fire on (their thresholds and annotations), never a second copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from streampath_canary.contract import AlarmThresholds, PathSpec

from streampath_cdk import nag
from streampath_cdk.canary_alarms import THRESHOLD_LABEL
from streampath_cdk.streaming_canary import StreamingCanary

pytestmark = pytest.mark.slow

PATHS = [
    PathSpec(name="edge", url="https://stream.example.com/api/streamcheck"),
    PathSpec(name="origin", url="https://origin.example.com/api/streamcheck", protocols=["h1"]),
]
THRESHOLDS = AlarmThresholds(
    buffering_delay_ms=777, time_to_first_event_ms=4321, evaluation_periods=4, datapoints_to_alarm=2
)


def synth(tmp: Path, **props: Any) -> tuple[dict[str, Any], StreamingCanary]:
    app = cdk.App(outdir=str(tmp))
    stack = cdk.Stack(app, "Consumer", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    canary = StreamingCanary(stack, "Canary", paths=PATHS, alarm_name_prefix="shop", **props)
    nag.apply(app)  # an unacknowledged cdk-nag finding fails app.synth()
    return app.synth().get_stack_by_name("Consumer").template, canary


def of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def with_dashboard(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], StreamingCanary]:
    return synth(tmp_path_factory.mktemp("streaming-canary"), dashboard_name="shop", thresholds=THRESHOLDS)


def test_each_part_is_exposed(with_dashboard: tuple[dict[str, Any], StreamingCanary]) -> None:
    _, canary = with_dashboard
    assert canary.canary.spec.paths == tuple(PATHS)
    assert canary.alarms.paths == tuple(PATHS) and canary.alarms.thresholds == THRESHOLDS
    assert canary.alarms.function is canary.canary.function
    assert canary.dashboard is not None
    assert set(canary.alarms.by_path) == {"edge", "origin"}
    assert set(canary.alarms.by_path["edge"].buffering) == {"h1", "h2"}


def test_alarms_use_the_thresholds_and_carry_their_annotations(
    with_dashboard: tuple[dict[str, Any], StreamingCanary],
) -> None:
    template, canary = with_dashboard
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm")
    }
    assert alarms["BufferingDelay"]["Threshold"] == 777
    assert alarms["TimeToFirstEvent"]["Threshold"] == 4321
    assert (alarms["Success"]["EvaluationPeriods"], alarms["Success"]["DatapointsToAlarm"]) == (4, 2)
    edge = canary.alarms.by_path["edge"]
    buffering = edge.buffering["h2"]
    assert buffering.threshold == 777 and buffering.annotation is not None
    assert buffering.annotation.value == 777 and buffering.annotation.label == THRESHOLD_LABEL
    assert edge.success["h1"].annotation is None  # a 0/1 metric: nothing drawn


def test_the_dashboard_draws_the_alarms_thresholds(
    with_dashboard: tuple[dict[str, Any], StreamingCanary],
) -> None:
    template, _ = with_dashboard
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard")
    body = dashboard["Properties"]["DashboardBody"]
    # Alarm ARNs are tokens that split the body: the text around them holds the rest.
    text = body if isinstance(body, str) else "".join(p for p in body["Fn::Join"][1] if isinstance(p, str))
    assert '"value":777' in text and '"value":4321' in text
    assert '"value":1000' not in text and '"value":5000' not in text  # no second, default copy
    assert "buffering > 777 ms, first event > 4321 ms" in text and "(2 of 4" in text


def test_no_dashboard_without_a_name(tmp_path: Path) -> None:
    template, canary = synth(tmp_path, dashboard_name=None)
    assert canary.dashboard is None and not of_type(template, "AWS::CloudWatch::Dashboard")
    assert of_type(template, "AWS::CloudWatch::CompositeAlarm")  # the alarms are still there
