"""An S3 bucket for service logs (NLB access logs, CloudFront standard logs), hardened the way cdk-nag asks.

Encrypted (SSE-S3, which both log-delivery services support), SSL-only, public access blocked, objects
expiring after a set time. Its own S3 server access logs go to a small second bucket (logging a bucket into
itself loops), which is the end of the chain and so does not log itself.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from streampath_cdk.nag import acknowledge


class LogBucket(Construct):
    """``bucket`` receives the logs; ``access_logs_bucket`` receives ``bucket``'s S3 server access logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        expiration: cdk.Duration,
        object_ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    ) -> None:
        super().__init__(scope, construct_id)
        common: dict[str, Any] = {
            "encryption": s3.BucketEncryption.S3_MANAGED,
            "enforce_ssl": True,
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "versioned": False,
            "removal_policy": cdk.RemovalPolicy.RETAIN,
            "lifecycle_rules": [
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=expiration,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
        }
        self.access_logs_bucket = s3.Bucket(
            self, "AccessLogs", object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, **common
        )
        acknowledge(
            self.access_logs_bucket,
            "AwsSolutions-S1",
            "Terminal bucket of the log chain: it holds the S3 server access logs of the sibling log bucket; "
            "logging it too would need a third bucket (or a loop into itself).",
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            object_ownership=object_ownership,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="s3-access-logs/",
            **common,
        )
