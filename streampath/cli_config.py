"""The environment's config as the ops CLI loads it: by name or path, every problem a refusal."""

from __future__ import annotations

from streampath.config import AppConfig, ConfigError, load_config_by_name_or_path
from streampath.errors import Refusal


def load_config_or_refuse(name_or_path: str) -> AppConfig:
    """``staging`` reads ``config/staging.yaml``, a path that file (``streampath.config``'s one rule);
    a config problem is a :class:`Refusal` (exit 2) with every problem line on one line."""
    try:
        return load_config_by_name_or_path(name_or_path)
    except ConfigError as exc:
        raise Refusal("; ".join(line for line in str(exc).splitlines() if line.strip())) from None
