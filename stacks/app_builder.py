"""Builds every enabled stack of one environment from its validated config.

``build_app(app, cfg)`` returns the stacks by unit (``"Nlb"``, ``"CloudFront"``, ``"Canary"``) so callers
and tests reach each one; app.py stays thin. Stacks are named by ``streampath.naming.stack_name`` (a
contract with the ops CLI) and share one environment: account (optional) and region from the config, so
nothing is looked up.
"""

from __future__ import annotations

import aws_cdk as cdk

from stacks.canary_stack import CanaryStack
from stacks.cloudfront_stack import CloudFrontStack
from stacks.nlb_stack import NlbStack
from streampath.config import AppConfig
from streampath.naming import stack_name


def build_app(app: cdk.App, cfg: AppConfig) -> dict[str, cdk.Stack]:
    """Create each enabled stack of ``cfg``; absent or ``enabled: false`` sections build nothing."""
    env = cdk.Environment(account=cfg.account, region=cfg.region)
    built: dict[str, cdk.Stack] = {}

    nlb_stack: NlbStack | None = None
    if cfg.enabled_nlb is not None:
        nlb_stack = NlbStack(
            app,
            stack_name(cfg.name, "Nlb"),
            app_config=cfg,
            env=env,
            description=f"streampath ({cfg.name}): NLB front door for the service {cfg.service.name}",
        )
        built["Nlb"] = nlb_stack

    if cfg.enabled_cloudfront is not None:
        built["CloudFront"] = CloudFrontStack(
            app,
            stack_name(cfg.name, "CloudFront"),
            app_config=cfg,
            nlb=nlb_stack.streaming_nlb if nlb_stack is not None else None,
            env=env,
            description=f"streampath ({cfg.name}): CloudFront front door for the service {cfg.service.name}",
        )
        if nlb_stack is not None and cfg.enabled_cloudfront.origin.type != "domain":
            # The origin is the NLB (by its alias record or as a VPC origin): deploy the NLB first.
            built["CloudFront"].add_stack_dependency(nlb_stack, "the origin is the NLB")

    if cfg.enabled_canary is not None:
        built["Canary"] = CanaryStack(
            app,
            stack_name(cfg.name, "Canary"),
            env_name=cfg.name,
            canary=cfg.enabled_canary,
            front_door_base_urls=front_door_base_urls(built),
            env=env,
            description=f"streampath ({cfg.name}): streaming canary, alarms and dashboard",
        )

    for stack in built.values():
        for key, value in cfg.tags.items():
            cdk.Tags.of(stack).add(key, value)
    return built


def front_door_base_urls(built: dict[str, cdk.Stack]) -> dict[str, str]:
    """``{"nlb": "https://...", "cloudfront": "https://..."}`` for the front doors built (tokens allowed)."""
    urls: dict[str, str] = {}
    nlb = built.get("Nlb")
    if isinstance(nlb, NlbStack):
        urls["nlb"] = nlb.base_url
    cloudfront = built.get("CloudFront")
    if isinstance(cloudfront, CloudFrontStack):
        urls["cloudfront"] = cloudfront.base_url
    return urls
