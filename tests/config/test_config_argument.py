"""What a user names a config by (``streampath --config``, ``cdk -c config=``): one rule says whether it
is a name under ``config/`` or a file's path, and both entry points use it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from streampath.config import ConfigError, load_config_by_name_or_path
from streampath.config.loader import REPO_ROOT, names_a_file


@pytest.mark.parametrize(
    ("given", "is_path"),
    [
        ("staging", False),
        ("my-env_2", False),
        ("staging.yaml", True),
        ("other.yml", True),
        ("config/staging", True),
        ("/abs/dir/env", True),
        ("./env", True),
    ],
)
def test_a_name_or_a_path(given: str, is_path: bool) -> None:
    assert names_a_file(given) is is_path


def test_both_ways_load_the_same_file() -> None:
    by_name = load_config_by_name_or_path("staging")
    by_path = load_config_by_name_or_path(str(REPO_ROOT / "config" / "staging.yaml"))
    assert by_name == by_path


def test_a_path_without_extension_is_read_as_a_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config_by_name_or_path(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="no config named 'missing'"):
        load_config_by_name_or_path("missing")


@pytest.mark.parametrize("entry_point", ["app.py", "streampath/cli_config.py"])
def test_the_entry_points_use_the_one_rule(entry_point: str) -> None:
    tree = ast.parse((REPO_ROOT / entry_point).read_text())
    calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
    called = {func.id for func in calls if isinstance(func, ast.Name)}
    assert "load_config_by_name_or_path" in called
    assert not {"load_config", "load_config_by_name"} & called
