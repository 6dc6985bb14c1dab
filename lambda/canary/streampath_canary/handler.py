"""The streaming canary's Lambda handler (thin): spec -> concurrent probes -> EMF + one log line each.

- ``CANARY_CONFIG`` (JSON, see ``contract``) is validated once at cold start. A bad document is logged at
  import and fails every invocation with the same message, so the function's ``Errors`` alarm fires
  instead of the canary silently probing nothing.
- Every path x protocol is probed concurrently (``runner``); the run is bounded by
  ``min(deadline_s, remaining Lambda time - margin)``. The probe's HTTP stack is imported by the first
  run, not here: importing this module costs only the spec and Powertools.
- One EMF document per path x protocol (``metrics``, aws-lambda-powertools), ``GoodStream`` judged by the
  path's SLO spec and one structured log line
  per probe with the result JSON (header names only; secret values are never logged).
- With a ``chain`` (path names from the app outward), one log line per protocol naming the first path
  that buffers and the delay it adds (``chain``); the summary carries the same answers.
"""

from __future__ import annotations

import os
import time
from typing import Any, Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from streampath_canary import chain
from streampath_canary.auth_secrets import SecretCache
from streampath_canary.contract import CONFIG_ENV_VAR, SERVICE_NAME, CanarySpec, CanarySpecError
from streampath_canary.load_event import LOAD_EVENT_KEY, run_load_event
from streampath_canary.metrics import publish
from streampath_canary.runner import run_probes

# Time kept back from the Lambda timeout for publishing, logging and returning.
SAFETY_MARGIN_S: Final = 3.0

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE_NAME))
secrets = SecretCache()


def load_spec() -> CanarySpec:
    """Parse and validate ``CANARY_CONFIG`` from the environment (raises :class:`CanarySpecError`)."""
    return CanarySpec.from_json(os.environ.get(CONFIG_ENV_VAR))


def _cold_start() -> tuple[CanarySpec | None, CanarySpecError | None]:
    try:
        return load_spec(), None
    except CanarySpecError as exc:
        logger.error("invalid canary config", extra={"error": str(exc)})
        return None, exc


SPEC, SPEC_ERROR = _cold_start()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    if SPEC is None:
        raise CanarySpecError(str(SPEC_ERROR))
    remaining_s = context.get_remaining_time_in_millis() / 1000.0
    if event and LOAD_EVENT_KEY in event:  # streampath run-load: a load run, bounded by the Lambda timeout
        return run_load_event(
            SPEC, event[LOAD_EVENT_KEY], budget_s=max(0.5, remaining_s - SAFETY_MARGIN_S), secrets=secrets
        )
    budget_s = max(0.5, min(SPEC.deadline_s, remaining_s - SAFETY_MARGIN_S))
    return run(SPEC, budget_s=budget_s)


def run(spec: CanarySpec, *, budget_s: float) -> dict[str, Any]:
    """One canary run: probe everything within ``budget_s``, publish EMF, log one line per probe."""
    started = time.monotonic()
    runs = run_probes(spec, budget_s=budget_s, secrets=secrets)
    summary: list[dict[str, Any]] = []
    for probe_run in runs:
        result = probe_run.result
        publish(spec.namespace, probe_run.path.name, probe_run.protocol, result, good=probe_run.path.good)
        error = result.get("error") or {}
        timings = result.get("timings_ms") or {}
        logger.info(
            "probe result",
            extra={
                "path": probe_run.path.name,
                "requested_protocol": probe_run.protocol,
                "header_names": sorted(
                    [*probe_run.path.headers]
                    + ([probe_run.path.auth_secret.header] if probe_run.path.auth_secret else [])
                ),
                "elapsed_ms": probe_run.elapsed_ms,
                "result": result,
            },
        )
        summary.append(
            {
                "path": probe_run.path.name,
                "protocol": probe_run.protocol,
                "ok": bool(result.get("ok")),
                "verdict": result.get("verdict"),
                "error_kind": error.get("kind"),
                # Same names as the probe result (docs/INTERFACES.md), so `streampath run-canary` reads both.
                "status": result.get("status"),
                "timings_ms": {k: timings.get(k) for k in ("ttfb", "first_event")},
                "events": result.get("events"),
                "buffering_delay_ms": result.get("buffering_delay_ms"),
            }
        )
    answers = chain.from_results(
        spec.chain, spec.protocols, {(r.path.name, r.protocol): r.result for r in runs}
    )
    for answer in answers:
        logger.info(answer.sentence(), extra={"chain": answer.to_dict()})
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    failed = sum(1 for s in summary if not s["ok"])
    logger.info(
        "canary run done", extra={"probes": len(summary), "failed": failed, "duration_ms": duration_ms}
    )
    return {
        "probes": len(summary),
        "failed": failed,
        "duration_ms": duration_ms,
        "results": summary,
        **({"chain": [a.to_dict() for a in answers]} if spec.chain else {}),
    }
