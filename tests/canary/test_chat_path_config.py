"""A canary path on the application's chat endpoint in the YAML: ``method`` and ``body`` validated (a body
holding a credential refused with a hint, a size cap), carried into the function's ``CANARY_CONFIG``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from streampath_canary.contract import MAX_BODY_BYTES, CanarySpec

from streampath.config import CONFIG_DIR, ConfigError, load_config, load_config_by_name

DEFAULT = yaml.safe_load((CONFIG_DIR / "default.yaml").read_text())
PROMPT = {"messages": [{"role": "user", "content": "Say hello in five words."}], "max_tokens": 20}


def with_path(tmp_path: Path, **path: Any) -> Path:
    data = copy.deepcopy(DEFAULT)
    data["canary"]["paths"] = [{"name": "chat", "url": "https://app.example.com/api/chat/stream", **path}]
    out = tmp_path / "chat.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def problems(tmp_path: Path, **path: Any) -> list[str]:
    file = with_path(tmp_path, **path)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    return [line.removeprefix(f"{file}: ") for line in str(caught.value).splitlines()]


@pytest.mark.parametrize("name", ["staging", "production"])
def test_shipped_configs_post_to_the_chat_endpoint_with_an_auth_secret(name: str) -> None:
    cfg = load_config_by_name(name)
    assert cfg.canary is not None
    (chat,) = [p for p in cfg.canary.paths if p.name == "chat"]
    assert (chat.method, chat.front_door, chat.path) == ("POST", "cloudfront", "/api/chat/stream")
    assert chat.auth_secret is not None and chat.auth_secret.header == "Authorization"
    assert chat.body_text is not None and json.loads(chat.body_text) == PROMPT
    path_spec = chat.spec(chat.target_url({"cloudfront": "https://d123.cloudfront.net"}), "arn:secret")
    # What the handler will read: the same document, the body as compact JSON, the token not in it.
    (spec,) = CanarySpec.from_json(CanarySpec(paths=[path_spec]).to_json()).paths
    assert (spec.method, spec.body, spec.url) == (
        "POST",
        chat.body_text,
        "https://d123.cloudfront.net/api/chat/stream",
    )
    assert spec.auth_secret is not None and spec.auth_secret.arn == "arn:secret"


def test_a_body_may_be_a_yaml_mapping_or_a_string(tmp_path: Path) -> None:
    mapping = load_config(with_path(tmp_path, method="POST", body=PROMPT))
    text = load_config(with_path(tmp_path, method="POST", body=json.dumps(PROMPT)))
    assert mapping.canary is not None and text.canary is not None
    assert json.loads(mapping.canary.paths[0].body_text or "") == PROMPT
    assert text.canary.paths[0].body_text == json.dumps(PROMPT)
    plain = load_config(
        with_path(tmp_path, method="POST", body="hello", headers={"Content-Type": "text/plain"})
    )
    assert plain.canary is not None and plain.canary.paths[0].body_text == "hello"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            {"body": PROMPT},
            "canary.paths[0].body: a body needs method: POST (a chat endpoint reads its prompt from a POST)",
        ),
        ({"method": "PUT"}, "canary.paths[0].method: must be one of 'GET' or 'POST', got 'PUT'"),
        ({"method": "POST", "body": "{not json"}, "canary.paths[0].body: is not valid JSON at position 1"),
        (
            {"method": "POST", "body": {"prompt": "hi", "Authorization": "Bearer sk-abcdefghijklmnopqrstu"}},
            "canary.paths[0].body: holds what looks like a credential (a key named 'Authorization'): "
            "a body is not secret",
        ),
        (
            {"method": "POST", "body": {"prompt": "use Bearer abcdefghijklmnop to call"}},
            "canary.paths[0].body: holds what looks like a credential (a Bearer token)",
        ),
        (
            {"method": "POST", "body": {"prompt": "x" * MAX_BODY_BYTES}},
            f"canary.paths[0].body: is {MAX_BODY_BYTES + 13} bytes, more than {MAX_BODY_BYTES}",
        ),
    ],
)
def test_a_bad_method_or_body_is_named_and_never_shown(
    tmp_path: Path, path: dict[str, Any], expected: str
) -> None:
    (line,) = problems(tmp_path, **path)
    assert line.startswith(expected), line
    assert "sk-abcdef" not in line and "abcdefghijklmnop" not in line
    if "credential" in expected:
        assert "auth_secret" in line  # the hint: where the credential goes instead
