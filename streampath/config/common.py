"""Shared building blocks of the typed config: the base model, the error type, reusable field types.

Every section module (``nlb``, ``cloudfront``, ``canary``) builds on these. Validators raise plain
``ValueError`` with a human reason (``must be 60..6000, got 7200``); ``streampath.config.load_config`` turns
pydantic's errors into one ``ConfigError`` line per problem: ``<file>: <dotted.key[0].path>: <reason>``.
A model-level (cross-field) rule that is about one key raises :class:`FieldProblem` naming that key, so
the message points at the key to change rather than at its section.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from streampath_canary.contract import header_name_problem

from streampath.config.display import shown


class ConfigError(Exception):
    """A config file that cannot be used; ``str(err)`` is the message for the user, one line per problem."""


class FieldProblem(ValueError):
    """A cross-field rule broken by one key: ``subpath`` is relative to the model that raises it."""

    def __init__(self, subpath: str, reason: str) -> None:
        super().__init__(reason)
        self.subpath = subpath
        self.reason = reason


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


# --- reusable field types -----------------------------------------------------------------------------
# Helpers return validators, used as ``Annotated[StrictInt, int_range(60, 6000)]`` so mypy sees real types.


def int_range(lo: int, hi: int) -> AfterValidator:
    """An integer in ``lo..hi``, reported as ``must be lo..hi, got X``."""

    def check(value: int) -> int:
        if not lo <= value <= hi:
            raise ValueError(f"must be {lo}..{hi}, got {value}")
        return value

    return AfterValidator(check)


def matching(pattern: str, what: str) -> AfterValidator:
    """A string matching ``pattern`` (full match), reported as ``must be <what>, got '<value>'``."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {what}, got {shown(value)}")
        return value

    return AfterValidator(check)


def in_range(bounds: tuple[int, int]) -> AfterValidator:
    """:func:`int_range` of an owner's ``(low, high)`` bounds (the canary contract's limits)."""
    return int_range(*bounds)


T = TypeVar("T")


def rule(problem: Callable[[T], str | None], *, show_value: bool = True) -> AfterValidator:
    """A value checked by an owner's ``*_problem()`` rule (the canary contract's); pydantic names the key.
    The refused value is repeated (``, got '<value>'``) unless ``show_value`` is false."""

    def check(value: T) -> T:
        found = problem(value)
        if found:
            raise ValueError(f"{found}, got {shown(value)}" if show_value else found)
        return value

    return AfterValidator(check)


def field_problem(key: str, problem: str | None) -> None:
    """Raise a model-level rule's problem as a :class:`FieldProblem` on ``key`` (nothing when None)."""
    if problem:
        raise FieldProblem(key, problem)


def one_of(*allowed: int) -> AfterValidator:
    """An integer from a fixed set (for example CloudWatch log retention days)."""

    def check(value: int) -> int:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(map(str, allowed))}, got {value}")
        return value

    return AfterValidator(check)


