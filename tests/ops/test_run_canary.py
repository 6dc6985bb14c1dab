"""``streampath run-canary``: a real boto3 Lambda Invoke over HTTP to moto's Docker-free Lambda backend.

moto cannot run the function's code here (that needs Docker). Its "simple" Lambda backend, switched on
through ``/moto-api/config``, answers each Invoke of an existing function with the next payload queued at
``/moto-api/static/lambda-simple/response`` (or, with an empty queue, echoes the request body). So these
tests exercise the CLI's whole path -- stack output lookup, the Invoke request, the FunctionError header,
payload parsing and rendering -- against payloads shaped like lambda/canary/handler.py's return value;
the handler itself is tested in tests/canary/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streampath import naming
from tests.ops.conftest import Cli, run_streampath
from tests.ops.fake_aws import (
    SECRET_ACCESS_KEY,
    Moto,
    canary_template,
    create_stack,
    deploy,
    handler_payload,
    write_config,
)


@pytest.fixture(scope="module")
def staging(moto: Moto, config_dir: Path) -> dict[str, Any]:
    outputs = deploy(moto, "staging", units=("Canary",))
    function = outputs["Canary"][naming.OUTPUT_CANARY_FUNCTION_NAME]
    # the function really exists in moto's Lambda (created by CloudFormation)
    assert (
        moto.client("lambda").get_function(FunctionName=function)["Configuration"]["FunctionName"] == function
    )
    return {"config": write_config(config_dir, "staging"), "function": function}


def test_table_verdict_first(cli: Cli, moto: Moto, staging: dict[str, Any]) -> None:
    moto.queue_lambda_results(json.dumps(handler_payload()))
    result = cli("run-canary", "--config", str(staging["config"]))
    assert result.code == 1, result.err  # alb h2 is buffered
    lines = result.out.splitlines()
    assert lines[0] == f"Canary {staging['function']} (eu-west-1): 7 probe(s), failed 0, duration_ms 2290.4"
    assert lines[1].split() == [
        "VERDICT", "PATH", "PROTOCOL", "OK", "STATUS", "TTFB_MS", "FIRST_EVENT_MS", "BUFFERING_MS", "EVENTS",
    ]  # fmt: skip
    rows = [line.split() for line in lines[2:]]
    assert [row[:4] for row in rows] == [
        ["streaming", "alb", "h1", "yes"],
        ["buffered", "alb", "h2", "yes"],
        ["streaming", "nlb", "h1", "yes"],
        ["streaming", "nlb", "h2", "yes"],
        ["streaming", "cloudfront", "h1", "yes"],
        ["streaming", "cloudfront", "h2", "yes"],
        ["streaming", "direct", "h1", "yes"],
    ]
    # The handler's summary carries the timings the table shows (alb h2: held ~1.9 s).
    assert rows[1][4:] == ["200", "44.0", "1968.0", "1921.4", "21"]
    assert result.err == ""


def test_all_streaming_exits_zero_and_json(cli: Cli, moto: Moto, staging: dict[str, Any]) -> None:
    payload = handler_payload()
    payload["results"] = [{**r, "verdict": "streaming"} for r in payload["results"]]
    moto.queue_lambda_results(json.dumps(payload))
    result = cli("run-canary", "--config", str(staging["config"]), "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["function"] == staging["function"]
    assert document["region"] == "eu-west-1"
    assert document["results"] == payload["results"]
    assert document["probes"] == 7


def test_full_probe_results_with_timings(cli: Cli, moto: Moto, staging: dict[str, Any]) -> None:
    """The full result JSON (docs/contracts/result.md), if the handler returns it, adds status, timings
    and errors to the table; credentials in a URL never reach the output."""
    results = [
        {
            "url": "https://user:hunter2@stream-nlb.example.com/api/streamcheck?events=20&interval_ms=100&nonce=ab12",
            "path_name": "nlb",
            "protocol": "HTTP/1.1",
            "status": 200,
            "ok": True,
            "error": None,
            "timings_ms": {
                "dns": 1.2,
                "connect": 3.4,
                "tls": 10.1,
                "ttfb": 25.0,
                "first_event": 26.3,
                "total": 2100.5,
            },
            "events": 21,
            "mode": "streamcheck",
            "buffering_delay_ms": 3.1,
            "verdict": "streaming",
        },
        {
            "url": "https://d111111abcdef8.cloudfront.net/api/streamcheck?events=20&interval_ms=100&nonce=cd34",
            "path_name": "cloudfront",
            "protocol": "HTTP/2",
            "status": None,
            "ok": False,
            "error": {"kind": "timeout", "message": "no response headers within 10.0 s"},
            "timings_ms": {
                "dns": 2.0,
                "connect": 5.0,
                "tls": 12.0,
                "ttfb": None,
                "first_event": None,
                "total": 10003.0,
            },
            "events": 0,
            "mode": "streamcheck",
            "buffering_delay_ms": None,
            "verdict": "error",
        },
    ]
    moto.queue_lambda_results(json.dumps({"results": results}))
    result = cli("run-canary", "--config", str(staging["config"]))
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[1].split() == (
        [
            "VERDICT",
            "PATH",
            "PROTOCOL",
            "OK",
            "STATUS",
            "TTFB_MS",
            "FIRST_EVENT_MS",
            "BUFFERING_MS",
            "EVENTS",
            "ERROR",
        ]
    )
    assert lines[2].split() == [
        "streaming",
        "nlb",
        "HTTP/1.1",
        "yes",
        "200",
        "25.0",
        "26.3",
        "3.1",
        "21",
        "-",
    ]
    assert lines[3].split()[:9] == ["error", "cloudfront", "HTTP/2", "NO", "-", "-", "-", "-", "0"]
    assert lines[3].endswith("timeout: no response headers within 10.0 s")
    assert "hunter2" not in result.out and "user:" not in result.out
    assert (
        "urls: https://d111111abcdef8.cloudfront.net/api/streamcheck, https://stream-nlb.example.com/api/streamcheck"
        in result.out
    )

    moto.queue_lambda_results(json.dumps({"results": results}))
    result = cli("run-canary", "--config", str(staging["config"]), "--json")
    assert "hunter2" not in result.out
    assert json.loads(result.out)["results"][0]["url"].startswith("https://***@stream-nlb.example.com/")


def test_function_error_is_shown(cli: Cli, moto: Moto, staging: dict[str, Any]) -> None:
    """moto answers an oversized result with a real FunctionError (header X-Amz-Function-Error: Unhandled)."""
    moto.queue_lambda_results("x" * 6_100_000)
    result = cli("run-canary", "--config", str(staging["config"]))
    assert result.code == 2 and result.out == ""
    assert result.err == (
        f"streampath run-canary: canary function {staging['function']} in eu-west-1 failed (Unhandled): "
        "Function.ResponseSizeTooLarge: "
        "Response payload size exceeded maximum allowed payload size (6291556 bytes).\n"
    )


def test_payload_without_results_refused(cli: Cli, moto: Moto, staging: dict[str, Any]) -> None:
    """With nothing queued, moto's simple backend echoes the request: the event the CLI sent comes back."""
    result = cli("run-canary", "--config", str(staging["config"]))
    assert result.code == 2
    assert result.err.startswith(
        f"streampath run-canary: canary function {staging['function']} in eu-west-1 returned no results list "
        '(expected {"results": [...]}): \'{"source": "streampath.run-canary"'
    )


