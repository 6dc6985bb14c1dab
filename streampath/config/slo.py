"""``canary.slo`` (and a path's ``slo``): the stream SLO, its error budget and where its tickets go.

The spec of a good stream is ``streamprobe.slo``'s (the one ``streamprobe load --slo`` takes), so a bad
``good`` is refused with that module's message; what an objective implies (the budget, the burn-rate
thresholds) is ``streampath_canary.burn_rates``. Which alarms page (``canary.alarms.mode``) is
:data:`AlarmMode`: ``thresholds`` (the fixed thresholds, today's alarms, the default), ``slo`` (the
burn-rate alarms page; the threshold alarms stay on the dashboard but no longer page) or ``both``.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import AfterValidator, StrictFloat, StrictInt, StrictStr
from streampath_canary.burn_rates import DEFAULT_OBJECTIVE, DEFAULT_WINDOW_DAYS, objective_problem
from streamprobe.slo import DEFAULT_SLO, SloSpecError, parse_slo

from streampath.config.common import Bool, StrictModel, int_range, matching

AlarmMode = Literal["thresholds", "slo", "both"]
#: ``thresholds``: a config written before SLOs synthesises the same alarms and pages the same way.
DEFAULT_ALARM_MODE: Final[AlarmMode] = "thresholds"
#: The SLO window: at least a week (the ticket pair's long window is 3 days, and a budget over less than
#: twice that is spent by one slow burn); at most a quarter.
WINDOW_DAYS_MIN: Final = 7
WINDOW_DAYS_MAX: Final = 90


def _objective(value: float) -> float:
    problem = objective_problem(float(value))
    if problem:
        raise ValueError(problem)
    return float(value)


def _good(value: str) -> str:
    try:
        return parse_slo(value).spec
    except SloSpecError as exc:
        raise ValueError(str(exc)) from None


Objective = Annotated[StrictFloat, AfterValidator(_objective)]
GoodSpec = Annotated[StrictStr, AfterValidator(_good)]
SnsTopicArn = Annotated[
    str,
    matching(
        r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}",
        "an SNS topic ARN like 'arn:aws:sns:eu-west-1:123456789012:tickets'",
    ),
]


class PathSloConfig(StrictModel):
    """A path's own SLO: its objective or its good spec instead of ``canary.slo``'s."""

    objective: Objective | None = None
    good: GoodSpec | None = None


class SloConfig(StrictModel):
    #: Percent of probes (streams) that must be good over the window.
    objective: Objective = DEFAULT_OBJECTIVE
    window_days: Annotated[StrictInt, int_range(WINDOW_DAYS_MIN, WINDOW_DAYS_MAX)] = DEFAULT_WINDOW_DAYS
    #: What a good stream is: ``streamprobe.slo``'s spec (normalised: ``first_event<=2000,buffering<=500``).
    good: GoodSpec = DEFAULT_SLO
    #: Where the 1x (ticket) alarm notifies: an existing topic in the home Region. Default: a topic of its
    #: own (KMS-encrypted, SSL only), beside the page topic.
    ticket_topic: SnsTopicArn | None = None
    #: Also create an Application Signals SLO per path (docs/slo.md: its service-linked role and price).
    application_signals: Bool = False

    def for_path(self, override: PathSloConfig | None) -> PathSlo:
        """The SLO of one path: this one, with the path's own objective or spec where it sets them."""
        return PathSlo(
            objective=override.objective
            if override is not None and override.objective is not None
            else self.objective,
            good=override.good if override is not None and override.good is not None else self.good,
        )


class PathSlo(StrictModel):
    """The SLO one path is held to (resolved: see :meth:`SloConfig.for_path`)."""

    objective: float
    good: str


def good_spec(slo: SloConfig | None, override: PathSloConfig | None) -> str | None:
    """The ``good`` a path's canary spec carries: its SLO's spec, or None without ``canary.slo`` (the
    canary then judges ``GoodStream`` by the default spec, and its environment stays as it was)."""
    return slo.for_path(override).good if slo is not None else None
