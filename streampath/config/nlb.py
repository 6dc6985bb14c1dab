"""``nlb:`` section — the Network Load Balancer front door."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt, model_validator

from streampath.config.common import (
    AcmCertificateArn,
    Bool,
    BucketConfig,
    DnsRecordConfig,
    FieldProblem,
    Ipv4Cidr,
    Port,
    PrefixListId,
    StrictModel,
    int_range,
    unique,
)

AlpnPolicyName = Literal["HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"]

#: TLS listeners keep idle TCP flows for a fixed 350 s; only TCP listeners accept another value.
TLS_LISTENER_IDLE_TIMEOUT_SECONDS = 350
#: Rules the CloudFront origin-facing managed prefix list counts for in a security group (its "weight").
CLOUDFRONT_PREFIX_LIST_WEIGHT = 55
#: The default quota of inbound rules per security group (Amazon VPC; adjustable).
DEFAULT_SECURITY_GROUP_RULES_QUOTA = 60
#: Default idle timeout for a TCP listener: long enough for SSE streams with sparse heartbeats.
TCP_LISTENER_DEFAULT_IDLE_TIMEOUT_SECONDS = 3600


class ListenerConfig(StrictModel):
    """``mode: tls`` terminates TLS at the NLB (ACM certificate, ALPN); ``mode: tcp`` passes bytes through."""

    mode: Literal["tls", "tcp"] = "tls"
    port: Port = 443
    certificate_arn: AcmCertificateArn | None = None
    alpn_policy: AlpnPolicyName = "HTTP1Only"
    idle_timeout_seconds: Annotated[StrictInt, int_range(60, 6000)] | None = None

    @model_validator(mode="after")
    def _mode_rules(self) -> ListenerConfig:
        if self.mode == "tls":
            if self.certificate_arn is None:
                raise FieldProblem("certificate_arn", "required when mode is 'tls' (an ACM certificate ARN)")
            if self.idle_timeout_seconds is not None:
                raise FieldProblem(
                    "idle_timeout_seconds",
                    f"cannot be set on a TLS listener (fixed at {TLS_LISTENER_IDLE_TIMEOUT_SECONDS} s); "
                    "use mode: tcp for a longer idle timeout, or remove the key",
                )
        else:
            if self.certificate_arn is not None:
                raise FieldProblem(
                    "certificate_arn", "only used when mode is 'tls' (a TCP listener has none)"
                )
            if "alpn_policy" in self.model_fields_set:
                raise FieldProblem("alpn_policy", "only used when mode is 'tls' (ALPN needs TLS termination)")
        return self

    @property
    def url_scheme(self) -> Literal["https", "http"]:
        """What clients speak through the listener: HTTPS for TLS, and for TCP on 443 (passthrough to the
        service's TLS); plain HTTP for a TCP listener on any other port."""
        return "https" if self.mode == "tls" or self.port == 443 else "http"

    @property
    def effective_idle_timeout_seconds(self) -> int:
        if self.mode == "tls":
            return TLS_LISTENER_IDLE_TIMEOUT_SECONDS
        return self.idle_timeout_seconds or TCP_LISTENER_DEFAULT_IDLE_TIMEOUT_SECONDS


class HealthCheckConfig(StrictModel):
    """HTTP health check on the service port (path comes from ``service.health_check_path``)."""

    interval_seconds: Annotated[StrictInt, int_range(5, 300)] = 10
    timeout_seconds: Annotated[StrictInt, int_range(2, 120)] = 5
    healthy_threshold: Annotated[StrictInt, int_range(2, 10)] = 2
    unhealthy_threshold: Annotated[StrictInt, int_range(2, 10)] = 2

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> HealthCheckConfig:
        if self.timeout_seconds >= self.interval_seconds:
            raise FieldProblem(
                "timeout_seconds",
                f"must be less than interval_seconds ({self.interval_seconds}), got {self.timeout_seconds}",
            )
        return self


class TargetGroupConfig(StrictModel):
    """IP target group for the pods (registered by the AWS Load Balancer Controller's TargetGroupBinding)."""

    deregistration_delay_seconds: Annotated[StrictInt, int_range(0, 3600)] = 120
    connection_termination: Bool = True
    preserve_client_ip: Bool = False
    health_check: HealthCheckConfig = Field(default_factory=HealthCheckConfig)


class IngressConfig(StrictModel):
    """Who may reach the listener: CIDRs and/or CloudFront's origin-facing managed prefix list."""

    cidrs: tuple[Ipv4Cidr, ...] = ()
    #: ``com.amazonaws.global.cloudfront.origin-facing`` in the stack's region (region-specific id, never
    #: looked up).
    cloudfront_prefix_list_id: PrefixListId | None = None
    #: The account's "Inbound or outbound rules per security group" quota (60 unless raised).
    security_group_rules_quota: Annotated[StrictInt, int_range(60, 1000)] = DEFAULT_SECURITY_GROUP_RULES_QUOTA

    @model_validator(mode="after")
    def _some_source(self) -> IngressConfig:
        unique(list(self.cidrs), "CIDR")
        if not self.cidrs and self.cloudfront_prefix_list_id is None:
            raise FieldProblem("cidrs", "list at least one CIDR, or set cloudfront_prefix_list_id")
        # One rule per CIDR; the CloudFront prefix list counts as its weight, not as one rule.
        weight = CLOUDFRONT_PREFIX_LIST_WEIGHT if self.cloudfront_prefix_list_id is not None else 0
        if len(self.cidrs) + weight > self.security_group_rules_quota:
            room = self.security_group_rules_quota - weight
            with_list = " next to cloudfront_prefix_list_id (which counts as 55 rules)" if weight else ""
            raise FieldProblem(
                "cidrs",
                f"at most {room} CIDRs fit{with_list} in a security group with "
                f"security_group_rules_quota {self.security_group_rules_quota}; the deployment would fail "
                f"with RulesPerSecurityGroupLimitExceeded, got {len(self.cidrs)} (raise the VPC quota and "
                "security_group_rules_quota, or list fewer CIDRs)",
            )
        return self


class NlbConfig(StrictModel):
    enabled: Bool = True
    internet_facing: Bool = True
    #: Which subnets of ``vpc`` hold the load balancer; default public when internet-facing, else private.
    subnets: Literal["public", "private"] | None = None
    deletion_protection: Bool = False
    ingress: IngressConfig
    listener: ListenerConfig
    target_group: TargetGroupConfig = Field(default_factory=TargetGroupConfig)
    access_logs: BucketConfig = Field(default_factory=BucketConfig)
    dns: DnsRecordConfig | None = None

    @property
    def subnet_group(self) -> Literal["public", "private"]:
        if self.subnets is not None:
            return self.subnets
        return "public" if self.internet_facing else "private"

    @model_validator(mode="after")
    def _placement(self) -> NlbConfig:
        if self.internet_facing and self.subnets == "private":
            raise FieldProblem(
                "subnets", "an internet-facing load balancer needs public subnets, got 'private'"
            )
        return self
