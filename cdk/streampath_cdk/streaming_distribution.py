"""A CloudFront distribution that passes streaming responses (SSE) through untouched.

CDK's defaults suit static content, not streams. Every behaviour here (the default one and one per streaming
path pattern) uses ``CACHING_DISABLED``, so there is no cache key and every request reaches the origin. It
sets ``compress=False``, so no edge compression can hold bytes back. ``ALL_VIEWER_EXCEPT_HOST_HEADER``
forwards query strings, headers and cookies, and the origin sees its own host name. All HTTP methods are
allowed, and viewers are redirected to HTTPS. Pair it with an origin from
``streampath_cdk.streaming_origins``: CloudFront's read timeout applies *between packets*, and CDK's 30 s
default cuts quiet streams.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_s3 as s3
from constructs import Construct


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
    """``distribution``: the default behaviour and each of ``streaming_path_patterns`` stream from ``origin``.

    ``origin``: any ``cloudfront.IOrigin``. ``streaming_origins.streaming_http_origin`` and
    ``streaming_vpc_origin`` set streaming timeouts.
    ``log_bucket``: receives standard logs under ``log_file_prefix`` (``"cloudfront/"``), without cookies
    unless ``log_includes_cookies``. Required: pass ``None`` to go without, and acknowledge cdk-nag's
    ``AwsSolutions-CFR3`` yourself. CloudFront's standard logging writes with an ACL grant, so the bucket
    needs ACLs enabled: ``LogBucket(object_ownership=BUCKET_OWNER_PREFERRED)``. With ACLs disabled
    (``BUCKET_OWNER_ENFORCED``, AWS's default for new buckets) the deployment fails.
    ``streaming_path_patterns``: extra behaviours such as ``"/api/*"``, each streaming like the default.
    Listing them makes it explicit which paths stream, and later caching behaviours cannot take them over.
    ``http_version``: ``HTTP2_AND_3``. On HTTP/2, many streams share one connection, past the browser
    limit of 6 per host. CloudFront advertises HTTP/3 with ``Alt-Svc``, and whether it streams the same
    there is for the canary to measure. CloudFront always reaches the origin over HTTP/1.1.
    ``price_class``: None, which means CloudFront's default (all edge locations). This is a cost choice,
    not a streaming one.
    ``enable_ipv6``: True.
    ``domain_names`` and ``certificate``: a custom domain needs an ACM certificate in us-east-1. With one,
    the viewer TLS floor is ``minimum_protocol_version`` (``TLS_V1_2_2021``). Without one, CloudFront's
    ``*.cloudfront.net`` certificate fixes it at TLSv1, and cdk-nag's ``AwsSolutions-CFR4`` is yours to
    acknowledge.
    ``web_acl_id``: a WAFv2 web ACL ARN with CLOUDFRONT scope (None: no WAF, ``AwsSolutions-CFR2``).
    ``geo_restriction``: None, which serves every country (``AwsSolutions-CFR1``).
    ``comment``: the distribution's comment (at most 128 characters).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        origin: cloudfront.IOrigin,
        log_bucket: s3.IBucket | None,
        log_file_prefix: str = "cloudfront/",
        log_includes_cookies: bool = False,
        streaming_path_patterns: Sequence[str] = (),
        http_version: cloudfront.HttpVersion = cloudfront.HttpVersion.HTTP2_AND_3,
        price_class: cloudfront.PriceClass | None = None,
        enable_ipv6: bool = True,
        domain_names: Sequence[str] = (),
        certificate: acm.ICertificate | None = None,
        minimum_protocol_version: cloudfront.SecurityPolicyProtocol = (
            cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021
        ),
        web_acl_id: str | None = None,
        geo_restriction: cloudfront.GeoRestriction | None = None,
        comment: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if domain_names and certificate is None:
            raise ValueError(
                "certificate: domain_names need an ACM certificate (in us-east-1) that covers them"
            )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=comment,
            default_behavior=streaming_behavior(origin),
            additional_behaviors={pattern: streaming_behavior(origin) for pattern in streaming_path_patterns},
            http_version=http_version,
            price_class=price_class,
            enable_ipv6=enable_ipv6,
            domain_names=list(domain_names) or None,
            certificate=certificate,
            # Only a custom certificate can raise the viewer TLS floor; with the default *.cloudfront.net
            # certificate CloudFront fixes it at TLSv1.
            minimum_protocol_version=minimum_protocol_version if certificate is not None else None,
            web_acl_id=web_acl_id,
            geo_restriction=geo_restriction,
            enable_logging=log_bucket is not None,
            log_bucket=log_bucket,
            log_file_prefix=log_file_prefix if log_bucket is not None else None,
            log_includes_cookies=log_includes_cookies if log_bucket is not None else None,
        )
