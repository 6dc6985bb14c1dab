"""``canary:`` section — the scheduled streaming canary, in one or more AWS Regions.

Every canary default, limit and rule is the canary contract's (``streampath_canary.contract``): this
module only says which YAML key each applies to. What is the YAML's own is here: the front doors and
Regions a path names, and how a path becomes the contract's :class:`PathSpec` (:meth:`CanaryPathConfig.spec`,
the one conversion, used by the stacks and by the environment-size estimate alike).

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StrictInt, StrictStr, model_validator
from streampath_canary import contract
from streampath_canary.contract import (
    URL_CREDENTIALS_PROBLEM,
    AlarmThresholds,
    AuthSecretSpec,
    Method,
    PathSpec,
    ProtocolName,
    alarm_window_problem,
    chain_problem,
    datapoints_problem,
    duplicate_names_problem,
    durations_problem,
    h2_scheme_problem,
    h3_scheme_problem,
    name_problem,
    namespace_problem,
    overlap_problem,
    plain_header_problem,
    protocols_problem,
    request_problem,
    url_problem,
    websocket_problem,
    websocket_url,
)

from streampath.config.common import (
    Bool,
    FieldProblem,
    HttpHeaderName,
    SecretArn,
    SecurityGroupId,
    StrictModel,
    SubnetId,
    field_problem,
    in_range,
    matching,
    one_of,
    rule,
    unique,
)
from streampath.config.display import shown
from streampath.config.slo import DEFAULT_ALARM_MODE, AlarmMode, PathSloConfig, SloConfig, good_spec

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


def _url(value: str) -> str:
    problem = url_problem(value)
    if problem:
        # A URL with credentials is not repeated at all, not even masked: the refusal says why.
        raise ValueError(problem if problem == URL_CREDENTIALS_PROBLEM else f"{problem}, got {shown(value)}")
    return value


HttpUrl = Annotated[StrictStr, AfterValidator(_url)]
Email = Annotated[str, matching(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "an email address")]
PathName = Annotated[str, rule(name_problem)]
UrlPathAndQuery = Annotated[
    str, matching(r"/[^\s#]*", "a path starting with '/' like '/api/streamcheck?events=20'")
]
Namespace = Annotated[str, rule(namespace_problem)]

#: The NLB front door listens on TCP (a TCP or TLS listener); QUIC needs UDP.
H3_NOT_ON_NLB = (
    "'h3' cannot reach the nlb front door: its listener is TCP or TLS and HTTP/3 runs over QUIC on UDP, "
    "so every h3 probe would fail; remove h3 from protocols"
)
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


ThresholdMs = Annotated[StrictInt, in_range(contract.ALARM_THRESHOLD_MS_RANGE)]
Periods = Annotated[StrictInt, in_range(contract.EVALUATION_PERIODS_RANGE)]


class AlarmsConfig(StrictModel):
    buffering_delay_ms: ThresholdMs = contract.DEFAULT_BUFFERING_DELAY_MS
    time_to_first_event_ms: ThresholdMs = contract.DEFAULT_TIME_TO_FIRST_EVENT_MS
    evaluation_periods: Periods = contract.DEFAULT_EVALUATION_PERIODS
    datapoints_to_alarm: Periods = contract.DEFAULT_DATAPOINTS_TO_ALARM
    #: Which alarms page: the thresholds above, the SLO's burn rates (``canary.slo``) or both.
    mode: AlarmMode = DEFAULT_ALARM_MODE

    @model_validator(mode="after")
    def _datapoints(self) -> AlarmsConfig:
        field_problem(
            "datapoints_to_alarm", datapoints_problem(self.evaluation_periods, self.datapoints_to_alarm)
        )
        return self

    @property
    def thresholds(self) -> AlarmThresholds:
        """The alarms' thresholds as the constructs take them."""
        return AlarmThresholds(
            buffering_delay_ms=self.buffering_delay_ms,
            time_to_first_event_ms=self.time_to_first_event_ms,
            evaluation_periods=self.evaluation_periods,
            datapoints_to_alarm=self.datapoints_to_alarm,
        )


