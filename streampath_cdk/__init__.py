"""CDK constructs for streaming (SSE) services, usable from any CDK app.

- :class:`StreamingNlb` (with :class:`TlsListener`, :class:`TcpListener`, :class:`IpTargets`): an NLB front
  door whose listener, target group and security group suit long-lived streams.
- :class:`StreamingDistribution` and the origins of :mod:`streampath_cdk.streaming_origins`: CloudFront with
  no caching, no compression and long origin timeouts.
- :class:`StreamingRestApi` (with :class:`VpcLinkOrigin`, :class:`PublicOrigin`, :class:`RestApiDomain`):
  an API Gateway REST API whose proxy integration streams (``ResponseTransferMode: STREAM``).
- :class:`LogBucket`: a hardened bucket for the front doors' logs.

Every prop is a CDK type with a documented default; nothing is looked up, nothing depends on the consuming
app's feature flags, and no construct holds an account, region or name of its own.
"""

from __future__ import annotations

from streampath_cdk.log_bucket import LogBucket
from streampath_cdk.streaming_distribution import StreamingDistribution, streaming_behavior
from streampath_cdk.streaming_nlb import (
    IpTargets,
    StreamingNlb,
    TcpListener,
    TlsListener,
    default_health_check,
)
from streampath_cdk.streaming_origins import (
    OriginTimeouts,
    shared_vpc_origin,
    streaming_http_origin,
    streaming_vpc_origin,
)
from streampath_cdk.streaming_rest_api import PublicOrigin, RestApiDomain, StreamingRestApi, VpcLinkOrigin

__all__ = [
    "IpTargets",
    "LogBucket",
    "OriginTimeouts",
    "PublicOrigin",
    "RestApiDomain",
    "StreamingDistribution",
    "StreamingNlb",
    "StreamingRestApi",
    "TcpListener",
    "TlsListener",
    "VpcLinkOrigin",
    "default_health_check",
    "shared_vpc_origin",
    "streaming_behavior",
    "streaming_http_origin",
    "streaming_vpc_origin",
]