Bool = StrictBool
Port = Annotated[StrictInt, int_range(1, 65535)]
AccountId = Annotated[str, matching(r"\d{12}", "a 12-digit AWS account id")]
Region = Annotated[str, matching(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", "an AWS region like 'eu-west-1'")]
AvailabilityZone = Annotated[
    str, matching(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d[a-z]", "an availability zone like 'eu-west-1a'")
]
VpcId = Annotated[str, matching(r"vpc-[0-9a-f]{8}([0-9a-f]{9})?", "a VPC id like 'vpc-0123456789abcdef0'")]
SubnetId = Annotated[
    str, matching(r"subnet-[0-9a-f]{8}([0-9a-f]{9})?", "a subnet id like 'subnet-0123456789abcdef0'")
]
RouteTableId = Annotated[
    str, matching(r"rtb-[0-9a-f]{8}([0-9a-f]{9})?", "a route table id like 'rtb-0123456789abcdef0'")
]
SecurityGroupId = Annotated[
    str, matching(r"sg-[0-9a-f]{8}([0-9a-f]{9})?", "a security group id like 'sg-0123456789abcdef0'")
]
PrefixListId = Annotated[
    str, matching(r"pl-[0-9a-f]{8}([0-9a-f]{9})?", "a managed prefix list id like 'pl-4fa04526'")
]
HostedZoneId = Annotated[
    str, matching(r"Z[A-Z0-9]{1,31}", "a Route 53 hosted zone id like 'Z0123456789ABCDEFGHIJ'")
]
Ipv4Cidr = Annotated[
    str,
    matching(
        r"((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)/(3[0-2]|[12]?\d)",
        "an IPv4 CIDR like '10.0.0.0/16'",
    ),
]
DomainName = Annotated[
    str,
    matching(
        r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
        "a lower-case DNS name like 'api.example.com'",
    ),
]
AcmCertificateArn = Annotated[
    str,
    matching(
        r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}",
        "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)",
    ),
]
SecretArn = Annotated[
    str,
    matching(
        r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+",
        "a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)",
    ),
]
HttpHeaderName = Annotated[str, rule(header_name_problem)]
UrlPath = Annotated[str, matching(r"/[A-Za-z0-9/_.~%-]*", "an absolute URL path like '/healthz'")]
K8sName = Annotated[str, matching(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", "a Kubernetes name like 'core-api'")]
TagKey = Annotated[
    str, matching(r"[\w .:/=+@-]{1,128}", "a tag key (1..128 letters, digits, spaces or _.:/=+-@)")
]
TagValue = Annotated[
    str, matching(r"[\w .:/=+@-]{0,256}", "a tag value (0..256 letters, digits, spaces or _.:/=+-@)")
]


def unique(items: list[str] | tuple[str, ...], what: str) -> None:
    """Raise for the first repeated item (lists where order matters but duplicates are mistakes)."""
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ValueError(f"{what} {item!r} is listed twice")
        seen.add(item)


# --- sections shared by several stacks -----------------------------------------------------------------


class SubnetConfig(StrictModel):
    """A subnet imported by attributes (no lookup): its id, its AZ and its route table."""

    id: SubnetId
    availability_zone: AvailabilityZone
    route_table_id: RouteTableId


class VpcConfig(StrictModel):
    """The existing VPC the service runs in, given by attributes so synth never calls EC2."""

    id: VpcId
    cidr: Ipv4Cidr
    availability_zones: Annotated[tuple[AvailabilityZone, ...], Field(min_length=1, max_length=6)]
    public_subnets: tuple[SubnetConfig, ...] = ()
    private_subnets: tuple[SubnetConfig, ...] = ()

    @model_validator(mode="after")
    def _subnets_fit_zones(self) -> VpcConfig:
        unique(list(self.availability_zones), "availability zone")
        seen: set[str] = set()
        for group in ("public_subnets", "private_subnets"):
            zones: set[str] = set()
            for index, subnet in enumerate(getattr(self, group)):
                where = f"{group}[{index}]"
                if subnet.id in seen:
                    raise FieldProblem(f"{where}.id", f"subnet {subnet.id!r} is listed twice")
                seen.add(subnet.id)
                if subnet.availability_zone not in self.availability_zones:
                    raise FieldProblem(
                        f"{where}.availability_zone",
                        f"{subnet.availability_zone!r} is not in vpc.availability_zones "
                        f"({', '.join(self.availability_zones)})",
                    )
                if subnet.availability_zone in zones:
                    raise FieldProblem(
                        f"{where}.availability_zone",
                        f"two {group.split('_')[0]} subnets in {subnet.availability_zone!r}: "
                        "a load balancer takes one subnet per availability zone",
                    )
                zones.add(subnet.availability_zone)
        return self


class ServiceConfig(StrictModel):
    """The streaming service behind the front doors (a Kubernetes Service reached by pod IPs)."""

    name: K8sName
    namespace: K8sName = "default"
    port: Port = 8080
    health_check_path: UrlPath = "/healthz"


class DnsRecordConfig(StrictModel):
    """An alias record in an existing Route 53 hosted zone, given by id and name (no lookup)."""

    hosted_zone_id: HostedZoneId
    zone_name: DomainName
    record_name: DomainName

    @model_validator(mode="after")
    def _record_in_zone(self) -> DnsRecordConfig:
        if self.record_name != self.zone_name and not self.record_name.endswith("." + self.zone_name):
            raise FieldProblem("record_name", f"{self.record_name!r} is not inside zone {self.zone_name!r}")
        return self


class BucketConfig(StrictModel):
    """Retention of a log bucket (access logs of a load balancer or a distribution)."""

    expiration_days: Annotated[StrictInt, int_range(1, 3650)] = 90
