"""Refusals shared by every AWS command: one line on stderr, exit status 2, no secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from streampath.aws import NO_CREDENTIALS
from tests.ops.conftest import Cli, run_streampath
from tests.ops.fake_aws import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Moto, deploy, free_port, write_config

COMMANDS = [
    ["targetgroupbinding", "--service", "core-api", "--port", "8080"],
    ["status"],
    ["run-canary"],
]


@pytest.fixture(scope="module")
def staging(moto: Moto, config_dir: Path) -> Path:
    deploy(moto, "staging")
    return write_config(config_dir, "staging")


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_no_credentials(moto: Moto, staging: Path, argv: list[str]) -> None:
    env = moto.env()
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    result = run_streampath([argv[0], "--config", str(staging), *argv[1:]], env)
    assert result.code == 2
    assert result.out == ""
    assert result.err == f"streampath {argv[0]}: {NO_CREDENTIALS}\n"
    assert result.err.startswith(f"streampath {argv[0]}: no AWS credentials found: set AWS_PROFILE or ")


def test_unknown_profile(moto: Moto, staging: Path) -> None:
    env = moto.env()
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    result = run_streampath(["status", "--config", str(staging), "--profile", "nosuchprofile"], env)
    assert (result.code, result.out) == (2, "")
    assert result.err == "streampath status: AWS profile not found: nosuchprofile\n"


def test_endpoint_unreachable(moto: Moto, staging: Path) -> None:
    env = {**moto.env(), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    result = run_streampath(["status", "--config", str(staging)], env)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("streampath status: STS GetCallerIdentity: cannot reach http://127.0.0.1:")
    assert result.err.count("\n") == 1


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_credentials_for_another_account(cli: Cli, config_dir: Path, argv: list[str]) -> None:
    config = write_config(config_dir, "prod", account="210987654321")
    result = cli(argv[0], "--config", str(config), *argv[1:])
    assert result.code == 2 and result.out == ""
    assert result.err == (
        f"streampath {argv[0]}: the AWS credentials are for account 123456789012, but config prod is for "
        "account 210987654321: switch AWS_PROFILE\n"
    )


@pytest.mark.parametrize("argv", [*COMMANDS, ["alb-fix"]], ids=lambda a: a[0])
def test_invalid_config(cli: Cli, tmp_path: Path, argv: list[str]) -> None:
    config = write_config(tmp_path, "staging")
    config.write_text(config.read_text().replace("port: 443", "port: 70000"))
    result = cli(argv[0], "--config", str(config), *argv[1:])
    assert result.code == 2 and result.out == ""
    assert result.err == f"streampath {argv[0]}: {config}: nlb.listener.port: must be 1..65535, got 70000\n"


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_config_not_found(cli: Cli, argv: list[str]) -> None:
    result = cli(argv[0], "--config", "nosuchenv", *argv[1:])
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(
        f"streampath {argv[0]}: no config named 'nosuchenv' (config/nosuchenv.yaml not found); "
        "available configs: "
    )
    result = cli(argv[0], "--config", "/nonexistent/staging.yaml", *argv[1:])
    assert result.err == f"streampath {argv[0]}: /nonexistent/staging.yaml: file not found\n"
    result = cli(argv[0], "--config", "/nonexistent/staging", *argv[1:])  # a path: it holds a '/'
    assert result.err == f"streampath {argv[0]}: /nonexistent/staging: file not found\n"


@pytest.mark.parametrize(
    "argv",
    [["targetgroupbinding"], ["status", "--json"], ["status"], ["run-canary", "--json"]],
    ids=" ".join,
)
def test_no_secret_in_any_output(moto: Moto, staging: Path, argv: list[str]) -> None:
    result = run_streampath([*argv, "--config", str(staging)], moto.env())
    assert result.out or result.err
    assert SECRET_ACCESS_KEY not in result.out + result.err
    assert ACCESS_KEY_ID not in result.out + result.err
