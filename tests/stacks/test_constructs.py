"""Construct-level checks on small stacks (no config file): options the shipped configs do not exercise."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from stacks.app_builder import front_door_base_urls
from streampath_cdk.streaming_distribution import StreamingDistribution
from tests.support.cdk import Synthesised, cdk_context


def test_http1_only_distribution_with_a_response_cap() -> None:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Probe", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    origin = origins.HttpOrigin(
        "api.example.com",
        read_timeout=cdk.Duration.seconds(120),
        keepalive_timeout=cdk.Duration.seconds(90),
        response_completion_timeout=cdk.Duration.seconds(900),
    )
    StreamingDistribution(
        stack,
        "Door",
        origin=origin,
        streaming_path_patterns=["/api/*", "/events/*"],
        http_version="HTTP1_1",
        price_class="PriceClass_200",
        enable_ipv6=False,
        comment="probe",
        log_bucket=s3.Bucket(stack, "Logs", object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED),
        log_includes_cookies=False,
        allowed_countries=["DE", "FR"],
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": Match.object_like(
                {
                    "HttpVersion": "http1.1",
                    "IPV6Enabled": False,
                    "PriceClass": "PriceClass_200",
                    "Restrictions": {
                        "GeoRestriction": {"Locations": ["DE", "FR"], "RestrictionType": "whitelist"}
                    },
                    "CacheBehaviors": [
                        Match.object_like({"PathPattern": "/api/*", "Compress": False}),
                        Match.object_like({"PathPattern": "/events/*", "Compress": False}),
                    ],
                    "Origins": [
                        Match.object_like(
                            {
                                "ResponseCompletionTimeout": 900,
                                "CustomOriginConfig": Match.object_like(
                                    {"OriginReadTimeout": 120, "OriginKeepaliveTimeout": 90}
                                ),
                            }
                        )
                    ],
                }
            )
        },
    )


def test_front_door_base_urls_for_the_canary(default_app: Synthesised, staging_app: Synthesised) -> None:
    urls = front_door_base_urls(default_app.stacks)
    assert urls["nlb"] == "https://stream-nlb.example.com"
    assert urls["cloudfront"].startswith("https://")  # the distribution's domain name (a token)
    staging = front_door_base_urls(staging_app.stacks)
    assert staging["cloudfront"] == "https://stage-api.example.com"
    assert staging["nlb"].startswith("http://")  # internal TCP listener on port 80: plain HTTP in the VPC


def test_cloudfront_deploys_after_its_nlb_origin(any_app: Synthesised) -> None:
    assert any_app.stacks["Nlb"] in any_app.stacks["CloudFront"].dependencies
