"""Configs for the multi-Region tests: config/default.yaml with a ``canary.regions`` list (and edits)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from streampath.config import CONFIG_DIR, AppConfig, ConfigError, load_config

DEFAULT: dict[str, Any] = yaml.safe_load((CONFIG_DIR / "default.yaml").read_text())
HOME = DEFAULT["region"]  # eu-west-1
THREE_REGIONS = [HOME, "us-east-1", "ap-southeast-2"]
ACCOUNT = DEFAULT["account"]


def secret_arn(region: str, name: str = "canary/token-AbCdEf") -> str:
    return f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}"


def config_data(
    regions: list[str] | None = None, edit: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """config/default.yaml as data, with ``canary.regions`` set (None: left out) and ``edit`` applied."""
    data = copy.deepcopy(DEFAULT)
    if regions is not None:
        data["canary"]["regions"] = list(regions)
    if edit is not None:
        edit(data)
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "regions.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def load(tmp_path: Path, data: dict[str, Any]) -> AppConfig:
    return load_config(write(tmp_path, data))


def problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    """The error lines of loading ``data``, each without its ``<file>: `` prefix (asserted present)."""
    path = write(tmp_path, data)
    try:
        load_config(path)
    except ConfigError as error:
        lines = str(error).splitlines()
    else:
        raise AssertionError("the config loaded, but a problem was expected")
    prefix = f"{path}: "
    assert all(line.startswith(prefix) for line in lines), lines
    return [line[len(prefix) :] for line in lines]


@dataclass
class Synthesised:
    """A synthesised app: templates by stack name, the assembly's environments, the out dir."""

    outdir: Path
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    environments: dict[str, str] = field(default_factory=dict)

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


def synth(cfg: AppConfig, outdir: Path, *, nag: bool = True) -> Synthesised:
    """``build_app`` + cdk-nag + synth, with cdk.json's context (as ``cdk synth`` does)."""
    import aws_cdk as cdk

    from stacks.app_builder import build_app
    from streampath_cdk import nag as nag_module
    from tests.support.cdk import cdk_context

    app = cdk.App(context=cdk_context(), outdir=str(outdir))
    stacks = build_app(app, cfg)
    if nag:
        nag_module.apply(app)  # an unacknowledged finding fails app.synth()
    assembly = app.synth()
    result = Synthesised(outdir=outdir)
    for stack in stacks.values():
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        result.templates[stack.stack_name] = json.loads((outdir / artifact.template_file).read_text())
        result.environments[stack.stack_name] = (
            f"{artifact.environment.account}/{artifact.environment.region}"
        )
    return result


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def dashboard_body(template: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The dashboard's body (tokens as ``"TOKEN"``) and the tokens themselves."""
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    tokens: list[Any] = []
    if isinstance(body, dict):
        parts = body["Fn::Join"][1]
        tokens = [part for part in parts if not isinstance(part, str)]
        body = "".join(part if isinstance(part, str) else "TOKEN" for part in parts)
    parsed: dict[str, Any] = json.loads(body)
    return parsed, tokens
