"""A Network Load Balancer tuned for long-lived streaming responses (SSE) to pods registered by IP.

- ``listener_mode="tls"``: TLS terminates at the NLB (ACM certificate, ``SslPolicy.RECOMMENDED_TLS``) with
  an ALPN policy (``HTTP1Only`` by default: the service streams over HTTP/1.1 chunked encoding and no HTTP/2
  proxy sits in the path). The idle timeout of a TLS listener is fixed at 350 s.
- ``listener_mode="tcp"``: bytes pass through (TLS to the service's own certificate, or plain HTTP inside the
  VPC) with a configurable TCP idle timeout (60..6000 s).

The target group is ``target_type=ip`` for an EKS TargetGroupBinding (the AWS Load Balancer Controller owns
its targets: nothing is registered here), with an HTTP health check, a deregistration delay long enough for
streams to drain, and connection termination so no flow lingers on a removed pod.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

ALPN_POLICIES: dict[str, elbv2.AlpnPolicy] = {
    "HTTP1Only": elbv2.AlpnPolicy.HTTP1_ONLY,
    "HTTP2Only": elbv2.AlpnPolicy.HTTP2_ONLY,
    "HTTP2Optional": elbv2.AlpnPolicy.HTTP2_OPTIONAL,
    "HTTP2Preferred": elbv2.AlpnPolicy.HTTP2_PREFERRED,
    "None": elbv2.AlpnPolicy.NONE,
}


class StreamingNlb(Construct):
    """Security group + NLB + one listener + IP target group (+ access logs)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        internet_facing: bool,
        ingress_cidrs: Sequence[str],
        ingress_prefix_list_id: str | None,
        target_cidr: str,
        listener_mode: Literal["tls", "tcp"],
        listener_port: int,
        certificate_arn: str | None,
        alpn_policy: str,
        tcp_idle_timeout: cdk.Duration | None,
        target_port: int,
        health_check_path: str,
        health_check_protocol: Literal["HTTP", "HTTPS"] = "HTTP",
        health_check_interval: cdk.Duration,
        health_check_timeout: cdk.Duration,
        healthy_threshold: int,
        unhealthy_threshold: int,
        deregistration_delay: cdk.Duration,
        connection_termination: bool,
        preserve_client_ip: bool,
        access_log_bucket: s3.IBucket,
        deletion_protection: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"streampath NLB: {listener_mode.upper()} {listener_port} in, port {target_port} out",
            allow_all_outbound=False,
        )
        for cidr in ingress_cidrs:
            self.security_group.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.tcp(listener_port), f"clients from {cidr}"
            )
        if ingress_prefix_list_id is not None:
            self.security_group.add_ingress_rule(
                ec2.Peer.prefix_list(ingress_prefix_list_id),
                ec2.Port.tcp(listener_port),
                "CloudFront origin-facing servers",
            )
        self.security_group.add_egress_rule(
            ec2.Peer.ipv4(target_cidr), ec2.Port.tcp(target_port), "to the pods (traffic and health checks)"
        )

        self.load_balancer = elbv2.NetworkLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=list(subnets)),
            internet_facing=internet_facing,
            security_groups=[self.security_group],
            cross_zone_enabled=True,
            deletion_protection=deletion_protection,
        )
        self.load_balancer.log_access_logs(access_log_bucket, "nlb")

        self.target_group = elbv2.NetworkTargetGroup(
            self,
            "TargetGroup",
            vpc=vpc,
            port=target_port,
            protocol=elbv2.Protocol.TCP,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=deregistration_delay,
            connection_termination=connection_termination,
            preserve_client_ip=preserve_client_ip,
            health_check=elbv2.HealthCheck(
                enabled=True,
                # HTTPS when the pods speak TLS on the target port (TCP passthrough): an HTTP check against a
                # TLS port fails on every target. NLB does not validate the target's certificate.
                protocol=elbv2.Protocol.HTTPS if health_check_protocol == "HTTPS" else elbv2.Protocol.HTTP,
                path=health_check_path,
                port="traffic-port",
                interval=health_check_interval,
                timeout=health_check_timeout,
                healthy_threshold_count=healthy_threshold,
                unhealthy_threshold_count=unhealthy_threshold,
            ),
        )

        if listener_mode == "tls":
            if certificate_arn is None:
                raise ValueError("a TLS listener needs certificate_arn")
            self.listener = self.load_balancer.add_listener(
                "Listener",
                port=listener_port,
                protocol=elbv2.Protocol.TLS,
                certificates=[elbv2.ListenerCertificate.from_arn(certificate_arn)],
                alpn_policy=ALPN_POLICIES[alpn_policy],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                default_target_groups=[self.target_group],
            )
        else:
            self.listener = self.load_balancer.add_listener(
                "Listener",
                port=listener_port,
                protocol=elbv2.Protocol.TCP,
                tcp_idle_timeout=tcp_idle_timeout,
                default_target_groups=[self.target_group],
            )
