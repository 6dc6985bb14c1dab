"""The stand-in stacks the ops tests (and the README's deploy transcript) create in moto carry the same
output values as the real templates, so the transcript shows what a deployment would print."""

from __future__ import annotations

from typing import Any

from streampath import naming
from streampath.config import load_config_by_name
from tests.ops.fake_aws import canary_template
from tests.support.cdk import synth_config


def _resolved(value: Any, refs: dict[str, str]) -> str:
    """An output value with ``Ref``s to named resources replaced by their names (Fn::Join flattened)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_resolved(part, refs) for part in parts)
    if "Ref" in value:
        return refs[value["Ref"]]
    raise AssertionError(f"unexpected output value {value!r}")


def test_fake_dashboard_url_is_the_templates() -> None:
    cfg = load_config_by_name("staging")
    template = synth_config("staging").templates["Canary"]
    refs = {
        logical_id: resource["Properties"]["DashboardName"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Dashboard"
    }
    real = _resolved(template["Outputs"][naming.OUTPUT_DASHBOARD_URL]["Value"], refs)
    fake = canary_template(cfg.name, region=cfg.region)["Outputs"][naming.OUTPUT_DASHBOARD_URL]["Value"]
    assert fake == real
    assert real.endswith(f"#dashboards:name={naming.canary_dashboard_name(cfg.name)}")
