"""Typed, validated configuration: the one place that reads ``config/<env>.yaml``.

``load_config(path) -> AppConfig`` parses and validates a whole file before any construct is made. Every
problem becomes one line ``<file>: <dotted.key[0].path>: <reason>`` of a :class:`ConfigError`::

    config/staging.yaml: nlb.listener.idle_timeout_seconds: must be 60..6000, got 7200

Sections live in their own modules (``common``, ``nlb``, ``cloudfront``, ``canary``); the cross-section rules
(a CloudFront VPC origin needs a TCP NLB listener, a canary ``front_door`` must be enabled, ...) are here.
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from streampath.config.canary import H2_NEEDS_TLS, CanaryConfig, CanaryPathConfig
from streampath.config.cloudfront import CloudFrontConfig
from streampath.config.common import (
    AccountId,
    ConfigError,
    FieldProblem,
    Region,
    ServiceConfig,
    StrictModel,
    TagKey,
    TagValue,
    VpcConfig,
    matching,
)
from streampath.config.nlb import NlbConfig

__all__ = [
    "CONFIG_DIR",
    "REPO_ROOT",
    "AppConfig",
    "CanaryConfig",
    "CanaryPathConfig",
    "CloudFrontConfig",
    "ConfigError",
    "NlbConfig",
    "available_configs",
    "load_config",
    "load_config_by_name",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"

#: Opt-in Regions: CloudFront standard logging (legacy) does not deliver to S3 buckets there, and the
#: CloudFront stack's log bucket lives in the stack's region.
CLOUDFRONT_LOGGING_UNSUPPORTED_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-west-1",
        "eu-central-2",
        "eu-south-1",
        "eu-south-2",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
    }
)
#: Lambda caps the total size of a function's environment variables (keys and values) at 4 KB.
LAMBDA_ENVIRONMENT_MAX_BYTES = 4096
#: Room kept for the canary's other variables (POWERTOOLS_*), the key CANARY_CONFIG and the namespace.
CANARY_OTHER_ENV_BYTES = 160
#: A front door's host that is only known at deploy time (a CloudFormation token): the longest NLB name,
#: ``<32-char name>-<16 hex>.elb.<region>.amazonaws.com``, rounded up.
UNRESOLVED_HOST_BYTES = 100

EnvName = Annotated[
    str,
    matching(r"[a-z][a-z0-9-]{0,19}", "a lower-case environment name like 'staging' (a-z, 0-9, '-', <= 20)"),
]


class AppConfig(StrictModel):
    """One environment: where it deploys, the VPC and service, and which front doors and canary to build."""

    #: Environment name, part of every stack name (``StreamPath-<name>-Nlb``).
    name: EnvName
    #: Target account; null keeps the stacks environment-agnostic for the account (region is always set).
    account: AccountId | None = None
    region: Region
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    vpc: VpcConfig | None = None
    service: ServiceConfig
    nlb: NlbConfig | None = None
    cloudfront: CloudFrontConfig | None = None
    canary: CanaryConfig | None = None

    # --- enabled sections (absent or ``enabled: false`` means that stack is not built) ------------------

    @property
    def enabled_nlb(self) -> NlbConfig | None:
        return self.nlb if self.nlb is not None and self.nlb.enabled else None

    @property
    def enabled_cloudfront(self) -> CloudFrontConfig | None:
        return self.cloudfront if self.cloudfront is not None and self.cloudfront.enabled else None

    @property
    def enabled_canary(self) -> CanaryConfig | None:
        return self.canary if self.canary is not None and self.canary.enabled else None

    @property
    def enabled_front_doors(self) -> tuple[str, ...]:
        doors = (("nlb", self.enabled_nlb), ("cloudfront", self.enabled_cloudfront))
        return tuple(name for name, section in doors if section is not None)

    @model_validator(mode="after")
    def _cross_section_rules(self) -> AppConfig:
        nlb, cloudfront = self.enabled_nlb, self.enabled_cloudfront
        if nlb is None and cloudfront is None:
            raise FieldProblem("nlb", "at least one front door must be enabled (nlb and/or cloudfront)")
        if nlb is not None:
            self._check_nlb_placement(nlb)
        if cloudfront is not None:
            self._check_cloudfront_origin(cloudfront, nlb)
        canary = self.enabled_canary
        if canary is not None:
            for index, path in enumerate(canary.paths):
                if path.front_door is not None and path.front_door not in self.enabled_front_doors:
                    enabled = ", ".join(self.enabled_front_doors)
                    raise FieldProblem(
                        f"canary.paths[{index}].front_door",
                        f"{path.front_door!r} is not an enabled front door (enabled: {enabled})",
                    )
                if (
                    path.front_door == "nlb"
                    and nlb is not None
                    and nlb.listener.url_scheme == "http"
                    and "h2" in path.protocols
                ):
                    raise FieldProblem(f"canary.paths[{index}].protocols", H2_NEEDS_TLS)
            size = self.canary_environment_bytes_estimate
            if size > LAMBDA_ENVIRONMENT_MAX_BYTES:
                raise FieldProblem(
                    "canary.paths",
                    f"the canary's configuration needs about {size} bytes of environment variables and "
                    f"Lambda allows {LAMBDA_ENVIRONMENT_MAX_BYTES} in all: shorten URLs and headers or "
                    "split the paths over two environments",
                )
        return self

    @property
    def canary_environment_bytes_estimate(self) -> int:
        """An upper estimate of the canary function's environment size (CANARY_CONFIG plus the rest), with
        each front-door host the stack only knows at deploy time counted as UNRESOLVED_HOST_BYTES."""
        canary = self.enabled_canary
        if canary is None:
            return 0
        nlb, cloudfront = self.enabled_nlb, self.enabled_cloudfront
        hosts = {
            "nlb": nlb.dns.record_name if nlb is not None and nlb.dns is not None else None,
            "cloudfront": (
                cloudfront.custom_domain.domain_names[0]
                if cloudfront is not None and cloudfront.custom_domain is not None
                else None
            ),
        }
        paths = []
        for path in canary.paths:
            if path.front_door is not None:
                host = hosts[path.front_door] or "h" * UNRESOLVED_HOST_BYTES
                url = f"https://{host}:65535{path.path}"
            else:
                url = path.url or ""
            secret = path.auth_secret
            paths.append(
                {
                    "name": path.name,
                    "url": url,
                    "protocols": list(path.protocols),
                    "headers": dict(path.headers),
                    "auth_secret": (
                        {"arn": secret.arn, "header": secret.header, "json_key": secret.json_key}
                        if secret is not None
                        else None
                    ),
                }
            )
        document = {
            "namespace": canary.namespace,
            "probe_timeout_s": canary.probe_timeout_seconds,
            "max_duration_s": canary.max_duration_seconds,
            "deadline_s": canary.timeout_seconds,
            "paths": paths,
        }
        encoded = json.dumps(document, separators=(",", ":"))
        return len(encoded.encode("utf-8")) + CANARY_OTHER_ENV_BYTES + len(canary.namespace)

    def _check_nlb_placement(self, nlb: NlbConfig) -> None:
        if self.vpc is None:
            raise FieldProblem("vpc", "required when the nlb front door is enabled")
        group = nlb.subnet_group
        if not getattr(self.vpc, f"{group}_subnets"):
            raise FieldProblem(
                "nlb.subnets",
                f"the load balancer goes into {group} subnets but vpc.{group}_subnets is empty",
            )

    def _check_cloudfront_origin(self, cloudfront: CloudFrontConfig, nlb: NlbConfig | None) -> None:
        if self.region in CLOUDFRONT_LOGGING_UNSUPPORTED_REGIONS:
            raise FieldProblem(
                "region",
                f"the cloudfront front door's standard-logging bucket would be in {self.region!r}, an "
                "opt-in Region CloudFront does not deliver standard logs to; deploy from a default Region",
            )
        origin = cloudfront.origin
        if origin.type == "domain":
            return
        if nlb is None:
            raise FieldProblem("cloudfront.origin.type", f"{origin.type!r} needs the nlb front door enabled")
        if origin.port is not None and origin.port != nlb.listener.port:
            raise FieldProblem(
                "cloudfront.origin.port",
                f"must match nlb.listener.port ({nlb.listener.port}) for origin type {origin.type!r}, "
                f"got {origin.port}",
            )
        if nlb.ingress.cloudfront_prefix_list_id is None and not (
            origin.type == "nlb" and "0.0.0.0/0" in nlb.ingress.cidrs
        ):
            raise FieldProblem(
                "nlb.ingress.cloudfront_prefix_list_id",
                "required so the NLB security group admits CloudFront (the region's "
                "com.amazonaws.global.cloudfront.origin-facing prefix list id)",
            )
        if origin.type == "vpc_origin":
            if nlb.listener.mode != "tcp":
                raise FieldProblem(
                    "nlb.listener.mode",
                    "must be 'tcp' for a CloudFront VPC origin (VPC origins refuse NLBs with TLS "
                    "listeners), got 'tls'",
                )
            if nlb.internet_facing:
                raise FieldProblem(
                    "nlb.internet_facing",
                    "must be false for a CloudFront VPC origin (a private, internal NLB)",
                )
        else:  # "nlb": CloudFront reaches the public NLB over HTTPS and validates its certificate
            if not nlb.internet_facing:
                raise FieldProblem(
                    "cloudfront.origin.type",
                    "'nlb' needs an internet-facing NLB; use 'vpc_origin' for an internal one",
                )
            if origin.domain_name is None and nlb.dns is None:
                raise FieldProblem(
                    "cloudfront.origin.domain_name",
                    "required for origin type 'nlb' unless nlb.dns is set: CloudFront validates the origin "
                    "certificate against this name, which the NLB's *.elb.amazonaws.com name never matches",
                )

    @property
    def nlb_origin_domain_name(self) -> str | None:
        """The name CloudFront uses for a public ``nlb`` origin (configured, else the NLB's alias record)."""
        cloudfront = self.enabled_cloudfront
        if cloudfront is None or cloudfront.origin.type != "nlb":
            return None
        if cloudfront.origin.domain_name is not None:
            return cloudfront.origin.domain_name
        nlb = self.enabled_nlb
        return nlb.dns.record_name if nlb is not None and nlb.dns is not None else None


# --- loading --------------------------------------------------------------------------------------------


def available_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_config_by_name(name: str) -> AppConfig:
    """``load_config_by_name("staging")`` reads ``config/staging.yaml``."""
    available = ", ".join(available_configs()) or "none"
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name or ""):
        raise ConfigError(f"config name {name!r} is not valid; available configs: {available}")
    path = CONFIG_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"no config named {name!r} ({display_path(path)} not found); available configs: {available}"
        )
    return load_config(path)


