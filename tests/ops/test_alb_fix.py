"""``streampath alb-fix``: a values.yaml fragment that parses, with the trade-off and the CLI command."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streampath.cli import main
from tests.ops.fake_aws import write_config

ANNOTATION = "alb.ingress.kubernetes.io/load-balancer-attributes"
ARN = (
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
    "loadbalancer/app/k8s-default-coreapi-1a2b3c4d5e/0123456789abcdef"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["alb-fix", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_default_fragment_parses_as_values_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 0, err
    values = yaml.safe_load(out)
    assert values == {
        "ingress": {
            "annotations": {ANNOTATION: "routing.http2.enabled=false,idle_timeout.timeout_seconds=3600"}
        }
    }
    # the trade-off, as a comment
    assert "at most 6 connections per origin" in out
    assert "at most 6 concurrent SSE streams per origin" in out
    assert [line for line in out.splitlines() if not line.startswith("#")] == [
        "ingress:",
        "  annotations:",
        f"    {ANNOTATION}: routing.http2.enabled=false,idle_timeout.timeout_seconds=3600",
    ]


@pytest.mark.parametrize("seconds", [1, 60, 4000])
def test_idle_timeout_bounds_accepted(capsys: pytest.CaptureFixture[str], seconds: int) -> None:
    code, out, _ = run(capsys, "--idle-timeout", str(seconds))
    assert code == 0
    value = yaml.safe_load(out)["ingress"]["annotations"][ANNOTATION]
    assert value == f"routing.http2.enabled=false,idle_timeout.timeout_seconds={seconds}"


@pytest.mark.parametrize("seconds", [0, 4001, -5])
def test_idle_timeout_out_of_alb_limits_refused(capsys: pytest.CaptureFixture[str], seconds: int) -> None:
    code, out, err = run(capsys, "--idle-timeout", str(seconds))
    assert code == 2
    assert out == ""
    assert (
        err.strip()
        == f"streampath alb-fix: --idle-timeout: must be 1..4000 seconds (ALB limit), got {seconds}"
    )


def test_alb_arn_adds_the_aws_cli_command_as_comments(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--alb-arn", ARN, "--idle-timeout", "1800")
    assert code == 0
    assert yaml.safe_load(out)["ingress"]["annotations"][ANNOTATION].endswith(
        "idle_timeout.timeout_seconds=1800"
    )
    command = " ".join(
        line.lstrip("# ").rstrip("\\ ").strip()
        for line in out.splitlines()
        if "aws elbv2" in line or line.startswith("#     ")
    )
    assert command == (
        f"aws elbv2 modify-load-balancer-attributes --region eu-west-1 --load-balancer-arn {ARN} "
        "--attributes Key=routing.http2.enabled,Value=false Key=idle_timeout.timeout_seconds,Value=1800"
    )


def test_values_key_places_the_annotation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--values-key", "core-api.ingress.annotations")
    assert code == 0
    assert ANNOTATION in yaml.safe_load(out)["core-api"]["ingress"]["annotations"]


def test_not_an_alb_arn_refused(capsys: pytest.CaptureFixture[str]) -> None:
    nlb_arn = ARN.replace("/app/", "/net/")
    code, out, err = run(capsys, "--alb-arn", nlb_arn)
    assert code == 2 and out == ""
    assert err.startswith("streampath alb-fix: --alb-arn: not an Application Load Balancer ARN")


def test_config_region_must_match_the_alb(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, "staging")
    code, _, err = run(capsys, "--config", str(config), "--alb-arn", ARN.replace("eu-west-1", "us-east-1"))
    assert code == 2
    assert (
        err.strip() == f"streampath alb-fix: --alb-arn is in us-east-1, but config {config} is for eu-west-1"
    )
    code, out, _ = run(capsys, "--config", str(config), "--alb-arn", ARN)
    assert code == 0 and "--region eu-west-1" in out


def test_invalid_config_refused_with_file_and_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, "staging", regoin="eu-west-1")
    code, out, err = run(capsys, "--config", str(config))
    assert code == 2 and out == ""
    assert err.startswith(f"streampath alb-fix: {config}: regoin: unknown key")
    assert err.count("\n") == 1  # one line
