"""Loading a config: by name from ``config/<name>.yaml``, or from a path, into a validated :class:`AppConfig`.

Every problem becomes one line ``<file>: <dotted.key[0].path>: <reason>`` of a :class:`ConfigError`, and
nothing else escapes: a file that is not a small regular UTF-8 file (``source``), text that is not YAML 1.2
core within bounds (``yaml_source``) and a document the schema refuses (``messages``) all end as such lines,
each made one printable, bounded line without credentials (``display``).
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from streampath.config.common import ConfigError
from streampath.config.display import one_line
from streampath.config.messages import format_errors
from streampath.config.model import AppConfig
from streampath.config.source import read_config_text
from streampath.config.yaml_source import parse_yaml

__all__ = [
    "CONFIG_DIR",
    "MAX_PROBLEMS",
    "REPO_ROOT",
    "available_configs",
    "display_path",
    "load_config",
    "load_config_by_name",
    "load_config_by_name_or_path",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"
#: Most problem lines in one error; a list of 10 000 bad items would otherwise print 10 000 lines.
MAX_PROBLEMS = 20


def available_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_config_by_name(name: str) -> AppConfig:
    """``load_config_by_name("staging")`` reads ``config/staging.yaml``."""
    available = ", ".join(available_configs()) or "none"
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name or ""):
        raise ConfigError(one_line(f"config name {name!r} is not valid; available configs: {available}"))
    path = CONFIG_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"no config named {name!r} ({display_path(path)} not found); available configs: {available}"
        )
    return load_config(path)


def names_a_file(name_or_path: str) -> bool:
    """Whether what a user gave for a config (``--config``, ``cdk -c config=``) is a file's path rather
    than a name under ``config/``: it ends in ``.yaml``/``.yml`` or holds a directory separator."""
    return name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path


def load_config_by_name_or_path(name_or_path: str) -> AppConfig:
    """``staging`` reads ``config/staging.yaml``; a path (:func:`names_a_file`) reads that file."""
    if names_a_file(name_or_path):
        return load_config(Path(name_or_path))
    return load_config_by_name(name_or_path)


def load_config(path: Path | str) -> AppConfig:
    """Read and validate one config file; every problem is reported in one :class:`ConfigError`."""
    shown = display_path(path)
    data = parse_yaml(read_config_text(path, shown), shown)
    if data is None:
        raise ConfigError(f"{shown}: the file is empty")
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: the top level must be a mapping of keys, got {type(data).__name__}")
    try:
        return AppConfig.model_validate(data)
    except ValidationError as error:
        problems = format_errors(error, AppConfig)
        lines = [one_line(f"{shown}: {problem}") for problem in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            lines.append(f"{shown}: ... and {len(problems) - MAX_PROBLEMS} more problems")
        raise ConfigError("\n".join(lines)) from None


def display_path(path: Path | str) -> str:
    """The path relative to the repository root when inside it (``config/staging.yaml``), else as given;
    escaped like any echoed text when it holds control characters."""
    try:
        shown = Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except (ValueError, OSError, RuntimeError):  # outside the repo, a NUL byte, a symlink loop
        shown = str(path)
    return one_line(shown)