def load_config(path: Path | str) -> AppConfig:
    """Read and validate one config file; every problem is reported in one :class:`ConfigError`."""
    shown = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{shown}: file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{shown}: cannot read: {error}") from None
    data = _parse_yaml(text, shown)
    if data is None:
        raise ConfigError(f"{shown}: the file is empty")
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: the top level must be a mapping of keys, got {type(data).__name__}")
    try:
        return AppConfig.model_validate(data)
    except ValidationError as error:
        problems = [f"{shown}: {line}" for line in _format_errors(error)]
        raise ConfigError("\n".join(problems)) from None


def display_path(path: Path | str) -> str:
    """The path relative to the repository root when inside it (``config/staging.yaml``), else as given."""
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_yaml(text: str, shown: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = error.problem or error.context or "invalid YAML"
        raise ConfigError(f"{shown}: {where}YAML syntax error: {problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{shown}: YAML syntax error: {error}") from None


# --- turning pydantic errors into "key.path: reason" lines -----------------------------------------------


def _format_errors(error: ValidationError) -> list[str]:
    lines: list[str] = []
    items = error.errors(include_url=False)
    for item in items:
        loc = list(item["loc"])
        if item["type"] == "too_short" and any(
            other is not item and len(other["loc"]) > len(loc) and list(other["loc"][: len(loc)]) == loc
            for other in items
        ):
            continue  # "at least 1 item" only because the items themselves were refused: say that instead
        reason = _reason(item, loc)
        line = f"{_dotted(loc) or '(top level)'}: {reason}"
        if line not in lines:
            lines.append(line)
    return lines


def _dotted(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            out += " (key)"
        else:
            out += f".{part}" if out else str(part)
    return out


def _reason(item: Any, loc: list[Any]) -> str:
    kind, ctx, value = item["type"], item.get("ctx") or {}, item.get("input")
    if kind in ("value_error", "assertion_error"):
        cause = ctx.get("error")
        if isinstance(cause, FieldProblem):
            loc.extend(_split_subpath(cause.subpath))
            return cause.reason
        return str(cause) if cause is not None else str(item["msg"])
    if kind == "extra_forbidden":
        return "unknown key" + _suggestion(loc)
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {_show(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be an integer, got {_show(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {_show(value)}"
    if kind == "string_type":
        hint = " (quote it in YAML)" if isinstance(value, int | float) and not isinstance(value, bool) else ""
        return f"must be a string{hint}, got {_show(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type", "mapping_type"):
        return f"must be a mapping of keys, got {_show(value)}"
    if kind in ("tuple_type", "list_type", "iterable_type"):
        return f"must be a list, got {_show(value)}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} item(s), got {ctx.get('actual_length')}"
    return str(item["msg"])


def _split_subpath(subpath: str) -> list[Any]:
    parts: list[Any] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", subpath):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return parts


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _suggestion(loc: list[Any]) -> str:
    """``(did you mean 'listener'?)`` for a misspelt key, from the fields of the model that holds it."""
    model = _model_at(loc[:-1])
    if model is None or not isinstance(loc[-1], str):
        return ""
    fields = list(model.model_fields)
    close = difflib.get_close_matches(loc[-1], fields, n=1, cutoff=0.75)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (allowed: {', '.join(fields)})"


def _model_at(loc: list[Any]) -> type[BaseModel] | None:
    current: Any = AppConfig
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = field.annotation
        elif isinstance(part, int) and typing.get_origin(current) in (tuple, list):
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation
