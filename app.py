#!/usr/bin/env python3
"""CDK entry point (thin): load config ``-c config=<name>`` -> build stacks -> cdk-nag -> synth."""

from __future__ import annotations

import sys

import aws_cdk as cdk

from stacks.app_builder import build_app
from streampath.config import ConfigError, load_config_by_name_or_path
from streampath_cdk import nag


def main() -> int:
    app = cdk.App()
    # ``-c config=staging`` reads config/staging.yaml; ``-c config=path/to/file.yaml`` reads that file.
    name = str(app.node.try_get_context("config") or "default")
    try:
        cfg = load_config_by_name_or_path(name)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    build_app(app, cfg)
    nag.apply(app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
