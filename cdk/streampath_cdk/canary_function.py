"""The canary Lambda: function, explicit log group, least-privilege role, optional VPC placement, schedule.

Keyword-only props of CDK types, each with a documented default and no environment-specific value. The
role has no managed policies: it may write to its own log group, read exactly the named secrets and (only
with VPC placement) manage its ENIs.

Overlapping runs are avoided by construction: reserved concurrency 1 (a second concurrent run is
throttled instead of racing the first), the function's timeout is at most the schedule period, and the
asynchronous invoke config drops a throttled or failed event instead of retrying it later
(``retry_attempts=0``, ``max_event_age`` = 60 s, the minimum), as does the scheduler target.

The code asset is built from the distributions installed where ``cdk synth`` runs: the
``streampath_canary`` package and the probe (``streamprobe``, with the extras the canary's distribution
asks for) copied as installed, and what they depend on (httpx, Powertools, HTTP/3's packages) from wheels
of the versions installed here, minus what the Lambda never runs (:data:`ASSET_EXCLUDE`). Everything is
pure Python except HTTP/3's compiled dependencies (:data:`BINARY_PACKAGES`), installed as manylinux
aarch64 wheels for the runtime's Python, whichever machine synthesises. The wheels are kept in a user
cache directory (:func:`~streampath_cdk.local_bundling.wheel_dir`); ``python -m streampath_cdk``
fills it ahead of an offline ``cdk synth``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from constructs import Construct
from streampath_canary import contract
from streampath_canary.contract import (
    DEFAULT_NAMESPACE,
    CanarySpec,
    PathSpec,
    deadline_s,
    function_environment,
    overlap_problem,
)

from streampath_cdk import nag
from streampath_cdk.local_bundling import LocalPythonBundler, python_asset_code, requirement_names
from streampath_cdk.log_retention import RETENTION

#: The canary's runtime: its distribution (whose requirements the asset installs) and its package.
CANARY_DISTRIBUTION: Final = "streampath-canary"
CANARY_PACKAGE: Final = "streampath_canary"
#: Distributions copied into the asset as installed here: this project's own, which no index serves.
COPIED_DISTRIBUTIONS: Final = ("streamprobe",)
#: The newest Python runtime aws-cdk-lib 2.275.0 knows (cdk-nag AwsSolutions-L1 wants the newest).
RUNTIME: Final = lambda_.Runtime.PYTHON_3_14
RUNTIME_PYTHON_VERSION: Final = "3.14"
#: The function's platform as wheel tags: arm64 Lambda (Amazon Linux 2023, glibc 2.34) runs manylinux2014
#: (glibc 2.17) and manylinux_2_28 wheels.
LAMBDA_PLATFORMS: Final = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
HANDLER: Final = f"{CANARY_PACKAGE}.handler.handler"
#: The only distributions installed as compiled wheels: aioquic and pylsqpack (QUIC, QPACK),
#: cryptography and cffi (TLS 1.3 inside QUIC, the certificate check), websockets (its frame-masking
#: speedup; the WebSocket paths). Their pure dependencies (pyOpenSSL, service-identity, attrs, certifi,
#: pycparser) come as pure wheels.
BINARY_PACKAGES: Final = ("aioquic", "pylsqpack", "cryptography", "cffi", "websockets")
#: What the Lambda never runs (``fnmatch`` on the asset's relative paths; ``*`` crosses ``/``).
ASSET_EXCLUDE: Final = (
    # Browser-side files: the probe's browser reader script, Powertools' Swagger UI bundle.
    "*.js",
    "*.css",
    # The probe's headless-Chromium reader (it needs playwright, which the asset does not hold).
    "streamprobe/browser*",
    # The probe's command line (argument parsing, its commands, doctor, trace, repeat, text output).
    "streamprobe/__main__.py",
    "streamprobe/cli.py",
    "streamprobe/commands*",
    "streamprobe/console.py",
    "streamprobe/request_args.py",
    "streamprobe/doctor.py",
    "streamprobe/output.py",
    "streamprobe/load/render.py",
    "streamprobe/repeat.py",
    "streamprobe/trace.py",
    # Markers for type checkers.
    "*/py.typed",
)

# The AWSLambdaVPCAccessExecutionRole actions, written out (no managed policies).
VPC_ENI_ACTIONS: Final = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


def canary_requirements() -> tuple[str, ...]:
    """What the canary's runtime needs, as its installed distribution declares it (``streamprobe[h3,ws]``,
    ``aws-lambda-powertools``; boto3 is part of the Lambda Python runtime)."""
    return requirement_names(CANARY_DISTRIBUTION)


def canary_bundler(
    *, cache_dir: Path | None = None, pins: Mapping[str, str] | None = None
) -> LocalPythonBundler:
    """The recipe of the canary's code asset (the construct, bootstrap, tests and bench share it).
    ``cache_dir``: the wheel cache (default :func:`~streampath_cdk.local_bundling.wheel_dir`); ``pins``:
    the versions to install (default: those installed in this environment)."""
    return LocalPythonBundler(
        handler=CANARY_PACKAGE,
        requirements=canary_requirements(),
        copied=COPIED_DISTRIBUTIONS,
        binary_packages=BINARY_PACKAGES,
        exclude=ASSET_EXCLUDE,
        python_version=RUNTIME_PYTHON_VERSION,
        platforms=LAMBDA_PLATFORMS,
        cache_dir=cache_dir,
        pins=pins,
    )


@dataclass(frozen=True)
class VpcPlacement:
    """Run the function in these subnets with these security groups (both non-empty).

    Imported ones need no lookup: ``ec2.Subnet.from_subnet_id(scope, id, "subnet-...")``,
    ``ec2.SecurityGroup.from_security_group_id(scope, id, "sg-...")``. The subnets need a route to the
    probed URLs (a NAT gateway for public ones) and to Secrets Manager when a path has an auth secret.
    """

    subnets: Sequence[ec2.ISubnet]
    security_groups: Sequence[ec2.ISecurityGroup]

    def __post_init__(self) -> None:
        if not self.subnets or not self.security_groups:
            raise ValueError("VpcPlacement needs at least one subnet and one security group")


class CanaryFunction(Construct):
    """The scheduled canary function. ``.function``, ``.log_group``, ``.role``, ``.schedule``, ``.spec``.

    Props (keyword-only):

    Every default is the canary contract's (``streampath_canary.contract``), which the YAML shares:

    - ``paths``: what to probe (required; names become the ``Path`` dimension).
    - ``namespace``: the CloudWatch namespace of the metrics. Default ``StreamPath``.
    - ``schedule_period``: how often the canary runs (a Scheduler rate: whole minutes). Default 1 minute.
    - ``timeout``: the Lambda timeout; at most ``schedule_period`` (runs would overlap). The handler stops
      its own run 10 s earlier (never before ``max_duration``). Default 60 s.
    - ``probe_timeout``: bounds connect, TLS, the wait for headers and any silence inside a stream.
      Default 10 s.
    - ``max_duration``: bounds one probe's whole stream. Default 30 s.
    - ``memory_size``: MiB (CPU scales with it). Default 512.
    - ``log_retention``: the function's log group. Default one month.
    - ``vpc_placement``: run inside a VPC (for in-VPC URLs). Default none: Lambda's own network.
    - ``chain``: path names ordered from the application outward; each run names the first that
      buffers and the delay it adds (in its log and summary). Default none.
    - ``wheel_cache``: the folder of the Lambda platform's wheels (filled from the package index on the
      first synth, offline afterwards). Default ``$STREAMPATH_WHEEL_CACHE``, else the user cache
      directory (``~/.cache/streampath/wheels`` on Linux).
    - ``function_name``: a fixed name (another Region's dashboard finds the function by it). Default
      none: CloudFormation names it.
    - ``bundler``: builds the code asset (``wheel_cache`` is then the bundler's). Default
      :func:`canary_bundler`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        paths: Sequence[PathSpec],
        namespace: str = DEFAULT_NAMESPACE,
        schedule_period: cdk.Duration | None = None,
        timeout: cdk.Duration | None = None,
        probe_timeout: cdk.Duration | None = None,
        max_duration: cdk.Duration | None = None,
        memory_size: int = contract.DEFAULT_MEMORY_MB,
        log_retention: logs.RetentionDays = RETENTION[contract.DEFAULT_LOG_RETENTION_DAYS],
        vpc_placement: VpcPlacement | None = None,
        bundler: LocalPythonBundler | None = None,
        chain: Sequence[str] = (),
        wheel_cache: str | None = None,
        function_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        period = schedule_period or cdk.Duration.minutes(contract.DEFAULT_SCHEDULE_MINUTES)
        timeout = timeout or cdk.Duration.seconds(contract.DEFAULT_TIMEOUT_S)
        probe_timeout = probe_timeout or cdk.Duration.seconds(contract.DEFAULT_PROBE_TIMEOUT_S)
        max_duration = max_duration or cdk.Duration.seconds(contract.DEFAULT_MAX_DURATION_S)
        self.schedule_period = period
        problem = overlap_problem(timeout.to_seconds(), period.to_seconds())
        if problem:
            raise ValueError(f"timeout: {problem}")
        self.spec = CanarySpec(
            paths=paths,
            namespace=namespace,
            probe_timeout_s=probe_timeout.to_seconds(),
            max_duration_s=max_duration.to_seconds(),
            deadline_s=deadline_s(timeout.to_seconds(), max_duration.to_seconds()),
            chain=tuple(chain),
        )
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.role = self._role(vpc_placement)
        self.function = self._function(
            code=python_asset_code(
                bundler or canary_bundler(cache_dir=Path(wheel_cache) if wheel_cache else None)
            ),
            memory_size=memory_size,
            timeout=timeout,
            function_name=function_name,
            vpc_placement=vpc_placement,
        )
        self.schedule_role, self.schedule = self._schedule(period)

    def _role(self, vpc_placement: VpcPlacement | None) -> iam.Role:
        """The function's role: its own log group, its named secrets, and (in a VPC) its ENIs."""
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="streampath canary: write its own logs, read its auth secrets",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="OwnLogGroupOnly",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                # The log group's Arn attribute ends in ':*', which covers its streams and nothing else.
                resources=[self.log_group.log_group_arn],
            )
        )
        secret_arns = sorted({p.auth_secret.arn for p in self.spec.paths if p.auth_secret is not None})
        if secret_arns:
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadNamedAuthSecrets",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=secret_arns,
                )
            )
        if vpc_placement is not None:
            role.add_to_policy(
                iam.PolicyStatement(sid="VpcEniManagement", actions=list(VPC_ENI_ACTIONS), resources=["*"])
            )
            nag.acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::*]",
                "Lambda VPC placement: the ec2 ENI actions of AWSLambdaVPCAccessExecutionRole, written out; "
                "Describe* cannot be scoped and Lambda creates the ENIs before their ids exist.",
            )
        return role

    def _function(
        self,
        *,
        code: lambda_.Code,
        memory_size: int,
        timeout: cdk.Duration,
        function_name: str | None,
        vpc_placement: VpcPlacement | None,
    ) -> lambda_.Function:
        stack = cdk.Stack.of(self)
        over = "HTTP/1.1, HTTP/2 and HTTP/3" if "h3" in self.spec.protocols else "HTTP/1.1 and HTTP/2"
        function = lambda_.Function(
            self,
            "Function",
            description=f"streampath canary: probes each path over {over}, publishes EMF metrics",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            function_name=function_name,
            code=code,
            memory_size=memory_size,
            timeout=timeout,
            role=self.role,
            log_group=self.log_group,
            reserved_concurrent_executions=1,
            retry_attempts=0,
            max_event_age=cdk.Duration.seconds(60),
            # Stack.to_json_string: front-door URLs may be tokens that resolve at deploy time.
            environment=function_environment(self.spec, encode=stack.to_json_string),
        )
        if vpc_placement is not None:
            cfn_function = function.node.default_child
            assert isinstance(cfn_function, lambda_.CfnFunction)
            # The L1 property, not the L2 `vpc` prop: that one needs an IVpc (a lookup or its AZs) and
            # would attach the managed AWSLambdaVPCAccessExecutionRole policy.
            cfn_function.vpc_config = lambda_.CfnFunction.VpcConfigProperty(
                subnet_ids=[subnet.subnet_id for subnet in vpc_placement.subnets],
                security_group_ids=[group.security_group_id for group in vpc_placement.security_groups],
            )
        return function

    def _schedule(self, period: cdk.Duration) -> tuple[iam.Role, scheduler.Schedule]:
        """A run every ``period``, never retried (a late run would only overlap the next)."""
        stack = cdk.Stack.of(self)
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        # The scheduler's own role (not the stack-level one LambdaInvoke would create), so that the
        # acknowledgement below sits on this construct only.
        role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description="streampath canary schedule: invoke the canary function",
        )
        function_logical_id = stack.resolve(stack.get_logical_id(cfn_function))
        nag.acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{function_logical_id}.Arn>:*]",
            "LambdaInvoke's grantInvoke adds '<function arn>:*' (this one function's versions and aliases) "
            "next to the function ARN; no other function is covered.",
        )
        schedule = scheduler.Schedule(
            self,
            "Schedule",
            description="streampath canary run",
            schedule=scheduler.ScheduleExpression.rate(period),
            time_window=scheduler.TimeWindow.off(),
            target=targets.LambdaInvoke(
                self.function,
                retry_attempts=0,
                max_event_age=cdk.Duration.seconds(60),
                role=role,
            ),
        )
        return role, schedule


def prefetch_wheels() -> Path:
    """Fill the wheel cache and build the canary's installed tree now (the only step that needs PyPI).

    `make bootstrap` calls this so that `make synth` itself never reaches a network.
    """
    return canary_bundler().site_packages()
