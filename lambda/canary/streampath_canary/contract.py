"""The canary's contract: what the stack, the Lambda handler, the alarms, the dashboard and the ops CLI
agree on (docs/contracts/metrics.md, docs/INTERFACES.md).

- CloudWatch metrics: names, units and dimensions.
- Protocols: the ``Protocol`` dimension's values (``h1``, ``h2``, ``h3``) and the HTTP versions they stand
  for; a path probes ``h1`` and ``h2`` unless it says otherwise (:data:`DEFAULT_PROTOCOLS`).
- ``CANARY_CONFIG``: the handler's configuration as frozen dataclasses (:class:`CanarySpec`,
  :class:`PathSpec`, :class:`AuthSecretSpec`) and its JSON form both ways. The stack builds a spec and
  serialises it (:meth:`CanarySpec.to_document`); the handler parses and validates the JSON
  (:meth:`CanarySpec.from_json`), and a bad document is a :class:`CanarySpecError` naming the key.
- The function's environment: the variables the stack sets and their size as Lambda counts it.
- Every default, limit and rule of a canary (docs/INTERFACES.md, "Who owns which value"): the YAML
  models (``streampath.config.canary``) and the constructs (``streampath_cdk``) import them from here.
  Each rule is one ``*_problem()`` function that returns why a value is refused (one line, never the
  value itself) or None; callers only say where the value came from (a YAML key, a JSON key, a prop).

Standard library only, plus the probe's standard-library-only modules (``streamprobe.body``, the
request-body rules; ``streamprobe.redact``, the URL-credential mask; ``import streamprobe`` loads
nothing else): ``cdk synth``, ``streampath status`` and a Lambda cold start all read it, and none of
them should pay for (or need) the probe's HTTP stack to do so.

The JSON document::

    {"namespace": "StreamPath", "probe_timeout_s": 10, "max_duration_s": 30, "deadline_s": 50,
     "paths": [{"name": "nlb", "url": "https://.../api/streamcheck?events=20&interval_ms=100",
                "protocols": ["h1", "h2"], "headers": {"X-Env": "staging"},
                "auth_secret": {"arn": "arn:aws:secretsmanager:...", "header": "Authorization",
                                "json_key": null},
                "verify": true}]}

``verify`` is optional (default ``true``, and then left out of the document): ``false`` skips certificate
checks (an in-VPC path addressed by IP), a string is a CA bundle file inside the asset. ``method``
(``"GET"`` or ``"POST"``, default ``"GET"``) and ``body`` (a string, sent as ``application/json`` unless
``headers`` name another ``Content-Type``; only with ``POST``) are optional too and left out at their
defaults: a chat endpoint is probed as its frontend calls it, with the user's message POSTed. A body is
not secret (it is in the template): :func:`body_problem` refuses one that carries a credential.

``good`` is optional too (left out when absent): the path's SLO spec (``"first_event<=2000,buffering<=500"``,
the syntax of ``streamprobe load --slo``), by which every probe publishes ``GoodStream`` 1 or 0; absent, the
SLO module's default spec. The spec is parsed by ``streamprobe.slo``, imported only when a document names
one or a probe is judged (:func:`slo_rule`), so this module stays standard-library only to import.

``chain`` is optional too (left out when empty): path names ordered from the application outward
(``["direct", "nlb", "cloudfront"]``), each a path of the document, none twice. Each run then names the
first of them that buffers and the delay it adds (``streampath_canary.chain``).
"""

from __future__ import annotations

import functools
import json
import re
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, cast
from urllib.parse import SplitResult, urlsplit

from streamprobe.body import body_problem as probe_body_problem
from streamprobe.body import message_problem
from streamprobe.redact import mask_userinfo

if TYPE_CHECKING:
    from streamprobe.slo import Slo

# --- metrics -----------------------------------------------------------------------------------------

DEFAULT_NAMESPACE: Final = "StreamPath"
DIMENSION_PATH: Final = "Path"
DIMENSION_PROTOCOL: Final = "Protocol"

TIME_TO_FIRST_BYTE: Final = "TimeToFirstByte"
TIME_TO_FIRST_EVENT: Final = "TimeToFirstEvent"
BUFFERING_DELAY: Final = "BufferingDelay"
STREAM_DURATION: Final = "StreamDuration"
DNS_TIME: Final = "DnsTime"
CONNECT_TIME: Final = "ConnectTime"
TLS_TIME: Final = "TlsTime"
EVENTS_RECEIVED: Final = "EventsReceived"
SUCCESS: Final = "Success"
BUFFERED: Final = "Buffered"
PARTIAL: Final = "Partial"
INTER_EVENT_GAP_P99: Final = "InterEventGapP99"
MAX_INTER_EVENT_GAP: Final = "MaxInterEventGap"
#: 1 when the probe's stream met the path's SLO spec (``good``), 0 otherwise (a failed probe included).
GOOD_STREAM: Final = "GoodStream"

