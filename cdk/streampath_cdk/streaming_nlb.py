"""A Network Load Balancer front door tuned for long-lived streaming responses (SSE) to IP targets.

One security group, one NLB, one listener and one IP target group, each with defaults chosen for streams
that stay open for minutes:

- :class:`TlsListener` terminates TLS at the NLB. Its ALPN policy defaults to ``HTTP1Only``: an NLB is a
  layer-4 proxy, so after TLS it passes the client's bytes to the target as they are. Were HTTP/2
  negotiated, a target that speaks HTTP/1.1 (uvicorn, most app servers) would receive HTTP/2 frames and
  fail. The cost is the browser limit of 6 open SSE connections per host over HTTP/1.1. Idle flows on a
  TLS listener are cut after 350 s, a value AWS does not let you change.
- :class:`TcpListener` passes bytes through (TLS to the service's own certificate, or plain HTTP inside the
  VPC). Its idle timeout can be set, and defaults to 3600 s rather than AWS's 350 s, which silently drops a
  stream whose heartbeats are sparse.
- :class:`IpTargets` describes the targets: an IP target group (for an EKS TargetGroupBinding or ECS
  ``awsvpc`` tasks; nothing is registered here), a health check, a drain time long enough for streams to
  finish, and connection termination so that no flow lingers on a removed target.

Every value comes from the caller; nothing is looked up and no feature flag of the consuming app changes
the template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

#: AWS keeps an idle flow on a TLS listener for exactly this long; only TCP listeners take another value.
TLS_LISTENER_IDLE_TIMEOUT: Final = cdk.Duration.seconds(350)
#: A TCP listener's default here: an hour of silence, for streams with sparse heartbeats.
TCP_LISTENER_IDLE_TIMEOUT: Final = cdk.Duration.seconds(3600)
#: How long a removed target keeps its open streams before they are closed.
DEFAULT_DEREGISTRATION_DELAY: Final = cdk.Duration.seconds(120)
#: The range AWS accepts for a target group's deregistration delay.
MAX_DEREGISTRATION_DELAY_SECONDS: Final = 3600

Certificate = elbv2.IListenerCertificate | acm.ICertificate | str


@dataclass(frozen=True, kw_only=True)
class TlsListener:
    """TLS terminated at the NLB.

    ``certificate``: the listener's certificate, as an ``elbv2.IListenerCertificate``, an
    ``acm.ICertificate`` or an ACM certificate ARN.
    ``port``: 443.
    ``alpn_policy``: ``AlpnPolicy.HTTP1_ONLY``, because the NLB hands the decrypted bytes to the target
    unchanged. Use ``HTTP2_OPTIONAL`` only when every target speaks HTTP/2 in cleartext (h2c, prior
    knowledge).
    ``ssl_policy``: ``SslPolicy.RECOMMENDED_TLS``: TLS 1.3 and 1.2 only
    (``ELBSecurityPolicy-TLS13-1-2-2021-06``).
    ``idle_timeout``: leave it unset. AWS fixes it at 350 s on TLS listeners, and CloudFormation accepts
    another value that then fails the deployment, so any other value raises ``ValueError``. The service's
    heartbeat must come more often than 350 s.
    """

    certificate: Certificate
    port: int = 443
    alpn_policy: elbv2.AlpnPolicy = elbv2.AlpnPolicy.HTTP1_ONLY
    ssl_policy: elbv2.SslPolicy = elbv2.SslPolicy.RECOMMENDED_TLS
    idle_timeout: cdk.Duration | None = None

    def __post_init__(self) -> None:
        _check_port("TlsListener.port", self.port)
        fixed = _seconds(TLS_LISTENER_IDLE_TIMEOUT)
        if self.idle_timeout is not None and _seconds(self.idle_timeout) != fixed:
            raise ValueError(
                "TlsListener.idle_timeout: AWS fixes a TLS listener's idle timeout at 350 s and refuses "
                "another value at deployment; use TcpListener for a longer idle timeout, or leave it unset"
            )

    @property
    def effective_idle_timeout(self) -> cdk.Duration:
        """How long a silent stream survives on this listener: 350 s."""
        return TLS_LISTENER_IDLE_TIMEOUT


@dataclass(frozen=True, kw_only=True)
class TcpListener:
    """Bytes passed through to the targets, which terminate TLS themselves (or speak plain HTTP in the VPC).

    ``port``: required: 443 to pass TLS through to the service's own certificate, 80 for plain HTTP.
    ``idle_timeout``: 3600 s. AWS's default of 350 s silently drops a stream whose heartbeats are sparser
    than that; AWS accepts 60 to 6000 s.
    """

    port: int
    idle_timeout: cdk.Duration = TCP_LISTENER_IDLE_TIMEOUT

    def __post_init__(self) -> None:
        _check_port("TcpListener.port", self.port)
        seconds = _seconds(self.idle_timeout)
        if seconds is not None and not 60 <= seconds <= 6000:
            raise ValueError(f"TcpListener.idle_timeout: AWS accepts 60 to 6000 seconds, got {seconds:g} s")

    @property
    def effective_idle_timeout(self) -> cdk.Duration:
        """How long a silent stream survives on this listener."""
        return self.idle_timeout


def default_health_check() -> elbv2.HealthCheck:
    """HTTP ``GET /healthz`` on the traffic port every 10 s, 5 s timeout, 2 to go healthy or unhealthy.

    A target that stops answering leaves rotation within about 20 s, before many long-lived streams have
    been sent to it. Pass ``protocol=elbv2.Protocol.HTTPS`` when the targets speak TLS on their port
    (TCP passthrough): an HTTP check against a TLS port marks every target unhealthy. NLB does not
    validate the target's certificate.
    """
    return elbv2.HealthCheck(
        enabled=True,
        protocol=elbv2.Protocol.HTTP,
        path="/healthz",
        port="traffic-port",
        interval=cdk.Duration.seconds(10),
        timeout=cdk.Duration.seconds(5),
        healthy_threshold_count=2,
        unhealthy_threshold_count=2,
    )


@dataclass(frozen=True, kw_only=True)
class IpTargets:
    """The IP target group behind the listener. Targets are registered by whoever owns them (the AWS Load
    Balancer Controller's TargetGroupBinding, an ECS service), never here.

    ``port``: the service's port on each target (required).
    ``peer``: where the targets are, for the security group's only egress rule (traffic and health checks);
    default: the VPC's CIDR block.
    ``health_check``: :func:`default_health_check`.
    ``deregistration_delay``: 120 s. A target being removed keeps its open streams this long. Then
    ``connection_termination`` closes them, and SSE clients reconnect with ``Last-Event-ID``. AWS accepts
    0 to 3600 s.
    ``connection_termination``: True, so that no stream stays on a target that has been removed.
    ``preserve_client_ip``: False. The targets then see the NLB's address, so their security group need only
    admit the NLB's security group, and a target reaching itself through the NLB (hairpinning) works.
    """

    port: int
    peer: ec2.IPeer | None = None
    health_check: elbv2.HealthCheck = field(default_factory=default_health_check)
    deregistration_delay: cdk.Duration = DEFAULT_DEREGISTRATION_DELAY
    connection_termination: bool = True
    preserve_client_ip: bool = False

    def __post_init__(self) -> None:
        _check_port("IpTargets.port", self.port)
        delay = _seconds(self.deregistration_delay)
        if delay is not None and not 0 <= delay <= MAX_DEREGISTRATION_DELAY_SECONDS:
            raise ValueError(
                f"IpTargets.deregistration_delay: AWS accepts 0 to {MAX_DEREGISTRATION_DELAY_SECONDS} "
                f"seconds, got {delay:g} s"
            )


class StreamingNlb(Construct):
    """Security group, NLB, one listener and one IP target group (plus access logs when given a bucket).

    ``vpc``: the VPC (``ec2.Vpc.from_vpc_attributes`` keeps synth offline).
    ``listener``: :class:`TlsListener` or :class:`TcpListener`.
    ``targets``: :class:`IpTargets`.
    ``access_log_bucket``: where the NLB writes access logs (with ``access_log_prefix``, default ``"nlb"``).
    Required: pass ``None`` to go without, and acknowledge cdk-nag's ``AwsSolutions-ELB2`` yourself. AWS
    writes these logs for TLS listeners only.
    ``vpc_subnets``: the load balancer's subnets. Default: the VPC's public subnets when
    ``internet_facing``, else its private ones (CDK's choice).
    ``internet_facing``: True.
    ``ingress_peers``: who may reach the listener port. :meth:`allow_clients_from` adds more, with a
    description of your own.
    ``cross_zone_enabled``: True. AWS's default for NLBs is off, which gives a zone with one target as
    many long-lived connections as a zone with ten, and streams keep that imbalance for their lifetime.
    ``deletion_protection``: False.

    Attributes: ``security_group``, ``load_balancer``, ``listener``, ``target_group``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        listener: TlsListener | TcpListener,
        targets: IpTargets,
        access_log_bucket: s3.IBucket | None,
        access_log_prefix: str = "nlb",
        vpc_subnets: ec2.SubnetSelection | None = None,
        internet_facing: bool = True,
        ingress_peers: Sequence[ec2.IPeer] = (),
        cross_zone_enabled: bool = True,
        deletion_protection: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.listener_props = listener
        mode = "TLS" if isinstance(listener, TlsListener) else "TCP"

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"streampath NLB: {mode} {listener.port} in, port {targets.port} out",
            allow_all_outbound=False,
        )
        for peer in ingress_peers:
            self.allow_clients_from(peer)
        self.security_group.add_egress_rule(
            targets.peer or ec2.Peer.ipv4(vpc.vpc_cidr_block),
            ec2.Port.tcp(targets.port),
            "to the pods (traffic and health checks)",
        )

        self.load_balancer = elbv2.NetworkLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            internet_facing=internet_facing,
            # Attached at creation: an NLB created without a security group can never get one.
            security_groups=[self.security_group],
            cross_zone_enabled=cross_zone_enabled,
            deletion_protection=deletion_protection,
        )
        if access_log_bucket is not None:
            self.load_balancer.log_access_logs(access_log_bucket, access_log_prefix)

        self.target_group = elbv2.NetworkTargetGroup(
            self,
            "TargetGroup",
            vpc=vpc,
            port=targets.port,
            protocol=elbv2.Protocol.TCP,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=targets.deregistration_delay,
            connection_termination=targets.connection_termination,
            preserve_client_ip=targets.preserve_client_ip,
            health_check=targets.health_check,
        )

        if isinstance(listener, TlsListener):
            self.listener = self.load_balancer.add_listener(
                "Listener",
                port=listener.port,
                protocol=elbv2.Protocol.TLS,
                certificates=[_listener_certificate(listener.certificate)],
                alpn_policy=listener.alpn_policy,
                ssl_policy=listener.ssl_policy,
                default_target_groups=[self.target_group],
            )
        else:
            self.listener = self.load_balancer.add_listener(
                "Listener",
                port=listener.port,
                protocol=elbv2.Protocol.TCP,
                tcp_idle_timeout=listener.idle_timeout,
                default_target_groups=[self.target_group],
            )

    @property
    def terminates_tls(self) -> bool:
        """True for a TLS listener (which a CloudFront VPC origin cannot use)."""
        return isinstance(self.listener_props, TlsListener)

    def allow_clients_from(self, peer: ec2.IPeer, description: str | None = None) -> None:
        """Open the listener port to ``peer`` (default description ``clients from <peer>``)."""
        self.security_group.add_ingress_rule(
            peer,
            ec2.Port.tcp(self.listener_props.port),
            description or f"clients from {peer.unique_id}",
        )


def _listener_certificate(certificate: Certificate) -> elbv2.IListenerCertificate:
    # Both certificate interfaces expose the ARN, which is all a listener needs (and the only test that works
    # on jsii interfaces, which are not runtime-checkable).
    arn = certificate if isinstance(certificate, str) else certificate.certificate_arn
    return elbv2.ListenerCertificate.from_arn(arn)


def _check_port(prop: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise ValueError(f"{prop}: must be a TCP port 1..65535, got {port}")


def _seconds(duration: cdk.Duration) -> float | None:
    """Whole seconds, or None for a duration built from a token (CloudFormation checks it at deployment)."""
    seconds = duration.to_seconds()
    return None if cdk.Token.is_unresolved(seconds) else seconds
