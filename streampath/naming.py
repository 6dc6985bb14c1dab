"""Stack names, output keys and canary resource names: a contract between the stacks and the `streampath`
ops CLI.

The CLI finds deployed front doors and canaries by these names (CloudFormation ``describe_stacks``,
CloudWatch ``describe_alarms``), so changing one is a breaking change for every deployed environment.

A canary runs in one or more Regions (docs/regions.md). The home Region's (the environment's ``region``)
keeps the single-Region names (``StreamPath-<env>-Canary``, alarms ``StreamPath-<env>-canary-...``), so
adding Regions replaces nothing; every other Region's carry the Region
(``StreamPath-<env>-Canary-<region>``, ``StreamPath-<env>-canary-<region>-...``).
"""

from __future__ import annotations

from typing import Final, Literal

Unit = Literal["Nlb", "CloudFront", "ApiGateway", "Canary"]

STACK_PREFIX: Final = "StreamPath"

# NLB front door
OUTPUT_NLB_DNS_NAME: Final = "LoadBalancerDnsName"
OUTPUT_NLB_ARN: Final = "LoadBalancerArn"
OUTPUT_TARGET_GROUP_ARN: Final = "TargetGroupArn"
OUTPUT_NLB_SECURITY_GROUP_ID: Final = "SecurityGroupId"
# CloudFront front door
OUTPUT_DISTRIBUTION_DOMAIN_NAME: Final = "DistributionDomainName"
OUTPUT_DISTRIBUTION_ID: Final = "DistributionId"
# API Gateway front door
OUTPUT_API_URL: Final = "ApiUrl"
OUTPUT_API_ID: Final = "RestApiId"
# Canary
OUTPUT_CANARY_FUNCTION_NAME: Final = "CanaryFunctionName"
OUTPUT_DASHBOARD_URL: Final = "DashboardUrl"
OUTPUT_ALARM_TOPIC_ARN: Final = "AlarmTopicArn"
OUTPUT_METRIC_NAMESPACE: Final = "MetricNamespace"


def stack_name(env_name: str, unit: Unit) -> str:
    """``StreamPath-staging-Nlb``: one stack per deployable unit and environment."""
    return f"{STACK_PREFIX}-{env_name}-{unit}"


def canary_stack_name(env_name: str, region: str, home_region: str) -> str:
    """``StreamPath-<env>-Canary`` in the home Region, ``StreamPath-<env>-Canary-<region>`` elsewhere."""
    name = stack_name(env_name, "Canary")
    return name if region == home_region else f"{name}-{region}"


def canary_alarm_prefix(env_name: str, region: str, home_region: str) -> str:
    """What every canary alarm's name starts with: ``StreamPath-<env>-canary`` in the home Region,
    ``StreamPath-<env>-canary-<region>`` elsewhere."""
    prefix = f"{STACK_PREFIX}-{env_name}-canary"
    return prefix if region == home_region else f"{prefix}-{region}"


def canary_dashboard_name(env_name: str) -> str:
    """The one canary dashboard of an environment (in the home Region, showing every Region)."""
    return f"{STACK_PREFIX}-{env_name}-canary"


def canary_function_name(env_name: str, region: str) -> str:
    """The canary function's name outside the home Region (the home one keeps its generated name), so the
    home Region's dashboard can show its errors by name without a cross-Region reference."""
    return f"{STACK_PREFIX}-{env_name}-canary-{region}"
