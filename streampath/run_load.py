"""``streampath run-load``: ``streamprobe load`` run inside the deployed canary function, from beyond one
machine. ``--invocations K`` invocations run at once (spread round robin over ``--region``s, default the
environment's Region), each one running ``--concurrency N`` streams (the function's ``load`` event,
``streampath_canary.load_event``); their parts merge exactly (``streamprobe.load.merge_parts``). Lambda
is the engine: no worker of our own.

``--local K`` runs the same handler code in K local processes instead (the deployed function's own
``CANARY_CONFIG``, read from its configuration), to try a load before paying for it, or to compare.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Final

from streampath_canary.auth_secrets import SecretCache
from streampath_canary.contract import CONFIG_ENV_VAR, CanarySpec
from streampath_canary.load_event import LOAD_EVENT_KEY, run_load_event
from streamprobe.load import LoadSummary, merge_parts

from streampath.aws import Aws, aws_errors
from streampath.errors import Refusal
from streampath.run_canary import canary_function, invoke_function

#: Invocations at once: a Region's default Lambda concurrency is 1000, shared with everything else.
MAX_INVOCATIONS: Final = 500
#: A local process's budget, as the function's default timeout gives its load event.
LOCAL_BUDGET_S: Final = 900.0


def invoke_part(aws: Aws, env_name: str, home_region: str, event: dict[str, Any]) -> dict[str, Any]:
    """One invocation's part (docs/contracts/load.md); a Refusal naming the function when there is none."""
    _, payload, where, text = invoke_function(aws, env_name, home_region, {LOAD_EVENT_KEY: event})
    part = payload.get(LOAD_EVENT_KEY) if isinstance(payload, dict) else None
    if not isinstance(part, dict) or not isinstance(part.get("values"), dict):
        raise Refusal(
            f"canary function {where} returned no load part (expected {{{LOAD_EVENT_KEY!r}: {{...}}}}; "
            f"is the function older than the load event?): {text[:200]!r}"
        )
    return part


def run_fleet(
    aws: Aws,
    env_name: str,
    home_region: str,
    regions: Sequence[str],
    event: dict[str, Any],
    invocations: int,
) -> LoadSummary:
    """``invocations`` load events at once, invocation i in ``regions[i % len(regions)]``; merged."""
    if not 1 <= invocations <= MAX_INVOCATIONS:
        raise Refusal(f"--invocations must be 1..{MAX_INVOCATIONS}, got {invocations}")
    clients = {region: aws if region == aws.region else aws.in_region(region) for region in regions}

    def one(index: int) -> dict[str, Any]:
        return invoke_part(clients[regions[index % len(regions)]], env_name, home_region, event)

    with ThreadPoolExecutor(max_workers=invocations) as pool:
        return _merged(list(pool.map(one, range(invocations))))


def function_config(aws: Aws, env_name: str, home_region: str) -> str:
    """The deployed canary function's ``CANARY_CONFIG`` (its paths with their deployed URLs)."""
    function, where = canary_function(aws, env_name, home_region)
    with aws_errors(f"Lambda GetFunctionConfiguration {where}"):
        configuration = aws.lambda_().get_function_configuration(FunctionName=function)
    config = configuration.get("Environment", {}).get("Variables", {}).get(CONFIG_ENV_VAR)
    if not config:
        raise Refusal(f"canary function {where} has no {CONFIG_ENV_VAR} in its environment")
    return str(config)


def run_local(config: str, event: dict[str, Any], processes: int) -> LoadSummary:
    """The load event in ``processes`` local processes running the handler's code; merged."""
    if not 1 <= processes <= MAX_INVOCATIONS:
        raise Refusal(f"--local must be 1..{MAX_INVOCATIONS}, got {processes}")
    context = multiprocessing.get_context("spawn")  # no thread of this process is copied into them
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        futures = [pool.submit(_local_part, config, event) for _ in range(processes)]
        try:
            parts = [future.result() for future in futures]
        except ValueError as exc:  # the event cannot run: the same one line the function would raise
            raise Refusal(f"the load event cannot run: {exc}") from None
    return _merged(parts)


def _local_part(config: str, event: dict[str, Any]) -> dict[str, Any]:
    spec = CanarySpec.from_json(config)
    part: dict[str, Any] = run_load_event(spec, event, budget_s=LOCAL_BUDGET_S, secrets=SecretCache())[
        LOAD_EVENT_KEY
    ]
    return part


def _merged(parts: list[dict[str, Any]]) -> LoadSummary:
    try:
        return merge_parts(parts)
    except (KeyError, TypeError, ValueError) as exc:
        raise Refusal(f"the parts do not merge: {exc}") from None