#: (metric name, CloudWatch unit), in the order the dashboard and docs list them.
METRICS: Final[tuple[tuple[str, str], ...]] = (
    (TIME_TO_FIRST_BYTE, "Milliseconds"),
    (TIME_TO_FIRST_EVENT, "Milliseconds"),
    (BUFFERING_DELAY, "Milliseconds"),
    (INTER_EVENT_GAP_P99, "Milliseconds"),
    (MAX_INTER_EVENT_GAP, "Milliseconds"),
    (STREAM_DURATION, "Milliseconds"),
    (DNS_TIME, "Milliseconds"),
    (CONNECT_TIME, "Milliseconds"),
    (TLS_TIME, "Milliseconds"),
    (EVENTS_RECEIVED, "Count"),
    (SUCCESS, "Count"),
    (BUFFERED, "Count"),
    (PARTIAL, "Count"),
    (GOOD_STREAM, "Count"),
)
METRIC_UNITS: Final[Mapping[str, str]] = MappingProxyType(dict(METRICS))

# --- protocols ---------------------------------------------------------------------------------------

ProtocolName = Literal["h1", "h2", "h3", "ws"]
PROTOCOLS: Final[tuple[ProtocolName, ...]] = ("h1", "h2", "h3", "ws")
#: The WebSocket protocol value: the same events read over a WebSocket (an HTTP/1.1 upgrade) from a
#: ws:// or wss:// URL; a path with such a URL probes it alone.
WEBSOCKET: Final[ProtocolName] = "ws"
WEBSOCKET_SCHEMES: Final = ("ws", "wss")
#: What a path probes when it names no protocols: HTTP/3 only where it is asked for (the config asks for it
#: on a front door that advertises it), since an h3 probe of a server without QUIC always fails.
DEFAULT_PROTOCOLS: Final[tuple[ProtocolName, ...]] = ("h1", "h2")
#: Protocols that need an https URL: QUIC always carries TLS.
TLS_ONLY_PROTOCOLS: Final[frozenset[ProtocolName]] = frozenset({"h3"})
#: The ``Protocol`` dimension value -> the HTTP version the probe reports in its result (``protocol``).
PROTOCOL_LABELS: Final[Mapping[ProtocolName, str]] = MappingProxyType(
    {"h1": "HTTP/1.1", "h2": "HTTP/2", "h3": "HTTP/3", "ws": "HTTP/1.1"}
)
#: The ``Protocol`` dimension value -> how a dashboard or a report names its series.
SERIES_LABELS: Final[Mapping[ProtocolName, str]] = MappingProxyType(
    {**PROTOCOL_LABELS, WEBSOCKET: "WebSocket"}
)
#: The ``Protocol`` dimension value -> the probe's ``http`` option (a WebSocket opens with HTTP/1.1).
PROBE_HTTP: Final[Mapping[ProtocolName, str]] = MappingProxyType(
    {"h1": "h1", "h2": "h2", "h3": "h3", "ws": "h1"}
)

# --- the function's environment ----------------------------------------------------------------------

CONFIG_ENV_VAR: Final = "CANARY_CONFIG"
#: The Powertools logger's service name (the ``service`` key of every log line).
SERVICE_NAME: Final = "streampath-canary"
LOG_LEVEL: Final = "INFO"

# --- defaults -----------------------------------------------------------------------------------------
# The one copy of each: the YAML's defaults, the constructs' prop defaults and the handler's.

#: How often the canary runs (minutes): one datapoint a minute is what the alarms' M of N count.
DEFAULT_SCHEDULE_MINUTES: Final = 1
#: Lambda memory (MiB): CPU scales with it, and 512 keeps a TLS handshake and the JSON off the timings.
DEFAULT_MEMORY_MB: Final = 512
#: The Lambda timeout (s): the schedule period, so one run can never overlap the next.
DEFAULT_TIMEOUT_S: Final = 60
#: Bounds connect, TLS, the wait for headers and any silence inside a stream (s). The canary's own choice,
#: not the laptop probe's: long enough for a cold TLS handshake across Regions, short enough that a dead
#: path costs one probe's slot and not the run's deadline.
DEFAULT_PROBE_TIMEOUT_S: Final = 10
#: Bounds one probe's whole stream (s): a streamcheck stream lasts 2 s, a chat answer some more.
DEFAULT_MAX_DURATION_S: Final = 30
#: Seconds kept between the handler's own deadline and the Lambda timeout (to publish what it measured).
DEADLINE_MARGIN_S: Final = 10
#: The handler's bound for a whole run (s), with the default timeout.
DEFAULT_DEADLINE_S: Final = DEFAULT_TIMEOUT_S - DEADLINE_MARGIN_S
#: The function's log group retention (days): a month of runs to compare with.
DEFAULT_LOG_RETENTION_DAYS: Final = 30
DEFAULT_SECRET_HEADER: Final = "Authorization"
#: Alarm thresholds: a stream whose events bunch by more than a second is not streaming to a reader; a
#: first event later than 5 s is a held start; 3 breaching runs of the last 5 page, one slow run does not.
DEFAULT_BUFFERING_DELAY_MS: Final = 1000
DEFAULT_TIME_TO_FIRST_EVENT_MS: Final = 5000
DEFAULT_EVALUATION_PERIODS: Final = 5
DEFAULT_DATAPOINTS_TO_ALARM: Final = 3

