"""Broken configs made from config/default.yaml: a mutation of its data, loaded, and the error lines read."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from streampath.config import CONFIG_DIR, ConfigError, load_config

DEFAULT = yaml.safe_load((CONFIG_DIR / "default.yaml").read_text())
Mutation = Callable[[dict[str, Any]], None]


def write_config(tmp_path: Path, data: Any, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def problems_of(tmp_path: Path, mutate: Mutation) -> list[str]:
    """Apply ``mutate`` to a copy of config/default.yaml, load it, return the error lines without the file."""
    data = copy.deepcopy(DEFAULT)
    mutate(data)
    path = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    prefix = f"{path}: "
    lines = str(caught.value).splitlines()
    assert all(line.startswith(prefix) for line in lines), lines
    return [line[len(prefix) :] for line in lines]


def at(*keys: Any) -> Callable[[dict[str, Any]], Any]:
    def get(data: dict[str, Any]) -> Any:
        for key in keys:
            data = data[key]
        return data

    return get


def setting(*path: Any, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        at(*path[:-1])(data)[path[-1]] = value

    return mutate


def removing(*path: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del at(*path[:-1])(data)[path[-1]]

    return mutate


def all_of(*mutations: Mutation) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(data)

    return mutate
