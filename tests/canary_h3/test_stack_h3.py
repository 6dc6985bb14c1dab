"""The default app's canary probes its CloudFront path over h3 too (``http_version: HTTP2_AND_3``), with
alarms and dashboard lines for it; without HTTP/3 on the distribution its template is what it was."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from stacks.app_builder import build_app
from streampath.config import CONFIG_DIR, load_config
from streampath_cdk.canary_dashboard import INTRO_PROTOCOLS, INTRO_PROTOCOLS_H3, PATH_TEXT_H3, region_color
from tests.canary.support import DESIGN_DIMENSIONS
from tests.support.cdk import cdk_context, synth_app

pytestmark = pytest.mark.slow

DEFAULT = yaml.safe_load((CONFIG_DIR / "default.yaml").read_text())
PATHS = ("alb", "nlb", "cloudfront", "direct")


def canary_template(data: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """The canary stack's template for a config document (cdk-nag off: the default app's test has it on)."""
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    app = cdk.App(context=cdk_context(), outdir=str(tmp / "out"))
    stacks = build_app(app, load_config(path))
    template: dict[str, Any] = app.synth().get_stack_by_name(stacks["Canary"].stack_name).template
    return template


def with_cloudfront(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(DEFAULT)
    data["cloudfront"].update(changes.pop("cloudfront", {}))
    for path in data["canary"]["paths"]:
        if path["name"] == "cloudfront":
            path.update(changes)
    return data


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The default app as `cdk synth` builds it, cdk-nag on (an unacknowledged finding fails here)."""
    built = synth_app("default", tmp_path_factory.mktemp("default-h3"), nag=True)
    return built.templates["Canary"]