# --- limits -------------------------------------------------------------------------------------------
# Inclusive (low, high) bounds of the YAML's settings: Lambda's own limits, or what a canary can use.

SCHEDULE_MINUTES_RANGE: Final = (1, 60)
#: Retention values CloudWatch Logs accepts (days), for the function's log group.
LOG_RETENTION_DAYS: Final = (
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
#: Lambda's memory range (MiB).
MEMORY_MB_RANGE: Final = (128, 10240)
#: Lambda's 15-minute cap; below 10 s a run could not even wait out one probe timeout.
TIMEOUT_S_RANGE: Final = (10, 900)
PROBE_TIMEOUT_S_RANGE: Final = (1, 60)
MAX_DURATION_S_RANGE: Final = (1, 600)
ALARM_THRESHOLD_MS_RANGE: Final = (1, 600_000)
EVALUATION_PERIODS_RANGE: Final = (1, 100)
#: CloudWatch caps an alarm's period x evaluation periods: 1 day for periods under an hour, else 7 days.
ALARM_WINDOW_MAX_SECONDS_SHORT_PERIOD: Final = 86_400
ALARM_WINDOW_MAX_SECONDS: Final = 604_800
#: Largest request body of a canary path. It travels in the function's environment, whose 4 KB Lambda
#: limit every path, URL and header shares, so a body past 2 KB could never be deployed; a chat prompt
#: for a canary is a sentence. (The probe's command line allows far larger bodies read from a file.)
MAX_BODY_BYTES: Final = 2048
#: Lambda caps the total size of a function's environment variables (keys and values) at 4 KB.
LAMBDA_ENVIRONMENT_MAX_BYTES: Final = 4096
#: Longest path name: names become alarm names (``<prefix>-<name>-<protocol>-<metric>``), the ``Path``
#: dimension and dashboard titles, which stay readable at this length.
NAME_MAX_CHARS: Final = 31

# --- CANARY_CONFIG -----------------------------------------------------------------------------------

#: The request methods a path may use: ``POST`` sends ``body`` first, as a chat frontend does.
Method = Literal["GET", "POST"]
METHODS: Final[tuple[Method, ...]] = ("GET", "POST")
# Bounds of every duration in seconds: Lambda's own 15-minute cap.
_SECONDS_MIN: Final = 0.1
_SECONDS_MAX: Final = 900.0
_NAME_RE: Final = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{NAME_MAX_CHARS - 1}}}")
#: A CloudWatch namespace's characters (``AWS/`` is reserved for AWS's own).
_NAMESPACE_RE: Final = re.compile(r"[A-Za-z0-9._/#:-]{1,255}")
#: An RFC 9110 token, at most 128 characters.
_HEADER_NAME_RE: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")
#: Header names that carry credentials: refused in a path's plain ``headers`` (they would land in the
#: template and the Lambda environment in clear text); such a header is an ``auth_secret``.
_SECRET_HEADER_RE: Final = re.compile(
    r"(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|apikey|x-amz-security-token"
    r"|.*token.*|.*secret.*|.*password.*|.*session.*|x-origin-verify)",
    re.IGNORECASE,
)
_ROOT_KEYS: Final = frozenset(
    {"namespace", "probe_timeout_s", "max_duration_s", "deadline_s", "paths", "chain"}
)
_PATH_KEYS: Final = frozenset(
    {"name", "url", "protocols", "headers", "auth_secret", "verify", "method", "body", "good"}
)
_SECRET_KEYS: Final = frozenset({"arn", "header", "json_key"})


#: What an error line repeats of a refused value: the line stays short whatever the document holds.
SHOWN_CHARS: Final = 200
#: Unknown keys (or duplicate names) an error line names, at most.
SHOWN_ITEMS: Final = 5
_REPR = reprlib.Repr()  # attributes, not keywords: Python 3.11 has no Repr(**limits)
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist = 2, SHOWN_ITEMS, SHOWN_ITEMS
_REPR.maxstring = _REPR.maxother = SHOWN_CHARS


class CanarySpecError(ValueError):
    """The ``CANARY_CONFIG`` document is missing or invalid; the message names the key (never a header
    value: those may be sensitive)."""


