"""``canary:`` section — the scheduled streaming canary, in one or more AWS Regions.

Cross-section rules that need the rest of the config (a ``front_door`` must name an enabled front door, the
first of ``regions`` must be the environment's ``region``, a secret must live in the Region that reads it)
are checked by ``streampath.config.AppConfig``; everything else about the canary is validated here.

Regions (docs/regions.md): ``regions`` lists where the canary runs, the home Region (the environment's
``region``) first; absent, it runs in the home Region only. Which Regions probe a path is
:func:`path_regions`: a path that is only reachable inside the VPC (:func:`vpc_need`) is probed from the
home Region only (the only canary placed in the VPC), every other path from every Region, unless the path
lists its own ``regions``.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StrictInt, StrictStr, model_validator
from streampath_canary.contract import request_problem

from streampath.config.common import (
    Bool,
    FieldProblem,
    HttpHeaderName,
    SecretArn,
    SecurityGroupId,
    StrictModel,
    SubnetId,
    int_range,
    matching,
    one_of,
    unique,
)
from streampath.config.display import shown
from streampath.config.slo import DEFAULT_ALARM_MODE, AlarmMode, PathSloConfig, SloConfig

#: Retention values CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

#: CloudWatch caps an alarm's period x evaluation periods: 1 day for periods under an hour, else 7 days.
ALARM_WINDOW_MAX_SECONDS_SHORT_PERIOD = 86_400
ALARM_WINDOW_MAX_SECONDS = 604_800

#: The commercial AWS Regions (partition ``aws``) a canary may run in: the partition's Region list as the
#: AWS SDKs ship it (botocore's endpoint data; tests/regions compares the two). GovCloud, China and the
#: isolated partitions are left out on purpose: one app's stacks (and its cross-Region references) stay in
#: one partition.
COMMERCIAL_REGIONS: Final = (
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

#: What the canary stack deploys in every Region it runs in, as CloudFormation resource types: a Region
#: whose CloudFormation registry lacks one cannot hold the stack. The feature -> the type that carries it.
CANARY_REGION_FEATURES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "EventBridge Scheduler (the canary's schedule)": "AWS::Scheduler::Schedule",
        "AWS Lambda (the canary function)": "AWS::Lambda::Function",
        "CloudWatch composite alarms (one page per Region)": "AWS::CloudWatch::CompositeAlarm",
        "CloudWatch alarms": "AWS::CloudWatch::Alarm",
        "Amazon SNS (the alarm topic)": "AWS::SNS::Topic",
        "AWS KMS (the topic's key)": "AWS::KMS::Key",
        "CloudWatch Logs (the function's log group)": "AWS::Logs::LogGroup",
    }
)
#: Region -> the features of :data:`CANARY_REGION_FEATURES` its CloudFormation registry does not have, from
#: the per-Region registry snapshot cfn-lint ships (tests/regions recomputes this table from it and fails
#: when they differ). Today every commercial Region has every one of them; a Region listed here is refused.
REGIONS_WITHOUT_FEATURES: Final[Mapping[str, frozenset[str]]] = MappingProxyType({})


def _commercial_region(value: str) -> str:
    if value not in COMMERCIAL_REGIONS:
        close = difflib.get_close_matches(value, COMMERCIAL_REGIONS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(
            f"must be a commercial AWS Region, got {shown(value)}; {hint}"
            f"known: {', '.join(COMMERCIAL_REGIONS)}"
        )
    return value


CanaryRegion = Annotated[str, AfterValidator(_commercial_region)]


def secret_region(arn: str) -> str:
    """The Region of a Secrets Manager ARN (``arn:aws:secretsmanager:<region>:...``)."""
    return arn.split(":")[3]


#: Header names that carry credentials: refused in ``headers`` (they would land in the template and the
#: Lambda environment in clear text); put them in Secrets Manager and use ``auth_secret``.
_SECRET_HEADER = re.compile(
    r"(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|apikey|x-amz-security-token"
    r"|.*token.*|.*secret.*|.*password.*|.*session.*|x-origin-verify)",
    re.IGNORECASE,
)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"must be an http(s) URL like 'https://api.example.com/api/streamcheck', got {shown(value)}"
        )
    if parts.username or parts.password:
        raise ValueError("must not carry credentials (user:password@); use auth_secret")
    return value


HttpUrl = Annotated[StrictStr, AfterValidator(_http_url)]
Email = Annotated[str, matching(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "an email address")]
PathName = Annotated[
    str, matching(r"[a-z0-9][a-z0-9-]{0,30}", "a lower-case name like 'nlb' (a-z, 0-9, '-', <= 31)")
]
UrlPathAndQuery = Annotated[
    str, matching(r"/[^\s#]*", "a path starting with '/' like '/api/streamcheck?events=20'")
]


#: Largest canary request body: it travels in the function's environment, whose 4 KB Lambda limit every
#: path shares; a chat prompt for a canary is a sentence.
CANARY_BODY_MAX_BYTES: Final = 2048

#: Over plain http the probe can only try HTTP/2 by prior knowledge (h2c): browsers never do that and
#: HTTP/1.1 servers (uvicorn, an NLB TCP listener in front of one) refuse it, so every h2 probe would fail
#: and keep the Success alarm in ALARM.
H2_NEEDS_TLS = (
    "'h2' needs an https URL: over plain http HTTP/2 means prior knowledge (h2c), which browsers never "
    "use and HTTP/1.1 servers refuse, so every h2 probe would fail; set protocols: [h1]"
)
#: HTTP/3 runs over QUIC, and QUIC always carries TLS 1.3: there is no plain-http HTTP/3 to probe.
H3_NEEDS_TLS = (
    "'h3' needs an https URL: HTTP/3 runs over QUIC, which always carries TLS, so every h3 probe would "
    "fail; remove h3 from protocols"
)
#: The NLB front door listens on TCP (a TCP or TLS listener); QUIC needs UDP.
H3_NOT_ON_NLB = (
    "'h3' cannot reach the nlb front door: its listener is TCP or TLS and HTTP/3 runs over QUIC on UDP, "
    "so every h3 probe would fail; remove h3 from protocols"
)
#: The probe's HTTP/3 requests carry no body yet.
H3_NO_BODY = (
    "'h3' probes send no request body, so this path's h3 probe could not run; probe a path with a body "
    "over h1 and h2"
)
#: What a path probes when it names no ``protocols`` (the contract's default too).
DEFAULT_PROTOCOLS: Final = ("h1", "h2")
#: The ``cloudfront.http_version`` values with which CloudFront answers HTTP/3 (and advertises it in
#: ``Alt-Svc``, so browsers switch to it on their next requests).
CLOUDFRONT_HTTP3_VERSIONS: Final = frozenset({"HTTP2_AND_3", "HTTP3"})
#: What a ``front_door: cloudfront`` path that names no ``protocols`` (and sends no ``body``) probes when
#: CloudFront serves HTTP/3: the protocol many browsers reach it over, next to h1 and h2.
CLOUDFRONT_HTTP3_PROTOCOLS: Final = ("h1", "h2", "h3")


def h3_not_served(http_version: str) -> str:
    """Why an h3 probe of a distribution with this ``http_version`` (not HTTP/3) would always fail."""
    return (
        f"'h3' needs cloudfront.http_version HTTP2_AND_3 or HTTP3 (it is {http_version!r}): CloudFront "
        "answers HTTP/3 only then, so every h3 probe would fail; remove h3 from protocols or change "
        "http_version"
    )


class VpcPlacementConfig(StrictModel):
    """Run the canary inside the VPC (for in-VPC URLs such as the service's ClusterIP or internal NLB)."""

    subnet_ids: Annotated[tuple[SubnetId, ...], Field(min_length=1, max_length=16)]
    security_group_ids: Annotated[tuple[SecurityGroupId, ...], Field(min_length=1, max_length=5)]

    @model_validator(mode="after")
    def _no_duplicates(self) -> VpcPlacementConfig:
        unique(list(self.subnet_ids), "subnet")
        unique(list(self.security_group_ids), "security group")
        return self


class AlarmsConfig(StrictModel):
    buffering_delay_ms: Annotated[StrictInt, int_range(1, 600_000)] = 1000
    time_to_first_event_ms: Annotated[StrictInt, int_range(1, 600_000)] = 5000
    evaluation_periods: Annotated[StrictInt, int_range(1, 100)] = 5
    datapoints_to_alarm: Annotated[StrictInt, int_range(1, 100)] = 3
    #: Which alarms page: the thresholds above, the SLO's burn rates (``canary.slo``) or both.
    mode: AlarmMode = DEFAULT_ALARM_MODE

    @model_validator(mode="after")
    def _datapoints(self) -> AlarmsConfig:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise FieldProblem(
                "datapoints_to_alarm",
                f"must be at most evaluation_periods ({self.evaluation_periods}), "
                f"got {self.datapoints_to_alarm}",
            )
        return self


class AuthSecretConfig(StrictModel):
    """A request header whose value the canary reads from Secrets Manager at run time.

    Each Region's canary reads the secret in its own Region: ``arn`` for a path probed from one Region,
    ``arns`` (Region -> the ARN of the secret's replica there) for a path probed from several.
    """

    arn: SecretArn | None = None
    arns: Annotated[dict[CanaryRegion, SecretArn], Field(min_length=1)] | None = None
    header: HttpHeaderName = "Authorization"
    #: Key inside a JSON secret; null: the whole SecretString is the header value.
    json_key: StrictStr | None = None

    @model_validator(mode="after")
    def _one_form(self) -> AuthSecretConfig:
        if (self.arn is None) == (self.arns is None):
            raise FieldProblem(
                "arn", "set exactly one of arn (one Region) or arns (Region -> that Region's replica ARN)"
            )
        for region, arn in (self.arns or {}).items():
            if secret_region(arn) != region:
                raise FieldProblem(
                    f"arns.{region}",
                    f"the secret is in {secret_region(arn)!r}, not {region!r}: each Region's canary reads "
                    "the replica in its own Region",
                )
        return self

    def arn_in(self, region: str) -> str | None:
        """The ARN this Region's canary reads (None: none is configured for it)."""
        if self.arns is not None:
            return self.arns.get(region)
        return self.arn if self.arn is not None and secret_region(self.arn) == region else None


class CanaryPathConfig(StrictModel):
    name: PathName
    #: A full URL (the existing ALB, an in-VPC address, ...). Exactly one of ``url`` / ``front_door``.
    url: HttpUrl | None = None
    #: A front door built by this app; the stack turns it into ``https://<its host><path>``.
    front_door: Literal["nlb", "cloudfront"] | None = None
    #: Path and query appended to the front door's base URL (only with ``front_door``).
    path: UrlPathAndQuery | None = None
    #: Default h1 and h2; a ``front_door: cloudfront`` path also probes h3 when the distribution serves
    #: HTTP/3 (``AppConfig`` applies :data:`CLOUDFRONT_HTTP3_PROTOCOLS`). h3 needs https.
    protocols: Annotated[tuple[Literal["h1", "h2", "h3"], ...], Field(min_length=1, max_length=3)] = (
        DEFAULT_PROTOCOLS
    )
    #: Non-secret request headers (names that carry credentials are refused: use ``auth_secret``).
    headers: dict[HttpHeaderName, StrictStr] = Field(default_factory=dict)
    auth_secret: AuthSecretConfig | None = None
    #: The Regions that probe this path (each in ``canary.regions``). Default: :func:`path_regions`.
    regions: Annotated[tuple[CanaryRegion, ...], Field(min_length=1)] | None = None
    #: ``POST`` sends ``body`` first, as a chat frontend sends the user's message.
    method: Literal["GET", "POST"] = "GET"
    #: The request body: a string, or a mapping/list written as YAML and sent as compact JSON
    #: (``application/json`` unless ``headers`` name another Content-Type). Not secret: it lands in the
    #: template, so one that holds a credential is refused (use ``auth_secret``).
    body: StrictStr | dict[StrictStr, Any] | list[Any] | None = None
    #: This path's own objective or good spec (default: ``canary.slo``'s).
    slo: PathSloConfig | None = None

    @property
    def body_text(self) -> str | None:
        """``body`` as the bytes the probe sends (text; a mapping or list as compact JSON)."""
        if self.body is None or isinstance(self.body, str):
            return self.body
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False)

    @model_validator(mode="after")
    def _target(self) -> CanaryPathConfig:
        if (self.url is None) == (self.front_door is None):
            raise FieldProblem("url", "set exactly one of url or front_door")
        if self.front_door is not None and self.path is None:
            raise FieldProblem("path", "required with front_door (for example '/api/streamcheck?events=20')")
        if self.url is not None and self.path is not None:
            raise FieldProblem("path", "only used with front_door; put the path into url")
        try:
            unique(list(self.protocols), "protocol")
        except ValueError as exc:
            raise FieldProblem("protocols", str(exc)) from None
        if self.regions is not None:
            duplicate_region(self.regions, "regions")
        if self.url is not None and "h2" in self.protocols and urlsplit(self.url).scheme == "http":
            raise FieldProblem("protocols", H2_NEEDS_TLS)
        if self.url is not None and "h3" in self.protocols and urlsplit(self.url).scheme == "http":
            raise FieldProblem("protocols", H3_NEEDS_TLS)
        if "h3" in self.protocols and self.body is not None:
            raise FieldProblem("protocols", H3_NO_BODY)
        for header in self.headers:
            if _SECRET_HEADER.fullmatch(header):
                raise FieldProblem(
                    f"headers.{header}",
                    "looks like a credential and would be stored in clear text; use auth_secret instead",
                )
        self._check_body()
        return self

    def _check_body(self) -> None:
        text = self.body_text
        if text is None:
            return
        if self.method != "POST":
            raise FieldProblem(
                "body", "a body needs method: POST (a chat endpoint reads its prompt from a POST)"
            )
        size = len(text.encode("utf-8"))
        if size > CANARY_BODY_MAX_BYTES:
            raise FieldProblem(
                "body",
                f"is {size} bytes, more than {CANARY_BODY_MAX_BYTES}: it travels in the canary's environment "
                "(4 KB for everything); a small prompt is enough to probe a chat endpoint",
            )
        problem = request_problem(self.method, text, self.headers)
        if problem:
            # Never the body itself: it is the problem.
            raise FieldProblem("body", problem)


