"""Auth headers from Secrets Manager, served by moto's ThreadedMotoServer over HTTP on loopback.

The handler subprocess reaches moto through boto3's own endpoint setting
(``AWS_ENDPOINT_URL_SECRETS_MANAGER``), nothing patched in-process. The secret value must never show
up in the handler's output, even when a misbehaving server echoes the request back.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from streamcheck.reference_app import app as reference_app

from tests.canary.support import assert_design_emf, run_handler
from tests.support.servers import RunningServer, uvicorn_server, wrong_content_type

SECRET_TOKEN = "Bearer s3cr3t-canary-token-7f3a9"
REGION = "eu-west-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def secretsmanager(moto_endpoint: str) -> Any:
    return boto3.client(
        "secretsmanager",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def require_auth(app: Any, expected: str) -> Any:
    """The reference app behind a gate: 401 unless ``Authorization`` is exactly ``expected``."""

    async def gated(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if headers.get(b"authorization", b"").decode() != expected:
                await send(
                    {"type": "http.response.start", "status": 401, "headers": [(b"content-length", b"0")]}
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await app(scope, receive, send)

    return gated


@pytest.fixture(scope="module")
def gated_server() -> Iterator[RunningServer]:
    with uvicorn_server(require_auth(reference_app, SECRET_TOKEN)) as srv:
        yield srv


def test_secret_header_reaches_the_server_and_never_the_logs(
    moto_endpoint: str, secretsmanager: Any, gated_server: RunningServer
) -> None:
    json_arn = secretsmanager.create_secret(
        Name="canary/json-token", SecretString=json.dumps({"token": SECRET_TOKEN, "other": "x"})
    )["ARN"]
    plain_arn = secretsmanager.create_secret(Name="canary/plain-token", SecretString=SECRET_TOKEN)["ARN"]
    missing_arn = json_arn.replace("json-token", "does-not-exist")
    stream = "/api/streamcheck?events=3&interval_ms=20"
    with wrong_content_type(echo_request=True) as echo:
        run = run_handler(
            {
                "probe_timeout_s": 5,
                "max_duration_s": 10,
                "deadline_s": 30,
                "paths": [
                    {
                        "name": "json-secret",
                        "url": gated_server.url(stream),
                        "protocols": ["h1"],
                        "auth_secret": {"arn": json_arn, "header": "Authorization", "json_key": "token"},
                    },
                    {
                        "name": "plain-secret",
                        "url": gated_server.url(stream),
                        "protocols": ["h1"],
                        "auth_secret": {"arn": plain_arn},
                    },
                    {"name": "no-secret", "url": gated_server.url(stream), "protocols": ["h1"]},
                    {
                        "name": "missing-secret",
                        "url": gated_server.url(stream),
                        "protocols": ["h1", "h2"],
                        "auth_secret": {"arn": missing_arn},
                    },
                    {
                        # A debug page that echoes the request head (with the header value) back.
                        "name": "echo",
                        "url": echo.url("/api/streamcheck"),
                        "protocols": ["h1"],
                        "auth_secret": {"arn": plain_arn},
                    },
                ],
            },
            extra_env={"AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_endpoint},
        )
    assert run.returned is not None and run.returned["probes"] == 6

    for name in ("json-secret", "plain-secret"):
        assert assert_design_emf(run.emf_for(name, "h1"))["Success"] == 1.0, run.probe_log(name, "h1")
        assert run.probe_log(name, "h1")["header_names"] == ["Authorization"]
    # Without the header the gate answers 401: proves the secret is what made the others pass.
    assert run.probe_log("no-secret", "h1")["result"]["error"]["kind"] == "http_status"

    # An unreadable secret fails that path's probes with kind "other" and a clear message; others ran.
    for protocol in ("h1", "h2"):
        line = run.probe_log("missing-secret", protocol)
        error = line["result"]["error"]
        assert error["kind"] == "other"
        assert missing_arn in error["message"] and "ResourceNotFoundException" in error["message"]
        assert run.emf_for("missing-secret", protocol)["ErrorKind"] == "other"

    assert run.probe_log("echo", "h1")["result"]["error"]["kind"] == "content_type"
    everything = run.stdout + run.stderr
    assert SECRET_TOKEN not in everything
    assert "s3cr3t" not in everything


def test_secret_cache_ttl_against_moto(moto_endpoint: str, secretsmanager: Any) -> None:
    """Fetched once per TTL per container: a rotated value is picked up only after the TTL."""
    from streampath_canary.auth_secrets import SecretCache, SecretError

    arn = secretsmanager.create_secret(Name="canary/rotating", SecretString="v1")["ARN"]
    now = [1000.0]
    calls = [0]

    def client() -> Any:
        calls[0] += 1
        return boto3.client(
            "secretsmanager",
            region_name=REGION,
            endpoint_url=moto_endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    cache = SecretCache(ttl_s=300, client_factory=client, clock=lambda: now[0])
    assert cache.secret_string(arn) == "v1"
    secretsmanager.put_secret_value(SecretId=arn, SecretString="v2")
    now[0] += 299
    assert cache.secret_string(arn) == "v1"  # cached
    now[0] += 2
    assert cache.secret_string(arn) == "v2"  # TTL passed: fetched again
    assert calls[0] == 1  # one client per container

    with pytest.raises(SecretError, match="is not JSON") as info:
        cache.header_value(arn, "token")
    assert "v2" not in str(info.value)
    secretsmanager.put_secret_value(SecretId=arn, SecretString=json.dumps({"token": "t-value"}))
    cache.clear()
    assert cache.header_value(arn, "token") == "t-value"
    with pytest.raises(SecretError, match="no string at json_key 'nope'") as info:
        cache.header_value(arn, "nope")
    assert "t-value" not in str(info.value)