class AuthSecretConfig(StrictModel):
    """A request header whose value the canary reads from Secrets Manager at run time.

    Each Region's canary reads the secret in its own Region: ``arn`` for a path probed from one Region,
    ``arns`` (Region -> the ARN of the secret's replica there) for a path probed from several.
    """

    arn: SecretArn | None = None
    arns: Annotated[dict[CanaryRegion, SecretArn], Field(min_length=1)] | None = None
    header: HttpHeaderName = contract.DEFAULT_SECRET_HEADER
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
    #: HTTP/3 (``AppConfig`` applies :data:`CLOUDFRONT_HTTP3_PROTOCOLS`). h3 needs https. ``[ws]`` alone
    #: reads a WebSocket: a ws(s):// ``url``, or a front door's URL as wss://.
    protocols: Annotated[tuple[ProtocolName, ...], Field(min_length=1, max_length=3)] = (
        contract.DEFAULT_PROTOCOLS
    )
    #: Non-secret request headers (names that carry credentials are refused: use ``auth_secret``).
    headers: dict[HttpHeaderName, StrictStr] = Field(default_factory=dict)
    auth_secret: AuthSecretConfig | None = None
    #: The Regions that probe this path (each in ``canary.regions``). Default: :func:`path_regions`.
    regions: Annotated[tuple[CanaryRegion, ...], Field(min_length=1)] | None = None
    #: ``POST`` sends ``body`` first, as a chat frontend sends the user's message.
    method: Method = "GET"
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
        field_problem("protocols", protocols_problem(self.protocols))
        if self.regions is not None:
            duplicate_region(self.regions, "regions")
        if self.url is not None:
            scheme = urlsplit(self.url).scheme
            field_problem("protocols", h2_scheme_problem(self.protocols, scheme))
            field_problem("protocols", h3_scheme_problem(self.protocols, scheme))
        url_scheme = urlsplit(self.url).scheme if self.url is not None else None
        field_problem("protocols", websocket_problem(self.protocols, url_scheme, self.method))
        for header in self.headers:
            field_problem(f"headers.{header}", plain_header_problem(header))
        # Never the body itself in the message: it is the problem.
        websocket = contract.WEBSOCKET in self.protocols
        field_problem("body", request_problem(self.method, self.body_text, self.headers, websocket=websocket))
        return self

    def target_url(self, front_door_base_urls: Mapping[str, str]) -> str:
        """The URL probed: ``url``, or the front door's base URL (``https://<host>``) followed by ``path``."""
        if self.front_door is None:
            assert self.url is not None  # one of the two, by validation
            return self.url
        base = front_door_base_urls.get(self.front_door)
        if base is None:
            raise ValueError(
                f"canary path {self.name!r} uses front_door {self.front_door!r}, which is not built"
            )
        url = f"{base.rstrip('/')}{self.path}"
        return websocket_url(url) if contract.WEBSOCKET in self.protocols else url

    def spec(self, url: str, secret_arn: str | None, slo: SloConfig | None = None) -> PathSpec:
        """This path as the canary contract's :class:`PathSpec` (the only conversion from the YAML):
        ``url`` is :meth:`target_url` (a CloudFormation token inside a stack), ``secret_arn`` the ARN of
        ``auth_secret`` in the Region that probes it; with ``slo`` (``canary.slo``) the path carries its good
        spec (its own ``slo.good`` or the section's) for ``GoodStream``."""
        secret = self.auth_secret
        if secret is not None and secret_arn is None:
            raise ValueError(f"canary path {self.name!r} has no auth_secret ARN in this Region")
        return PathSpec(
            name=self.name,
            url=url,
            protocols=tuple(self.protocols),
            headers=dict(self.headers),
            auth_secret=(
                AuthSecretSpec(arn=secret_arn, header=secret.header, json_key=secret.json_key)
                if secret is not None and secret_arn is not None
                else None
            ),
            method=self.method,
            body=self.body_text,
            good=good_spec(slo, self.slo),
        )


class CanaryConfig(StrictModel):
    enabled: Bool = True
    namespace: Namespace = contract.DEFAULT_NAMESPACE
    schedule_minutes: Annotated[StrictInt, in_range(contract.SCHEDULE_MINUTES_RANGE)] = (
        contract.DEFAULT_SCHEDULE_MINUTES
    )
    memory_mb: Annotated[StrictInt, in_range(contract.MEMORY_MB_RANGE)] = contract.DEFAULT_MEMORY_MB
    timeout_seconds: Annotated[StrictInt, in_range(contract.TIMEOUT_S_RANGE)] = contract.DEFAULT_TIMEOUT_S
    probe_timeout_seconds: Annotated[StrictInt, in_range(contract.PROBE_TIMEOUT_S_RANGE)] = (
        contract.DEFAULT_PROBE_TIMEOUT_S
    )
    max_duration_seconds: Annotated[StrictInt, in_range(contract.MAX_DURATION_S_RANGE)] = (
        contract.DEFAULT_MAX_DURATION_S
    )
    log_retention_days: Annotated[StrictInt, one_of(*contract.LOG_RETENTION_DAYS)] = (
        contract.DEFAULT_LOG_RETENTION_DAYS
    )
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
        period_s = self.schedule_minutes * 60
        timeout_s = self.timeout_seconds
        field_problem(
            "timeout_seconds",
            durations_problem(timeout_s, self.probe_timeout_seconds, self.max_duration_seconds)
            or overlap_problem(timeout_s, period_s),
        )
        field_problem(
            "alarms.evaluation_periods", alarm_window_problem(period_s, self.alarms.evaluation_periods)
        )
        names = [path.name for path in self.paths]
        field_problem("paths", duplicate_names_problem(names))
        unique(list(self.notify_emails), "email")
        if self.regions is not None:
            duplicate_region(self.regions, "regions")
        field_problem("chain", chain_problem(self.chain, names))
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
    #: ``canary.slo``: the good spec each path carries (None: no SLO, GoodStream judged by the default).
    slo: SloConfig | None = None

    @property
    def path_names(self) -> tuple[str, ...]:
        return tuple(path.name for path in self.paths)

    def path_specs(self, front_door_base_urls: Mapping[str, str]) -> tuple[PathSpec, ...]:
        """What this Region's canary probes, as the contract's specs (``front_door_base_urls``: front
        door -> ``https://<host>``, tokens allowed)."""
        return tuple(
            path.spec(path.target_url(front_door_base_urls), self.secret_arns.get(path.name), self.slo)
            for path in self.paths
        )

    @classmethod
    def only(cls, canary: CanaryConfig, region: str) -> RegionalCanary:
        """The canary of a section on its own (no ``AppConfig``): every path, in ``region``, as home."""
        arns = {}
        for path in canary.paths:
            secret = path.auth_secret
            if secret is not None:
                arn = secret.arn if secret.arn is not None else (secret.arns or {}).get(region)
                if arn is None:
                    raise ValueError(f"canary path {path.name!r} has no auth_secret ARN for {region}")
                arns[path.name] = arn
        return cls(region=region, home=True, paths=canary.paths, secret_arns=arns, slo=canary.slo)
