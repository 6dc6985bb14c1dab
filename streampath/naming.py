"""Stack names and output keys: a contract between the stacks and the `streampath` ops CLI.

The CLI finds deployed front doors by these names (CloudFormation ``describe_stacks``), so
changing one is a breaking change for every deployed environment.
"""

from __future__ import annotations

from typing import Final, Literal

Unit = Literal["Nlb", "CloudFront", "Canary"]

STACK_PREFIX: Final = "StreamPath"

# NLB front door
OUTPUT_NLB_DNS_NAME: Final = "LoadBalancerDnsName"
OUTPUT_NLB_ARN: Final = "LoadBalancerArn"
OUTPUT_TARGET_GROUP_ARN: Final = "TargetGroupArn"
OUTPUT_NLB_SECURITY_GROUP_ID: Final = "SecurityGroupId"
# CloudFront front door
OUTPUT_DISTRIBUTION_DOMAIN_NAME: Final = "DistributionDomainName"
OUTPUT_DISTRIBUTION_ID: Final = "DistributionId"
# Canary
OUTPUT_CANARY_FUNCTION_NAME: Final = "CanaryFunctionName"
OUTPUT_DASHBOARD_URL: Final = "DashboardUrl"
OUTPUT_ALARM_TOPIC_ARN: Final = "AlarmTopicArn"
OUTPUT_METRIC_NAMESPACE: Final = "MetricNamespace"


def stack_name(env_name: str, unit: Unit) -> str:
    """``StreamPath-staging-Nlb``: one stack per deployable unit and environment."""
    return f"{STACK_PREFIX}-{env_name}-{unit}"
