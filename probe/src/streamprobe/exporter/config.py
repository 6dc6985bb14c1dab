"""The exporter's YAML config: the allow-list and the modules, in blackbox_exporter's style.

```yaml
allowed_targets:                      # shell-style globs over the whole target URL (see .targets)
  - "http://*.svc.cluster.local:8080/*"
modules:
  default:                            # used when /probe has no module= parameter
    timeout: 10s                      # connect, TLS, headers and any silence in the stream
    max_duration: 30s                 # the whole read (Prometheus's scrape timeout bounds it too)
    http:
      protocol: auto                  # auto | h1 | h2 | h3
      method: GET                     # GET | POST
      body: '{"prompt": "hi"}'        # POST only; never a credential
      headers: {Accept-Language: en}  # plain values: a config file is not a secret store
      secret_headers:                 # values read from a file (on each probe) or the environment
        Authorization: {file: /var/run/secrets/streamprobe/token, prefix: "Bearer "}
        X-Api-Key: {env: STREAMPROBE_API_KEY}
      accept_encoding: identity       # default: like a browser
      stamp: true                     # send X-Streampath-Stamp: 1
      max_event_bytes: 1048576
      tls_config: {ca_file: /etc/ssl/internal-ca.pem, insecure_skip_verify: false}
```

A bad file fails at start with one line naming the file and the key. A header that names a
credential, or a value that looks like one, is refused under ``headers``: it belongs under
``secret_headers``. A secret file is read on every probe, so a rotated Kubernetes Secret is picked up.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from ..body import is_secret_key, secret_in_body
from ..options import HTTP_CHOICES, METHODS, HttpChoice, Method, ProbeOptions
from .targets import check_pattern

#: The module a probe uses when ``/probe`` names none.
DEFAULT_MODULE: Final = "default"
#: The probe's own defaults: the exporter keeps them unless a module says otherwise.
_DEFAULTS: Final = ProbeOptions()
_DURATION = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<unit>ms|s|m)$")
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0}


class ConfigError(ValueError):
    """A config the exporter cannot use: one line naming the file and the key."""


class SecretUnavailable(RuntimeError):
    """A secret header's file cannot be read (the message names the file, never a value)."""


@dataclass(frozen=True)
class SecretHeader:
    """A header whose value comes from a file (read on each probe) or an environment variable."""

    name: str
    file: Path | None = None
    env: str | None = None
    prefix: str = ""

    def value(self) -> str:
        if self.env is not None:
            raw = os.environ.get(self.env)
            if raw is None:
                raise SecretUnavailable(
                    f"secret header {self.name}: environment variable {self.env} is not set"
                )
        else:
            assert self.file is not None
            try:
                raw = self.file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
                raise SecretUnavailable(
                    f"secret header {self.name}: cannot read {self.file}: {reason}"
                ) from None
        return self.prefix + raw.strip()


@dataclass(frozen=True)
class Module:
    """How a probe of this module asks: everything but the target."""

    name: str
    http: HttpChoice = _DEFAULTS.http
    method: Method = _DEFAULTS.method
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    secret_headers: tuple[SecretHeader, ...] = ()
    accept_encoding: str | None = None
    timeout: float = _DEFAULTS.timeout
    max_duration: float = _DEFAULTS.max_duration
    max_event_bytes: int = _DEFAULTS.max_event_bytes
    stamp: bool = _DEFAULTS.stamp
    verify: bool | str = _DEFAULTS.verify

    def options(self, budget_s: float | None = None) -> ProbeOptions:
        """The probe's options, its bounds cut to ``budget_s`` (what the scrape leaves), secrets read now.
        Raises SecretUnavailable."""
        return self._options(budget_s, {s.name: s.value() for s in self.secret_headers})

    def check(self) -> None:
        """ValueError for options no probe can use (secrets stand in as placeholders: files are read
        per probe)."""
        self._options(None, {s.name: "placeholder" for s in self.secret_headers}).validate()

    def _options(self, budget_s: float | None, secrets: Mapping[str, str]) -> ProbeOptions:
        max_duration = self.max_duration if budget_s is None else min(self.max_duration, budget_s)
        return ProbeOptions(
            name=self.name,
            http=self.http,
            headers={**self.headers, **secrets},
            accept_encoding=self.accept_encoding,
            timeout=min(self.timeout, max_duration),
            max_duration=max_duration,
            max_event_bytes=self.max_event_bytes,
            verify=self.verify,
            stamp=self.stamp,
            method=self.method,
            data=self.body,
        )


