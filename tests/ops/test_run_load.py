"""``streampath run-load``: K Lambda Invokes at once (boto3 over HTTP to moto's Docker-free Lambda
backend, which answers each Invoke with the next queued payload), merged exactly.

The queued payloads are real parts: the canary's ``load`` event run by the handler's code
(``run_load_event``) against the reference app on loopback. So the test covers the CLI's whole path --
stack output lookup, the Invoke requests, the payload checks, the merge and its rendering -- with what the
function really returns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamcheck.reference_app import create_app
from streampath_canary.auth_secrets import SecretCache
from streampath_canary.contract import CanarySpec
from streampath_canary.load_event import run_load_event
from streamprobe.load import merge_parts

from streampath import naming
from tests.ops.conftest import Cli
from tests.ops.fake_aws import Moto, deploy, handler_payload, write_config
from tests.support.servers import uvicorn_server


@pytest.fixture(scope="module")
def deployed(moto: Moto, config_dir: Path) -> tuple[Path, str]:
    outputs = deploy(moto, "loadenv", units=("Canary",))
    return write_config(config_dir, "loadenv"), outputs["Canary"][naming.OUTPUT_CANARY_FUNCTION_NAME]


@pytest.fixture(scope="module")
def staging(deployed: tuple[Path, str]) -> Path:
    return deployed[0]


@pytest.fixture(scope="module")
def parts() -> list[dict[str, Any]]:
    """Three invocations' parts, each 4 streams, 3 at once."""
    with uvicorn_server(create_app()) as srv:
        url = srv.url("/api/streamcheck?events=3&interval_ms=50")
        spec = CanarySpec.from_document({"paths": [{"name": "nlb", "url": url, "protocols": ["h1"]}]})
        event = {"path": "nlb", "concurrency": 3, "streams": 4}
        return [run_load_event(spec, event, budget_s=30, secrets=SecretCache())["load"] for _ in range(3)]


def test_k_invocations_merge_into_one_run(
    cli: Cli, moto: Moto, staging: Path, parts: list[dict[str, Any]]
) -> None:
    moto.queue_lambda_results(*(json.dumps({"load": part}) for part in parts))
    argv = ["run-load", "--config", str(staging), "--path", "nlb", "--concurrency", "3", "--streams", "4"]
    result = cli(*argv, "--invocations", "3", "--json")
    assert result.code == 0, result.err
    merged = json.loads(result.out)
    assert merged == merge_parts(parts).to_dict()
    assert merged["concurrency"] == 9 and merged["streams"]["finished"] == 12


def test_a_function_without_the_load_event_is_refused(cli: Cli, moto: Moto, staging: Path) -> None:
    moto.queue_lambda_results(json.dumps(handler_payload()))
    argv = ["run-load", "--config", str(staging), "--path", "nlb", "--concurrency", "1", "--streams", "1"]
    result = cli(*argv)
    assert result.code == 2
    assert "returned no load part" in result.err and "older than the load event" in result.err


def test_local_processes_run_the_handlers_code_with_the_functions_config(
    cli: Cli, moto: Moto, deployed: tuple[Path, str]
) -> None:
    config_path, function = deployed
    with uvicorn_server(create_app()) as srv:
        url = srv.url("/api/streamcheck?events=3&interval_ms=50")
        spec = CanarySpec.from_document({"paths": [{"name": "nlb", "url": url, "protocols": ["h1"]}]})
        lambda_ = moto.client("lambda")
        lambda_.update_function_configuration(
            FunctionName=function, Environment={"Variables": {"CANARY_CONFIG": spec.to_json()}}
        )
        argv = ["run-load", "--config", str(config_path), "--path", "nlb", "--concurrency", "3"]
        result = cli(*argv, "--streams", "4", "--local", "2", "--json")
    assert result.code == 0, result.err
    merged = json.loads(result.out)
    assert merged["concurrency"] == 6 and merged["streams"]["finished"] == 8
    assert merged["verdicts"]["streaming"] == 8 and merged["goodput"]["good"] == 8