@pytest.fixture(scope="module")
def without_h3(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same config with the cloudfront path's protocols written out as h1 and h2."""
    return canary_template(with_cloudfront(protocols=["h1", "h2"]), tmp_path_factory.mktemp("no-h3"))


def resources(raw: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in raw["Resources"].items() if v["Type"] == kind}


def dashboard_body(raw: dict[str, Any]) -> dict[str, Any]:
    (dashboard,) = resources(raw, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, dict):
        body = "".join(part if isinstance(part, str) else "TOKEN" for part in body["Fn::Join"][1])
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def canary_alarms(raw: dict[str, Any]) -> set[tuple[str, str, str]]:
    found = set()
    for alarm in resources(raw, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("Namespace") != "StreamPath":
            continue
        dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        assert sorted(dims) == sorted(DESIGN_DIMENSIONS)
        assert props["TreatMissingData"] == "breaching"
        found.add((dims["Path"], dims["Protocol"], props["MetricName"]))
    return found


def function_properties(raw: dict[str, Any]) -> dict[str, Any]:
    (function,) = resources(raw, "AWS::Lambda::Function").values()
    props: dict[str, Any] = function["Properties"]
    return props


def test_the_cloudfront_path_probes_h3(default: dict[str, Any]) -> None:
    from streampath_canary.contract import CanarySpec

    props = function_properties(default)
    env = props["Environment"]["Variables"]["CANARY_CONFIG"]
    text = (
        env if isinstance(env, str) else "".join(p if isinstance(p, str) else "h" for p in env["Fn::Join"][1])
    )
    spec = CanarySpec.from_json(text)
    assert {p.name: p.protocols for p in spec.paths} == {
        "alb": ("h1", "h2"),
        "nlb": ("h1", "h2"),
        "cloudfront": ("h1", "h2", "h3"),
        "direct": ("h1",),
    }
    assert (
        props["Description"]
        == "streampath canary: probes each path over HTTP/1.1, HTTP/2 and HTTP/3, publishes EMF metrics"
    )


def test_h3_alarms_and_their_composite(default: dict[str, Any]) -> None:
    alarms = canary_alarms(default)
    h3 = {a for a in alarms if a[1] == "h3"}
    assert h3 == {("cloudfront", "h3", m) for m in ("BufferingDelay", "TimeToFirstEvent", "Success")}
    composites = {
        v["Properties"]["AlarmName"]: json.dumps(v["Properties"]["AlarmRule"])
        for v in resources(default, "AWS::CloudWatch::CompositeAlarm").values()
    }
    (rule,) = [r for name, r in composites.items() if name.endswith("-cloudfront-Degraded")]
    # The rule names the alarms by their logical ids: <kind>-<path>-<protocol>.
    for kind in ("Buffering", "FirstEvent", "Success"):
        assert f"{kind}cloudfronth3" in rule and f"{kind}cloudfronth2" in rule


def test_dashboard_lines_for_h3(default: dict[str, Any]) -> None:
    widgets = dashboard_body(default)["widgets"]
    h3_lines: dict[str, set[str]] = {}
    for widget in widgets:
        for metric in widget.get("properties", {}).get("metrics", []):
            namespace, name, *rest = metric
            dims = [x for x in rest if not isinstance(x, dict)]
            options = next((x for x in rest if isinstance(x, dict)), {})
            if namespace == "StreamPath" and dims[3] == "h3":
                h3_lines.setdefault(dims[1], set()).add(name)
                assert options["color"] == "#2ca02c" or name == "MaxInterEventGap", metric
                assert "HTTP/3" in options["label"], metric
    assert set(h3_lines) == {"cloudfront"}, "h3 only where it is probed"
    assert {"TimeToFirstByte", "TimeToFirstEvent", "BufferingDelay", "Success"} <= h3_lines["cloudfront"]
    texts = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert INTRO_PROTOCOLS_H3 in texts[0]
    (cloudfront_text,) = [t for t in texts if t.startswith("### cloudfront")]
    assert cloudfront_text.endswith(PATH_TEXT_H3)
    assert not [t for t in texts if t.startswith("### ") and t != cloudfront_text and PATH_TEXT_H3 in t]


def test_only_the_h3_resources_differ_from_the_template_without_it(
    default: dict[str, Any], without_h3: dict[str, Any]
) -> None:
    """The intended change and nothing else: the function (its CANARY_CONFIG and description, and the
    asset it runs is the same), three new alarms, the cloudfront composite's rule and the dashboard."""
    assert canary_alarms(default) - canary_alarms(without_h3) == {
        ("cloudfront", "h3", m) for m in ("BufferingDelay", "TimeToFirstEvent", "Success")
    }
    assert canary_alarms(without_h3) <= canary_alarms(default)
    before, after = without_h3["Resources"], default["Resources"]
    assert set(before) <= set(after)
    added = set(after) - set(before)
    assert len(added) == 3 and all(after[k]["Type"] == "AWS::CloudWatch::Alarm" for k in added)
    changed = {k: after[k]["Type"] for k in before if before[k] != after[k]}
    assert sorted(changed.values()) == [
        "AWS::CloudWatch::CompositeAlarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::Lambda::Function",
    ], changed
    (function_id,) = [k for k, t in changed.items() if t == "AWS::Lambda::Function"]
    old, new = before[function_id]["Properties"], after[function_id]["Properties"]
    assert old["Code"] == new["Code"], "the same asset: it holds HTTP/3 whatever the config probes"
    assert {k for k in old if old[k] != new[k]} == {"Environment", "Description"}
    # Without h3 the dashboard's intro says what it always said.
    intro = dashboard_body(without_h3)["widgets"][0]["properties"]["markdown"]
    assert INTRO_PROTOCOLS in intro and "HTTP/3" not in intro
    assert function_properties(without_h3)["Description"] == (
        "streampath canary: probes each path over HTTP/1.1 and HTTP/2, publishes EMF metrics"
    )


def test_http2_only_distribution_keeps_h1_and_h2(without_h3: dict[str, Any], tmp_path: Path) -> None:
    """``http_version: HTTP2``: CloudFront answers no HTTP/3, so the default stays h1 and h2; the canary's
    template is the one with protocols written out as [h1, h2]."""
    http2 = canary_template(with_cloudfront(cloudfront={"http_version": "HTTP2"}), tmp_path)
    assert not {a for a in canary_alarms(http2) if a[1] == "h3"}
    assert http2["Resources"] == without_h3["Resources"]


def test_region_colours_for_h3() -> None:
    """The multi-Region layout draws h3 halfway between a Region's h1 (dark) and h2 (light) shades."""
    assert region_color(0, "h1") == "#1f77b4" and region_color(0, "h2") == "#aec7e8"
    assert region_color(0, "h3") == "#669fce"
    assert len({region_color(i, p) for i in range(10) for p in ("h1", "h2", "h3")}) == 30
