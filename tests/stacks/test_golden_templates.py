"""The shipped configs synthesise to the templates saved in ``tests/stacks/golden/`` byte for byte.

The saved copies are what ``make synth`` wrote before the canary's constructs were recomposed; a change to
a template is then a decision, not a side effect. One thing is normalised: the canary's code asset hash
(the function's ``S3Key`` and the ``aws:asset:path`` metadata), which changes with any edit to the Lambda
source or the probe it bundles. ``default-3-regions`` is ``config/default.yaml`` with
``canary.regions: [eu-west-1, us-east-1, ap-southeast-2]`` (the multi-Region dashboard and paging).

After an intended template change: ``STREAMPATH_UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/stacks/test_golden_templates.py`` rewrites the copies; review them in the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml

from stacks.app_builder import build_app
from streampath.config import CONFIG_DIR, AppConfig, load_config, load_config_by_name
from streampath_cdk import nag
from tests.support.cdk import cdk_context

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).parent / "golden"
#: The context ``cdk synth`` adds to cdk.json's: resource paths and asset metadata, no version report.
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": False,
}
#: A code asset's content hash, as the S3 key (``<hash>.zip``) or the staged directory (``asset.<hash>``).
ASSET_HASH = re.compile(r'(?<=")(asset\.)?[0-9a-f]{64}(\.zip)?(?=")')
THREE_REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-2"]


def three_regions(tmp_path: Path) -> AppConfig:
    data = yaml.safe_load((CONFIG_DIR / "default.yaml").read_text())
    data["canary"]["regions"] = THREE_REGIONS
    path = tmp_path / "default-3-regions.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_config(path)


def synth_templates(cfg: AppConfig, config_name: str, outdir: Path) -> dict[str, str]:
    app = cdk.App(context={**cdk_context(config=config_name), **CLI_CONTEXT}, outdir=str(outdir))
    build_app(app, cfg)
    nag.apply(app)
    app.synth()
    return {p.name: p.read_text() for p in sorted(outdir.glob("*.template.json"))}


@pytest.mark.parametrize("case", ["default", "staging", "production", "default-3-regions"])
def test_templates_are_the_saved_ones(case: str, tmp_path: Path) -> None:
    cfg = three_regions(tmp_path) if case == "default-3-regions" else load_config_by_name(case)
    synthesised = synth_templates(cfg, case, tmp_path / "cdk.out")
    saved_dir = GOLDEN / case
    if os.environ.get("STREAMPATH_UPDATE_GOLDEN") == "1":
        for old in saved_dir.glob("*.template.json"):
            old.unlink()
        for name, text in synthesised.items():
            (saved_dir / name).write_text(text)
    saved = {p.name: p.read_text() for p in sorted(saved_dir.glob("*.template.json"))}
    assert sorted(synthesised) == sorted(saved)
    for name, text in synthesised.items():
        assert json.loads(text)  # a template, not an empty file
        assert ASSET_HASH.sub("<asset-hash>", text) == ASSET_HASH.sub("<asset-hash>", saved[name]), name
