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

``chain`` is optional too (left out when empty): path names ordered from the application outward
(``["direct", "nlb", "cloudfront"]``), each a path of the document, none twice. Each run then names the
first of them that buffers and the delay it adds (``streampath_canary.chain``).
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, cast
from urllib.parse import SplitResult, urlsplit

from streamprobe.body import body_problem as probe_body_problem
from streamprobe.redact import mask_userinfo

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
INTER_EVENT_GAP_P99: Final = "InterEventGapP99"
MAX_INTER_EVENT_GAP: Final = "MaxInterEventGap"

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
)
METRIC_UNITS: Final[Mapping[str, str]] = MappingProxyType(dict(METRICS))

# --- protocols ---------------------------------------------------------------------------------------

ProtocolName = Literal["h1", "h2", "h3"]
PROTOCOLS: Final[tuple[ProtocolName, ...]] = ("h1", "h2", "h3")
#: What a path probes when it names no protocols: HTTP/3 only where it is asked for (the config asks for it
#: on a front door that advertises it), since an h3 probe of a server without QUIC always fails.
DEFAULT_PROTOCOLS: Final[tuple[ProtocolName, ...]] = ("h1", "h2")
#: Protocols that need an https URL: QUIC always carries TLS.
TLS_ONLY_PROTOCOLS: Final[frozenset[ProtocolName]] = frozenset({"h3"})
#: The ``Protocol`` dimension value -> the HTTP version the probe reports in its result (``protocol``).
PROTOCOL_LABELS: Final[Mapping[ProtocolName, str]] = MappingProxyType(
    {"h1": "HTTP/1.1", "h2": "HTTP/2", "h3": "HTTP/3"}
)

# --- the function's environment ----------------------------------------------------------------------

CONFIG_ENV_VAR: Final = "CANARY_CONFIG"
#: The Powertools logger's service name (the ``service`` key of every log line).
SERVICE_NAME: Final = "streampath-canary"
LOG_LEVEL: Final = "INFO"

# --- CANARY_CONFIG -----------------------------------------------------------------------------------

DEFAULT_PROBE_TIMEOUT_S: Final = 10.0
DEFAULT_MAX_DURATION_S: Final = 30.0
DEFAULT_DEADLINE_S: Final = 50.0
DEFAULT_SECRET_HEADER: Final = "Authorization"
#: The request methods a path may use: ``POST`` sends ``body`` first, as a chat frontend does.
Method = Literal["GET", "POST"]
METHODS: Final[tuple[Method, ...]] = ("GET", "POST")
# Bounds of every duration in seconds: Lambda's own 15-minute cap.
_SECONDS_MIN: Final = 0.1
_SECONDS_MAX: Final = 900.0
# CloudWatch dimension values are 1..255 characters; keep names readable on the dashboard too.
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEADER_NAME_RE: Final = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_ROOT_KEYS: Final = frozenset(
    {"namespace", "probe_timeout_s", "max_duration_s", "deadline_s", "paths", "chain"}
)
_PATH_KEYS: Final = frozenset(
    {"name", "url", "protocols", "headers", "auth_secret", "verify", "method", "body"}
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

    def __post_init__(self) -> None:
        # Frozen all the way down: a spec handed to a construct cannot change under it.
        object.__setattr__(self, "protocols", tuple(self.protocols))
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))
        # A body that cannot be sent (or holds a credential) is refused before it reaches a template.
        problem = request_problem(self.method, self.body, self.headers)
        if problem:
            raise ValueError(f"path {self.name!r}: {problem}")


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
        problem = chain_problem(self.chain, [p.name for p in self.paths])
        if problem:
            raise ValueError(f"chain: {problem}")

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
        _expect(
            isinstance(namespace, str) and 0 < len(namespace) <= 255 and not namespace.startswith("AWS/"),
            "namespace",
            "must be 1-255 characters and not start with AWS/",
            namespace,
        )
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
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise CanarySpecError(f"{CONFIG_ENV_VAR}: paths: duplicate name(s) {_names(dupes)}")
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


def chain_problem(chain: Sequence[str], path_names: Sequence[str]) -> str | None:
    """Why ``chain`` is not a chain of these paths (an unknown name, or one listed twice), or None."""
    unknown = [name for name in chain if name not in path_names]
    if unknown:
        return f"unknown path name(s) {_names(unknown)} (the paths are {_names(list(path_names))})"
    twice = sorted({name for name in chain if list(chain).count(name) > 1})
    if twice:
        return f"path name(s) listed twice: {_names(twice)}"
    return None


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
    return document


