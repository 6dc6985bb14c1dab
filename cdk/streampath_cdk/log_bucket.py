"""An S3 bucket for service logs (NLB access logs, CloudFront standard logs), hardened the way cdk-nag asks.

Encrypted (SSE-S3, which both log-delivery services support), SSL-only, public access blocked, objects
expiring after a set time. Its own S3 server access logs go to a small second bucket (logging a bucket into
itself loops), which is the end of the chain and so does not log itself.

The template does not depend on the consuming app's feature flags. CDK's ``server_access_logs_bucket``
grants S3's log delivery a bucket policy only under ``@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy``;
without that flag it falls back to the ``LogDeliveryWrite`` ACL, which a bucket with ACLs disabled refuses
(synth fails). So the logging configuration and its policy statement are written here, as the flag would
write them.
"""

from __future__ import annotations

from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from streampath_cdk.nag import acknowledge

#: Key prefix of the log bucket's S3 server access logs inside ``access_logs_bucket``.
SERVER_ACCESS_LOGS_PREFIX: Final = "s3-access-logs/"


class LogBucket(Construct):
    """``bucket`` receives the logs; ``access_logs_bucket`` receives ``bucket``'s S3 server access logs.

    ``expiration``: how long log objects are kept (required; there is no sensible universal value).
    ``object_ownership``: ``BUCKET_OWNER_ENFORCED`` (ACLs disabled), right for NLB access logs. CloudFront
    standard logging (legacy) writes with an ACL grant, so a bucket for it needs ``BUCKET_OWNER_PREFERRED``.
    ``versioned``: off by default. Log objects are written once by a delivery service and never
    overwritten, so versions add nothing to recover; for an audit policy that demands versioning, turn it
    on and non-current versions expire after ``expiration`` too (otherwise expiry would only hide them).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        expiration: cdk.Duration,
        object_ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        common: dict[str, Any] = {
            "encryption": s3.BucketEncryption.S3_MANAGED,
            "enforce_ssl": True,
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "versioned": versioned,
            "removal_policy": cdk.RemovalPolicy.RETAIN,
            "lifecycle_rules": [
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=expiration,
                    noncurrent_version_expiration=expiration if versioned else None,
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
        self.bucket = s3.Bucket(self, "Bucket", object_ownership=object_ownership, **common)
        self._log_into_access_logs_bucket()

    def _log_into_access_logs_bucket(self) -> None:
        """S3 server access logging of ``bucket`` into ``access_logs_bucket``, granted by bucket policy."""
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=self.access_logs_bucket.bucket_name,
            log_file_prefix=SERVER_ACCESS_LOGS_PREFIX,
        )
        self.access_logs_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.ALLOW,
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.access_logs_bucket.arn_for_objects(f"{SERVER_ACCESS_LOGS_PREFIX}*")],
                # Only this bucket, in this account, may deliver here (no confused deputy).
                conditions={
                    "ArnLike": {"aws:SourceArn": self.bucket.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": self.bucket.env.account},
                },
            )
        )
