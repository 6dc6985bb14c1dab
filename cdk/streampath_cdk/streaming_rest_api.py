"""An API Gateway REST API that streams proxied responses (SSE) instead of buffering them.

API Gateway REST APIs stream an integration's response when the integration's response transfer mode
is ``STREAM`` (the default, ``BUFFERED``, waits for the whole response, so an SSE client sees nothing
until the answer is complete). What AWS documents about streaming
(https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html and
https://docs.aws.amazon.com/apigateway/latest/developerguide/response-streaming-http.html):

- only ``HTTP_PROXY`` and ``AWS_PROXY`` integrations stream, private integrations (a VPC link with an
  ``HTTP_PROXY`` integration) included, and only on REST APIs; request bodies are never streamed;
- a stream lasts at most 15 minutes: the integration timeout may be raised to 15 minutes for streams
  (AWS's own example sets ``timeoutInMillis: 900000``), which is this construct's default;
- a stream silent for longer than the idle timeout is cut: 5 minutes on Regional and private endpoints,
  30 seconds on edge-optimized ones. The service must send something (an SSE comment such as
  ``: ping``) more often than that;
- the first 10 MB of each response go out at full speed, the rest at 2 MB/s;
- endpoint caching, content encoding and VTL response mapping need the whole response, so none applies
  to a streamed one (this construct enables none of them);
- API Gateway sends the status and headers once it has received all the integration's headers.

The integration reaches the service through :class:`VpcLinkOrigin` (a VPC link to a private Network
Load Balancer) or :class:`PublicOrigin` (an HTTPS URL on the internet). Every request, at the root and
under the ``{proxy+}`` resource, any method, is passed through unchanged.

A VPC link (V1, the link CDK's ``VpcLink`` builds) reaches the NLB over AWS PrivateLink. An NLB with a
security group then evaluates its inbound rules against PrivateLink traffic unless
``EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic`` is ``off``, and API Gateway's addresses are not
published, so AWS's setup guide turns that evaluation off
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-nlb-for-vpclink-using-console.html).
``StreamingNlb(enforce_inbound_rules_on_private_link_traffic=False)`` does so. The NLB and the API must
be in the same account.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from streampath_cdk.nag import acknowledge

#: The longest stream API Gateway allows, and so the integration timeout a stream needs.
MAX_STREAM_DURATION: Final = cdk.Duration.minutes(15)
#: The shortest integration timeout API Gateway accepts.
MIN_INTEGRATION_TIMEOUT: Final = cdk.Duration.millis(50)
#: The endpoint types this construct builds (a private endpoint also needs a resource policy and an
#: interface VPC endpoint, which are the caller's network, not this construct's).
ENDPOINT_TYPES: Final = (apigw.EndpointType.REGIONAL, apigw.EndpointType.EDGE)

#: One JSON object per request: who asked, what for, and how the service and API Gateway answered.
#: ``integrationLatency`` is the service's time to its response headers; ``responseLatency`` the whole
#: request's. Header values (tokens) are never logged.
ACCESS_LOG_FIELDS: Final[Mapping[str, str]] = {
    "requestId": apigw.AccessLogField.context_request_id(),
    "extendedRequestId": apigw.AccessLogField.context_extended_request_id(),
    "requestTimeEpoch": apigw.AccessLogField.context_request_time_epoch(),
    "sourceIp": apigw.AccessLogField.context_identity_source_ip(),
    "protocol": apigw.AccessLogField.context_protocol(),
    "httpMethod": apigw.AccessLogField.context_http_method(),
    "resourcePath": apigw.AccessLogField.context_resource_path(),
    "status": apigw.AccessLogField.context_status(),
    "integrationStatus": apigw.AccessLogField.context_integration_status(),
    "integrationLatency": apigw.AccessLogField.context_integration_latency(),
    "responseLatency": apigw.AccessLogField.context_response_latency(),
    "responseLength": apigw.AccessLogField.context_response_length(),
    "integrationError": apigw.AccessLogField.context_integration_error_message(),
    "error": apigw.AccessLogField.context_error_message(),
}


@dataclass(frozen=True, kw_only=True)
class VpcLinkOrigin:
    """The service behind a private Network Load Balancer, reached through a VPC link.

    ``load_balancer``: the NLB (with PrivateLink inbound-rule enforcement off, see the module docstring).
    ``base_url``: ``http://host:port`` or ``https://host:port`` of the NLB's listener. API Gateway sends
    the host as the ``Host`` header and, for ``https``, checks the listener's certificate against it, so
    for TLS use a name the certificate covers (the NLB's alias record), not its ``*.elb`` name.
    ``vpc_link``: an existing VPC link to the NLB; default: a new one.
    """

    load_balancer: elbv2.INetworkLoadBalancer
    base_url: str
    vpc_link: apigw.IVpcLink | None = None

    def __post_init__(self) -> None:
        _check_base_url("VpcLinkOrigin.base_url", self.base_url, ("http://", "https://"))


@dataclass(frozen=True, kw_only=True)
class PublicOrigin:
    """The service at a public HTTPS URL (``https://origin.example.com``); only TLS leaves AWS."""

    base_url: str

    def __post_init__(self) -> None:
        _check_base_url("PublicOrigin.base_url", self.base_url, ("https://",))


@dataclass(frozen=True, kw_only=True)
class RestApiDomain:
    """A custom domain for the API: the name clients use, its ACM certificate and the base path.

    ``certificate``: in the API's Region for a Regional endpoint, in us-east-1 for an edge-optimized one.
    ``base_path``: the path the API is mapped under (``None``: the domain's root).
    ``security_policy``: ``TLS_1_2``: TLS 1.2 and up, which every browser speaks.
    """

    domain_name: str
    certificate: acm.ICertificate
    base_path: str | None = None
    security_policy: apigw.SecurityPolicy = apigw.SecurityPolicy.TLS_1_2

    def __post_init__(self) -> None:
        if self.security_policy == apigw.SecurityPolicy.TLS_1_0:
            raise ValueError("RestApiDomain.security_policy: TLS_1_0 is refused; use TLS_1_2 or newer")


class StreamingRestApi(Construct):
    """A REST API whose root and ``{proxy+}`` resources pass any request to the service and stream back.

    ``origin``: :class:`VpcLinkOrigin` (a private NLB) or :class:`PublicOrigin`.
    ``endpoint_type``: ``REGIONAL``. A Regional endpoint cuts a silent stream after 5 minutes, an
    edge-optimized one after 30 s (a heartbeat every 30 s is easy to miss); put your own CloudFront in
    front of a Regional API if you want an edge. Only ``REGIONAL`` and ``EDGE`` are built here.
    ``stage_name``: ``"live"``.
    ``integration_timeout``: 15 minutes, the longest a stream may last (AWS accepts 50 ms up to that for
    a streaming integration).
    ``throttling_rate_limit``: 50 requests per second and ``throttling_burst_limit``: 100, for the whole
    stage. Each request is a stream that holds a connection to the service for minutes, so a stage-wide
    cap far below the account's 10,000 per second protects the service from a burst of new streams; raise
    them to what the service can hold.
    ``access_log_retention``: three months, for the JSON access logs (:data:`ACCESS_LOG_FIELDS`).
    ``execution_log_level``: ``ERROR``: API Gateway logs the requests that fail (a cut stream, an
    integration error) without logging bodies. ``data_trace_enabled`` stays off, so request and response
    bodies (tokens, chat content) are never written to CloudWatch.
    ``cloud_watch_role``: True. API Gateway writes any log only when the account's CloudWatch role is set
    (one per account and Region): this creates it and keeps it when the stack is deleted. Pass False when
    the account already has one.
    ``tracing_enabled``: False (X-Ray traces cost per request; turn on when you need them).
    ``authorizer``: an authorizer for every method; None leaves authorisation to the service, and the
    caller acknowledges cdk-nag's ``AwsSolutions-APIG4`` and ``AwsSolutions-COG4`` saying where it is done.
    ``web_acl_arn``: a WAFv2 web ACL (REGIONAL scope) associated with the stage; None: no WAF, and
    ``AwsSolutions-APIG3`` is the caller's to acknowledge.
    ``domain``: :class:`RestApiDomain`; None: clients use the ``execute-api`` URL.
    ``disable_execute_api_endpoint``: False; with a custom domain, True makes it the only way in.

    No method caches (a streamed response cannot be cached) and API Gateway compresses nothing (no
    ``minimum_compression_size``).

    Attributes: ``api``, ``stage``, ``access_log_group``, ``vpc_link`` (or None), ``domain`` (or None),
    ``url`` (what clients call, ending in ``/``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        origin: VpcLinkOrigin | PublicOrigin,
        endpoint_type: apigw.EndpointType = apigw.EndpointType.REGIONAL,
        stage_name: str = "live",
        integration_timeout: cdk.Duration = MAX_STREAM_DURATION,
        throttling_rate_limit: float = 50,
        throttling_burst_limit: int = 100,
        access_log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        execution_log_level: apigw.MethodLoggingLevel = apigw.MethodLoggingLevel.ERROR,
        cloud_watch_role: bool = True,
        tracing_enabled: bool = False,
        authorizer: apigw.IAuthorizer | None = None,
        web_acl_arn: str | None = None,
        domain: RestApiDomain | None = None,
        disable_execute_api_endpoint: bool = False,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        _check_props(
            endpoint_type=endpoint_type,
            integration_timeout=integration_timeout,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
            execution_log_level=execution_log_level,
            domain=domain,
            disable_execute_api_endpoint=disable_execute_api_endpoint,
        )
        self.access_log_group = logs.LogGroup(
            self, "AccessLogs", retention=access_log_retention, removal_policy=cdk.RemovalPolicy.RETAIN
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            description=description,
            endpoint_configuration=apigw.EndpointConfiguration(types=[endpoint_type]),
            cloud_watch_role=cloud_watch_role,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            disable_execute_api_endpoint=disable_execute_api_endpoint,
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(dict(ACCESS_LOG_FIELDS))),
                throttling_rate_limit=throttling_rate_limit,
                throttling_burst_limit=throttling_burst_limit,
                logging_level=execution_log_level,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=tracing_enabled,
                caching_enabled=False,
                cache_cluster_enabled=False,
            ),
        )
        self.stage = self.api.deployment_stage
        if cloud_watch_role:
            role = self.api.node.find_child("CloudWatchRole")
            acknowledge(
                role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account's API Gateway logging role uses AWS's managed policy "
                "AmazonAPIGatewayPushToCloudWatchLogs, written for exactly this role (logs only).",
            )

        self.vpc_link: apigw.IVpcLink | None = None
        if isinstance(origin, VpcLinkOrigin):
            self.vpc_link = origin.vpc_link or apigw.VpcLink(
                self,
                "VpcLink",
                targets=[origin.load_balancer],
                description="streampath: API Gateway to the private streaming NLB",
            )
        base_url = origin.base_url.rstrip("/")
        authorization_type = None if authorizer is not None else apigw.AuthorizationType.NONE
        self.api.root.add_method(
            "ANY",
            self._integration(f"{base_url}/", integration_timeout, proxy=False),
            authorizer=authorizer,
            authorization_type=authorization_type,
        )
        self.proxy_resource = self.api.root.add_resource("{proxy+}")
        self.proxy_resource.add_method(
            "ANY",
            self._integration(f"{base_url}/{{proxy}}", integration_timeout, proxy=True),
            request_parameters={"method.request.path.proxy": True},
            authorizer=authorizer,
            authorization_type=authorization_type,
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "A proxy passes any request to the service unchanged, and the service validates its own input "
            "(its request models); API Gateway has no schema of the proxied routes to validate against.",
        )

        if web_acl_arn is not None:
            wafv2.CfnWebACLAssociation(
                self, "WebAclAssociation", resource_arn=self.stage.stage_arn, web_acl_arn=web_acl_arn
            )

        self.domain: apigw.DomainName | None = None
        if domain is not None:
            self.domain = apigw.DomainName(
                self,
                "Domain",
                domain_name=domain.domain_name,
                certificate=domain.certificate,
                endpoint_type=endpoint_type,
                security_policy=domain.security_policy,
            )
            self.domain.add_base_path_mapping(self.api, base_path=domain.base_path, stage=self.stage)
            path = f"{domain.base_path}/" if domain.base_path else ""
            self.url: str = f"https://{domain.domain_name}/{path}"
        else:
            self.url = self.api.url

    def _integration(self, url: str, timeout: cdk.Duration, *, proxy: bool) -> apigw.HttpIntegration:
        return apigw.HttpIntegration(
            url,
            http_method="ANY",
            proxy=True,
            options=apigw.IntegrationOptions(
                connection_type=(
                    apigw.ConnectionType.VPC_LINK
                    if self.vpc_link is not None
                    else apigw.ConnectionType.INTERNET
                ),
                vpc_link=self.vpc_link,
                timeout=timeout,
                response_transfer_mode=apigw.ResponseTransferMode.STREAM,
                request_parameters=(
                    {"integration.request.path.proxy": "method.request.path.proxy"} if proxy else None
                ),
            ),
        )


def _check_props(
    *,
    endpoint_type: apigw.EndpointType,
    integration_timeout: cdk.Duration,
    throttling_rate_limit: float,
    throttling_burst_limit: int,
    execution_log_level: apigw.MethodLoggingLevel,
    domain: RestApiDomain | None,
    disable_execute_api_endpoint: bool,
) -> None:
    if endpoint_type not in ENDPOINT_TYPES:
        raise ValueError(
            "endpoint_type: REGIONAL or EDGE; a PRIVATE endpoint needs a resource policy and an interface "
            "VPC endpoint, which this construct does not build"
        )
    millis = integration_timeout.to_milliseconds()
    lo, hi = MIN_INTEGRATION_TIMEOUT.to_milliseconds(), MAX_STREAM_DURATION.to_milliseconds()
    if not cdk.Token.is_unresolved(millis) and not lo <= millis <= hi:
        raise ValueError(
            f"integration_timeout: a streaming integration takes {lo} ms to {hi} ms (15 minutes), "
            f"got {millis} ms"
        )
    if throttling_rate_limit <= 0 or throttling_burst_limit <= 0:
        raise ValueError(
            "throttling_rate_limit and throttling_burst_limit: must be positive (a zero limit refuses "
            f"every request), got {throttling_rate_limit:g} and {throttling_burst_limit}"
        )
    if execution_log_level == apigw.MethodLoggingLevel.OFF:
        raise ValueError(
            "execution_log_level: OFF hides cut streams and integration errors; use ERROR (the default) "
            "or INFO"
        )
    if disable_execute_api_endpoint and domain is None:
        raise ValueError("disable_execute_api_endpoint: needs a domain, or no client could reach the API")


def _check_base_url(prop: str, url: str, schemes: tuple[str, ...]) -> None:
    if not url.lower().startswith(schemes):
        raise ValueError(f"{prop}: must start with {' or '.join(schemes)}, got {url!r}")
    rest = url.split("://", 1)[1]
    if not rest or "?" in rest or "#" in rest:
        raise ValueError(f"{prop}: a scheme, a host and an optional port and path, got {url!r}")