@dataclass(frozen=True, kw_only=True)
class AuthSecretSpec:
    """A request header whose value the handler reads from Secrets Manager at run time."""

    arn: str
    header: str = DEFAULT_SECRET_HEADER
    #: Key inside a JSON secret; ``None``: the whole SecretString is the header value.
    json_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class PathSpec:
    """One probed path. ``url`` may hold CloudFormation tokens when a stack builds it."""

    name: str
    url: str
    protocols: Sequence[ProtocolName] = DEFAULT_PROTOCOLS
    #: Non-secret request headers (their values reach the template; secrets go in ``auth_secret``).
    headers: Mapping[str, str] = field(default_factory=dict)
    auth_secret: AuthSecretSpec | None = None
    #: ``True``: verify certificates; ``False``: do not; a string: a CA bundle file inside the asset.
    verify: bool | str = True
    method: Method = "GET"
    #: The request body (``POST`` only). Not secret: it reaches the template (see :func:`body_problem`).
    body: str | None = None
    #: The SLO spec that makes a stream good (``streamprobe.slo``); None: that module's default spec.
    good: str | None = None

    def __post_init__(self) -> None:
        # Frozen all the way down: a spec handed to a construct cannot change under it.
        object.__setattr__(self, "protocols", tuple(self.protocols))
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))
        # A path the handler would refuse (a body that cannot be sent or holds a credential) is refused
        # before it reaches a template. The URL may be a CloudFormation token here: the handler checks it.
        problem = (
            name_problem(self.name)
            or protocols_problem(self.protocols)
            or websocket_problem(self.protocols, None, self.method)
            or request_problem(self.method, self.body, self.headers, websocket=WEBSOCKET in self.protocols)
        )
        if problem:
            raise ValueError(f"path {self.name!r}: {problem}")
        if self.good is not None:
            slo_rule(self.good)  # SloSpecError (a ValueError) naming the token


