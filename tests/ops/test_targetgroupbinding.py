"""``streampath targetgroupbinding`` against stacks created through moto's CloudFormation API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError

from streampath import naming
from tests.ops.conftest import Cli, Result, run_streampath
from tests.ops.fake_aws import (
    SECRET_ACCESS_KEY,
    Moto,
    canary_template,
    create_stack,
    deploy,
    nlb_template,
    write_config,
)


@pytest.fixture(scope="module")
def staging(moto: Moto, config_dir: Path) -> tuple[Path, dict[str, str]]:
    outputs = deploy(moto, "staging", units=("Nlb",))
    return write_config(config_dir, "staging"), outputs["Nlb"]


def test_manifest_fields(cli: Cli, staging: tuple[Path, dict[str, str]]) -> None:
    config, outputs = staging
    result: Result = cli(
        "targetgroupbinding",
        "--config",
        str(config),
        "--service",
        "core-api",
        "--port",
        "8080",
        "--namespace",
        "apps",
    )
    assert result.code == 0, result.err
    manifest = yaml.safe_load(result.out)
    assert manifest["apiVersion"] == "elbv2.k8s.aws/v1beta1"
    assert manifest["kind"] == "TargetGroupBinding"
    assert manifest["metadata"]["name"] == "core-api-streampath-nlb"
    assert manifest["metadata"]["namespace"] == "apps"
    spec = manifest["spec"]
    assert spec["targetGroupARN"] == outputs[naming.OUTPUT_TARGET_GROUP_ARN]
    assert spec["targetGroupARN"].startswith(
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/"
    )
    assert spec["targetType"] == "ip"
    assert spec["serviceRef"] == {"name": "core-api", "port": 8080}
    [rule] = spec["networking"]["ingress"]
    assert rule["from"] == [{"securityGroup": {"groupID": outputs[naming.OUTPUT_NLB_SECURITY_GROUP_ID]}}]
    assert rule["from"][0]["securityGroup"]["groupID"].startswith("sg-")
    assert rule["ports"] == [{"protocol": "TCP", "port": 8080}]
    # the comment on target ownership, and no secrets
    assert "The AWS Load Balancer Controller owns this target group's targets" in result.out
    assert SECRET_ACCESS_KEY not in result.out + result.err


def test_defaults_come_from_the_config_service(cli: Cli, staging: tuple[Path, dict[str, str]]) -> None:
    result = cli("targetgroupbinding", "--config", str(staging[0]))
    assert result.code == 0, result.err
    manifest = yaml.safe_load(result.out)
    assert manifest["metadata"]["namespace"] == "default"
    assert manifest["spec"]["serviceRef"] == {"name": "core-api", "port": 8080}


def test_named_service_port_and_separate_target_port(cli: Cli, staging: tuple[Path, dict[str, str]]) -> None:
    result = cli(
        "targetgroupbinding",
        "--config",
        str(staging[0]),
        "--service",
        "chat",
        "--port",
        "http",
        "--target-port",
        "8000",
    )
    assert result.code == 0, result.err
    spec = yaml.safe_load(result.out)["spec"]
    assert spec["serviceRef"] == {"name": "chat", "port": "http"}
    assert spec["networking"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8000}]


def test_output_file_via_console_script(
    moto: Moto, staging: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    target = tmp_path / "gitops" / "apps" / "core-api" / "targetgroupbinding.yaml"
    result = run_streampath(
        [
            "targetgroupbinding",
            "--config",
            str(staging[0]),
            "--service",
            "core-api",
            "--port",
            "8080",
            "-o",
            str(target),
        ],
        moto.env(),
    )
    assert result.code == 0, result.err
    assert result.out == ""
    assert result.err.strip() == f"wrote {target} (default/core-api-streampath-nlb -> StreamPath-staging-Nlb)"
    assert (
        yaml.safe_load(target.read_text())["spec"]["targetGroupARN"]
        == staging[1][naming.OUTPUT_TARGET_GROUP_ARN]
    )


def test_stack_not_deployed(cli: Cli, config_dir: Path) -> None:
    config = write_config(config_dir, "bare")
    result = cli("targetgroupbinding", "--config", str(config), "--service", "core-api", "--port", "8080")
    assert result.code == 2 and result.out == ""
    assert result.err == (
        "streampath targetgroupbinding: stack StreamPath-bare-Nlb is not deployed in eu-west-1: "
        "run `cdk deploy -c config=bare StreamPath-bare-Nlb` "
        "(or check the config's region and your AWS account)\n"
    )


@pytest.mark.parametrize("missing", [naming.OUTPUT_TARGET_GROUP_ARN, naming.OUTPUT_NLB_SECURITY_GROUP_ID])
def test_output_missing(cli: Cli, moto: Moto, config_dir: Path, missing: str) -> None:
    env = "old" + missing.lower()[:8]
    create_stack(moto, f"StreamPath-{env}-Nlb", nlb_template(omit_outputs=(missing,)))
    config = write_config(config_dir, env)
    result = cli("targetgroupbinding", "--config", str(config), "--service", "core-api", "--port", "8080")
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(
        f"streampath targetgroupbinding: stack StreamPath-{env}-Nlb in eu-west-1 "
        f"has no output {missing} (outputs: "
    )
    assert result.err.count("\n") == 1


def test_wrong_stack_unit_does_not_count(cli: Cli, moto: Moto, config_dir: Path) -> None:
    """Only StreamPath-<env>-Nlb is read: a canary stack alone is 'not deployed' for the binding."""
    create_stack(moto, "StreamPath-canaryonly-Canary", canary_template("canaryonly"))
    config = write_config(config_dir, "canaryonly")
    result = cli("targetgroupbinding", "--config", str(config), "--service", "core-api", "--port", "8080")
    assert result.code == 2
    assert "stack StreamPath-canaryonly-Nlb is not deployed in eu-west-1" in result.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--service", "Core_API"], "--service: not a Kubernetes Service name (RFC 1035 label): 'Core_API'"),
        (["--port", "70000"], "--port: must be 1..65535 or a port name, got 70000"),
        (["--namespace", "Apps"], "--namespace: not a Kubernetes namespace name: 'Apps'"),
    ],
)
def test_bad_arguments_refused_before_reading_the_stack(
    cli: Cli, config_dir: Path, argv: list[str], message: str
) -> None:
    config = write_config(config_dir, "bare")  # nothing deployed: the argument is refused first
    result = cli("targetgroupbinding", "--config", str(config), *argv)
    assert result.code == 2
    assert result.err == f"streampath targetgroupbinding: {message}\n"


def test_config_without_nlb_refused(cli: Cli, config_dir: Path) -> None:
    base = yaml.safe_load(write_config(config_dir, "cfonly").read_text())
    base["nlb"]["enabled"] = False
    base["cloudfront"]["origin"] = {"type": "domain", "domain_name": "origin.example.com"}
    base["canary"]["paths"] = [p for p in base["canary"]["paths"] if p.get("front_door") != "nlb"]
    config = config_dir / "cfonly.yaml"
    config.write_text(yaml.safe_dump(base))
    result = cli("targetgroupbinding", "--config", str(config))
    assert result.code == 2, result.err
    assert result.err == (
        "streampath targetgroupbinding: config cfonly has no NLB front door (nlb absent or disabled): "
        "nothing to bind\n"
    )


@pytest.mark.filterwarnings("ignore:Exception\\(InvalidVPCIdError\\):UserWarning")  # moto's own error shape
def test_stack_stuck_in_progress(cli: Cli, moto: Moto, config_dir: Path) -> None:
    """moto leaves a stack whose resource failed in CREATE_IN_PROGRESS: it has no outputs to trust."""
    cfn = moto.client("cloudformation")
    subnet = {"VpcId": "vpc-0doesnotexist0000", "CidrBlock": "10.0.0.0/24"}
    broken = {"Resources": {"Subnet": {"Type": "AWS::EC2::Subnet", "Properties": subnet}}}
    with pytest.raises(ClientError):
        cfn.create_stack(StackName="StreamPath-stuck-Nlb", TemplateBody=json.dumps(broken))
    assert (
        cfn.describe_stacks(StackName="StreamPath-stuck-Nlb")["Stacks"][0]["StackStatus"]
        == "CREATE_IN_PROGRESS"
    )
    result = cli("targetgroupbinding", "--config", str(write_config(config_dir, "stuck")))
    assert result.code == 2 and result.out == ""
    assert result.err == (
        "streampath targetgroupbinding: stack StreamPath-stuck-Nlb in eu-west-1 is CREATE_IN_PROGRESS, "
        "so it has no usable outputs\n"
    )


def test_deleted_stack_is_not_deployed(cli: Cli, moto: Moto, config_dir: Path) -> None:
    create_stack(moto, "StreamPath-gone-Nlb", nlb_template())
    moto.client("cloudformation").delete_stack(StackName="StreamPath-gone-Nlb")
    result = cli("targetgroupbinding", "--config", str(write_config(config_dir, "gone")))
    assert result.code == 2
    assert result.err.startswith(
        "streampath targetgroupbinding: stack StreamPath-gone-Nlb is not deployed in eu-west-1"
    )
