"""A CloudFront distribution that passes streaming responses (SSE) through untouched.

CDK's defaults suit static content, not streams. Every behaviour here (the default one and one per streaming
path pattern) uses: ``CACHING_DISABLED`` (no cache key, every request reaches the origin),
``compress=False`` (no edge compression that could hold bytes back), ``ALL_VIEWER_EXCEPT_HOST_HEADER``
(query strings, headers and cookies reach the origin; the origin sees its own host name), all HTTP methods,
and redirect to HTTPS. Origins get long read / keep-alive timeouts and no overall response cap unless one is
configured: CloudFront's read timeout applies *between packets*, so the service's heartbeat must come more
often than it.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_s3 as s3
from constructs import Construct

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


def streaming_behavior(origin: cloudfront.IOrigin) -> cloudfront.BehaviorOptions:
    """Behaviour options for a streaming path: nothing cached, nothing compressed, everything forwarded."""
    return cloudfront.BehaviorOptions(
        origin=origin,
        cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
        origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        compress=False,
        allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
        viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
    )


class StreamingDistribution(Construct):
    """``distribution``: default behaviour and each of ``streaming_path_patterns`` stream from ``origin``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        origin: cloudfront.IOrigin,
        streaming_path_patterns: Sequence[str],
        http_version: str,
        price_class: str,
        enable_ipv6: bool,
        comment: str,
        log_bucket: s3.IBucket,
        log_includes_cookies: bool,
        domain_names: Sequence[str] = (),
        certificate_arn: str | None = None,
        web_acl_arn: str | None = None,
        allowed_countries: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn)
            if certificate_arn is not None
            else None
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=comment,
            default_behavior=streaming_behavior(origin),
            additional_behaviors={pattern: streaming_behavior(origin) for pattern in streaming_path_patterns},
            http_version=HTTP_VERSIONS[http_version],
            price_class=PRICE_CLASSES[price_class],
            enable_ipv6=enable_ipv6,
            domain_names=list(domain_names) or None,
            certificate=certificate,
            # Only a custom certificate can raise the viewer TLS floor; with the default *.cloudfront.net
            # certificate CloudFront fixes it at TLSv1.
            minimum_protocol_version=(
                cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate is not None else None
            ),
            web_acl_id=web_acl_arn,
            geo_restriction=(
                cloudfront.GeoRestriction.allowlist(*allowed_countries) if allowed_countries else None
            ),
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/",
            log_includes_cookies=log_includes_cookies,
        )
