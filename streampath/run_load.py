"""``streampath run-load``: ``streamprobe load`` run inside the deployed canary function, from beyond one
machine. ``--invocations K`` invocations run at once (spread round robin over ``--region``s, default the
environment's Region), each one running ``--concurrency N`` streams (the function's ``load`` event,
``streampath_canary.load_event``); their parts merge exactly (``streamprobe.load.merge_parts``). Lambda
is the engine: no worker of our own.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from streampath_canary.load_event import LOAD_EVENT_KEY
from streamprobe.load import LoadSummary, merge_parts

from streampath.aws import Aws
from streampath.errors import Refusal
from streampath.run_canary import invoke_function

#: Invocations at once: a Region's default Lambda concurrency is 1000, shared with everything else.
MAX_INVOCATIONS: Final = 500


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
        parts = list(pool.map(one, range(invocations)))
    try:
        return merge_parts(parts)
    except (KeyError, TypeError, ValueError) as exc:
        raise Refusal(f"the invocations' parts do not merge: {exc}") from None
