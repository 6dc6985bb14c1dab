"""``cloudfront:`` section — the CloudFront front door (no cache, no compression, long origin timeouts)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt, StrictStr, model_validator

from streampath.config.common import (
    AcmCertificateArn,
    Bool,
    BucketConfig,
    DnsRecordConfig,
    DomainName,
    FieldProblem,
    HttpHeaderName,
    Port,
    SecretArn,
    StrictModel,
    int_range,
    matching,
    unique,
)

HttpVersionName = Literal["HTTP1_1", "HTTP2", "HTTP2_AND_3", "HTTP3"]
PriceClassName = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
PathPattern = Annotated[
    str,
    matching(
        r"/[A-Za-z0-9_\-.*$/~\"'@:+&]{0,254}", "a CloudFront path pattern starting with '/' like '/api/*'"
    ),
]
CountryCode = Annotated[str, matching(r"[A-Z]{2}", "an ISO 3166-1 alpha-2 country code like 'DE'")]
WafWebAclArn = Annotated[
    str,
    matching(
        r"arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[A-Za-z0-9_-]{1,128}/[0-9a-f-]{36}",
        "a WAFv2 web ACL ARN with CLOUDFRONT scope "
        "(arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)",
    ),
]


class OriginSecretHeaderConfig(StrictModel):
    """A header CloudFront adds to every origin request, its value read from Secrets Manager at deploy time.

    The template holds only a ``{{resolve:secretsmanager:...}}`` dynamic reference, never the value.
    """

    name: HttpHeaderName = "X-Origin-Verify"
    secret_arn: SecretArn
    json_key: StrictStr | None = None


class OriginConfig(StrictModel):
    #: ``domain``: an existing public HTTPS name (the current API); ``nlb``: the NLB front door over the
    #: internet; ``vpc_origin``: the NLB as a private CloudFront VPC origin (needs a TCP listener).
    type: Literal["domain", "nlb", "vpc_origin"]
    #: Required for ``domain``. For ``nlb``: a name the NLB's certificate covers
    #: (default: ``nlb.dns.record_name``).
    domain_name: DomainName | None = None
    #: ``http`` only for ``vpc_origin`` (traffic stays on the AWS network); public origins are HTTPS only.
    protocol: Literal["https", "http"] = "https"
    #: Default: the NLB listener port for ``nlb``/``vpc_origin``, else 443 (https) or 80 (http).
    port: Port | None = None
    read_timeout_seconds: Annotated[StrictInt, int_range(1, 180)] = 60
    keepalive_timeout_seconds: Annotated[StrictInt, int_range(1, 180)] = 60
    #: Unset: no overall cap on a response's duration (what a long stream needs).
    response_completion_timeout_seconds: Annotated[StrictInt, int_range(1, 3600)] | None = None
    connection_attempts: Annotated[StrictInt, int_range(1, 3)] = 3
    connection_timeout_seconds: Annotated[StrictInt, int_range(1, 10)] = 10
    secret_header: OriginSecretHeaderConfig | None = None

    @model_validator(mode="after")
    def _origin_rules(self) -> OriginConfig:
        if self.type == "domain" and self.domain_name is None:
            raise FieldProblem("domain_name", "required when type is 'domain'")
        if self.protocol == "http" and self.type != "vpc_origin":
            raise FieldProblem(
                "protocol",
                f"must be 'https' for a public origin (type {self.type!r}); 'http' is for vpc_origin only",
            )
        if self.secret_header is not None and self.type == "vpc_origin":
            raise FieldProblem(
                "secret_header", "only for a public origin: a VPC origin is reachable from CloudFront alone"
            )
        if (
            self.response_completion_timeout_seconds is not None
            and self.response_completion_timeout_seconds < self.read_timeout_seconds
        ):
            raise FieldProblem(
                "response_completion_timeout_seconds",
                f"must be at least read_timeout_seconds ({self.read_timeout_seconds}), "
                f"got {self.response_completion_timeout_seconds}",
            )
        return self


class CustomDomainConfig(StrictModel):
    domain_names: Annotated[tuple[DomainName, ...], Field(min_length=1, max_length=100)]
    #: CloudFront only takes certificates from us-east-1.
    certificate_arn: AcmCertificateArn

    @model_validator(mode="after")
    def _us_east_1(self) -> CustomDomainConfig:
        unique(list(self.domain_names), "domain name")
        region = self.certificate_arn.split(":")[3]
        if region != "us-east-1":
            raise FieldProblem(
                "certificate_arn",
                f"must be a certificate in us-east-1 (CloudFront's region), got one in {region!r}",
            )
        return self


class LoggingConfig(BucketConfig):
    include_cookies: Bool = False


class CloudFrontConfig(StrictModel):
    enabled: Bool = True
    comment: Annotated[str, matching(r"[^\n]{0,128}", "a one-line comment of at most 128 characters")] = (
        "streampath streaming front door"
    )
    origin: OriginConfig
    #: Path patterns that stream (the default behaviour streams too; these are explicit for clarity and so
    #: other behaviours can be added later without touching streaming).
    streaming_path_patterns: Annotated[tuple[PathPattern, ...], Field(min_length=1, max_length=25)] = (
        "/api/*",
    )
    http_version: HttpVersionName = "HTTP2_AND_3"
    price_class: PriceClassName = "PriceClass_100"
    enable_ipv6: Bool = True
    custom_domain: CustomDomainConfig | None = None
    web_acl_arn: WafWebAclArn | None = None
    #: Countries allowed to reach the distribution; empty means no geo restriction.
    allowed_countries: tuple[CountryCode, ...] = ()
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    dns: DnsRecordConfig | None = None

    @model_validator(mode="after")
    def _rules(self) -> CloudFrontConfig:
        unique(list(self.streaming_path_patterns), "path pattern")
        unique(list(self.allowed_countries), "country")
        if self.dns is not None:
            if self.custom_domain is None:
                raise FieldProblem(
                    "dns", "needs custom_domain (the record name must be one of its domain_names)"
                )
            if self.dns.record_name not in self.custom_domain.domain_names:
                raise FieldProblem(
                    "dns.record_name",
                    f"{self.dns.record_name!r} is not one of custom_domain.domain_names "
                    f"({', '.join(self.custom_domain.domain_names)})",
                )
        return self