class CanaryConfig(StrictModel):
    enabled: Bool = True
    namespace: Annotated[
        str, matching(r"[A-Za-z0-9._/#:-]{1,255}", "a CloudWatch namespace like 'StreamPath'")
    ] = "StreamPath"
    schedule_minutes: Annotated[StrictInt, int_range(1, 60)] = 1
    memory_mb: Annotated[StrictInt, int_range(128, 10240)] = 512
    timeout_seconds: Annotated[StrictInt, int_range(10, 900)] = 60
    probe_timeout_seconds: Annotated[StrictInt, int_range(1, 60)] = 10
    max_duration_seconds: Annotated[StrictInt, int_range(1, 600)] = 30
    log_retention_days: Annotated[StrictInt, one_of(*LOG_RETENTION_DAYS)] = 30
    vpc_placement: VpcPlacementConfig | None = None
    alarms: AlarmsConfig = Field(default_factory=AlarmsConfig)
    notify_emails: tuple[Email, ...] = ()
    #: Where the canary runs, the home Region (the environment's ``region``) first. Default: home only.
    regions: Annotated[tuple[CanaryRegion, ...], Field(min_length=1)] | None = None
    paths: Annotated[tuple[CanaryPathConfig, ...], Field(min_length=1, max_length=25)]
    #: Path names ordered from the application outward (``[direct, nlb, cloudfront]``): each run names the
    #: first of them that buffers and the delay it adds. Default: none.
    chain: tuple[PathName, ...] = ()
    #: The stream SLO (error budget, burn-rate alarms, the budget on the dashboard). Default: none.
    slo: SloConfig | None = None

    @model_validator(mode="after")
    def _rules(self) -> CanaryConfig:
        if self.alarms.mode != "thresholds" and self.slo is None:
            raise FieldProblem(
                "alarms.mode",
                f"{self.alarms.mode!r} needs a canary.slo section (objective, window_days, good)",
            )
        if self.max_duration_seconds + self.probe_timeout_seconds >= self.timeout_seconds:
            raise FieldProblem(
                "timeout_seconds",
                f"must be greater than max_duration_seconds + probe_timeout_seconds "
                f"({self.max_duration_seconds} + {self.probe_timeout_seconds}), got {self.timeout_seconds}",
            )
        if self.timeout_seconds > self.schedule_minutes * 60:
            raise FieldProblem(
                "timeout_seconds",
                f"must be at most the schedule period ({self.schedule_minutes * 60} s for schedule_minutes "
                f"{self.schedule_minutes}) so runs cannot overlap, got {self.timeout_seconds}",
            )
        period_s = self.schedule_minutes * 60
        window_max = ALARM_WINDOW_MAX_SECONDS_SHORT_PERIOD if period_s < 3600 else ALARM_WINDOW_MAX_SECONDS
        if period_s * self.alarms.evaluation_periods > window_max:
            raise FieldProblem(
                "alarms.evaluation_periods",
                f"must be at most {window_max // period_s} with schedule_minutes {self.schedule_minutes} "
                f"(CloudWatch caps period x evaluation periods at {window_max // 3600} h for a "
                f"{period_s} s period), got {self.alarms.evaluation_periods}",
            )
        seen: dict[str, int] = {}
        for index, path in enumerate(self.paths):
            if path.name in seen:
                raise FieldProblem(
                    f"paths[{index}].name", f"duplicate name {path.name!r} (also paths[{seen[path.name]}])"
                )
            seen[path.name] = index
        unique(list(self.notify_emails), "email")
        if self.regions is not None:
            duplicate_region(self.regions, "regions")
        in_chain: dict[str, int] = {}
        for index, name in enumerate(self.chain):
            if name not in seen:
                raise FieldProblem(
                    f"chain[{index}]", f"{name!r} is not a path name (paths: {', '.join(seen)})"
                )
            if name in in_chain:
                raise FieldProblem(
                    f"chain[{index}]", f"duplicate path {name!r} (also chain[{in_chain[name]}])"
                )
            in_chain[name] = index
        return self

    def chain_in(self, path_names: Sequence[str]) -> tuple[str, ...]:
        """``chain`` restricted to the paths one Region probes (in chain order)."""
        return tuple(name for name in self.chain if name in path_names)

    def regions_with_home(self, home: str) -> tuple[str, ...]:
        """``regions``, or the home Region alone when it is not set."""
        return self.regions if self.regions is not None else (home,)


