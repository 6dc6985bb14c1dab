"""``canary:`` section — the scheduled streaming canary (its stack is built by issue 4 on this schema).

Cross-section rules that need the rest of the config (a ``front_door`` must name an enabled front door) are
checked by ``streampath.config.AppConfig``; everything else about the canary is validated here.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StrictInt, StrictStr, model_validator

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


#: Over plain http the probe can only try HTTP/2 by prior knowledge (h2c): browsers never do that and
#: HTTP/1.1 servers (uvicorn, an NLB TCP listener in front of one) refuse it, so every h2 probe would fail
#: and keep the Success alarm in ALARM.
H2_NEEDS_TLS = (
    "'h2' needs an https URL: over plain http HTTP/2 means prior knowledge (h2c), which browsers never "
    "use and HTTP/1.1 servers refuse, so every h2 probe would fail; set protocols: [h1]"
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
    """A request header whose value the canary reads from Secrets Manager at run time."""

    arn: SecretArn
    header: HttpHeaderName = "Authorization"
    #: Key inside a JSON secret; null: the whole SecretString is the header value.
    json_key: StrictStr | None = None


class CanaryPathConfig(StrictModel):
    name: PathName
    #: A full URL (the existing ALB, an in-VPC address, ...). Exactly one of ``url`` / ``front_door``.
    url: HttpUrl | None = None
    #: A front door built by this app; the stack turns it into ``https://<its host><path>``.
    front_door: Literal["nlb", "cloudfront"] | None = None
    #: Path and query appended to the front door's base URL (only with ``front_door``).
    path: UrlPathAndQuery | None = None
    protocols: Annotated[tuple[Literal["h1", "h2"], ...], Field(min_length=1, max_length=2)] = ("h1", "h2")
    #: Non-secret request headers (names that carry credentials are refused: use ``auth_secret``).
    headers: dict[HttpHeaderName, StrictStr] = Field(default_factory=dict)
    auth_secret: AuthSecretConfig | None = None

    @model_validator(mode="after")
    def _target(self) -> CanaryPathConfig:
        if (self.url is None) == (self.front_door is None):
            raise FieldProblem("url", "set exactly one of url or front_door")
        if self.front_door is not None and self.path is None:
            raise FieldProblem("path", "required with front_door (for example '/api/streamcheck?events=20')")
        if self.url is not None and self.path is not None:
            raise FieldProblem("path", "only used with front_door; put the path into url")
        unique(list(self.protocols), "protocol")
        if self.url is not None and "h2" in self.protocols and urlsplit(self.url).scheme == "http":
            raise FieldProblem("protocols", H2_NEEDS_TLS)
        for header in self.headers:
            if _SECRET_HEADER.fullmatch(header):
                raise FieldProblem(
                    f"headers.{header}",
                    "looks like a credential and would be stored in clear text; use auth_secret instead",
                )
        return self


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
    paths: Annotated[tuple[CanaryPathConfig, ...], Field(min_length=1, max_length=25)]

    @model_validator(mode="after")
    def _rules(self) -> CanaryConfig:
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
        return self