def _expect(cond: bool, key: str, what: str, got: Any) -> None:
    if not cond:
        raise CanarySpecError(f"{CONFIG_ENV_VAR}: {key}: {what}, got {_shown(got)}")


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
    _expect(
        isinstance(header, str) and bool(_HEADER_NAME_RE.match(header)),
        f"{where}.header",
        "must be an HTTP header name",
        header,
    )
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
    _expect(
        isinstance(name, str) and bool(_NAME_RE.match(name)),
        f"{where}.name",
        "must be 1-64 characters [A-Za-z0-9_.-] starting with a letter or digit",
        name,
    )
    url = raw.get("url")
    _expect(isinstance(url, str), f"{where}.url", "must be a string", url)
    parts = urlsplit(url)
    _expect(
        parts.scheme in ("http", "https") and bool(parts.hostname) and _port_ok(parts),
        f"{where}.url",
        "must be an absolute http(s) URL with a host",
        url,
    )
    _expect(
        "@" not in parts.netloc,
        f"{where}.url",
        "must not carry credentials (user:password@): a secret header goes in auth_secret",
        url,
    )
    protocols = raw.get("protocols", list(DEFAULT_PROTOCOLS))
    _expect(
        isinstance(protocols, list)
        and bool(protocols)
        and all(p in PROTOCOLS for p in protocols)
        and len(set(protocols)) == len(protocols),
        f"{where}.protocols",
        'must be a non-empty list of distinct "h1" / "h2" / "h3"',
        protocols,
    )
    _expect(
        parts.scheme == "https" or not TLS_ONLY_PROTOCOLS.intersection(protocols),
        f"{where}.protocols",
        '"h3" needs an https URL (HTTP/3 runs over QUIC, which always carries TLS)',
        protocols,
    )
    headers = raw.get("headers", {}) or {}
    _expect(isinstance(headers, dict), f"{where}.headers", "must be an object", "<not an object>")
    for key, value in headers.items():
        # Only the names are echoed: header values may be sensitive.
        _expect(bool(_HEADER_NAME_RE.match(key)), f"{where}.headers", "keys must be HTTP header names", key)
        if not isinstance(value, str):
            raise CanarySpecError(f"{CONFIG_ENV_VAR}: {where}.headers[{_shown(key)}]: value must be a string")
    secret = _parse_secret(raw.get("auth_secret"), f"{where}.auth_secret")
    verify = raw.get("verify", True)
    _expect(
        isinstance(verify, bool | str), f"{where}.verify", "must be true, false or a CA file path", verify
    )
    method = raw.get("method", "GET")
    _expect(method in METHODS, f"{where}.method", 'must be "GET" or "POST"', method)
    body = raw.get("body")
    if body is not None and not isinstance(body, str):
        raise CanarySpecError(f"{CONFIG_ENV_VAR}: {where}.body: must be a string or null")
    problem = request_problem(method, body, headers)
    if problem:
        # The problem never quotes the body: it may hold what it should not.
        raise CanarySpecError(f"{CONFIG_ENV_VAR}: {where}.body: {problem}")
    _expect(
        body is None or "h3" not in protocols,
        f"{where}.protocols",
        '"h3" probes send no request body: probe a path with a body over "h1" / "h2"',
        protocols,
    )
    return PathSpec(
        name=name,
        url=url,
        protocols=tuple(protocols),
        headers=dict(headers),
        auth_secret=secret,
        verify=verify,
        method=method,
        body=body,
    )


# --- request bodies ----------------------------------------------------------------------------------

BODY_SECRET_HINT: Final = (
    "a body is not secret (it is stored in the template and the function's environment); send the "
    "credential as a header read from Secrets Manager instead (auth_secret)"
)


def body_problem(body: str, content_type: str | None = None) -> str | None:
    """Why ``body`` cannot be a path's request body, or None: the probe's rules
    (:func:`streamprobe.body.body_problem`: size, what looks like a credential, the JSON its
    Content-Type says), with the canary's hint for a credential."""
    return probe_body_problem(body, content_type, secret_hint=BODY_SECRET_HINT)


def request_problem(method: str, body: str | None, headers: Mapping[str, str]) -> str | None:
    """Why a path's ``method`` and ``body`` cannot go together, or None (see :func:`body_problem`)."""
    if method not in METHODS:
        return f'method must be "GET" or "POST", got {method!r}'
    if body is None:
        return None
    if method == "GET":
        return 'a body needs method "POST"'
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    return body_problem(body, content_type)
