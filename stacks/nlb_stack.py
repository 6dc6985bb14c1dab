"""Stack ``StreamPath-<env>-Nlb``: the NLB front door in the existing VPC (imported by attributes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

from streampath import naming
from streampath.config.common import ServiceConfig, SubnetConfig, VpcConfig
from streampath.config.nlb import ListenerConfig, NlbConfig
from streampath_cdk.log_bucket import LogBucket
from streampath_cdk.nag import acknowledge
from streampath_cdk.streaming_nlb import IpTargets, StreamingNlb, TcpListener, TlsListener

#: The config's ALPN policy names (CloudFormation's spelling), mapped to CDK's enum.
ALPN_POLICIES: dict[str, elbv2.AlpnPolicy] = {
    "HTTP1Only": elbv2.AlpnPolicy.HTTP1_ONLY,
    "HTTP2Only": elbv2.AlpnPolicy.HTTP2_ONLY,
    "HTTP2Optional": elbv2.AlpnPolicy.HTTP2_OPTIONAL,
    "HTTP2Preferred": elbv2.AlpnPolicy.HTTP2_PREFERRED,
    "None": elbv2.AlpnPolicy.NONE,
}


@dataclass(frozen=True, kw_only=True)
class NlbStackProps:
    """What the NLB stack is built from: its section, the VPC it goes into and the service behind it."""

    nlb: NlbConfig
    vpc: VpcConfig
    service: ServiceConfig
    #: An API Gateway VPC link reaches this NLB (the ``apigateway:`` section's ``origin.type: nlb``).
    behind_vpc_link: bool = False


class NlbStack(cdk.Stack):
    """Composes the log bucket, the streaming NLB and the optional alias record; exports the outputs the
    canary, the EKS TargetGroupBinding and the ops CLI read."""

    def __init__(self, scope: Construct, construct_id: str, *, props: NlbStackProps, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        nlb_cfg, vpc_cfg, service = props.nlb, props.vpc, props.service

        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=vpc_cfg.id,
            availability_zones=list(vpc_cfg.availability_zones),
            vpc_cidr_block=vpc_cfg.cidr,
        )
        subnet_cfgs: tuple[SubnetConfig, ...] = getattr(vpc_cfg, f"{nlb_cfg.subnet_group}_subnets")
        subnets = [
            ec2.Subnet.from_subnet_attributes(
                self,
                f"Subnet{subnet.availability_zone}",
                subnet_id=subnet.id,
                availability_zone=subnet.availability_zone,
                route_table_id=subnet.route_table_id,
            )
            for subnet in subnet_cfgs
        ]

        logs = LogBucket(self, "NlbLogs", expiration=cdk.Duration.days(nlb_cfg.access_logs.expiration_days))
        listener = nlb_cfg.listener
        self.streaming_nlb = StreamingNlb(
            self,
            "FrontDoor",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=subnets),
            internet_facing=nlb_cfg.internet_facing,
            ingress_peers=[ec2.Peer.ipv4(cidr) for cidr in nlb_cfg.ingress.cidrs],
            listener=_listener(listener),
            targets=IpTargets(
                port=service.port,
                peer=ec2.Peer.ipv4(vpc_cfg.cidr),
                health_check=_health_check(nlb_cfg, service.health_check_path),
                deregistration_delay=cdk.Duration.seconds(nlb_cfg.target_group.deregistration_delay_seconds),
                connection_termination=nlb_cfg.target_group.connection_termination,
                preserve_client_ip=nlb_cfg.target_group.preserve_client_ip,
            ),
            access_log_bucket=logs.bucket,
            deletion_protection=nlb_cfg.deletion_protection,
            # An API Gateway VPC link reaches the NLB over PrivateLink from addresses AWS does not publish:
            # AWS's setup turns the inbound-rule check off for PrivateLink traffic (None: AWS's default).
            enforce_inbound_rules_on_private_link_traffic=False if props.behind_vpc_link else None,
        )
        if nlb_cfg.ingress.cloudfront_prefix_list_id is not None:
            self.streaming_nlb.allow_clients_from(
                ec2.Peer.prefix_list(nlb_cfg.ingress.cloudfront_prefix_list_id),
                "CloudFront origin-facing servers",
            )
        if "0.0.0.0/0" in nlb_cfg.ingress.cidrs:
            acknowledge(
                self.streaming_nlb.security_group,
                "AwsSolutions-EC23",
                f"Public streaming front door: browsers connect from anywhere, and only the listener port "
                f"{listener.port} is open to 0.0.0.0/0 (config nlb.ingress.cidrs).",
            )

        self.load_balancer = self.streaming_nlb.load_balancer
        #: The name clients use: the alias record when configured, else the load balancer's own DNS name.
        self.host: str = (
            nlb_cfg.dns.record_name if nlb_cfg.dns is not None else self.load_balancer.load_balancer_dns_name
        )
        port = "" if listener.port == {"https": 443, "http": 80}[listener.url_scheme] else f":{listener.port}"
        #: ``https://stream-nlb.example.com`` — what a canary path with ``front_door: nlb`` prefixes.
        self.base_url: str = f"{listener.url_scheme}://{self.host}{port}"

        if nlb_cfg.dns is not None:
            zone = route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=nlb_cfg.dns.hosted_zone_id, zone_name=nlb_cfg.dns.zone_name
            )
            route53.ARecord(
                self,
                "AliasRecord",
                zone=zone,
                record_name=nlb_cfg.dns.record_name,
                target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(self.load_balancer)),
            )

        cdk.CfnOutput(
            self,
            naming.OUTPUT_NLB_DNS_NAME,
            value=self.load_balancer.load_balancer_dns_name,
            description="DNS name of the NLB front door",
        )
        cdk.CfnOutput(self, naming.OUTPUT_NLB_ARN, value=self.load_balancer.load_balancer_arn)
        cdk.CfnOutput(
            self,
            naming.OUTPUT_TARGET_GROUP_ARN,
            value=self.streaming_nlb.target_group.target_group_arn,
            description="IP target group for the service's TargetGroupBinding (spec.targetGroupARN)",
        )
        cdk.CfnOutput(
            self,
            naming.OUTPUT_NLB_SECURITY_GROUP_ID,
            value=self.streaming_nlb.security_group.security_group_id,
            description="Security group of the NLB: allow it into the pods on the service port",
        )


def _listener(listener: ListenerConfig) -> TlsListener | TcpListener:
    if listener.mode == "tls":
        if listener.certificate_arn is None:  # guarded by config validation
            raise ValueError("a TLS listener needs certificate_arn")
        return TlsListener(
            port=listener.port,
            certificate=listener.certificate_arn,
            alpn_policy=ALPN_POLICIES[listener.alpn_policy],
        )
    return TcpListener(
        port=listener.port, idle_timeout=cdk.Duration.seconds(listener.effective_idle_timeout_seconds)
    )


def _health_check(nlb_cfg: NlbConfig, path: str) -> elbv2.HealthCheck:
    health = nlb_cfg.target_group.health_check
    listener = nlb_cfg.listener
    # A TCP listener on 443 passes the client's TLS through to the pods, so they speak TLS on the target
    # port and the health check must too.
    passthrough = listener.mode == "tcp" and listener.url_scheme == "https"
    return elbv2.HealthCheck(
        enabled=True,
        protocol=elbv2.Protocol.HTTPS if passthrough else elbv2.Protocol.HTTP,
        path=path,
        port="traffic-port",
        interval=cdk.Duration.seconds(health.interval_seconds),
        timeout=cdk.Duration.seconds(health.timeout_seconds),
        healthy_threshold_count=health.healthy_threshold,
        unhealthy_threshold_count=health.unhealthy_threshold,
    )
