"""``cloudfront:`` section — the CloudFront front door (no cache, no compression, long origin timeouts)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt, StrictStr, model_validator

from streampath.config.common import (
    AccountId,
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

#: CloudFront's default quotas (QUOTAS_URL: "Response timeout per origin", "Keep-alive timeout per
#: origin"): a larger value
#: fails the deployment unless Service Quotas raised the quota for the account, which ``quota_raised`` says.
QUOTAS_URL = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html"
DEFAULT_QUOTA_READ_TIMEOUT_SECONDS = 120
DEFAULT_QUOTA_KEEPALIVE_TIMEOUT_SECONDS = 300
#: The longest response completion timeout CloudFront accepts.
MAX_RESPONSE_COMPLETION_TIMEOUT_SECONDS = 3600

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
    #: internet; ``vpc_origin``: the NLB as a private CloudFront VPC origin (needs a TCP listener);
    #: ``shared_vpc_origin``: a VPC origin another account created and shared with this one through AWS
    #: RAM (``vpc_origin_id`` and ``owner_account_id``; its NLB, ports and protocol are that account's).
    type: Literal["domain", "nlb", "vpc_origin", "shared_vpc_origin"]
    #: Required for ``domain``. For ``nlb``: a name the NLB's certificate covers
    #: (default: ``nlb.dns.record_name``).
    domain_name: DomainName | None = None
    #: ``http`` only for ``vpc_origin`` (traffic stays on the AWS network); public origins are HTTPS only.
    protocol: Literal["https", "http"] = "https"
    #: Default: the NLB listener port for ``nlb``/``vpc_origin``, else 443 (https) or 80 (http).
    port: Port | None = None
    #: The longest silence between packets a stream survives. Above DEFAULT_QUOTA_READ_TIMEOUT_SECONDS only
    #: with ``quota_raised: true``.
    read_timeout_seconds: Annotated[StrictInt, int_range(1, MAX_RESPONSE_COMPLETION_TIMEOUT_SECONDS)] = 60
    #: Above DEFAULT_QUOTA_KEEPALIVE_TIMEOUT_SECONDS only with ``quota_raised: true``.
    keepalive_timeout_seconds: Annotated[StrictInt, int_range(1, MAX_RESPONSE_COMPLETION_TIMEOUT_SECONDS)] = (
        60
    )
    #: True once Service Quotas raised the account's "Response timeout per origin" (or keep-alive) quota
    #: to at least the values above.
    quota_raised: Bool = False
    #: Unset (the default for streams): no overall cap on a response's duration. A value cuts every stream
    #: that lasts longer, however lively (a chat answer, a long tool run), so set one only to bound the
    #: cost of a runaway origin, above the longest stream the service sends.
    response_completion_timeout_seconds: (
        Annotated[StrictInt, int_range(1, MAX_RESPONSE_COMPLETION_TIMEOUT_SECONDS)] | None
    ) = None
    connection_attempts: Annotated[StrictInt, int_range(1, 3)] = 3
    connection_timeout_seconds: Annotated[StrictInt, int_range(1, 10)] = 10
    secret_header: OriginSecretHeaderConfig | None = None
    #: ``shared_vpc_origin`` only: the shared VPC origin's id and the account that owns it.
    vpc_origin_id: Annotated[str, matching(r"[A-Za-z0-9_-]{1,64}", "a CloudFront VPC origin id")] | None = (
        None
    )
    owner_account_id: AccountId | None = None

    @property
    def uses_environment_nlb(self) -> bool:
        """Whether the origin is this environment's NLB front door (and so needs the nlb section)."""
        return self.type in ("nlb", "vpc_origin")

    @model_validator(mode="after")
    def _origin_rules(self) -> OriginConfig:
        if self.type == "domain" and self.domain_name is None:
            raise FieldProblem("domain_name", "required when type is 'domain'")
        self._check_quotas()
        self._check_shared_vpc_origin()
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

    def _check_quotas(self) -> None:
        if self.quota_raised:
            return
        for key, value, quota, name in (
            (
                "read_timeout_seconds",
                self.read_timeout_seconds,
                DEFAULT_QUOTA_READ_TIMEOUT_SECONDS,
                "Response",
            ),
            (
                "keepalive_timeout_seconds",
                self.keepalive_timeout_seconds,
                DEFAULT_QUOTA_KEEPALIVE_TIMEOUT_SECONDS,
                "Keep-alive",
            ),
        ):
            if value > quota:
                raise FieldProblem(
                    key,
                    f"{value} is above CloudFront's default quota of {quota} s, and the deployment fails "
                    f'unless the account\'s "{name} timeout per origin" quota was raised (Service Quotas, '
                    f"{QUOTAS_URL}): lower it, or set quota_raised: true once the increase is approved",
                )

    def _check_shared_vpc_origin(self) -> None:
        shared = self.type == "shared_vpc_origin"
        for key in ("vpc_origin_id", "owner_account_id"):
            if shared and getattr(self, key) is None:
                raise FieldProblem(key, "required when type is 'shared_vpc_origin'")
            if not shared and getattr(self, key) is not None:
                raise FieldProblem(key, f"only for type 'shared_vpc_origin', got type {self.type!r}")
        if shared and self.domain_name is None:
            raise FieldProblem(
                "domain_name",
                "required when type is 'shared_vpc_origin': the name CloudFront sends to the origin (the "
                "owner's NLB DNS name, or a name its targets' certificate covers)",
            )
        if shared and self.port is not None:
            raise FieldProblem("port", "not for a shared_vpc_origin: its owner's VPC origin sets the ports")


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
