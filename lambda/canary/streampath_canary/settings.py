"""The canary's runtime config: the ``CANARY_CONFIG`` JSON the stack puts in the environment.

Pure Python (no pydantic: everything under ``lambda/canary`` ships in the Lambda asset). Parsed and
validated once per container at cold start; a bad document is a :class:`ConfigError` naming the key.

Shape (docs/INTERFACES.md)::

    {"namespace": "StreamPath", "probe_timeout_s": 10, "max_duration_s": 30, "deadline_s": 50,
     "paths": [{"name": "nlb", "url": "https://.../api/streamcheck?events=20&interval_ms=100",
                "protocols": ["h1", "h2"], "headers": {"X-Env": "staging"},
                "auth_secret": {"arn": "arn:aws:secretsmanager:...", "header": "Authorization",
                                "json_key": null},
                "verify": true}]}

``verify`` is optional (default ``true``): ``false`` skips certificate checks (an in-VPC "direct"
path addressed by IP), a string is a CA bundle file inside the asset.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

ENV_VAR: Final = "CANARY_CONFIG"
PROTOCOLS: Final = ("h1", "h2")
# CloudWatch dimension values: 1..255 characters; keep names readable on the dashboard too.
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEADER_NAME_RE: Final = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class ConfigError(ValueError):
    """The canary config is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class AuthSecret:
    arn: str
    header: str = "Authorization"
    json_key: str | None = None


@dataclass(frozen=True)
class PathConfig:
    name: str
    url: str
    protocols: tuple[str, ...] = PROTOCOLS
    headers: dict[str, str] = field(default_factory=dict)
    auth_secret: AuthSecret | None = None
    verify: bool | str = True


@dataclass(frozen=True)
class CanaryConfig:
    namespace: str
    probe_timeout_s: float
    max_duration_s: float
    deadline_s: float
    paths: tuple[PathConfig, ...]


def _expect(cond: bool, key: str, what: str, got: Any) -> None:
    if not cond:
        raise ConfigError(f"{ENV_VAR}: {key}: {what}, got {got!r}")


def _number(doc: dict[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    value = doc.get(key, default)
    _expect(
        isinstance(value, int | float) and not isinstance(value, bool) and lo <= value <= hi,
        key,
        f"must be a number {lo:g}..{hi:g}",
        value,
    )
    return float(value)


def _known_keys(doc: dict[str, Any], where: str, allowed: set[str]) -> None:
    extra = sorted(set(doc) - allowed)
    if extra:
        raise ConfigError(f"{ENV_VAR}: {where}: unknown key(s) {', '.join(extra)}")


def _parse_secret(raw: Any, where: str) -> AuthSecret | None:
    if raw is None:
        return None
    _expect(isinstance(raw, dict), where, "must be an object or null", raw)
    _known_keys(raw, where, {"arn", "header", "json_key"})
    arn = raw.get("arn")
    _expect(isinstance(arn, str) and bool(arn), f"{where}.arn", "must be a non-empty string", arn)
    header = raw.get("header", "Authorization")
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
    return AuthSecret(arn=arn, header=header, json_key=json_key)


def _parse_path(raw: Any, i: int) -> PathConfig:
    where = f"paths[{i}]"
    _expect(isinstance(raw, dict), where, "must be an object", raw)
    _known_keys(raw, where, {"name", "url", "protocols", "headers", "auth_secret", "verify"})
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
        parts.scheme in ("http", "https") and bool(parts.netloc),
        f"{where}.url",
        "must be an absolute http(s) URL",
        url,
    )
    protocols = raw.get("protocols", list(PROTOCOLS))
    _expect(
        isinstance(protocols, list)
        and bool(protocols)
        and all(p in PROTOCOLS for p in protocols)
        and len(set(protocols)) == len(protocols),
        f"{where}.protocols",
        'must be a non-empty list of distinct "h1" / "h2"',
        protocols,
    )
    headers = raw.get("headers", {}) or {}
    _expect(isinstance(headers, dict), f"{where}.headers", "must be an object", "<not an object>")
    for key, value in headers.items():
        # Only the names are echoed: header values may be sensitive.
        _expect(bool(_HEADER_NAME_RE.match(key)), f"{where}.headers", "keys must be HTTP header names", key)
        if not isinstance(value, str):
            raise ConfigError(f"{ENV_VAR}: {where}.headers.{key}: value must be a string")
    secret = _parse_secret(raw.get("auth_secret"), f"{where}.auth_secret")
    verify = raw.get("verify", True)
    _expect(
        isinstance(verify, bool | str), f"{where}.verify", "must be true, false or a CA file path", verify
    )
    return PathConfig(
        name=name,
        url=url,
        protocols=tuple(protocols),
        headers=dict(headers),
        auth_secret=secret,
        verify=verify,
    )


def parse_config(text: str | None) -> CanaryConfig:
    """Parse and validate the ``CANARY_CONFIG`` document; raise :class:`ConfigError` if it is bad."""
    if text is None or not text.strip():
        raise ConfigError(f"{ENV_VAR}: is not set (the stack passes the canary's targets in it)")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{ENV_VAR}: not valid JSON: {exc}") from None
    _expect(isinstance(doc, dict), "(root)", "must be an object", type(doc).__name__)
    _known_keys(doc, "(root)", {"namespace", "probe_timeout_s", "max_duration_s", "deadline_s", "paths"})
    namespace = doc.get("namespace", "StreamPath")
    _expect(
        isinstance(namespace, str) and 0 < len(namespace) <= 255 and not namespace.startswith("AWS/"),
        "namespace",
        "must be 1-255 characters and not start with AWS/",
        namespace,
    )
    probe_timeout = _number(doc, "probe_timeout_s", 10, 0.1, 900)
    max_duration = _number(doc, "max_duration_s", 30, 0.1, 900)
    deadline = _number(doc, "deadline_s", 50, 0.1, 900)
    _expect(max_duration <= deadline, "max_duration_s", f"must be <= deadline_s ({deadline:g})", max_duration)
    raw_paths = doc.get("paths")
    _expect(isinstance(raw_paths, list) and bool(raw_paths), "paths", "must be a non-empty list", raw_paths)
    paths = tuple(_parse_path(p, i) for i, p in enumerate(raw_paths))
    names = [p.name for p in paths]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{ENV_VAR}: paths: duplicate name(s) {', '.join(dupes)}")
    return CanaryConfig(
        namespace=namespace,
        probe_timeout_s=probe_timeout,
        max_duration_s=max_duration,
        deadline_s=deadline,
        paths=paths,
    )
