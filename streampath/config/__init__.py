"""Typed, validated configuration: the one place that reads ``config/<env>.yaml``.

``load_config(path) -> AppConfig`` parses and validates a whole file before any construct is made. Every
problem becomes one line ``<file>: <dotted.key[0].path>: <reason>`` of a :class:`ConfigError`::

    config/staging.yaml: nlb.listener.idle_timeout_seconds: must be 60..6000, got 7200

Modules, one job each:

- ``loader``: finding a config by name and loading a file (the entry points re-exported here);
- ``source``: reading the file's bytes, refusing anything but a small regular UTF-8 file;
- ``yaml_core``: the YAML dialect (1.2 core schema) and its bounds on depth and size;
- ``yaml_source``: YAML nodes to plain data (string keys, no duplicates, bounded aliases), with line and
  column on errors;
- ``messages``: pydantic's errors to ``key.path: reason`` lines;
- ``display``: what a message may echo (quoted, one line, bounded, URL credentials masked);
- ``model``: :class:`AppConfig` and the rules that span sections;
- ``common``, ``nlb``, ``cloudfront``, ``canary``: the sections and their field types.
"""

from __future__ import annotations

from streampath.config.canary import CanaryConfig, CanaryPathConfig
from streampath.config.cloudfront import CloudFrontConfig
from streampath.config.common import ConfigError
from streampath.config.loader import (
    CONFIG_DIR,
    REPO_ROOT,
    available_configs,
    display_path,
    load_config,
    load_config_by_name,
    load_config_by_name_or_path,
)
from streampath.config.model import (
    CLOUDFRONT_LOGGING_UNSUPPORTED_REGIONS,
    UNRESOLVED_HOST_BYTES,
    AppConfig,
)
from streampath.config.nlb import NlbConfig

__all__ = [
    "CLOUDFRONT_LOGGING_UNSUPPORTED_REGIONS",
    "CONFIG_DIR",
    "REPO_ROOT",
    "UNRESOLVED_HOST_BYTES",
    "AppConfig",
    "CanaryConfig",
    "CanaryPathConfig",
    "CloudFrontConfig",
    "ConfigError",
    "NlbConfig",
    "available_configs",
    "display_path",
    "load_config",
    "load_config_by_name",
    "load_config_by_name_or_path",
]
