#!/usr/bin/env python3
"""CDK entry point (thin): load config ``-c config=<name>`` -> build stacks -> cdk-nag -> synth."""

from __future__ import annotations

import sys

import aws_cdk as cdk

from stacks import nag
from stacks.app_builder import build_app
from stacks.config import ConfigError, load_config_by_name


def main() -> int:
    app = cdk.App()
    name = app.node.try_get_context("config") or "default"
    try:
        cfg = load_config_by_name(str(name))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    build_app(app, cfg)
    nag.apply(app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
