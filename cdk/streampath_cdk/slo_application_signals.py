"""Optional CloudWatch Application Signals SLOs on ``GoodStream``, one per path (docs/slo.md).

A request-based SLO: good count ``SUM(GoodStream)``, total count ``SAMPLE_COUNT(GoodStream)`` over the
path's protocols, attainment goal the objective over a rolling window of ``window_days``, and a burn-rate
configuration per window of ``streampath_canary.burn_rates`` (Application Signals publishes each as the
``BurnRate`` metric of ``AWS/ApplicationSignals``). Creating one needs the service-linked role
``AWSServiceRoleForCloudWatchApplicationSignals`` (the deploying principal needs
``iam:CreateServiceLinkedRole`` the first time). The CDK has only the L1 resource.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_applicationsignals as appsignals
from constructs import Construct
from streampath_canary.burn_rates import BURN_RATE_WINDOWS
from streampath_canary.contract import DIMENSION_PATH, DIMENSION_PROTOCOL, GOOD_STREAM

from streampath_cdk.slo_metrics import SloPath

_SLO = appsignals.CfnServiceLevelObjective
#: Every window of every pair, once (5 min, 30 min, 1 h, 6 h, 3 d): the burn rates to publish.
BURN_RATE_WINDOW_MINUTES = tuple(sorted({s // 60 for w in BURN_RATE_WINDOWS for s in (w.long_s, w.short_s)}))
#: One datapoint per minute: the canary's finest schedule; Application Signals sums them over its windows.
SLI_PERIOD_S = 60


def _queries(namespace: str, path: SloPath, statistic: str) -> list[_SLO.MetricDataQueryProperty]:
    """``SUM([...])`` of the statistic over the path's protocols (one query returns data)."""
    queries = [
        _SLO.MetricDataQueryProperty(
            id=f"m{i}",
            return_data=False,
            metric_stat=_SLO.MetricStatProperty(
                metric=_SLO.MetricProperty(
                    namespace=namespace,
                    metric_name=GOOD_STREAM,
                    dimensions=[
                        _SLO.DimensionProperty(name=DIMENSION_PATH, value=path.name),
                        _SLO.DimensionProperty(name=DIMENSION_PROTOCOL, value=protocol),
                    ],
                ),
                period=SLI_PERIOD_S,
                stat=statistic,
            ),
        )
        for i, protocol in enumerate(path.protocols)
    ]
    ids = ", ".join(q.id for q in queries)
    return [*queries, _SLO.MetricDataQueryProperty(id="total", expression=f"SUM([{ids}])", return_data=True)]


class ApplicationSignalsSlos(Construct):
    """``.by_path[name]``: an ``AWS::ApplicationSignals::ServiceLevelObjective`` per path.

    Props (keyword-only): ``namespace``, ``name_prefix`` (each SLO's name starts with it), ``paths`` (each
    with its objective), ``window_days`` (the rolling interval)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namespace: str,
        name_prefix: str,
        paths: Sequence[SloPath],
        window_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_path: dict[str, appsignals.CfnServiceLevelObjective] = {}
        for path in paths:
            self.by_path[path.name] = _SLO(
                self,
                f"Slo-{path.name}",
                name=f"{name_prefix}-{path.name}",
                description=(
                    f"Streams on path {path.name} that meet its SLO spec (GoodStream of the streampath "
                    f"canary, namespace {namespace}): {path.objective:g} % over {window_days} days."
                ),
                request_based_sli=_SLO.RequestBasedSliProperty(
                    request_based_sli_metric=_SLO.RequestBasedSliMetricProperty(
                        monitored_request_count_metric=_SLO.MonitoredRequestCountMetricProperty(
                            good_count_metric=_queries(namespace, path, "Sum")
                        ),
                        total_request_count_metric=_queries(namespace, path, "SampleCount"),
                    )
                ),
                goal=_SLO.GoalProperty(
                    attainment_goal=path.objective,
                    interval=_SLO.IntervalProperty(
                        rolling_interval=_SLO.RollingIntervalProperty(
                            duration=window_days, duration_unit="DAY"
                        )
                    ),
                ),
                burn_rate_configurations=[
                    _SLO.BurnRateConfigurationProperty(look_back_window_minutes=minutes)
                    for minutes in BURN_RATE_WINDOW_MINUTES
                ],
            )
