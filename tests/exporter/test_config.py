"""The exporter's YAML config: modules in blackbox_exporter's style, secrets from files or the
environment only, and one line naming the file and the key for anything wrong."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

import pytest
from streamcheck.reference_app import create_app
from streamprobe.exporter.config import ConfigError, load_config
from streamprobe.exporter.server import Settings

from tests.support.servers import uvicorn_server
from tests.trace.conftest import recording_asgi

from .support import DEPLOY, STREAM, get, running_exporter, samples, scrape


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exporter.yaml"
    path.write_text(text)
    return path


def test_modules_and_allow_list(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
allowed_targets: ["http://*.svc.cluster.local:8080/*"]
modules:
  chat:
    timeout: 5s
    max_duration: 1500ms  # shorter than the timeout: it bounds that too
    http:
      protocol: h1
      method: post
      body: '{"prompt": "hi"}'
      headers: {Accept-Language: en}
      accept_encoding: identity
      stamp: false
      tls_config: {insecure_skip_verify: true}
""",
        )
    )
    assert config.allowed_targets == ("http://*.svc.cluster.local:8080/*",)
    assert set(config.modules) == {"default", "chat"}
    options = config.modules["chat"].options()
    assert (options.http, options.method, options.data) == ("h1", "POST", b'{"prompt": "hi"}')
    assert (options.timeout, options.max_duration, options.stamp, options.verify) == (1.5, 1.5, False, False)
    scraped = config.modules["chat"].options(budget_s=0.5)
    assert (scraped.timeout, scraped.max_duration) == (0.5, 0.5)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("modules: {a: {timeout: soon}}", "modules.a.timeout: expected a duration"),
        ("modules: {a: {http: {protocol: h9}}}", "modules.a.http.protocol: expected one of"),
        ("modules: {a: {http: {colour: red}}}", "modules.a.http.colour: unknown key"),
        ("allowed_targets: ['ftp://x/*']", "allowed_targets[0]: a pattern's scheme must be http or https"),
        (
            "modules: {a: {http: {headers: {Authorization: Bearer abcdefgh12345678}}}}",
            "modules.a.http.headers",
        ),
        ("modules: {a: {http: {headers: {X-Api-Key: k}}}}", "put it under secret_headers"),
        ("modules: {a: {http: {secret_headers: {X-Key: {file: /a, env: B}}}}}", "exactly one of file or env"),
        ("modules: {a: {http: {method: GET, body: '{}'}}}", "modules.a: a request body needs method POST"),
        ("modules: [a]", "modules: expected a mapping"),
        ("modules: {a: {http: {protocol: h1}}", "not valid YAML at line 1"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and where in message and "\n" not in message
    assert "abcdefgh12345678" not in message


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read: No such file"):
        load_config(tmp_path / "nope.yaml")


def test_the_shipped_config_map_loads() -> None:
    """deploy/kubernetes's exporter config is valid (its secret file is read per probe, not at load)."""
    import yaml

    for document in yaml.safe_load_all((DEPLOY / "configmap.yaml").read_text()):
        path = Path("/nonexistent") / "exporter.yaml"
        from streamprobe.exporter.config import parse_config

        config = parse_config(yaml.safe_load(document["data"]["exporter.yaml"]), str(path))
        assert config.allowed_targets and "default" in config.modules


def test_secret_headers_reach_the_target_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token = tmp_path / "token"
    token.write_text("FileSekret-4242\n")
    monkeypatch.setenv("EXPORTER_TEST_KEY", "EnvSekret-9191")
    path = write(
        tmp_path,
        f"""
modules:
  auth:
    http:
      secret_headers:
        Authorization: {{file: {token}, prefix: "Bearer "}}
        X-Api-Key: {{env: EXPORTER_TEST_KEY}}
""",
    )
    seen: list[dict[str, str]] = []
    with uvicorn_server(recording_asgi(create_app(), seen)) as app:
        allow = (f"http://127.0.0.1:{app.port}/*",)
        with (
            caplog.at_level(logging.DEBUG, logger="streamprobe"),
            running_exporter(Settings(load_config(path), allow_targets=allow)) as srv,
        ):
            url = f"{srv.url}/probe?module=auth&target={quote(app.url(STREAM), safe='')}"
            first = scrape(url)
            token.write_text("Rotated-7777\n")  # a rotated Kubernetes Secret: read on the next probe
            second = scrape(url)
            token.unlink()
            missing = get(url)
    assert samples(first.body)["probe_success"] == 1 and samples(second.body)["probe_success"] == 1
    assert seen[0]["authorization"] == "Bearer FileSekret-4242" and seen[0]["x-api-key"] == "EnvSekret-9191"
    assert seen[1]["authorization"] == "Bearer Rotated-7777"
    assert missing.status == 500 and "cannot read" in missing.body and len(seen) == 2
    for text in (first.body, second.body, missing.body, caplog.text):
        assert "Sekret" not in text and "Rotated" not in text


def test_a_missing_ca_file_fails_at_start(tmp_path: Path) -> None:
    path = write(tmp_path, f"modules: {{a: {{http: {{tls_config: {{ca_file: {tmp_path}/ca.pem}}}}}}}}\n")
    with pytest.raises(ConfigError, match=r"modules\.a\.http\.tls_config\.ca_file: no such file: .*ca\.pem$"):
        load_config(path)
