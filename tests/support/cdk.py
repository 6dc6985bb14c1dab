"""Synthesise the CDK app from a config in tests, the way ``cdk synth`` does (same context, cdk-nag on).

``cdk.App()`` in a test does not read ``cdk.json``, so :func:`cdk_context` passes its context (feature flags)
explicitly. :func:`synth_config` caches per config name for the whole session: synthesising is the slow part
(seconds per app), and every test of a config reads the same templates.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_CLI = REPO_ROOT / "node_modules" / ".bin" / "cdk"
#: jsii frames each of its Node banners (end-of-life, deprecated or untested version) in rows of "!"; the
#: project runs on a Node jsii supports (scripts/bootstrap.sh), so none may appear.
NODE_BANNER_FRAME = "!" * 20


#: Where jsii keeps each package it unpacks (aws-cdk-lib: about 7 s of CPU to unpack, 1 s to reuse).
JSII_PACKAGE_CACHE_ENV_VAR = "JSII_RUNTIME_PACKAGE_CACHE_ROOT"


def jsii_package_cache() -> dict[str, str]:
    """For a subprocess given a fresh ``HOME``: jsii's package cache of this user (``$HOME/.cache/aws/jsii/
    package-cache``, jsii's own default on Linux), which the tests' in-process synths fill. Only speed
    changes: every jsii process in a fresh home would unpack aws-cdk-lib again."""
    default = Path.home() / ".cache" / "aws" / "jsii" / "package-cache"
    return {JSII_PACKAGE_CACHE_ENV_VAR: os.environ.get(JSII_PACKAGE_CACHE_ENV_VAR) or str(default)}


def assert_no_node_banner(output: str | bytes) -> None:
    text = output.decode(errors="replace") if isinstance(output, bytes) else output
    assert NODE_BANNER_FRAME not in text and "end-of-life" not in text, f"a Node banner was printed:\n{text}"


@dataclass
class Synthesised:
    """One synthesised app: stacks by unit (``Nlb``, ``CloudFront``, ``Canary``), templates, out dir."""

    config_name: str
    outdir: Path
    stacks: dict[str, Any]
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def template(self, unit: str) -> Any:
        """``aws_cdk.assertions.Template`` for one unit (built from the JSON: no second synthesis)."""
        from aws_cdk.assertions import Template

        return Template.from_json(self.templates[unit])

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


def cdk_context(**overrides: Any) -> dict[str, Any]:
    """The ``context`` of ``cdk.json`` (feature flags and the default config), plus overrides."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context.update(overrides)
    return context


def synth_app(config_name: str, outdir: Path, *, nag: bool = True) -> Synthesised:
    """Build and synthesise the app for ``config/<config_name>.yaml`` into ``outdir`` (not cached)."""
    import aws_cdk as cdk

    from stacks.app_builder import build_app
    from streampath.config import load_config_by_name
    from streampath_cdk import nag as nag_module

    cfg = load_config_by_name(config_name)
    app = cdk.App(context=cdk_context(config=config_name), outdir=str(outdir))
    stacks = build_app(app, cfg)
    if nag:
        nag_module.apply(app)
    assembly = app.synth()
    result = Synthesised(config_name=config_name, outdir=outdir, stacks=stacks)
    for unit, stack in stacks.items():
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        result.templates[unit] = json.loads((outdir / artifact.template_file).read_text())
    return result


_OUT_ROOT: list[Path] = []


def set_output_root(path: Path) -> None:
    """Where :func:`synth_config` writes (a session temp dir, set once by the conftest)."""
    _OUT_ROOT[:] = [path]


@functools.cache
def synth_config(config_name: str) -> Synthesised:
    """Session-cached :func:`synth_app` of a named config (cdk-nag on, so a finding fails here)."""
    if not _OUT_ROOT:
        raise RuntimeError("call set_output_root() first (tests/stacks/conftest.py does)")
    return synth_app(config_name, _OUT_ROOT[0] / config_name)


def cfn_lint_errors(files: Iterable[Path | str]) -> str | None:
    """cfn-lint's report when it finds an error in ``files`` (warnings allowed), else None."""
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--non-zero-exit-code",
            "error",
            "--format",
            "parseable",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return None if result.returncode == 0 else result.stdout + result.stderr
