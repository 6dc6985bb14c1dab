"""Stack ``StreamPath-<env>-ApiGateway``: a streaming REST API in front of the NLB front door (or a URL).

With ``apigateway.origin.type: nlb`` the API reaches the NLB stack's internal NLB through a VPC link (a
cross-stack reference to the NLB's ARN and DNS name); with ``url`` it calls a public HTTPS origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from constructs import Construct

from streampath import naming
from streampath.config.apigateway import ApiGatewayConfig
from streampath_cdk.log_retention import RETENTION
from streampath_cdk.nag import acknowledge
from streampath_cdk.streaming_nlb import StreamingNlb
from streampath_cdk.streaming_rest_api import PublicOrigin, RestApiDomain, StreamingRestApi, VpcLinkOrigin

ENDPOINT_TYPES: dict[str, apigw.EndpointType] = {
    "regional": apigw.EndpointType.REGIONAL,
    "edge": apigw.EndpointType.EDGE,
}


@dataclass(frozen=True, kw_only=True)
class ApiGatewayStackProps:
    """What the API Gateway stack is built from: its section, and for ``origin.type: nlb`` the NLB stack's
    front door (``nlb``) and how the integration calls it (``nlb_base_url``: the NLB stack's ``base_url``,
    its alias record or DNS name, scheme and port)."""

    env_name: str
    apigateway: ApiGatewayConfig
    nlb: StreamingNlb | None = None
    nlb_base_url: str | None = None


class ApiGatewayStack(cdk.Stack):
    """Composes :class:`StreamingRestApi` from the ``apigateway:`` section; outputs the API's URL."""

    def __init__(
        self, scope: Construct, construct_id: str, *, props: ApiGatewayStackProps, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        cfg, nlb, nlb_base_url = props.apigateway, props.nlb, props.nlb_base_url
        if not cfg.enabled:
            raise ValueError("ApiGatewayStack needs an enabled apigateway section")

        origin: VpcLinkOrigin | PublicOrigin
        if cfg.origin.type == "nlb":
            if nlb is None or nlb_base_url is None:
                raise ValueError("apigateway.origin.type 'nlb' needs the NLB stack's front door")
            origin = VpcLinkOrigin(load_balancer=nlb.load_balancer, base_url=nlb_base_url)
        else:
            assert cfg.origin.url is not None  # guarded by config validation
            origin = PublicOrigin(base_url=cfg.origin.url)

        optional: dict[str, Any] = {}
        if cfg.endpoint_type is not None:
            optional["endpoint_type"] = ENDPOINT_TYPES[cfg.endpoint_type]
        if cfg.stage_name is not None:
            optional["stage_name"] = cfg.stage_name
        if cfg.tracing is not None:
            optional["tracing_enabled"] = cfg.tracing
        if cfg.access_log_retention_days is not None:
            optional["access_log_retention"] = RETENTION[cfg.access_log_retention_days]
        domain = cfg.custom_domain
        self.front_door = StreamingRestApi(
            self,
            "FrontDoor",
            origin=origin,
            throttling_rate_limit=cfg.throttling.rate_limit,
            throttling_burst_limit=cfg.throttling.burst_limit,
            web_acl_arn=cfg.web_acl_arn,
            domain=(
                RestApiDomain(
                    domain_name=domain.domain_name,
                    certificate=acm.Certificate.from_certificate_arn(
                        self, "Certificate", domain.certificate_arn
                    ),
                    base_path=domain.base_path,
                )
                if domain is not None
                else None
            ),
            disable_execute_api_endpoint=cfg.disable_execute_api_endpoint,
            description=f"{cfg.description} ({props.env_name})",
            **optional,
        )
        self._acknowledge_optional_controls(cfg)

        #: What clients call (ends in ``/``): the custom domain's URL, else the stage's execute-api URL.
        self.base_url: str = self.front_door.url
        cdk.CfnOutput(
            self,
            naming.OUTPUT_API_URL,
            value=self.front_door.url,
            description="URL of the API Gateway front door",
        )
        cdk.CfnOutput(self, naming.OUTPUT_API_ID, value=self.front_door.api.rest_api_id)

    def _acknowledge_optional_controls(self, cfg: ApiGatewayConfig) -> None:
        api = self.front_door.api
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            acknowledge(
                api,
                rule,
                "Authorisation belongs to the service behind the API (apigateway.authorization: service): "
                "every route checks the caller's bearer token itself, so API Gateway passes requests "
                "through.",
            )
        if cfg.web_acl_arn is None:
            acknowledge(
                self.front_door.stage,
                "AwsSolutions-APIG3",
                "No WAF web ACL configured for this environment (apigateway.web_acl_arn); the stage's "
                "throttling caps new streams. Production configs attach one.",
            )
