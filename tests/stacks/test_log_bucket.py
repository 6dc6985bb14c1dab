"""LogBucket's versioning switch: off by default, and when on, old versions expire with the logs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Match, Template

from streampath_cdk import LogBucket


def _template(*, versioned: bool = False) -> Template:
    app = cdk.App()
    stack = cdk.Stack(app, "Logs", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    LogBucket(stack, "Logs", expiration=cdk.Duration.days(30), versioned=versioned)
    return Template.from_stack(stack)


def test_log_buckets_are_unversioned_by_default() -> None:
    buckets = _template().find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    for bucket in buckets.values():
        assert "VersioningConfiguration" not in bucket["Properties"]


def test_versioned_log_buckets_expire_noncurrent_versions_too() -> None:
    template = _template(versioned=True)
    template.resource_count_is("AWS::S3::Bucket", 2)
    template.all_resources_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {"ExpirationInDays": 30, "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}
                        )
                    ]
                )
            },
        },
    )
