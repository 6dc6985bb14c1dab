"""Load the environment's config (``streampath.config``) for the CLI, turning its errors into refusals."""

from __future__ import annotations

from pathlib import Path

from streampath.config import AppConfig, ConfigError, load_config, load_config_by_name
from streampath.errors import Refusal

__all__ = ["AppConfig", "load"]


def load(name_or_path: str) -> AppConfig:
    """``staging`` reads ``config/staging.yaml``; anything that looks like a file path is read as such."""
    looks_like_path = name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path
    try:
        if looks_like_path:
            return load_config(Path(name_or_path))
        return load_config_by_name(name_or_path)
    except ConfigError as exc:  # one line per problem: keep them all, on one line
        raise Refusal("; ".join(line for line in str(exc).splitlines() if line.strip())) from None
    except FileNotFoundError as exc:
        raise Refusal(f"{exc.filename or name_or_path}: config file not found") from None
