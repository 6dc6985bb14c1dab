"""The config dialect is the YAML 1.2 core schema: each implicit scalar type, one spelling at a time."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from streampath.config import CONFIG_DIR, ConfigError, load_config
from streampath.config.yaml_source import parse_yaml
from tests.config.support import default_text, refusal, write


def value_of(scalar: str) -> Any:
    return parse_yaml(f"v: {scalar}\n", "t.yaml")["v"]


@pytest.mark.parametrize(
    ("scalar", "expected", "yaml_1_1"),
    [
        # strings in YAML 1.2 that YAML 1.1 (PyYAML's safe_load) turns into something else
        ("1:20", "1:20", 80),  # sexagesimal
        ("190:20:30", "190:20:30", 685230),
        ("on", "on", True),
        ("off", "off", False),
        ("yes", "yes", True),
        ("no", "no", False),
        ("Yes", "Yes", True),
        ("NO", "NO", False),
        ("y", "y", "y"),
        ("1_000", "1_000", 1000),
        ("0b101", "0b101", 5),
        ("2024-01-02", "2024-01-02", None),  # a datetime.date in 1.1: compared below by type
        ("1.5e3_0", "1.5e3_0", "1.5e3_0"),
        ("tRuE", "tRuE", "tRuE"),
        ("0o8", "0o8", "0o8"),
        ("0xG", "0xG", "0xG"),
        ("=", "=", None),  # the "value" tag of YAML 1.1: PyYAML refuses it with safe_load
        # integers
        ("0", 0, 0),
        ("443", 443, 443),
        ("+12", 12, 12),
        ("-3", -3, -3),
        ("010", 10, 8),  # leading zero: decimal in 1.2, octal in 1.1
        ("0443", 443, 291),
        ("0o17", 15, "0o17"),
        ("0x1F", 31, 31),
        ("0xff", 255, 255),
        # floats
        ("1.5", 1.5, 1.5),
        ("-0.25", -0.25, -0.25),
        (".5", 0.5, 0.5),
        ("1.", 1.0, 1.0),
        ("1e3", 1000.0, "1e3"),  # 1.1 needs a dot: "1e3" is a string there
        ("6.02E+23", 6.02e23, 6.02e23),
        (".inf", math.inf, math.inf),
        ("-.Inf", -math.inf, -math.inf),
        ("+.INF", math.inf, math.inf),
        # booleans
        ("true", True, True),
        ("True", True, True),
        ("TRUE", True, True),
        ("false", False, False),
        ("False", False, False),
        ("FALSE", False, False),
        # null
        ("~", None, None),
        ("null", None, None),
        ("Null", None, None),
        ("NULL", None, None),
        ("", None, None),
        # explicit core tags
        ("!!str 443", "443", "443"),
        ("!!str true", "true", "true"),
        ("!!int '0x10'", 16, 16),
        ("!!float 1", 1.0, 1.0),
        ("!!bool 'false'", False, False),
        ("!!null ''", None, None),
        ("'1:20'", "1:20", "1:20"),
    ],
)
def test_core_schema_scalar(scalar: str, expected: object, yaml_1_1: object) -> None:
    value = value_of(scalar)
    assert value == expected and type(value) is type(expected), (scalar, value)
    if scalar in ("2024-01-02", "="):
        return  # a date, and an error, under YAML 1.1: nothing to compare
    old = yaml.safe_load(f"v: {scalar}\n")["v"]
    assert old == yaml_1_1, (scalar, old)  # documents what changed from PyYAML's default


@pytest.mark.parametrize("spelling", [".nan", ".NaN", ".NAN"])
def test_core_schema_nan(spelling: str) -> None:
    assert math.isnan(value_of(spelling))


def test_merge_keys_are_ordinary_keys() -> None:
    data = parse_yaml("base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n", "t.yaml")
    assert data == {"base": {"x": 1}, "m": {"<<": {"x": 1}, "y": 2}}


@pytest.mark.parametrize(
    ("scalar", "reason"),
    [
        ("!!int abc", "'abc' is not a valid !!int"),
        ("!!int 1:20", "'1:20' is not a valid !!int"),
        ("!!float x", "'x' is not a valid !!float"),
        ("!!bool yes", "'yes' is not a valid !!bool"),
        ("!!null none", "'none' is not a valid !!null"),
    ],
)
def test_explicit_core_tag_with_a_value_it_cannot_hold(scalar: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        value_of(scalar)
    assert str(caught.value) == f"t.yaml: v: line 1, column 4: {reason}"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    port: 1:20", "nlb.listener.port: must be an integer, got '1:20'"),
        ("    port: 1_000", "nlb.listener.port: must be an integer, got '1_000'"),
        ("    port: 0o200000", "nlb.listener.port: must be 1..65535, got 65536"),
    ],
)
def test_yaml_1_1_integers_through_the_loader(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path, default_text().replace("    port: 443", line, 1))
    assert refusal(path) == f"{path}: {expected}"


@pytest.mark.parametrize("spelling", ["yes", "on", "Y", "no", "off"])
def test_yaml_1_1_booleans_through_the_loader(tmp_path: Path, spelling: str) -> None:
    path = write(
        tmp_path, default_text().replace("  internet_facing: true", f"  internet_facing: {spelling}", 1)
    )
    assert refusal(path) == f"{path}: nlb.internet_facing: must be true or false, got '{spelling}'"


def test_leading_zero_is_decimal_through_the_loader(tmp_path: Path) -> None:
    path = write(tmp_path, default_text().replace("    port: 443", "    port: 0443", 1))
    assert load_config(path).nlb.listener.port == 443  # type: ignore[union-attr]


def test_yaml_1_1_key_on_is_a_string(tmp_path: Path) -> None:
    # In YAML 1.1 the key ``on`` is the boolean true (the GitHub Actions surprise).
    path = write(tmp_path, default_text() + "on: push\n")
    assert refusal(path) == (
        f"{path}: on: unknown key "
        "(allowed: name, account, region, tags, vpc, service, nlb, cloudfront, apigateway, canary)"
    )


@pytest.mark.parametrize("name", ["default", "staging", "production"])
def test_shipped_configs_read_the_same_in_both_dialects(name: str) -> None:
    text = (CONFIG_DIR / f"{name}.yaml").read_text()
    assert parse_yaml(text, name) == yaml.safe_load(text)


def test_a_yaml_1_1_directive_does_not_change_the_dialect() -> None:
    assert parse_yaml("%YAML 1.1\n---\nv: on\nw: 1:20\n", "t.yaml") == {"v": "on", "w": "1:20"}
