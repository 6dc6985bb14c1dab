"""CloudFront origins for streaming responses: long timeouts between packets, no overall cap, TLS 1.2 up.

CloudFront's origin read timeout applies *between packets*: a stream that is silent for longer is cut, so
the service's heartbeat must come more often than ``read_timeout``. CloudFront's defaults, which CDK
keeps (30 s read, 5 s keep-alive), suit short requests. :class:`OriginTimeouts` holds the streaming
defaults, and :func:`streaming_http_origin` and :func:`streaming_vpc_origin` build the two origin kinds
with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from streampath_cdk.streaming_nlb import StreamingNlb

#: The longest read timeout CloudFront allows without a quota increase.
DEFAULT_READ_TIMEOUT: Final = cdk.Duration.seconds(60)
DEFAULT_KEEPALIVE_TIMEOUT: Final = cdk.Duration.seconds(60)
#: CloudFront's own default, written out.
DEFAULT_CONNECTION_TIMEOUT: Final = cdk.Duration.seconds(10)


@dataclass(frozen=True, kw_only=True)
class OriginTimeouts:
    """How long CloudFront waits on the origin.

    ``read_timeout``: 60 s, the most CloudFront allows without a quota increase (its default is 30 s).
    It is the longest silence a stream survives, so heartbeat more often than this.
    ``keepalive_timeout``: 60 s (CloudFront's default is 5 s). A new stream then reuses a warm origin
    connection, with no new TCP and TLS handshake before its first byte.
    ``response_completion_timeout``: None, so a response of any duration is allowed. A value caps every
    stream's total length, and must be at least ``read_timeout``.
    ``connection_attempts``: 3 and ``connection_timeout``: 10 s (CloudFront's own defaults, written out so
    the template says what applies).
    """

    read_timeout: cdk.Duration = DEFAULT_READ_TIMEOUT
    keepalive_timeout: cdk.Duration = DEFAULT_KEEPALIVE_TIMEOUT
    response_completion_timeout: cdk.Duration | None = None
    connection_attempts: int = 3
    connection_timeout: cdk.Duration = DEFAULT_CONNECTION_TIMEOUT

    def origin_kwargs(self) -> dict[str, Any]:
        """Keyword arguments shared by ``HttpOrigin`` and ``VpcOrigin``."""
        return {
            "read_timeout": self.read_timeout,
            "keepalive_timeout": self.keepalive_timeout,
            "response_completion_timeout": self.response_completion_timeout,
            "connection_attempts": self.connection_attempts,
            "connection_timeout": self.connection_timeout,
        }


def streaming_http_origin(
    domain_name: str,
    *,
    timeouts: OriginTimeouts | None = None,
    https_port: int = 443,
    custom_headers: Mapping[str, str] | None = None,
) -> origins.HttpOrigin:
    """A public origin reached over HTTPS only (TLS 1.2 and up) with streaming timeouts.

    ``custom_headers``: headers CloudFront adds to every origin request (an origin-verify secret: pass a
    ``SecretValue`` dynamic reference, never the value).
    """
    return origins.HttpOrigin(
        domain_name,
        protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        https_port=https_port,
        custom_headers=dict(custom_headers) if custom_headers is not None else None,
        **(timeouts or OriginTimeouts()).origin_kwargs(),
    )


def streaming_vpc_origin(
    nlb: StreamingNlb | elbv2.INetworkLoadBalancer,
    *,
    protocol_policy: cloudfront.OriginProtocolPolicy = cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
    port: int | None = None,
    domain_name: str | None = None,
    vpc_origin_name: str | None = None,
    timeouts: OriginTimeouts | None = None,
) -> origins.VpcOrigin:
    """A private CloudFront VPC origin on an NLB, with streaming timeouts.

    ``protocol_policy``: ``HTTPS_ONLY`` (TLS 1.2 and up to the targets' own certificate, which must cover
    ``domain_name``); ``HTTP_ONLY`` keeps plain HTTP on the AWS network.
    ``port``: the :class:`StreamingNlb`'s listener port when one is given, else 443 or 80.
    A VPC origin cannot use an NLB with a TLS listener: a :class:`StreamingNlb` with a ``TlsListener`` is
    refused here (CDK synthesises it; the deployment fails).
    """
    if isinstance(nlb, StreamingNlb):
        if nlb.terminates_tls:
            raise ValueError(
                "nlb: a CloudFront VPC origin cannot use an NLB with a TLS listener; give the StreamingNlb "
                "a TcpListener (TLS passthrough on 443 with protocol_policy HTTPS_ONLY, or plain HTTP)"
            )
        port = port or nlb.listener_props.port
        load_balancer: elbv2.INetworkLoadBalancer = nlb.load_balancer
    else:
        load_balancer = nlb
    https = protocol_policy == cloudfront.OriginProtocolPolicy.HTTPS_ONLY
    if protocol_policy == cloudfront.OriginProtocolPolicy.MATCH_VIEWER:
        raise ValueError("protocol_policy: choose HTTPS_ONLY or HTTP_ONLY for a streaming VPC origin")
    port = port or (443 if https else 80)
    return origins.VpcOrigin.with_network_load_balancer(
        load_balancer,
        domain_name=domain_name,
        protocol_policy=protocol_policy,
        origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2] if https else None,
        vpc_origin_name=vpc_origin_name,
        https_port=port if https else None,
        http_port=None if https else port,
        **(timeouts or OriginTimeouts()).origin_kwargs(),
    )