def duplicate_region(regions: tuple[str, ...], key: str) -> None:
    """Refuse a Region listed twice, naming the second entry and the first."""
    seen: dict[str, int] = {}
    for index, region in enumerate(regions):
        if region in seen:
            raise FieldProblem(f"{key}[{index}]", f"duplicate region {region!r} (also {key}[{seen[region]}])")
        seen[region] = index


# --- which Regions probe which path ------------------------------------------------------------------

#: DNS labels that name an address only a private resolver answers (``core-api.internal.example.com``,
#: ``api.svc``, ``printer.local``): such a URL is taken to be reachable only inside the VPC.
PRIVATE_DNS_LABELS: Final = frozenset({"internal", "local", "localdomain", "svc", "intranet", "lan"})


@dataclass(frozen=True)
class VpcNeed:
    """Why a path is only reachable inside the VPC. ``certain``: no other Region can reach it whatever the
    path says (a private IP address, an internal load balancer); otherwise it is a guess from the name,
    and the path's own ``regions`` wins."""

    reason: str
    certain: bool


def vpc_need(path: CanaryPathConfig, internal_front_doors: Mapping[str, str]) -> VpcNeed | None:
    """Whether ``path`` needs the VPC: an internal front door (``internal_front_doors``: front door ->
    why), a URL to an IP address that is not globally routable, a single-label host, or a host with a
    label of :data:`PRIVATE_DNS_LABELS`. None: a public path."""
    if path.front_door is not None:
        why = internal_front_doors.get(path.front_door)
        return VpcNeed(why, certain=True) if why is not None else None
    host = (urlsplit(path.url or "").hostname or "").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        # Anything not globally routable (RFC 1918, shared 100.64/10, link-local, loopback, ULA) is only
        # reachable inside the VPC or its peers.
        if not address.is_global:
            return VpcNeed(f"its URL's address {host} is private", certain=True)
        return None
    labels = host.split(".")
    if len(labels) == 1:
        return VpcNeed(f"its URL's host {host!r} is a single-label (in-VPC) name", certain=False)
    private = sorted(PRIVATE_DNS_LABELS.intersection(labels))
    if private:
        return VpcNeed(f"its URL's host {host!r} has the private DNS label {private[0]!r}", certain=False)
    return None


def path_regions(
    path: CanaryPathConfig, regions: tuple[str, ...], internal_front_doors: Mapping[str, str]
) -> tuple[str, ...]:
    """The Regions that probe ``path``: its own ``regions``; else the home Region (``regions[0]``) alone for
    a path that needs the VPC; else every Region."""
    if path.regions is not None:
        return path.regions
    if vpc_need(path, internal_front_doors) is not None:
        return regions[:1]
    return regions


@dataclass(frozen=True)
class RegionalCanary:
    """One Region's canary: the paths it probes (config order) and, per path name, the secret it reads."""

    region: str
    home: bool
    paths: tuple[CanaryPathConfig, ...]
    secret_arns: Mapping[str, str]

    @property
    def path_names(self) -> tuple[str, ...]:
        return tuple(path.name for path in self.paths)
