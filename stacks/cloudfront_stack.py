"""Stack ``StreamPath-<env>-CloudFront``: a streaming CloudFront distribution in front of the service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from streampath import naming
from streampath.config.cloudfront import CloudFrontConfig
from streampath.config.nlb import ListenerConfig
from streampath_cdk.log_bucket import LogBucket
from streampath_cdk.nag import acknowledge
from streampath_cdk.streaming_distribution import StreamingDistribution
from streampath_cdk.streaming_nlb import StreamingNlb
from streampath_cdk.streaming_origins import (
    OriginTimeouts,
    shared_vpc_origin,
    streaming_http_origin,
    streaming_vpc_origin,
)

#: The config's names for these settings, mapped to CDK's enums.
HTTP_VERSIONS: dict[str, cloudfront.HttpVersion] = {
    "HTTP1_1": cloudfront.HttpVersion.HTTP1_1,
    "HTTP2": cloudfront.HttpVersion.HTTP2,
    "HTTP2_AND_3": cloudfront.HttpVersion.HTTP2_AND_3,
    "HTTP3": cloudfront.HttpVersion.HTTP3,
}
PRICE_CLASSES: dict[str, cloudfront.PriceClass] = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}


@dataclass(frozen=True, kw_only=True)
class CloudFrontStackProps:
    """What the CloudFront stack is built from."""

    #: The environment's name (the distribution's comment, the VPC origin's name).
    env_name: str
    cloudfront: CloudFrontConfig
    #: The NLB front door's listener, where the origin is that NLB (its port is the origin's default).
    nlb_listener: ListenerConfig | None = None
    #: The name CloudFront uses for a public ``nlb`` origin (``AppConfig.nlb_origin_domain_name``).
    nlb_origin_domain_name: str | None = None
    #: The NLB from the NLB stack; only a ``vpc_origin`` needs it (a reference to its ARN).
    nlb: StreamingNlb | None = None


class CloudFrontStack(cdk.Stack):
    """Builds the origin named by ``cloudfront.origin.type`` and the streaming distribution in front of it.

    ``nlb`` is the front-door NLB from the NLB stack; only a ``vpc_origin`` needs it (a cross-stack reference
    to its ARN). A public ``nlb`` origin is reached by name, which keeps the two stacks independent.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: CloudFrontStackProps,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        cf_cfg = props.cloudfront
        origin = self._origin(props)
        logs = LogBucket(
            self,
            "StandardLogs",
            expiration=cdk.Duration.days(cf_cfg.logging.expiration_days),
            # CloudFront standard logging (legacy) writes with an ACL grant to the awslogsdelivery account.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        )
        custom = cf_cfg.custom_domain
        streaming = StreamingDistribution(
            self,
            "FrontDoor",
            origin=origin,
            streaming_path_patterns=cf_cfg.streaming_path_patterns,
            http_version=HTTP_VERSIONS[cf_cfg.http_version],
            price_class=PRICE_CLASSES[cf_cfg.price_class],
            enable_ipv6=cf_cfg.enable_ipv6,
            comment=f"{cf_cfg.comment} ({props.env_name})",
            log_bucket=logs.bucket,
            log_includes_cookies=cf_cfg.logging.include_cookies,
            domain_names=custom.domain_names if custom is not None else (),
            certificate=(
                acm.Certificate.from_certificate_arn(self, "Certificate", custom.certificate_arn)
                if custom is not None
                else None
            ),
            web_acl_id=cf_cfg.web_acl_arn,
            origin_owner_account_id=cf_cfg.origin.owner_account_id,
            geo_restriction=(
                cloudfront.GeoRestriction.allowlist(*cf_cfg.allowed_countries)
                if cf_cfg.allowed_countries
                else None
            ),
        )
        self.distribution = streaming.distribution
        self._acknowledge_optional_controls(cf_cfg)

        #: The name clients use: the first custom domain, else the ``*.cloudfront.net`` name.
        self.host: str = (
            custom.domain_names[0] if custom is not None else self.distribution.distribution_domain_name
        )
        #: ``https://stream.example.com`` — what a canary path with ``front_door: cloudfront`` prefixes.
        self.base_url: str = f"https://{self.host}"

        if cf_cfg.dns is not None:
            zone = route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=cf_cfg.dns.hosted_zone_id, zone_name=cf_cfg.dns.zone_name
            )
            alias = route53.RecordTarget.from_alias(targets.CloudFrontTarget(self.distribution))
            route53.ARecord(self, "AliasRecord", zone=zone, record_name=cf_cfg.dns.record_name, target=alias)
            if cf_cfg.enable_ipv6:
                route53.AaaaRecord(
                    self, "AliasRecordIpv6", zone=zone, record_name=cf_cfg.dns.record_name, target=alias
                )

        cdk.CfnOutput(
            self,
            naming.OUTPUT_DISTRIBUTION_DOMAIN_NAME,
            value=self.distribution.distribution_domain_name,
            description="Domain name of the CloudFront front door",
        )
        cdk.CfnOutput(self, naming.OUTPUT_DISTRIBUTION_ID, value=self.distribution.distribution_id)

    def _origin(self, props: CloudFrontStackProps) -> cloudfront.IOrigin:
        cfg, nlb = props.cloudfront.origin, props.nlb
        timeouts = OriginTimeouts(
            read_timeout=cdk.Duration.seconds(cfg.read_timeout_seconds),
            keepalive_timeout=cdk.Duration.seconds(cfg.keepalive_timeout_seconds),
            response_completion_timeout=(
                cdk.Duration.seconds(cfg.response_completion_timeout_seconds)
                if cfg.response_completion_timeout_seconds is not None
                else None
            ),
            connection_attempts=cfg.connection_attempts,
            connection_timeout=cdk.Duration.seconds(cfg.connection_timeout_seconds),
        )
        listener = props.nlb_listener
        default_port = listener.port if listener is not None and cfg.uses_environment_nlb else None

        if cfg.type == "shared_vpc_origin":
            # guarded by config validation
            assert cfg.vpc_origin_id is not None and cfg.domain_name is not None
            return shared_vpc_origin(
                cloudfront.VpcOrigin.from_vpc_origin_id(self, "SharedVpcOrigin", cfg.vpc_origin_id),
                domain_name=cfg.domain_name,
                timeouts=timeouts,
            )
        if cfg.type == "vpc_origin":
            if nlb is None:
                raise ValueError("a vpc_origin needs the NLB from the NLB stack")
            return streaming_vpc_origin(
                nlb,
                protocol_policy=(
                    cloudfront.OriginProtocolPolicy.HTTPS_ONLY
                    if cfg.protocol == "https"
                    else cloudfront.OriginProtocolPolicy.HTTP_ONLY
                ),
                port=cfg.port or default_port,
                domain_name=cfg.domain_name,
                vpc_origin_name=f"streampath-{props.env_name}-nlb",
                timeouts=timeouts,
            )

        domain_name = cfg.domain_name if cfg.type == "domain" else props.nlb_origin_domain_name
        if domain_name is None:  # guarded by config validation
            raise ValueError(f"origin type {cfg.type!r} has no domain name")
        custom_headers: dict[str, str] | None = None
        if cfg.secret_header is not None:
            # A {{resolve:secretsmanager:...}} dynamic reference: CloudFormation resolves it at deploy time,
            # the template and the cloud assembly never hold the value.
            value = cdk.SecretValue.secrets_manager(
                cfg.secret_header.secret_arn, json_field=cfg.secret_header.json_key
            ).unsafe_unwrap()
            custom_headers = {cfg.secret_header.name: value}
        return streaming_http_origin(
            domain_name,
            https_port=cfg.port or default_port or 443,
            custom_headers=custom_headers,
            timeouts=timeouts,
        )

    def _acknowledge_optional_controls(self, cf_cfg: CloudFrontConfig) -> None:
        if cf_cfg.custom_domain is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                "No custom domain configured (cloudfront.custom_domain): the default *.cloudfront.net "
                "certificate cannot raise the viewer TLS minimum; with a custom domain it is TLSv1.2_2021.",
            )
        if cf_cfg.web_acl_arn is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR2",
                "No WAF web ACL configured for this environment (cloudfront.web_acl_arn); the origin "
                "keeps its own protection. Production configs attach one.",
            )
        if not cf_cfg.allowed_countries:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR1",
                "The streaming API serves users in every country; no geo restriction is configured "
                "(cloudfront.allowed_countries).",
            )
