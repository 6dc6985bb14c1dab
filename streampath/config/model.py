"""The whole environment's config (:class:`AppConfig`) and the rules that span its sections.

Each section validates itself in its own module (``common``, ``nlb``, ``cloudfront``, ``canary``); what needs
two sections at once (a CloudFront VPC origin needs a TCP NLB listener, a canary ``front_door`` must be
enabled, the canary's environment must fit Lambda's 4 KB) is checked here, naming the key to change. One
default spans two sections too: a canary path on the cloudfront front door that names no ``protocols``
probes h3 as well when the distribution serves HTTP/3 (``http_version`` ``HTTP2_AND_3``, the default).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator
from streampath_canary.contract import (
    CanarySpec,
    environment_bytes,
    environment_problem,
    function_environment,
    h2_scheme_problem,
)

from streampath.config.apigateway import ApiGatewayConfig, check_apigateway
from streampath.config.canary import (
    CLOUDFRONT_HTTP3_PROTOCOLS,
    CLOUDFRONT_HTTP3_VERSIONS,
    H3_NOT_ON_NLB,
    AuthSecretConfig,
    CanaryConfig,
    RegionalCanary,
    h3_not_served,
    path_regions,
    secret_region,
    vpc_need,
)
from streampath.config.cloudfront import CloudFrontConfig
from streampath.config.common import (
    AccountId,
    FieldProblem,
    Region,
    ServiceConfig,
    StrictModel,
    TagKey,
    TagValue,
    VpcConfig,
    field_problem,
    matching,
)
from streampath.config.nlb import NlbConfig

__all__ = [
    "CLOUDFRONT_LOGGING_UNSUPPORTED_REGIONS",
    "UNRESOLVED_HOST_BYTES",
    "AppConfig",
]

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
    apigateway: ApiGatewayConfig | None = None
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
        check_apigateway(self.apigateway, nlb, self.region)
        canary = self.enabled_canary
        if canary is not None:
            canary = self._probe_h3_where_cloudfront_serves_it(canary, cloudfront)
            for index, path in enumerate(canary.paths):
                if path.front_door is not None and path.front_door not in self.enabled_front_doors:
                    enabled = ", ".join(self.enabled_front_doors)
                    raise FieldProblem(
                        f"canary.paths[{index}].front_door",
                        f"{path.front_door!r} is not an enabled front door (enabled: {enabled})",
                    )
                if path.front_door == "nlb" and nlb is not None:
                    field_problem(
                        f"canary.paths[{index}].protocols",
                        h2_scheme_problem(path.protocols, nlb.listener.url_scheme),
                    )
                if "h3" in path.protocols and path.front_door == "nlb":
                    raise FieldProblem(f"canary.paths[{index}].protocols", H3_NOT_ON_NLB)
                if (
                    "h3" in path.protocols
                    and path.front_door == "cloudfront"
                    and cloudfront is not None
                    and cloudfront.http_version not in CLOUDFRONT_HTTP3_VERSIONS
                ):
                    raise FieldProblem(
                        f"canary.paths[{index}].protocols", h3_not_served(cloudfront.http_version)
                    )
            self._check_canary_regions(canary)
            field_problem("canary.paths", environment_problem(self.canary_environment_bytes_estimate))
        return self

    def _probe_h3_where_cloudfront_serves_it(
        self, canary: CanaryConfig, cloudfront: CloudFrontConfig | None
    ) -> CanaryConfig:
        """``canary`` with :data:`CLOUDFRONT_HTTP3_PROTOCOLS` on every cloudfront front-door path that
        names no ``protocols``, when the distribution serves HTTP/3: browsers reach it over QUIC once its
        ``Alt-Svc`` told them (a chat POST included), so that is the protocol to measure too. Explicit
        ``protocols`` stay."""
        if cloudfront is None or cloudfront.http_version not in CLOUDFRONT_HTTP3_VERSIONS:
            return canary
        paths = tuple(
            path.model_copy(update={"protocols": CLOUDFRONT_HTTP3_PROTOCOLS})
            if path.front_door == "cloudfront" and "protocols" not in path.model_fields_set
            else path
            for path in canary.paths
        )
        if paths == canary.paths:
            return canary
        resolved = canary.model_copy(update={"paths": paths})
        # The sections are frozen once loaded; this runs inside validation, before anything reads them.
        object.__setattr__(self, "canary", resolved)
        return resolved

    @property
    def canary_environment_bytes_estimate(self) -> int:
        """An upper estimate of the canary function's environment size: the variables the canary contract
        sets, with each front-door host the stack only knows at deploy time counted as
        UNRESOLVED_HOST_BYTES and the handler's deadline at its largest (the Lambda timeout); the largest
        over the canary's Regions."""
        canary = self.enabled_canary
        if canary is None:
            return 0
        return max(self._canary_environment_bytes(deployment) for deployment in self.canary_deployments)

    def _canary_environment_bytes(self, deployment: RegionalCanary) -> int:
        canary = self.enabled_canary
        assert canary is not None
        nlb, cloudfront = self.enabled_nlb, self.enabled_cloudfront
        hosts = {
            "nlb": nlb.dns.record_name if nlb is not None and nlb.dns is not None else None,
            "cloudfront": (
                cloudfront.custom_domain.domain_names[0]
                if cloudfront is not None and cloudfront.custom_domain is not None
                else None
            ),
        }
        # The longest base URL a front door can have: its host (or a deploy-time one), the longest port.
        base_urls = {
            door: f"https://{host or 'h' * UNRESOLVED_HOST_BYTES}:65535" for door, host in hosts.items()
        }
        paths = deployment.path_specs(base_urls)
        spec = CanarySpec(
            paths=paths,
            namespace=canary.namespace,
            probe_timeout_s=canary.probe_timeout_seconds,
            max_duration_s=canary.max_duration_seconds,
            deadline_s=canary.timeout_seconds,
            chain=canary.chain_in(deployment.path_names),
        )
        return environment_bytes(function_environment(spec))

    # --- the canary's Regions (docs/regions.md) ------------------------------------------------------------

    @property
    def canary_regions(self) -> tuple[str, ...]:
        """Where the canary runs, the home Region (``region``) first."""
        canary = self.enabled_canary
        return canary.regions_with_home(self.region) if canary is not None else ()

    @property
    def internal_front_doors(self) -> dict[str, str]:
        """Front doors reachable only inside the VPC (or only from listed addresses) -> why."""
        doors: dict[str, str] = {}
        nlb = self.enabled_nlb
        if nlb is not None:
            if not nlb.internet_facing:
                doors["nlb"] = "the nlb front door is internal (nlb.internet_facing: false)"
            elif not {"0.0.0.0/0"} & set(nlb.ingress.cidrs):
                doors["nlb"] = (
                    "the nlb front door admits only nlb.ingress.cidrs, which no other Region's Lambda "
                    "addresses fall into"
                )
        return doors

    def canary_path_regions(self) -> dict[str, tuple[str, ...]]:
        """Path name -> the Regions that probe it (``canary.path_regions``)."""
        canary = self.enabled_canary
        if canary is None:
            return {}
        regions, internal = self.canary_regions, self.internal_front_doors
        return {path.name: path_regions(path, regions, internal) for path in canary.paths}

    @property
    def canary_deployments(self) -> tuple[RegionalCanary, ...]:
        """One canary per Region, home first: its paths and, per path, the secret ARN it reads."""
        canary = self.enabled_canary
        if canary is None:
            return ()
        by_path = self.canary_path_regions()
        deployments = []
        for region in self.canary_regions:
            paths = tuple(path for path in canary.paths if region in by_path[path.name])
            arns = {
                path.name: arn
                for path in paths
                if path.auth_secret is not None and (arn := path.auth_secret.arn_in(region)) is not None
            }
            deployments.append(
                RegionalCanary(
                    region=region, home=region == self.region, paths=paths, secret_arns=arns, slo=canary.slo
                )
            )
        return tuple(deployments)

    def _check_canary_regions(self, canary: CanaryConfig) -> None:
        regions, home = self.canary_regions, self.region
        if regions[0] != home:
            raise FieldProblem(
                "canary.regions[0]",
                f"must be the environment's region {home!r} (the home Region: it holds the dashboard and "
                f"the only canary placed in the VPC), got {regions[0]!r}",
            )
        internal = self.internal_front_doors
        for index, path in enumerate(canary.paths):
            where = f"canary.paths[{index}]"
            for position, region in enumerate(path.regions or ()):
                if region not in regions:
                    raise FieldProblem(
                        f"{where}.regions[{position}]",
                        f"{region!r} is not in canary.regions ({', '.join(regions)})",
                    )
            need = vpc_need(path, internal)
            away = [r for r in path.regions or () if r != home]
            if need is not None and need.certain and away:
                raise FieldProblem(
                    f"{where}.regions",
                    f"path {path.name!r} is reachable only inside the VPC ({need.reason}), and only the "
                    f"home Region's canary ({home}) runs there; remove {', '.join(away)}",
                )
            self._check_secret_regions(
                where, path.name, path.auth_secret, path_regions(path, regions, internal)
            )
        by_path = self.canary_path_regions()
        for index, region in enumerate(regions):
            if not any(region in probed for probed in by_path.values()):
                raise FieldProblem(
                    f"canary.regions[{index}]",
                    f"no path is probed from {region!r}: paths that need the VPC are probed from the home "
                    "Region only; list the Region in a public path's regions or remove it",
                )

    @staticmethod
    def _check_secret_regions(
        where: str, name: str, secret: AuthSecretConfig | None, probed_from: tuple[str, ...]
    ) -> None:
        if secret is None:
            return
        if secret.arn is not None:
            arn_region = secret_region(secret.arn)
            if len(probed_from) > 1:
                raise FieldProblem(
                    f"{where}.auth_secret.arn",
                    f"path {name!r} is probed from {', '.join(probed_from)} and each Region's canary reads "
                    "the secret in its own Region: replicate the secret and list each Region's ARN in "
                    "auth_secret.arns",
                )
            if arn_region != probed_from[0]:
                raise FieldProblem(
                    f"{where}.auth_secret.arn",
                    f"the secret is in {arn_region!r}, but path {name!r} is probed from {probed_from[0]!r} "
                    "and its canary reads the secret in its own Region: use the ARN of a replica there",
                )
            return
        arns = secret.arns or {}
        for region in probed_from:
            if region not in arns:
                raise FieldProblem(
                    f"{where}.auth_secret.arns",
                    f"no ARN for {region!r}, which probes path {name!r} (probed from "
                    f"{', '.join(probed_from)})",
                )
        for region in arns:
            if region not in probed_from:
                raise FieldProblem(
                    f"{where}.auth_secret.arns.{region}",
                    f"{region!r} does not probe path {name!r} (probed from {', '.join(probed_from)})",
                )

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
        if not origin.uses_environment_nlb:
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
