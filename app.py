#!/usr/bin/env python3
"""CDK entry point (thin): load config ``-c config=<name>`` -> build stacks -> cdk-nag -> synth."""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

from stacks.app_builder import build_app
from streampath.config import ConfigError, load_config, load_config_by_name
from streampath_cdk import nag


def main() -> int:
    app = cdk.App()
    # ``-c config=staging`` reads config/staging.yaml; ``-c config=path/to/file.yaml`` reads that file.
    name = str(app.node.try_get_context("config") or "default")
    try:
        cfg = load_config(Path(name)) if name.endswith((".yaml", ".yml")) else load_config_by_name(name)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    build_app(app, cfg)
    nag.apply(app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