def test_payload_not_json_refused(cli: Cli, moto: Moto, staging: dict[str, Any]) -> None:
    moto.queue_lambda_results("Simple Lambda happy path OK")
    result = cli("run-canary", "--config", str(staging["config"]))
    assert result.code == 2
    assert result.err == (
        f"streampath run-canary: canary function {staging['function']} in eu-west-1 returned a payload that "
        "is not JSON: "
        "'Simple Lambda happy path OK'\n"
    )


def test_function_output_missing(cli: Cli, moto: Moto, config_dir: Path) -> None:
    create_stack(
        moto,
        "StreamPath-old-Canary",
        canary_template("old", omit_outputs=(naming.OUTPUT_CANARY_FUNCTION_NAME,)),
    )
    result = cli("run-canary", "--config", str(write_config(config_dir, "old")))
    assert result.code == 2 and result.out == ""
    assert result.err == (
        "streampath run-canary: stack StreamPath-old-Canary in eu-west-1 has no output CanaryFunctionName "
        "(outputs: AlarmTopicArn, DashboardUrl, MetricNamespace): deploy the current version of the stack\n"
    )


def test_canary_stack_not_deployed_via_console_script(moto: Moto, config_dir: Path) -> None:
    result = run_streampath(["run-canary", "--config", str(write_config(config_dir, "bare"))], moto.env())
    assert result.code == 2 and result.out == ""
    assert result.err == (
        "streampath run-canary: stack StreamPath-bare-Canary is not deployed in eu-west-1: "
        "run `cdk deploy -c config=bare StreamPath-bare-Canary` "
        "(or check the config's region and your AWS account)\n"
    )
    assert SECRET_ACCESS_KEY not in result.err
