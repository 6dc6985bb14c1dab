"""Quality gates: cfn-lint, cdk-nag, no lookups, and the real `cdk synth` offline with no AWS credentials."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from streampath_cdk import nag
from tests.stacks.conftest import CONFIG_NAMES
from tests.support.cdk import (
    CDK_CLI,
    REPO_ROOT,
    Synthesised,
    assert_no_node_banner,
    cdk_context,
    cfn_lint_errors,
    jsii_package_cache,
    synth_config,
)

pytestmark = pytest.mark.slow


def test_cfn_lint_has_no_errors_on_any_template() -> None:
    files = [str(path) for name in CONFIG_NAMES for path in synth_config(name).template_files()]
    assert len(files) >= 2 * len(CONFIG_NAMES)
    assert cfn_lint_errors(files) is None


def test_synth_needs_no_lookups(any_app: Synthesised) -> None:
    manifest = json.loads((any_app.outdir / "manifest.json").read_text())
    assert "missing" not in manifest, manifest.get("missing")


def test_nag_clean_means_synth_succeeded_with_the_plugin(any_app: Synthesised) -> None:
    # synth_config applies streampath_cdk.nag (an unacknowledged finding raises there); the report is in
    # the assembly.
    assert any_app.template_files()


def _tiny_app(tmp_path: Path, *, acknowledged: bool) -> cdk.App:
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path))
    stack = cdk.Stack(app, "NagProbe", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    bucket = s3.Bucket(
        stack,
        "Bucket",
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
    )  # no server access logs: AwsSolutions-S1
    if acknowledged:
        nag.acknowledge(
            bucket, "AwsSolutions-S1", "Test bucket: proves an acknowledgement silences one rule."
        )
    nag.apply(app)
    return app


def test_nag_fails_synth_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"(?i)validation"):
        _tiny_app(tmp_path / "a", acknowledged=False).synth()
    _tiny_app(tmp_path / "b", acknowledged=True).synth()


def test_acknowledgement_needs_a_reason() -> None:
    app = cdk.App()
    with pytest.raises(ValueError, match="specific reason"):
        nag.acknowledge(app, "AwsSolutions-S1", "ok")


def _offline_env(tmp_path: Path) -> dict[str, str]:
    # No jsii setting: cdk.json's launcher (scripts/cdk-app) silences the banner for a hand-typed `cdk`.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "JSII_"))}
    env.update(
        {
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
            "HOME": str(tmp_path / "home"),
            "CDK_DISABLE_VERSION_CHECK": "1",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            **jsii_package_cache(),
        }
    )
    (tmp_path / "home").mkdir()
    return env


def _cdk_synth(tmp_path: Path, config: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CDK_CLI),
            "synth",
            "--quiet",
            "--no-notices",
            "-c",
            f"config={config}",
            "-o",
            str(tmp_path / "out"),
        ],
        cwd=REPO_ROOT,
        env=_offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_real_cdk_synth_works_without_credentials(tmp_path: Path) -> None:
    assert CDK_CLI.exists(), "the pinned CDK CLI is not installed: run make bootstrap"
    result = _cdk_synth(tmp_path, "default")
    assert result.returncode == 0, result.stdout + result.stderr
    out = tmp_path / "out"
    names = sorted(path.name for path in out.glob("*.template.json"))
    assert "StreamPath-default-Nlb.template.json" in names
    assert "StreamPath-default-CloudFront.template.json" in names
    assert "missing" not in json.loads((out / "manifest.json").read_text())
    assert_no_node_banner(result.stdout + result.stderr)


def test_real_cdk_synth_fails_with_one_clear_line_on_a_bad_config(tmp_path: Path) -> None:
    assert CDK_CLI.exists(), "the pinned CDK CLI is not installed: run make bootstrap"
    bad = tmp_path / "bad.yaml"
    text = (REPO_ROOT / "config" / "default.yaml").read_text()
    bad.write_text(
        text.replace(
            "    alpn_policy: HTTP1Only\n", "    alpn_policy: HTTP1Only\n    idle_timeout_seconds: 7200\n"
        )
    )
    result = _cdk_synth(tmp_path, str(bad))
    assert result.returncode != 0
    assert f"{bad}: nlb.listener.idle_timeout_seconds: must be 60..6000, got 7200\n" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.template.json"))
