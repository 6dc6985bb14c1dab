"""Loading a config: by name from ``config/<name>.yaml``, or from a path, into a validated :class:`AppConfig`.

Every problem becomes one line ``<file>: <dotted.key[0].path>: <reason>`` of a :class:`ConfigError`.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from streampath.config.common import ConfigError
from streampath.config.messages import format_errors
from streampath.config.model import AppConfig
from streampath.config.yaml_source import parse_yaml

__all__ = [
    "CONFIG_DIR",
    "REPO_ROOT",
    "available_configs",
    "display_path",
    "load_config",
    "load_config_by_name",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"


def available_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_config_by_name(name: str) -> AppConfig:
    """``load_config_by_name("staging")`` reads ``config/staging.yaml``."""
    available = ", ".join(available_configs()) or "none"
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name or ""):
        raise ConfigError(f"config name {name!r} is not valid; available configs: {available}")
    path = CONFIG_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"no config named {name!r} ({display_path(path)} not found); available configs: {available}"
        )
    return load_config(path)


def load_config(path: Path | str) -> AppConfig:
    """Read and validate one config file; every problem is reported in one :class:`ConfigError`."""
    shown = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{shown}: file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{shown}: cannot read: {error}") from None
    data = parse_yaml(text, shown)
    if data is None:
        raise ConfigError(f"{shown}: the file is empty")
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: the top level must be a mapping of keys, got {type(data).__name__}")
    try:
        return AppConfig.model_validate(data)
    except ValidationError as error:
        problems = [f"{shown}: {line}" for line in format_errors(error, AppConfig)]
        raise ConfigError("\n".join(problems)) from None


def display_path(path: Path | str) -> str:
    """The path relative to the repository root when inside it (``config/staging.yaml``), else as given."""
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)