@dataclass(frozen=True)
class ExporterConfig:
    modules: Mapping[str, Module] = field(default_factory=lambda: {DEFAULT_MODULE: Module(DEFAULT_MODULE)})
    allowed_targets: tuple[str, ...] = ()


def parse_duration(value: Any) -> float:
    """Seconds from ``10s``, ``500ms``, ``1m`` (Prometheus style) or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 10s, 500ms or 1m")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value).strip())
        if not match:
            raise ValueError(f"expected a duration like 10s, 500ms or 1m, got {str(value)[:40]!r}")
        seconds = float(match["value"]) * _UNIT_SECONDS[match["unit"]]
    if not seconds > 0:
        raise ValueError("must be more than 0")
    return seconds


class _Reader:
    """Walks the parsed YAML, naming the file and the key in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {problem}" if key else f"{self.source}: {problem}")

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        for name in value:
            if not isinstance(name, str):
                raise self.fail(key, f"keys must be strings, got {name!r}")
            if allowed is not None and name not in allowed:
                raise self.fail(
                    f"{key}.{name}" if key else name, f"unknown key (known: {', '.join(allowed)})"
                )
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, "expected a non-empty string")
        return value

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(key, f"expected one of {', '.join(choices)}, got {str(value)[:40]!r}")
        return str(value)

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, "expected true or false")
        return value

    def duration(self, value: Any, key: str) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def positive_int(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(key, "expected an integer >= 1")
        return value


_TOP_KEYS: Final = ("allowed_targets", "modules")
_MODULE_KEYS: Final = ("timeout", "max_duration", "http")
_HTTP_KEYS: Final = (
    "protocol",
    "method",
    "body",
    "headers",
    "secret_headers",
    "accept_encoding",
    "stamp",
    "max_event_bytes",
    "tls_config",
)
_SECRET_KEYS: Final = ("file", "env", "prefix")
_TLS_KEYS: Final = ("ca_file", "insecure_skip_verify")


def load_config(path: str | Path) -> ExporterConfig:
    """Read and validate the exporter's YAML config; ConfigError (one line) for anything wrong."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ConfigError(f"{source}: cannot read: {reason}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}: not valid YAML{where}") from None
    return parse_config(document, source)


def parse_config(document: Any, source: str) -> ExporterConfig:
    r = _Reader(source)
    top = r.mapping(document, "", _TOP_KEYS)
    patterns = top.get("allowed_targets") or []
    if not isinstance(patterns, list):
        raise r.fail("allowed_targets", "expected a list of URL patterns")
    allowed: list[str] = []
    for i, pattern in enumerate(patterns):
        key = f"allowed_targets[{i}]"
        try:
            allowed.append(check_pattern(r.text(pattern, key)))
        except ValueError as exc:
            raise r.fail(key, str(exc)) from None
    modules = {DEFAULT_MODULE: Module(DEFAULT_MODULE)}
    for name, spec in r.mapping(top.get("modules"), "modules").items():
        modules[name] = _module(r, name, spec)
    return ExporterConfig(modules=modules, allowed_targets=tuple(allowed))


def _module(r: _Reader, name: str, spec: Any) -> Module:
    key = f"modules.{name}"
    m = r.mapping(spec, key, _MODULE_KEYS)
    http = r.mapping(m.get("http"), f"{key}.http", _HTTP_KEYS)
    hk = f"{key}.http"
    values: dict[str, Any] = {}
    if "timeout" in m:
        values["timeout"] = r.duration(m["timeout"], f"{key}.timeout")
    if "max_duration" in m:
        values["max_duration"] = r.duration(m["max_duration"], f"{key}.max_duration")
    if "protocol" in http:
        values["http"] = r.choice(http["protocol"], f"{hk}.protocol", HTTP_CHOICES)
    if "method" in http:
        values["method"] = r.choice(str(http["method"]).upper(), f"{hk}.method", METHODS)
    if "body" in http:
        values["body"] = r.text(http["body"], f"{hk}.body").encode("utf-8")
        values.setdefault("method", "POST")
    if "accept_encoding" in http:
        values["accept_encoding"] = r.text(http["accept_encoding"], f"{hk}.accept_encoding")
    if "stamp" in http:
        values["stamp"] = r.boolean(http["stamp"], f"{hk}.stamp")
    if "max_event_bytes" in http:
        values["max_event_bytes"] = r.positive_int(http["max_event_bytes"], f"{hk}.max_event_bytes")
    values["headers"] = _plain_headers(r, http.get("headers"), f"{hk}.headers")
    values["secret_headers"] = _secret_headers(r, http.get("secret_headers"), f"{hk}.secret_headers")
    tls = r.mapping(http.get("tls_config"), f"{hk}.tls_config", _TLS_KEYS)
    if tls.get("insecure_skip_verify") is not None and r.boolean(
        tls["insecure_skip_verify"], f"{hk}.tls_config.insecure_skip_verify"
    ):
        values["verify"] = False
    if "ca_file" in tls:
        if values.get("verify") is False:
            raise r.fail(f"{hk}.tls_config", "ca_file and insecure_skip_verify: true exclude each other")
        ca_file = r.text(tls["ca_file"], f"{hk}.tls_config.ca_file")
        if not Path(ca_file).is_file():
            raise r.fail(f"{hk}.tls_config.ca_file", f"no such file: {ca_file}")
        values["verify"] = ca_file
    module = Module(name, **values)
    try:
        module.check()
        if module.http == "h3":
            from ..http3 import check_available  # aioquic: the [h3] extra

            check_available()
    except ValueError as exc:
        raise r.fail(key, str(exc)) from None
    return module


def _plain_headers(r: _Reader, value: Any, key: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, raw in r.mapping(value, key).items():
        text = str(raw) if isinstance(raw, str | int | float) and not isinstance(raw, bool) else None
        if text is None:
            raise r.fail(f"{key}.{name}", "expected a string value")
        if is_secret_key(name) or secret_in_body(text.encode("utf-8")):
            raise r.fail(
                f"{key}.{name}",
                "a credential does not belong in the config: put it under secret_headers (file or env)",
            )
        headers[name] = text
    return headers


def _secret_headers(r: _Reader, value: Any, key: str) -> tuple[SecretHeader, ...]:
    secrets: list[SecretHeader] = []
    for name, spec in r.mapping(value, key).items():
        k = f"{key}.{name}"
        s = r.mapping(spec, k, _SECRET_KEYS)
        if ("file" in s) == ("env" in s):
            raise r.fail(k, "give exactly one of file or env")
        prefix = s.get("prefix", "")
        if not isinstance(prefix, str):
            raise r.fail(f"{k}.prefix", "expected a string")
        if "file" in s:
            secrets.append(SecretHeader(name, file=Path(r.text(s["file"], f"{k}.file")), prefix=prefix))
        else:
            secrets.append(SecretHeader(name, env=r.text(s["env"], f"{k}.env"), prefix=prefix))
    return tuple(secrets)


__all__ = [
    "DEFAULT_MODULE",
    "ConfigError",
    "ExporterConfig",
    "Module",
    "SecretHeader",
    "SecretUnavailable",
    "load_config",
    "parse_config",
    "parse_duration",
]
