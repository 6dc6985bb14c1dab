"""CDK constructs for streaming (SSE) services, usable from any CDK app: everything a consumer writes is
exported here.

- :class:`StreamingNlb` (with :class:`TlsListener`, :class:`TcpListener`, :class:`IpTargets`): an NLB front
  door whose listener, target group and security group suit long-lived streams.
- :class:`StreamingDistribution` and its origins (:func:`streaming_http_origin`,
  :func:`streaming_vpc_origin`, :class:`OriginTimeouts`): CloudFront with no caching, no compression and
  long origin timeouts.
- :class:`LogBucket`: a hardened bucket for the front doors' logs.
- :class:`CanaryFunction` (what to probe: :class:`PathSpec`, with :class:`AuthSecretSpec`; where:
  :class:`VpcPlacement`), :class:`CanaryAlarms` (per :class:`AlarmedPath`) and :class:`CanaryDashboard`:
  the scheduled streaming canary, its alarms and its dashboard. The path spec is the canary runtime's own
  (``streampath_canary.contract``), re-exported so that a CDK app needs no other import.
- :func:`acknowledge`: one cdk-nag finding acknowledged on one construct, with its reason.

Every prop is a CDK type with a documented default; nothing is looked up, nothing depends on the consuming
app's feature flags, and no construct holds an account, region or name of its own.
"""

from __future__ import annotations

from streampath_canary.contract import DEFAULT_NAMESPACE, AuthSecretSpec, CanarySpecError, PathSpec

from streampath_cdk.canary_alarms import AlarmedPath, CanaryAlarms, PathAlarms
from streampath_cdk.canary_dashboard import CanaryDashboard
from streampath_cdk.canary_function import CanaryFunction, VpcPlacement
from streampath_cdk.log_bucket import LogBucket
from streampath_cdk.nag import acknowledge
from streampath_cdk.streaming_distribution import StreamingDistribution, streaming_behavior
from streampath_cdk.streaming_nlb import (
    IpTargets,
    StreamingNlb,
    TcpListener,
    TlsListener,
    default_health_check,
)
from streampath_cdk.streaming_origins import OriginTimeouts, streaming_http_origin, streaming_vpc_origin

__all__ = [
    "DEFAULT_NAMESPACE",
    "AlarmedPath",
    "AuthSecretSpec",
    "CanaryAlarms",
    "CanaryDashboard",
    "CanaryFunction",
    "CanarySpecError",
    "IpTargets",
    "LogBucket",
    "OriginTimeouts",
    "PathAlarms",
    "PathSpec",
    "StreamingDistribution",
    "StreamingNlb",
    "TcpListener",
    "TlsListener",
    "VpcPlacement",
    "acknowledge",
    "default_health_check",
    "streaming_behavior",
    "streaming_http_origin",
    "streaming_vpc_origin",
]
