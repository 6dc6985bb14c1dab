"""``apigateway:`` section — the API Gateway front door (a REST API whose proxy integration streams).

Keys left out (``null``) take ``streampath_cdk.StreamingRestApi``'s documented defaults, so each default
has one home. What needs the rest of the config (the ``nlb`` origin needs an internal NLB front door; a
certificate and a web ACL in the right Region) is checked by :func:`check_apigateway`, which
``AppConfig`` calls.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StrictInt, StrictStr, model_validator
from streampath_canary.contract import LOG_RETENTION_DAYS

from streampath.config.common import (
    AcmCertificateArn,
    Bool,
    DomainName,
    FieldProblem,
    StrictModel,
    int_range,
    matching,
    one_of,
)
from streampath.config.nlb import NlbConfig

__all__ = ["ApiGatewayConfig", "check_apigateway", "reaches_nlb"]

StageName = Annotated[str, matching(r"[A-Za-z0-9_]{1,128}", "a stage name of letters, digits and '_'")]
BasePath = Annotated[
    str, matching(r"[A-Za-z0-9._~-]{1,128}", "a base path segment like 'chat' (no leading '/')")
]
HttpsBaseUrl = Annotated[
    str,
    matching(
        r"https://[a-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9/_.~%-]*)?",
        "an https:// URL with no query, like 'https://origin.example.com'",
    ),
]
RegionalWebAclArn = Annotated[
    str,
    matching(
        r"arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[A-Za-z0-9_-]{1,128}/[0-9a-f-]{36}",
        "a WAFv2 web ACL ARN with REGIONAL scope "
        "(arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)",
    ),
]


class ApiGatewayOriginConfig(StrictModel):
    #: ``nlb``: the environment's NLB front door (internal) through a VPC link; ``url``: a public HTTPS URL.
    type: Literal["nlb", "url"]
    #: Required for ``url``: where the service answers (``https://origin.example.com``).
    url: HttpsBaseUrl | None = None

    @model_validator(mode="after")
    def _url_with_url_type(self) -> ApiGatewayOriginConfig:
        if self.type == "url" and self.url is None:
            raise FieldProblem("url", "required when type is 'url'")
        if self.type == "nlb" and self.url is not None:
            raise FieldProblem("url", "only for type 'url'; type 'nlb' calls the NLB front door")
        return self


class ThrottlingConfig(StrictModel):
    """The stage's throttling: each request is a stream that holds the service for minutes."""

    rate_limit: Annotated[StrictInt, int_range(1, 10000)]
    burst_limit: Annotated[StrictInt, int_range(1, 5000)]


class ApiCustomDomainConfig(StrictModel):
    domain_name: DomainName
    #: In the environment's Region for a Regional endpoint, in us-east-1 for an edge-optimized one.
    certificate_arn: AcmCertificateArn
    base_path: BasePath | None = None


class ApiGatewayConfig(StrictModel):
    enabled: Bool = True
    #: Default (null): Regional, whose idle timeout is 5 minutes; an edge-optimized endpoint cuts a
    #: stream silent for 30 s.
    endpoint_type: Literal["regional", "edge"] | None = None
    #: Default (null): the construct's stage name (``live``).
    stage_name: StageName | None = None
    origin: ApiGatewayOriginConfig
    throttling: ThrottlingConfig
    #: Where each request is authorised. ``service``: the service behind the API checks each caller's
    #: token itself (the only choice built today; an authorizer would move that check into API Gateway).
    authorization: Literal["service"]
    tracing: Bool | None = None
    access_log_retention_days: Annotated[StrictInt, one_of(*LOG_RETENTION_DAYS)] | None = None
    web_acl_arn: RegionalWebAclArn | None = None
    custom_domain: ApiCustomDomainConfig | None = None
    #: Only with a custom domain: clients can then reach the API by that name alone.
    disable_execute_api_endpoint: Bool = False
    description: Annotated[StrictStr, matching(r"[^\n]{0,256}", "one line of at most 256 characters")] = (
        "streampath streaming front door"
    )

    @property
    def is_edge(self) -> bool:
        return self.endpoint_type == "edge"

    @model_validator(mode="after")
    def _domain_rules(self) -> ApiGatewayConfig:
        if self.disable_execute_api_endpoint and self.custom_domain is None:
            raise FieldProblem(
                "disable_execute_api_endpoint", "needs custom_domain, or no client could reach the API"
            )
        return self


def reaches_nlb(section: ApiGatewayConfig | None) -> bool:
    """Whether an enabled API Gateway front door calls the NLB front door through a VPC link."""
    return section is not None and section.enabled and section.origin.type == "nlb"


def check_apigateway(section: ApiGatewayConfig | None, nlb: NlbConfig | None, region: str) -> None:
    """The rules that need the rest of the config; a :class:`FieldProblem` names the key (from the top)."""
    if section is None or not section.enabled:
        return
    if reaches_nlb(section):
        if nlb is None:
            raise FieldProblem("apigateway.origin.type", "'nlb' needs the nlb front door enabled")
        if nlb.internet_facing:
            raise FieldProblem(
                "nlb.internet_facing",
                "must be false when apigateway.origin.type is 'nlb': clients would otherwise bypass the "
                "API (its throttling and WAF) by calling the public NLB",
            )
        if nlb.listener.mode == "tls" and nlb.dns is None:
            raise FieldProblem(
                "nlb.dns",
                "required for a TLS listener behind API Gateway: the integration calls the NLB by a name "
                "its certificate covers, which the NLB's *.elb.amazonaws.com name never is",
            )
    domain = section.custom_domain
    if domain is not None:
        cert_region = domain.certificate_arn.split(":")[3]
        wanted = "us-east-1" if section.is_edge else region
        if cert_region != wanted:
            endpoint = "an edge-optimized" if section.is_edge else "a Regional"
            raise FieldProblem(
                "apigateway.custom_domain.certificate_arn",
                f"{endpoint} endpoint needs a certificate in {wanted!r}, got one in {cert_region!r}",
            )
    if section.web_acl_arn is not None:
        acl_region = section.web_acl_arn.split(":")[3]
        if acl_region != region:
            raise FieldProblem(
                "apigateway.web_acl_arn",
                f"must be a web ACL in the API's Region {region!r}, got one in {acl_region!r}",
            )
