"""The CloudFront front door: streaming behaviours, origin timeouts, HTTP version, TLS, secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match

from streampath import naming
from tests.support.cdk import Synthesised

DISTRIBUTION = "AWS::CloudFront::Distribution"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]


def distribution_config(app: Synthesised) -> dict[str, Any]:
    resources = app.template("CloudFront").find_resources(DISTRIBUTION)
    (resource,) = resources.values()
    config: dict[str, Any] = resource["Properties"]["DistributionConfig"]
    return config


STREAMING_BEHAVIOUR = {
    "CachePolicyId": CACHING_DISABLED,
    "Compress": False,
    "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
    "AllowedMethods": ALL_METHODS,
    "ViewerProtocolPolicy": "redirect-to-https",
}


def test_default_and_api_behaviours_stream(any_app: Synthesised) -> None:
    any_app.template("CloudFront").has_resource_properties(
        DISTRIBUTION,
        {
            "DistributionConfig": Match.object_like(
                {
                    "DefaultCacheBehavior": Match.object_like(STREAMING_BEHAVIOUR),
                    "CacheBehaviors": [Match.object_like({"PathPattern": "/api/*", **STREAMING_BEHAVIOUR})],
                }
            )
        },
    )


def test_http_version_and_logging(any_app: Synthesised) -> None:
    config = distribution_config(any_app)
    assert config["HttpVersion"] == "http2and3"
    assert config["Logging"]["Prefix"] == "cloudfront/"
    assert config["Logging"]["IncludeCookies"] is False


def test_public_origin_https_only_tls12_with_long_timeouts(default_app: Synthesised) -> None:
    default_app.template("CloudFront").has_resource_properties(
        DISTRIBUTION,
        {
            "DistributionConfig": Match.object_like(
                {
                    "Origins": [
                        Match.object_like(
                            {
                                "DomainName": "stream-nlb.example.com",
                                "CustomOriginConfig": {
                                    "HTTPSPort": 443,
                                    "OriginProtocolPolicy": "https-only",
                                    "OriginSSLProtocols": ["TLSv1.2"],
                                    "OriginReadTimeout": 60,
                                    "OriginKeepaliveTimeout": 60,
                                },
                                # no overall cap on a response's duration unless configured
                                "ResponseCompletionTimeout": Match.absent(),
                            }
                        )
                    ]
                }
            )
        },
    )


def test_default_certificate_without_custom_domain(default_app: Synthesised) -> None:
    config = distribution_config(default_app)
    assert "Aliases" not in config
    assert config.get("ViewerCertificate", {}).get("CloudFrontDefaultCertificate", True) is True
    assert "WebACLId" not in config


@pytest.mark.parametrize("fixture", ["staging_app", "production_app"])
def test_custom_domain_raises_tls_minimum(fixture: str, request: pytest.FixtureRequest) -> None:
    app: Synthesised = request.getfixturevalue(fixture)
    config = distribution_config(app)
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["ViewerCertificate"]["SslSupportMethod"] == "sni-only"
    assert config["ViewerCertificate"]["AcmCertificateArn"].startswith("arn:aws:acm:us-east-1:")
    assert config["Aliases"] == [
        {"staging_app": "stage-api.example.com", "production_app": "api.example.com"}[fixture]
    ]


def test_vpc_origin_to_internal_nlb(staging_app: Synthesised) -> None:
    template = staging_app.template("CloudFront")
    template.has_resource_properties(
        "AWS::CloudFront::VpcOrigin",
        {
            "VpcOriginEndpointConfig": Match.object_like(
                {"HTTPPort": 80, "OriginProtocolPolicy": "http-only", "Name": "streampath-staging-nlb"}
            )
        },
    )
    vpc_origin_id = Capture()
    template.has_resource_properties(
        DISTRIBUTION,
        {
            "DistributionConfig": Match.object_like(
                {
                    "Origins": [
                        Match.object_like(
                            {
                                "VpcOriginConfig": {
                                    "VpcOriginId": {"Fn::GetAtt": [vpc_origin_id, "Id"]},
                                    "OriginReadTimeout": 60,
                                    "OriginKeepaliveTimeout": 60,
                                }
                            }
                        )
                    ]
                }
            )
        },
    )
    assert template.to_json()["Resources"][vpc_origin_id.as_string()]["Type"] == "AWS::CloudFront::VpcOrigin"


def test_production_waf_price_class_and_alias_records(production_app: Synthesised) -> None:
    config = distribution_config(production_app)
    assert config["WebACLId"].startswith("arn:aws:wafv2:us-east-1:123456789012:global/webacl/core-api-prod/")
    assert config["PriceClass"] == "PriceClass_All"
    template = production_app.template("CloudFront")
    for record_type in ("A", "AAAA"):
        template.has_resource_properties(
            "AWS::Route53::RecordSet",
            {
                "Name": "api.example.com.",
                "Type": record_type,
                "HostedZoneId": "Z0PRODUCTIONEXAMPLE01",
                "AliasTarget": Match.object_like(
                    {"DNSName": {"Fn::GetAtt": [Match.any_value(), "DomainName"]}}
                ),
            },
        )


def test_origin_secret_header_is_a_dynamic_reference(production_app: Synthesised) -> None:
    config = distribution_config(production_app)
    (origin,) = config["Origins"]
    assert origin["DomainName"] == "origin-api.example.com"
    assert origin["OriginCustomHeaders"] == [
        {
            "HeaderName": "X-Origin-Verify",
            "HeaderValue": "{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:"
            "streampath/production/origin-verify-QwErTy:SecretString:value::}}",
        }
    ]


def test_no_secret_value_anywhere_in_the_cloud_assembly(production_app: Synthesised) -> None:
    # Every reference to a secret in every synthesised file is a CloudFormation dynamic reference or an ARN
    # (for IAM grants): never a resolved value, and never a SecretString outside {{resolve:...}}.
    for path in production_app.outdir.glob("*.json"):
        text = path.read_text()
        for index in _find_all(text, "SecretString"):
            start = text.rfind("{{resolve:secretsmanager:", 0, index)
            assert start != -1 and "}}" not in text[start:index], f"{path.name}: bare SecretString at {index}"


def _find_all(text: str, needle: str) -> list[int]:
    found, index = [], text.find(needle)
    while index != -1:
        found.append(index)
        index = text.find(needle, index + 1)
    return found


def test_no_origin_headers_without_secret_config(default_app: Synthesised, staging_app: Synthesised) -> None:
    for app in (default_app, staging_app):
        (origin,) = distribution_config(app)["Origins"]
        assert "OriginCustomHeaders" not in origin
        assert "resolve:secretsmanager" not in json.dumps(app.templates["CloudFront"])


def test_outputs_use_the_contract_names(any_app: Synthesised) -> None:
    outputs = any_app.templates["CloudFront"]["Outputs"]
    assert naming.OUTPUT_DISTRIBUTION_DOMAIN_NAME in outputs
    assert naming.OUTPUT_DISTRIBUTION_ID in outputs
