"""Hostile config files: each is refused with one line naming the file, the key and the reason, in < 2 s.

Never a traceback, a hang, a password or a terminal escape: through ``load_config`` and through the real
``cdk synth``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from streampath.config.loader import MAX_PROBLEMS
from streampath.config.source import MAX_CONFIG_BYTES
from tests.config.support import assert_one_safe_line, default_text, refusal, write
from tests.support.cdk import CDK_CLI, REPO_ROOT, assert_no_node_banner, jsii_package_cache

NOT_REGULAR = "not a regular file ({}); a config must be a regular file"

# --- what the path names ----------------------------------------------------------------------------------


def test_fifo_is_refused_without_opening_it_for_good(tmp_path: Path) -> None:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    assert refusal(path) == f"{path}: " + NOT_REGULAR.format("a FIFO")


def test_symlink_to_dev_zero_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "zero.yaml"
    path.symlink_to("/dev/zero")
    assert refusal(path) == f"{path}: " + NOT_REGULAR.format("a character device")


def test_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dir.yaml"
    path.mkdir()
    assert refusal(path) == f"{path}: " + NOT_REGULAR.format("a directory")


def test_fifty_megabyte_file_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * (50 * 1024 * 1024) + "\n")
    assert refusal(path) == (
        f"{path}: too large: {50 * 1024 * 1024 + 3} bytes (a config is at most {MAX_CONFIG_BYTES} bytes)"
    )


def test_file_just_over_the_cap_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "#" * MAX_CONFIG_BYTES + "\n")
    assert refusal(path).endswith(
        f": too large: {MAX_CONFIG_BYTES + 1} bytes (a config is at most 262144 bytes)"
    )


def test_slowest_text_at_the_cap_is_still_answered_in_time(tmp_path: Path) -> None:
    # A double-quoted scalar of escapes is what PyYAML scans slowest; the echo of the value stays short.
    base = default_text()
    escapes = "\\x41" * ((MAX_CONFIG_BYTES - len(base)) // 4)
    path = write(tmp_path, base.replace("name: default", f'name: "{escapes}"', 1))
    assert MAX_CONFIG_BYTES - 16 < path.stat().st_size <= MAX_CONFIG_BYTES
    message = refusal(path)
    assert message.startswith(f"{path}: name: must be a lower-case environment name")
    assert message.endswith("got '" + "A" * 197 + "…'"), message[-250:]


def test_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, b"name: \xff\n")
    assert refusal(path) == f"{path}: not UTF-8 text (byte 0xff at offset 6)"


def test_file_name_with_control_characters_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil\n\x1b[2Jname.yaml"
    assert refusal(path) == f"{tmp_path}/evil\\n\\x1b[2Jname.yaml: file not found"


# --- what the YAML holds -----------------------------------------------------------------------------------


def test_nesting_5000_deep_lists(tmp_path: Path) -> None:
    path = write(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert refusal(path) == f"{path}: a{'[0]' * 31}: line 1, column 35: nested deeper than 32 levels"


def test_nesting_5000_deep_mappings(tmp_path: Path) -> None:
    path = write(tmp_path, "a: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n")
    assert refusal(path) == f"{path}: a{'.a' * 31}: line 1, column 128: nested deeper than 32 levels"


def test_integer_of_5000_digits(tmp_path: Path) -> None:
    path = write(tmp_path, default_text().replace("    port: 443\n", "    port: " + "9" * 5000 + "\n"))
    assert (
        refusal(path)
        == f"{path}: nlb.listener.port: line 38, column 11: an integer of 5000 digits (at most 32)"
    )


def test_hexadecimal_integer_of_5000_digits(tmp_path: Path) -> None:
    # int() accepts it, but printing it in "must be 1..65535, got ..." would raise ValueError.
    path = write(tmp_path, default_text().replace("    port: 443\n", "    port: 0x" + "f" * 5000 + "\n"))
    assert (
        refusal(path)
        == f"{path}: nlb.listener.port: line 38, column 11: an integer of 5002 digits (at most 32)"
    )


@pytest.mark.parametrize(("key", "kind"), [("[a, b]", "a list"), ("{a: 1}", "a mapping")])
def test_collection_used_as_a_key(tmp_path: Path, key: str, kind: str) -> None:
    top = write(tmp_path, f"? {key}\n: 1\n", "top.yaml")
    assert refusal(top) == f"{top}: line 1, column 3: YAML syntax error: a key must be a string, got {kind}"
    nested = write(
        tmp_path, default_text().replace("  listener:\n", f"  {key}: 1\n  listener:\n"), "nested.yaml"
    )
    assert refusal(nested) == f"{nested}: nlb: line 36, column 3: a key must be a string, got {kind}"


def test_number_used_as_a_key(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\n443: https\n")
    assert refusal(path) == (
        f"{path}: line 2, column 1: YAML syntax error: a key must be a string, got 443 "
        "(quote it if it is meant as a key)"
    )


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    bomb = "\n".join(lines) + "\n"
    path = write(tmp_path, bomb)
    assert (
        refusal(path) == f"{path}: e[0]: line 4, column 4: more than 10000 values once aliases are expanded"
    )


def test_aliases_within_the_bound_still_work(tmp_path: Path) -> None:
    text = default_text().replace("      path: /api/", "      path: &query /api/", 1)
    text = text.replace(
        "      front_door: cloudfront\n      path: /api/streamcheck?events=20&interval_ms=100",
        "      front_door: cloudfront\n      path: *query",
    )
    from streampath.config import load_config

    paths = load_config(write(tmp_path, text)).canary.paths  # type: ignore[union-attr]
    assert paths[2].path == paths[1].path == "/api/streamcheck?events=20&interval_ms=100"
    assert "*query" not in text.split("&query", 1)[0] and "*query" in text


def test_alias_that_contains_itself(tmp_path: Path) -> None:
    path = write(tmp_path, "a: &a [1, *a]\n")
    assert (
        refusal(path)
        == f"{path}: a[1]: line 1, column 4: an alias refers to a list or mapping that contains it"
    )


def test_ten_thousand_values(tmp_path: Path) -> None:
    path = write(tmp_path, "notify_emails: [" + ", ".join(["a"] * 20_000) + "]\n")
    assert (
        refusal(path)
        == f"{path}: notify_emails[9997]: line 1, column 30008: more than 10000 values in one file"
    )


def test_many_problems_are_capped(tmp_path: Path) -> None:
    emails = ", ".join(f"bad{i}" for i in range(100))
    path = write(tmp_path, default_text().replace("[oncall@example.com]", f"[{emails}]", 1))
    message = str(_error(path))
    lines = message.splitlines()
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[0] == f"{path}: canary.notify_emails[0]: must be an email address, got 'bad0'"
    assert lines[-1] == f"{path}: ... and 80 more problems"
    for line in lines:
        assert_one_safe_line(line)


def _error(path: Path) -> Exception:
    from streampath.config import ConfigError, load_config

    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['echo owned']",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!!timestamp 2024-01-02",
    ],
)
def test_tags_beyond_the_core_schema_are_refused(tmp_path: Path, tagged: str) -> None:
    path = write(tmp_path, f"name: {tagged}\n")
    tag = tagged.split()[0]
    assert refusal(path) == (
        f"{path}: name: line 1, column 7: the tag '{tag}' is not supported "
        "(only !!str, !!int, !!float, !!bool, !!null, !!seq, !!map)"
    )


def test_duplicate_key_in_a_section(tmp_path: Path) -> None:
    path = write(tmp_path, default_text().replace("    port: 443\n", "    port: 443\n    port: 8443\n"))
    assert refusal(path) == f"{path}: nlb.listener: line 39, column 5: duplicate key 'port'"


# --- what a message shows ----------------------------------------------------------------------------------


def test_nul_byte_in_the_text(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\x00y\n")
    assert refusal(path) == (
        f"{path}: line 1, column 8: YAML syntax error: the character '\\x00' is not allowed in YAML text"
    )


def test_escape_character_in_the_text(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\x1b[2Jy\n")
    assert refusal(path) == (
        f"{path}: line 1, column 8: YAML syntax error: the character '\\x1b' is not allowed in YAML text"
    )


def test_key_with_newline_and_ansi_escapes(tmp_path: Path) -> None:
    path = write(tmp_path, default_text() + '"evil\\nkey\\e[31mRED\\e[0m\\u2028": 1\n')
    assert refusal(path) == (
        f"{path}: 'evil\\nkey\\x1b[31mRED\\x1b[0m\\u2028': unknown key "
        "(allowed: name, account, region, tags, vpc, service, nlb, cloudfront, apigateway, canary)"
    )


def test_value_with_nul_and_ansi_escapes(tmp_path: Path) -> None:
    path = write(tmp_path, default_text().replace("name: default", 'name: "a\\0\\e[2J\\r\\nb"'))
    assert refusal(path) == (
        f"{path}: name: must be a lower-case environment name like 'staging' (a-z, 0-9, '-', <= 20), "
        "got 'a\\x00\\x1b[2J\\r\\nb'"
    )


def test_long_value_is_echoed_in_at_most_200_characters(tmp_path: Path) -> None:
    path = write(tmp_path, default_text().replace("name: default", "name: " + "A" * 100_000))
    message = refusal(path)
    echoed = message.split("got ", 1)[1]
    assert echoed == "'" + "A" * 197 + "…'"
    assert len(echoed) == 200


def test_long_key_is_echoed_in_at_most_200_characters(tmp_path: Path) -> None:
    path = write(tmp_path, default_text() + "? " + "K" * 100_000 + "\n: 1\n")  # plain keys stop at 1024
    assert refusal(path) == (
        f"{path}: '{'K' * 197}…': unknown key "
        "(allowed: name, account, region, tags, vpc, service, nlb, cloudfront, apigateway, canary)"
    )


# --- credentials in URLs -----------------------------------------------------------------------------------


def test_ftp_url_with_credentials_does_not_print_the_password(tmp_path: Path) -> None:
    text = default_text().replace("url: https://api.example.com", "url: ftp://user:pass@api.example.com", 1)
    message = refusal(write(tmp_path, text))
    assert message == (
        f"{tmp_path / 'hostile.yaml'}: canary.paths[0].url: must be an absolute http(s) URL with a host, "
        "like "
        "'https://api.example.com/api/streamcheck' (or ws(s):// for a WebSocket), got "
        "'ftp://***@api.example.com/api/streamcheck?events=20&interval_ms=100'"
    )
    assert "pass" not in message and "user" not in message


def test_https_url_with_credentials_is_refused_without_echo(tmp_path: Path) -> None:
    text = default_text().replace("url: https://api.example.com", "url: https://user:pass@api.example.com", 1)
    message = refusal(write(tmp_path, text))
    assert message.endswith(
        "canary.paths[0].url: must not carry credentials (user:password@): "
        "a secret header goes in auth_secret"
    )
    assert "pass@" not in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("region: eu-west-1", "region: https://user:pass@host/"),
            "region: must be an AWS region like 'eu-west-1', got 'https://***@host/'",
        ),
        (
            ("name: default", "name: default\nftp://user:pass@host/x: 1"),
            "ftp://***@host/x: unknown key "
            "(allowed: name, account, region, tags, vpc, service, nlb, cloudfront, apigateway, canary)",
        ),
        (
            ("name: default", "name: !<ftp://user:pass@host/x> default"),
            "name: line 3, column 7: the tag 'ftp://***@host/x' is not supported "
            "(only !!str, !!int, !!float, !!bool, !!null, !!seq, !!map)",
        ),
        (
            ("name: default", "name: {a: 1}\n  ftp://user:p@ss@host/x"),
            "line 4, column 3: YAML syntax error: while parsing a block mapping: expected <block end>, "
            "but found '<scalar>'",
        ),
    ],
    ids=["value", "key", "tag", "syntax-error"],
)
def test_credentials_are_masked_wherever_they_appear(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    message = refusal(write(tmp_path, default_text().replace(*change, 1)))
    assert message == f"{tmp_path / 'hostile.yaml'}: {expected}"
    assert "pass" not in message and "p@ss" not in message


# --- through the real cdk synth -----------------------------------------------------------------------------


def test_real_cdk_synth_refuses_a_hostile_file_with_one_line(tmp_path: Path) -> None:
    assert CDK_CLI.exists(), "the pinned CDK CLI is not installed: run make bootstrap"
    bad = write(
        tmp_path, default_text().replace("    port: 443\n", "    port: " + "9" * 5000 + "\n"), "bad.yaml"
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        {
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
            "HOME": str(home),
            "CDK_DISABLE_VERSION_CHECK": "1",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            **jsii_package_cache(),
        }
    )
    result = subprocess.run(
        [
            str(CDK_CLI),
            "synth",
            "--quiet",
            "--no-notices",
            "-c",
            f"config={bad}",
            "-o",
            str(tmp_path / "out"),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    line = f"{bad}: nlb.listener.port: line 38, column 11: an integer of 5000 digits (at most 32)"
    assert f"{line}\n" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    assert "9" * 100 not in result.stderr + result.stdout
    assert_no_node_banner(result.stderr)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.template.json"))
