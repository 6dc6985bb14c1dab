"""Config for h3 paths: accepted on https URLs and where the front door serves HTTP/3, refused elsewhere
with one line naming the key, and the default for a CloudFront path that serves it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from streampath.config import CONFIG_DIR, AppConfig, ConfigError, load_config
from streampath.config.canary import CanaryConfig

DEFAULT = yaml.safe_load((CONFIG_DIR / "default.yaml").read_text())
# config/default.yaml's canary paths, by index.
ALB, NLB, CLOUDFRONT, DIRECT = 0, 1, 2, 3
Mutation = Callable[[dict[str, Any]], None]


def load(tmp_path: Path, mutate: Mutation | None = None) -> AppConfig:
    data = copy.deepcopy(DEFAULT)
    if mutate is not None:
        mutate(data)
    path = tmp_path / "h3.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_config(path)


def problems(tmp_path: Path, mutate: Mutation) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, mutate)
    prefix = f"{tmp_path / 'h3.yaml'}: "
    lines = str(caught.value).splitlines()
    assert all(line.startswith(prefix) for line in lines), lines
    return [line[len(prefix) :] for line in lines]


def path_setting(index: int, **values: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["canary"]["paths"][index].update(values)

    return mutate


def http_version(value: str, then: Mutation | None = None) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["cloudfront"]["http_version"] = value
        if then is not None:
            then(data)

    return mutate


def protocols(cfg: AppConfig) -> dict[str, tuple[str, ...]]:
    assert cfg.enabled_canary is not None
    return {path.name: tuple(path.protocols) for path in cfg.enabled_canary.paths}


def test_default_config_probes_cloudfront_over_h3(tmp_path: Path) -> None:
    assert DEFAULT["cloudfront"]["http_version"] == "HTTP2_AND_3"
    assert "protocols" not in DEFAULT["canary"]["paths"][CLOUDFRONT]
    assert protocols(load(tmp_path)) == {
        "alb": ("h1", "h2"),
        "nlb": ("h1", "h2"),
        "cloudfront": ("h1", "h2", "h3"),
        "direct": ("h1",),
    }


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("HTTP2_AND_3", ("h1", "h2", "h3")),
        ("HTTP3", ("h1", "h2", "h3")),
        ("HTTP2", ("h1", "h2")),
        ("HTTP1_1", ("h1", "h2")),
    ],
)
def test_the_cloudfront_default_follows_http_version(
    tmp_path: Path, version: str, expected: tuple[str, ...]
) -> None:
    assert protocols(load(tmp_path, http_version(version)))["cloudfront"] == expected


def test_written_protocols_stay(tmp_path: Path) -> None:
    assert protocols(load(tmp_path, path_setting(CLOUDFRONT, protocols=["h2"])))["cloudfront"] == ("h2",)
    assert protocols(load(tmp_path, path_setting(ALB, protocols=["h1", "h2", "h3"])))["alb"] == (
        "h1",
        "h2",
        "h3",
    )
    assert protocols(load(tmp_path, path_setting(CLOUDFRONT, protocols=["h3"])))["cloudfront"] == ("h3",)


def test_a_post_path_with_a_body_is_probed_over_h3_too(tmp_path: Path) -> None:
    chat = path_setting(CLOUDFRONT, method="POST", body={"messages": [{"role": "user", "content": "hi"}]})
    assert protocols(load(tmp_path, chat))["cloudfront"] == ("h1", "h2", "h3")


def test_a_post_path_with_a_body_and_h3_is_accepted(tmp_path: Path) -> None:
    chat = path_setting(CLOUDFRONT, protocols=["h1", "h3"], method="POST", body={"q": "hi"})
    cfg = load(tmp_path, chat)  # no ConfigError: the probe sends the body over HTTP/3
    assert protocols(cfg)["cloudfront"] == ("h1", "h3")
    assert cfg.enabled_canary is not None
    path = next(p for p in cfg.enabled_canary.paths if p.name == "cloudfront")
    spec = path.spec("https://x.example/api", None)
    assert (spec.protocols, spec.method, spec.body) == (("h1", "h3"), "POST", '{"q":"hi"}')


def test_the_rule_spans_sections_a_canary_section_alone_keeps_the_plain_default() -> None:
    section = CanaryConfig.model_validate(DEFAULT["canary"])
    assert {p.name: p.protocols for p in section.paths}["cloudfront"] == ("h1", "h2")


def test_environment_estimate_counts_h3(tmp_path: Path) -> None:
    written = load(
        tmp_path, path_setting(CLOUDFRONT, protocols=["h1", "h2"])
    ).canary_environment_bytes_estimate
    assert load(tmp_path).canary_environment_bytes_estimate == written + len(',"h3"')


@pytest.mark.parametrize(
    ("mutate", "line"),
    [
        (
            path_setting(DIRECT, protocols=["h1", "h3"]),
            "canary.paths[3].protocols: 'h3' needs an https URL: HTTP/3 runs over QUIC, which always carries "
            "TLS, so every h3 probe would fail; remove h3 from protocols",
        ),
        (
            path_setting(NLB, protocols=["h1", "h2", "h3"]),
            "canary.paths[1].protocols: 'h3' cannot reach the nlb front door: its listener is TCP or TLS and "
            "HTTP/3 runs over QUIC on UDP, so every h3 probe would fail; remove h3 from protocols",
        ),
        (
            http_version("HTTP2", path_setting(CLOUDFRONT, protocols=["h1", "h2", "h3"])),
            "canary.paths[2].protocols: 'h3' needs cloudfront.http_version HTTP2_AND_3 or HTTP3 (it is "
            "'HTTP2'): CloudFront answers HTTP/3 only then, so every h3 probe would fail; remove h3 from "
            "protocols or change http_version",
        ),
        (
            path_setting(ALB, protocols=["h3", "h3"]),
            "canary.paths[0].protocols: protocol 'h3' is listed twice",
        ),
    ],
    ids=["http-url", "nlb-front-door", "cloudfront-without-http3", "twice"],
)
def test_h3_refused_where_it_cannot_work(tmp_path: Path, mutate: Mutation, line: str) -> None:
    assert problems(tmp_path, mutate) == [line]