@dataclass(frozen=True, kw_only=True)
class CanarySpec:
    """What one canary run probes and with which bounds (seconds)."""

    paths: Sequence[PathSpec]
    namespace: str = DEFAULT_NAMESPACE
    probe_timeout_s: float = DEFAULT_PROBE_TIMEOUT_S
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    #: The handler's own bound for a whole run (it also stops before the Lambda timeout).
    deadline_s: float = DEFAULT_DEADLINE_S
    #: Path names from the application outward: each run names the first that buffers (may be empty).
    chain: Sequence[str] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", tuple(self.paths))
        object.__setattr__(self, "chain", tuple(self.chain))
        names = [p.name for p in self.paths]
        for key, problem in (
            ("namespace", namespace_problem(self.namespace)),
            ("paths", duplicate_names_problem(names)),
            ("chain", chain_problem(self.chain, names)),
        ):
            if problem:
                raise ValueError(f"{key}: {problem}")

    @property
    def protocols(self) -> tuple[ProtocolName, ...]:
        """Every protocol some path probes, in :data:`PROTOCOLS` order."""
        used = {protocol for path in self.paths for protocol in path.protocols}
        return tuple(p for p in PROTOCOLS if p in used)

    def to_document(self) -> dict[str, Any]:
        """The JSON-ready document (plain dicts and lists; strings may be CloudFormation tokens)."""
        return {
            "namespace": self.namespace,
            "probe_timeout_s": _json_number(self.probe_timeout_s),
            "max_duration_s": _json_number(self.max_duration_s),
            "deadline_s": _json_number(self.deadline_s),
            "paths": [_path_document(path) for path in self.paths],
            **({"chain": list(self.chain)} if self.chain else {}),
        }

    def to_json(self) -> str:
        """The compact JSON text, as the function's environment holds it."""
        return json.dumps(self.to_document(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> CanarySpec:
        """Parse and validate ``CANARY_CONFIG``; raise :class:`CanarySpecError` naming the bad key."""
        if text is None or not text.strip():
            raise CanarySpecError(
                f"{CONFIG_ENV_VAR}: is not set (the stack passes the canary's targets in it)"
            )
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CanarySpecError(f"{CONFIG_ENV_VAR}: not valid JSON: {exc}") from None
        return cls.from_document(doc)

    @classmethod
    def from_document(cls, doc: object) -> CanarySpec:
        """Validate a parsed document (see :meth:`from_json`)."""
        _expect(isinstance(doc, dict), "(root)", "must be an object", type(doc).__name__)
        root = cast(dict[str, Any], doc)
        _known_keys(root, "(root)", _ROOT_KEYS)
        namespace = root.get("namespace", DEFAULT_NAMESPACE)
        _expect(isinstance(namespace, str), "namespace", "must be a string", namespace)
        _check("namespace", namespace_problem(namespace), namespace)
        probe_timeout = _seconds(root, "probe_timeout_s", DEFAULT_PROBE_TIMEOUT_S)
        max_duration = _seconds(root, "max_duration_s", DEFAULT_MAX_DURATION_S)
        deadline = _seconds(root, "deadline_s", DEFAULT_DEADLINE_S)
        _expect(
            max_duration <= deadline, "max_duration_s", f"must be <= deadline_s ({deadline:g})", max_duration
        )
        raw_paths = root.get("paths")
        _expect(
            isinstance(raw_paths, list) and bool(raw_paths), "paths", "must be a non-empty list", raw_paths
        )
        paths = tuple(_parse_path(raw, i) for i, raw in enumerate(cast(list[Any], raw_paths)))
        names = [p.name for p in paths]
        _check("paths", duplicate_names_problem(names))
        chain = root.get("chain", [])
        _expect(
            isinstance(chain, list) and all(isinstance(n, str) for n in chain),
            "chain",
            "must be a list of path names",
            chain,
        )
        problem = chain_problem(chain, names)
        if problem:
            raise CanarySpecError(f"{CONFIG_ENV_VAR}: chain: {problem}")
        return cls(
            paths=paths,
            namespace=namespace,
            probe_timeout_s=probe_timeout,
            max_duration_s=max_duration,
            deadline_s=deadline,
            chain=tuple(chain),
        )


# --- rules ------------------------------------------------------------------------------------------
# Each returns why a value is refused, in one line that never repeats a secret, or None. The caller says
# where the value came from (a YAML key, a CANARY_CONFIG key, a construct prop).


def name_problem(name: str) -> str | None:
    """A path name: it becomes the ``Path`` dimension, part of alarm names and dashboard titles."""
    if _NAME_RE.fullmatch(name):
        return None
    return f"must be a lower-case name like 'nlb' (a-z, 0-9, '-', at most {NAME_MAX_CHARS} characters)"


def namespace_problem(namespace: str) -> str | None:
    """A CloudWatch namespace of the canary's metrics (``AWS/`` is AWS's own)."""
    if _NAMESPACE_RE.fullmatch(namespace) and not namespace.startswith("AWS/"):
        return None
    return "must be a CloudWatch namespace like 'StreamPath' (1-255 of A-Z a-z 0-9 . _ / # : -, not AWS/...)"


def header_name_problem(name: str) -> str | None:
    """An HTTP header name (an RFC 9110 token of at most 128 characters)."""
    return None if _HEADER_NAME_RE.fullmatch(name) else "must be an HTTP header name"


def plain_header_problem(name: str) -> str | None:
    """A header sent from a path's plain ``headers``: one that names a credential belongs in
    ``auth_secret`` (plain header values are stored in the template and the environment)."""
    if _SECRET_HEADER_RE.fullmatch(name):
        return "looks like a credential and would be stored in clear text; use auth_secret instead"
    return None


#: Why a URL with ``user:password@`` is refused (a refusal that need not repeat the URL at all).
URL_CREDENTIALS_PROBLEM: Final = (
    "must not carry credentials (user:password@): a secret header goes in auth_secret"
)


def url_problem(url: str) -> str | None:
    """A probed URL: absolute http(s) (or ws(s), a WebSocket) with a host and a valid port, and no
    ``user:password@``."""
    parts = urlsplit(url)
    schemes = ("http", "https", *WEBSOCKET_SCHEMES)
    if parts.scheme not in schemes or not parts.hostname or not _port_ok(parts):
        return (
            "must be an absolute http(s) URL with a host, like 'https://api.example.com/api/streamcheck' "
            "(or ws(s):// for a WebSocket)"
        )
    if "@" in parts.netloc:
        return URL_CREDENTIALS_PROBLEM
    return None


def protocols_problem(protocols: Sequence[str]) -> str | None:
    """A path's protocols: a non-empty list of distinct values of :data:`PROTOCOLS`."""
    if not protocols or not all(p in PROTOCOLS for p in protocols):
        return 'must be a non-empty list of distinct "h1" / "h2" / "h3" / "ws"'
    twice = next((p for i, p in enumerate(protocols) if p in protocols[:i]), None)
    return f"protocol {twice!r} is listed twice" if twice is not None else None


def h2_scheme_problem(protocols: Sequence[str], scheme: str) -> str | None:
    """h2 over plain http is HTTP/2 by prior knowledge (h2c): browsers never use it and HTTP/1.1 servers
    (uvicorn, an NLB TCP listener in front of one) refuse it, so every h2 probe would fail and keep the
    Success alarm in ALARM. The YAML refuses it; a construct user probing an h2c server may not."""
    if scheme == "http" and "h2" in protocols:
        return (
            "'h2' needs an https URL: over plain http HTTP/2 means prior knowledge (h2c), which browsers "
            "never use and HTTP/1.1 servers refuse, so every h2 probe would fail; set protocols: [h1]"
        )
    return None


def h3_scheme_problem(protocols: Sequence[str], scheme: str) -> str | None:
    """HTTP/3 runs over QUIC, and QUIC always carries TLS 1.3: there is no plain-http HTTP/3 to probe."""
    if scheme != "https" and TLS_ONLY_PROTOCOLS.intersection(protocols):
        return (
            "'h3' needs an https URL: HTTP/3 runs over QUIC, which always carries TLS, so every h3 probe "
            "would fail; remove h3 from protocols"
        )
    return None


def websocket_problem(protocols: Sequence[str], scheme: str | None, method: str) -> str | None:
    """A WebSocket path: a ws:// or wss:// URL probed as ``protocols: [ws]`` alone, opened with a GET (its
    ``body`` is sent as the first message). ``scheme``: None when the URL is not known yet (a front door's,
    which the config turns into ws(s):// for such a path)."""
    websocket = WEBSOCKET in protocols
    if websocket and list(protocols) != [WEBSOCKET]:
        return "'ws' reads a WebSocket URL, which the HTTP protocols cannot: make it a path of its own"
    if scheme is not None and websocket != (scheme in WEBSOCKET_SCHEMES):
        return (
            "'ws' needs a ws:// or wss:// URL (e.g. wss://api.example.com/api/streamcheck/ws), and such a "
            "URL needs protocols: [ws]"
        )
    if websocket and method != "GET":
        return "a WebSocket opens with a GET: drop method: POST (its body is sent as the first message)"
    return None


def request_options(protocol: ProtocolName, method: str, body: str | None) -> dict[str, Any]:
    """The probe's options (``streamprobe.ProbeOptions`` keywords) for a path's request over ``protocol``:
    its ``http``, and the body as the request's (HTTP) or as the socket's first message (``ws``)."""
    if protocol == WEBSOCKET:
        return {"http": PROBE_HTTP[protocol], "method": "GET", "data": None, "send": body}
    data = None if body is None else body.encode("utf-8")
    return {"http": PROBE_HTTP[protocol], "method": method, "data": data, "send": None}


def websocket_url(url: str) -> str:
    """``url`` with http(s) turned into ws(s), as a WebSocket path probes a front door's URL."""
    for http, ws in (("https://", "wss://"), ("http://", "ws://")):
        if url.startswith(http):
            return ws + url[len(http) :]
    return url


def duplicate_names_problem(names: Sequence[str]) -> str | None:
    """Path names are the ``Path`` dimension: each path has its own."""
    twice = sorted({name for name in names if list(names).count(name) > 1})
    return f"duplicate name(s) {_names(twice)}" if twice else None


@functools.cache
def slo_rule(spec: str | None) -> Slo:
    """The parsed SLO spec (None: the default spec). Imports ``streamprobe.slo`` on first use: a cold
    start whose paths name no spec loads nothing but this module."""
    from streamprobe.slo import DEFAULT_SLO, parse_slo

    return parse_slo(DEFAULT_SLO if spec is None else spec)


def chain_problem(chain: Sequence[str], path_names: Sequence[str]) -> str | None:
    """Why ``chain`` is not a chain of these paths (an unknown name, or one listed twice), or None."""
    unknown = [name for name in chain if name not in path_names]
    if unknown:
        return f"unknown path name(s) {_names(unknown)} (the paths are {_names(list(path_names))})"
    twice = sorted({name for name in chain if list(chain).count(name) > 1})
    if twice:
        return f"path name(s) listed twice: {_names(twice)}"
    return None


def durations_problem(timeout_s: float, probe_timeout_s: float, max_duration_s: float) -> str | None:
    """The Lambda timeout must leave room for a whole stream and one more silence bound after it."""
    if timeout_s > max_duration_s + probe_timeout_s:
        return None
    return (
        f"must be greater than max_duration_seconds + probe_timeout_seconds "
        f"({max_duration_s:g} + {probe_timeout_s:g}), got {timeout_s:g}"
    )


def overlap_problem(timeout_s: float, period_s: float) -> str | None:
    """A run may not outlast the schedule period: runs would overlap (and the second be throttled)."""
    if timeout_s <= period_s:
        return None
    return f"must be at most the schedule period ({period_s:g} s) so runs cannot overlap, got {timeout_s:g} s"


def alarm_window_problem(period_s: float, evaluation_periods: int) -> str | None:
    """CloudWatch caps period x evaluation periods (1 day below an hour's period, else 7 days)."""
    window_max = ALARM_WINDOW_MAX_SECONDS_SHORT_PERIOD if period_s < 3600 else ALARM_WINDOW_MAX_SECONDS
    if period_s * evaluation_periods <= window_max:
        return None
    return (
        f"must be at most {int(window_max // period_s)} with a {period_s:g} s period (CloudWatch caps "
        f"period x evaluation periods at {window_max // 3600} h), got {evaluation_periods}"
    )


def datapoints_problem(evaluation_periods: int, datapoints_to_alarm: int) -> str | None:
    """M of N: an alarm needs M breaching datapoints among the last N."""
    if datapoints_to_alarm <= evaluation_periods:
        return None
    return f"must be at most evaluation_periods ({evaluation_periods}), got {datapoints_to_alarm}"


def environment_problem(size: int) -> str | None:
    """The function's environment (every key and value) must fit Lambda's 4 KB."""
    if size <= LAMBDA_ENVIRONMENT_MAX_BYTES:
        return None
    return (
        f"the canary's configuration needs about {size} bytes of environment variables and Lambda allows "
        f"{LAMBDA_ENVIRONMENT_MAX_BYTES} in all: shorten URLs and headers or split the paths over two "
        "environments"
    )


def deadline_s(timeout_s: float, max_duration_s: float) -> float:
    """The handler's bound for a whole run: :data:`DEADLINE_MARGIN_S` before the Lambda timeout, and
    never shorter than one stream."""
    return max(timeout_s - DEADLINE_MARGIN_S, max_duration_s)


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    """What the canary's alarms fire on: per path and protocol, ``BufferingDelay`` above
    ``buffering_delay_ms`` or ``TimeToFirstEvent`` above ``time_to_first_event_ms`` (or ``Success`` below
    1) in ``datapoints_to_alarm`` of ``evaluation_periods`` runs."""

    buffering_delay_ms: int = DEFAULT_BUFFERING_DELAY_MS
    time_to_first_event_ms: int = DEFAULT_TIME_TO_FIRST_EVENT_MS
    evaluation_periods: int = DEFAULT_EVALUATION_PERIODS
    datapoints_to_alarm: int = DEFAULT_DATAPOINTS_TO_ALARM

    def __post_init__(self) -> None:
        problem = datapoints_problem(self.evaluation_periods, self.datapoints_to_alarm)
        if problem:
            raise ValueError(f"datapoints_to_alarm: {problem}")


def function_environment(
    spec: CanarySpec, *, encode: Callable[[dict[str, Any]], str] | None = None
) -> dict[str, str]:
    """The canary function's environment variables.

    ``encode`` turns :meth:`CanarySpec.to_document` into the ``CANARY_CONFIG`` text; a CDK stack passes
    ``Stack.to_json_string`` so that tokens inside URLs resolve at deploy time. Default: compact JSON.
    """
    document = spec.to_document()
    config = encode(document) if encode is not None else json.dumps(document, separators=(",", ":"))
    return {
        CONFIG_ENV_VAR: config,
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": spec.namespace,
        "POWERTOOLS_LOG_LEVEL": LOG_LEVEL,
    }


def environment_bytes(environment: Mapping[str, str]) -> int:
    """The size Lambda's 4 KB limit applies to: every key and value, UTF-8 encoded."""
    return sum(len(key.encode()) + len(value.encode()) for key, value in environment.items())


# --- JSON form ---------------------------------------------------------------------------------------


def _json_number(value: float) -> float | int:
    # 10.0 -> 10: the document reads as the YAML was written, and stays the same as before floats.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _path_document(path: PathSpec) -> dict[str, Any]:
    secret = path.auth_secret
    document: dict[str, Any] = {
        "name": path.name,
        "url": path.url,
        "protocols": list(path.protocols),
        "headers": dict(path.headers),
        "auth_secret": (
            {"arn": secret.arn, "header": secret.header, "json_key": secret.json_key}
            if secret is not None
            else None
        ),
    }
    if path.verify is not True:
        document["verify"] = path.verify
    if path.method != "GET":
        document["method"] = path.method
    if path.body is not None:
        document["body"] = path.body
    if path.good is not None:
        document["good"] = path.good
    return document


def _expect(cond: bool, key: str, what: str, got: Any) -> None:
    if not cond:
        raise CanarySpecError(f"{CONFIG_ENV_VAR}: {key}: {what}, got {_shown(got)}")


_UNSHOWN: Final = object()


def _check(key: str, problem: str | None, got: Any = _UNSHOWN) -> None:
    """A rule's problem as this document's error (with the refused value, unless it is not to be shown)."""
    if problem:
        shown = "" if got is _UNSHOWN else f", got {_shown(got)}"
        raise CanarySpecError(f"{CONFIG_ENV_VAR}: {key}: {problem}{shown}")


def _shown(value: Any) -> str:
    """A refused value as an error line repeats it: a repr of at most SHOWN_CHARS characters, URL
    credentials masked (a 10 MB value is not a 10 MB log line; a password is not logged)."""
    text = repr(mask_userinfo(value)) if isinstance(value, str) else mask_userinfo(_REPR.repr(value))
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _names(items: Sequence[Any]) -> str:
    """Keys or names as a line lists them: plain when short and printable, else :func:`_shown`."""

    def name(item: Any) -> str:
        plain = isinstance(item, str) and 0 < len(item) <= 64 and item.isprintable() and "@" not in item
        return str(item) if plain else _shown(item)

    shown = ", ".join(name(item) for item in items[:SHOWN_ITEMS])
    return shown + (f" and {len(items) - SHOWN_ITEMS} more" if len(items) > SHOWN_ITEMS else "")


def _seconds(doc: dict[str, Any], key: str, default: float) -> float:
    value = doc.get(key, default)
    _expect(
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and _SECONDS_MIN <= value <= _SECONDS_MAX,
        key,
        f"must be a number {_SECONDS_MIN:g}..{_SECONDS_MAX:g}",
        value,
    )
    return float(value)


def _known_keys(doc: dict[str, Any], where: str, allowed: frozenset[str]) -> None:
    extra = sorted(set(doc) - allowed)
    if extra:
        raise CanarySpecError(f"{CONFIG_ENV_VAR}: {where}: unknown key(s) {_names(extra)}")


def _parse_secret(raw: Any, where: str) -> AuthSecretSpec | None:
    if raw is None:
        return None
    _expect(isinstance(raw, dict), where, "must be an object or null", raw)
    _known_keys(raw, where, _SECRET_KEYS)
    arn = raw.get("arn")
    _expect(isinstance(arn, str) and bool(arn), f"{where}.arn", "must be a non-empty string", arn)
    header = raw.get("header", DEFAULT_SECRET_HEADER)
    _expect(isinstance(header, str), f"{where}.header", "must be an HTTP header name", header)
    _check(f"{where}.header", header_name_problem(header), header)
    json_key = raw.get("json_key")
    _expect(
        json_key is None or (isinstance(json_key, str) and bool(json_key)),
        f"{where}.json_key",
        "must be a non-empty string or null",
        json_key,
    )
    return AuthSecretSpec(arn=arn, header=header, json_key=json_key)


def _port_ok(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0..65535
    except ValueError:
        return False
    return True


def _parse_path(raw: Any, i: int) -> PathSpec:
    where = f"paths[{i}]"
    _expect(isinstance(raw, dict), where, "must be an object", raw)
    _known_keys(raw, where, _PATH_KEYS)
    name = raw.get("name")
    _expect(isinstance(name, str), f"{where}.name", "must be a string", name)
    _check(f"{where}.name", name_problem(name), name)
    url = raw.get("url")
    _expect(isinstance(url, str), f"{where}.url", "must be a string", url)
    _check(f"{where}.url", url_problem(url), url)
    protocols = raw.get("protocols", list(DEFAULT_PROTOCOLS))
    _expect(isinstance(protocols, list), f"{where}.protocols", "must be a list", protocols)
    _check(f"{where}.protocols", protocols_problem(protocols), protocols)
    _check(f"{where}.protocols", h3_scheme_problem(protocols, urlsplit(url).scheme), protocols)
    method = raw.get("method", "GET")
    _expect(method in METHODS, f"{where}.method", 'must be "GET" or "POST"', method)
    _check(f"{where}.protocols", websocket_problem(protocols, urlsplit(url).scheme, method), protocols)
    headers = raw.get("headers", {}) or {}
    _expect(isinstance(headers, dict), f"{where}.headers", "must be an object", "<not an object>")
    for key, value in headers.items():
        # Only the names are echoed: header values may be sensitive.
        _expect(isinstance(key, str), f"{where}.headers", "keys must be HTTP header names", key)
        _check(f"{where}.headers", header_name_problem(key), key)
        if not isinstance(value, str):
            raise CanarySpecError(f"{CONFIG_ENV_VAR}: {where}.headers[{_shown(key)}]: value must be a string")
    secret = _parse_secret(raw.get("auth_secret"), f"{where}.auth_secret")
    verify = raw.get("verify", True)
    _expect(
        isinstance(verify, bool | str), f"{where}.verify", "must be true, false or a CA file path", verify
    )
    body = raw.get("body")
    if body is not None and not isinstance(body, str):
        raise CanarySpecError(f"{CONFIG_ENV_VAR}: {where}.body: must be a string or null")
    problem = request_problem(method, body, headers, websocket=WEBSOCKET in protocols)
    if problem:
        # The problem never quotes the body: it may hold what it should not.
        raise CanarySpecError(f"{CONFIG_ENV_VAR}: {where}.body: {problem}")
    good = raw.get("good")
    _check(
        f"{where}.good", None if good is None or isinstance(good, str) else "must be an SLO spec string", good
    )
    if good is not None:
        try:
            slo_rule(good)
        except ValueError as exc:  # SloSpecError: its message names the token
            raise CanarySpecError(f"{CONFIG_ENV_VAR}: {where}.good: {exc}") from None
    return PathSpec(
        name=name,
        url=url,
        protocols=tuple(protocols),
        headers=dict(headers),
        auth_secret=secret,
        verify=verify,
        method=method,
        body=body,
        good=good,
    )


# --- request bodies ----------------------------------------------------------------------------------

BODY_SECRET_HINT: Final = (
    "a body is not secret (it is stored in the template and the function's environment); send the "
    "credential as a header read from Secrets Manager instead (auth_secret)"
)


def body_problem(body: str, content_type: str | None = None) -> str | None:
    """Why ``body`` cannot be a path's request body, or None: over :data:`MAX_BODY_BYTES` (it travels in
    the canary's environment), else the probe's rules (:func:`streamprobe.body.body_problem`: what looks
    like a credential, the JSON its Content-Type says), with the canary's hint for a credential."""
    size = len(body.encode("utf-8"))
    if size > MAX_BODY_BYTES:
        return (
            f"is {size} bytes, more than {MAX_BODY_BYTES}: it travels in the canary's environment (4 KB "
            "for everything); a small prompt is enough to probe a chat endpoint"
        )
    return probe_body_problem(body, content_type, secret_hint=BODY_SECRET_HINT)


def request_problem(
    method: str, body: str | None, headers: Mapping[str, str], *, websocket: bool = False
) -> str | None:
    """Why a path's ``method`` and ``body`` cannot go together, or None (see :func:`body_problem`).
    ``websocket``: the body is the socket's first message, sent after a GET."""
    if method not in METHODS:
        return f'method must be "GET" or "POST", got {method!r}'
    if body is None:
        return None
    if websocket:  # the socket's first message: any text
        return message_problem(body, secret_hint=BODY_SECRET_HINT)
    if method == "GET":
        return "a body needs method: POST (a chat endpoint reads its prompt from a POST)"
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    return body_problem(body, content_type)
