"""CloudFront origin limits: default quotas, the completion timeout, a VPC origin of another account."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk.assertions import Match, Template

from streampath.config import load_config
from streampath_cdk.streaming_distribution import StreamingDistribution
from streampath_cdk.streaming_origins import OriginTimeouts, shared_vpc_origin
from tests.config.mutations import DEFAULT, all_of, problems_of, setting, write_config
from tests.support.cdk import cdk_context, cfn_lint_errors

ORIGIN = ("cloudfront", "origin")
OWNER = "210987654321"
SHARED = {
    "type": "shared_vpc_origin",
    "vpc_origin_id": "vo_0123",
    "owner_account_id": OWNER,
    "domain_name": "chat.internal.example.com",
}


@pytest.mark.parametrize(
    ("key", "value", "name", "quota"),
    [("read_timeout_seconds", 121, "Response", 120), ("keepalive_timeout_seconds", 301, "Keep-alive", 300)],
)
def test_timeout_above_the_default_quota_needs_quota_raised(
    tmp_path: Path, key: str, value: int, name: str, quota: int
) -> None:
    assert problems_of(tmp_path, setting(*ORIGIN, key, value=value)) == [
        f"cloudfront.origin.{key}: {value} is above CloudFront's default quota of {quota} s, and the "
        f'deployment fails unless the account\'s "{name} timeout per origin" quota was raised (Service '
        "Quotas, https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html): "
        "lower it, or set quota_raised: true once the increase is approved"
    ]


def test_quota_raised_admits_a_longer_read_timeout(tmp_path: Path) -> None:
    data = json.loads(json.dumps(DEFAULT))
    all_of(
        setting(*ORIGIN, "read_timeout_seconds", value=600),
        setting(*ORIGIN, "quota_raised", value=True),
    )(data)
    cfg = load_config(write_config(tmp_path, data))
    assert cfg.cloudfront is not None
    assert cfg.cloudfront.origin.read_timeout_seconds == 600
    assert cfg.cloudfront.origin.response_completion_timeout_seconds is None  # off unless asked for


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        (
            {"type": "shared_vpc_origin", "owner_account_id": OWNER},
            "cloudfront.origin.vpc_origin_id: required when type is 'shared_vpc_origin'",
        ),
        (
            {"type": "domain", "domain_name": "api.example.com", "owner_account_id": OWNER},
            "cloudfront.origin.owner_account_id: only for type 'shared_vpc_origin', got type 'domain'",
        ),
        (
            {**SHARED, "port": 80},
            "cloudfront.origin.port: not for a shared_vpc_origin: its owner's VPC origin sets the ports",
        ),
    ],
)
def test_shared_vpc_origin_rules(tmp_path: Path, origin: dict[str, object], expected: str) -> None:
    assert problems_of(tmp_path, setting(*ORIGIN, value=origin)) == [expected]


def test_shared_vpc_origin_needs_no_nlb_of_its_own(tmp_path: Path) -> None:
    data = json.loads(json.dumps(DEFAULT))
    setting(*ORIGIN, value=SHARED)(data)
    del data["nlb"]
    data["canary"]["paths"] = [p for p in data["canary"]["paths"] if p.get("front_door") != "nlb"]
    cfg = load_config(write_config(tmp_path, data))
    assert cfg.enabled_front_doors == ("cloudfront",)


def shared_origin_template(owner: str | None) -> Template:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Cf", env=cdk.Environment(account="123456789012", region="us-east-1"))
    vpc_origin = cloudfront.VpcOrigin.from_vpc_origin_id(stack, "Shared", "vo_0123456789abcdef")
    StreamingDistribution(
        stack,
        "FrontDoor",
        origin=shared_vpc_origin(
            vpc_origin,
            domain_name="chat.internal.example.com",
            timeouts=OriginTimeouts(read_timeout=cdk.Duration.seconds(90)),
        ),
        log_bucket=None,
        origin_owner_account_id=owner,
    )
    return Template.from_stack(stack)


def test_vpc_origin_of_another_account_names_its_owner(tmp_path: Path) -> None:
    template = shared_origin_template(OWNER)
    template.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": Match.object_like(
                {
                    "Origins": [
                        Match.object_like(
                            {
                                "VpcOriginConfig": {
                                    "VpcOriginId": "vo_0123456789abcdef",
                                    "OwnerAccountId": OWNER,
                                    "OriginReadTimeout": 90,
                                    "OriginKeepaliveTimeout": 60,
                                }
                            }
                        )
                    ]
                }
            )
        },
    )
    template.resource_count_is("AWS::CloudFront::VpcOrigin", 0)  # the owner account's resource
    path = tmp_path / "cf.template.json"
    path.write_text(json.dumps(template.to_json()))
    assert cfn_lint_errors([path]) is None


def test_same_account_vpc_origin_has_no_owner() -> None:
    config = shared_origin_template(None).find_resources("AWS::CloudFront::Distribution")
    assert "OwnerAccountId" not in json.dumps(config)


def test_owner_account_must_be_an_account_id() -> None:
    with pytest.raises(ValueError, match="12-digit"):
        shared_origin_template("not-an-account")
