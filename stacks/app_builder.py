"""Builds every enabled stack of one environment from its validated config.

``build_app(app, cfg)`` returns the stacks by unit (``"Nlb"``, ``"CloudFront"``, ``"ApiGateway"``,
``"Canary"``) so callers and tests reach each one; app.py stays thin. Stacks are named by
``streampath.naming`` (a contract with the ops CLI) and share one environment: account (optional) and
region from the config, so nothing is looked up.
A canary in several Regions (``canary.regions``) is one stack per Region, each in its own Region's
environment: ``"Canary"`` is the home Region's, ``"Canary-<region>"`` another Region's.
"""

from __future__ import annotations

import aws_cdk as cdk

from stacks.apigateway_stack import ApiGatewayStack, ApiGatewayStackProps
from stacks.canary_stack import CanaryStack, CanaryStackProps
from stacks.cloudfront_stack import CloudFrontStack, CloudFrontStackProps
from stacks.nlb_stack import NlbStack, NlbStackProps
from streampath.config import AppConfig
from streampath.config.apigateway import reaches_nlb
from streampath.naming import canary_stack_name, stack_name


def build_app(app: cdk.App, cfg: AppConfig) -> dict[str, cdk.Stack]:
    """Create each enabled stack of ``cfg``; absent or ``enabled: false`` sections build nothing."""
    env = cdk.Environment(account=cfg.account, region=cfg.region)
    built: dict[str, cdk.Stack] = {}

    nlb_stack: NlbStack | None = None
    nlb = cfg.enabled_nlb
    if nlb is not None:
        assert cfg.vpc is not None  # an enabled nlb needs the vpc section (AppConfig's rule)
        nlb_stack = NlbStack(
            app,
            stack_name(cfg.name, "Nlb"),
            props=NlbStackProps(
                nlb=nlb, vpc=cfg.vpc, service=cfg.service, behind_vpc_link=reaches_nlb(cfg.apigateway)
            ),
            env=env,
            description=f"streampath ({cfg.name}): NLB front door for the service {cfg.service.name}",
        )
        built["Nlb"] = nlb_stack

    cloudfront = cfg.enabled_cloudfront
    if cloudfront is not None:
        built["CloudFront"] = CloudFrontStack(
            app,
            stack_name(cfg.name, "CloudFront"),
            props=CloudFrontStackProps(
                env_name=cfg.name,
                cloudfront=cloudfront,
                nlb_listener=nlb.listener if nlb is not None else None,
                nlb_origin_domain_name=cfg.nlb_origin_domain_name,
                nlb=nlb_stack.streaming_nlb if nlb_stack is not None else None,
            ),
            env=env,
            description=f"streampath ({cfg.name}): CloudFront front door for the service {cfg.service.name}",
        )
        if nlb_stack is not None and cloudfront.origin.uses_environment_nlb:
            # The origin is the NLB (by its alias record or as a VPC origin): deploy the NLB first.
            built["CloudFront"].add_stack_dependency(nlb_stack, "the origin is the NLB")

    apigateway = cfg.apigateway
    if apigateway is not None and apigateway.enabled:
        via_nlb = nlb_stack if reaches_nlb(apigateway) else None
        built["ApiGateway"] = ApiGatewayStack(
            app,
            stack_name(cfg.name, "ApiGateway"),
            props=ApiGatewayStackProps(
                env_name=cfg.name,
                apigateway=apigateway,
                nlb=via_nlb.streaming_nlb if via_nlb is not None else None,
                nlb_base_url=via_nlb.base_url if via_nlb is not None else None,
            ),
            env=env,
            description=f"streampath ({cfg.name}): API Gateway front door for the service {cfg.service.name}",
        )
        if via_nlb is not None:
            built["ApiGateway"].add_stack_dependency(via_nlb, "the VPC link's target is the NLB")

    canary = cfg.enabled_canary
    if canary is not None:
        base_urls = front_door_base_urls(built)
        deployments = cfg.canary_deployments
        for deployment in deployments:
            region = deployment.region
            built["Canary" if deployment.home else f"Canary-{region}"] = CanaryStack(
                app,
                canary_stack_name(cfg.name, region, cfg.region),
                props=CanaryStackProps(
                    env_name=cfg.name,
                    canary=canary,
                    deployment=deployment,
                    home_region=cfg.region,
                    front_door_base_urls=base_urls,
                    other_regions=[d for d in deployments if not d.home] if deployment.home else (),
                ),
                env=env if deployment.home else cdk.Environment(account=cfg.account, region=region),
                description=(
                    f"streampath ({cfg.name}): streaming canary, alarms and dashboard"
                    if deployment.home
                    else f"streampath ({cfg.name}): streaming canary in {region} and its alarms"
                ),
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
