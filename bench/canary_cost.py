"""Monthly cost of the canary per Region and for N Regions, next to CloudWatch Synthetics in N locations.

The paths are config/default.yaml's: the home Region probes all four (alb, nlb, cloudfront, direct), every
other Region the three public ones (docs/regions.md), each over the protocols the config gives it.
The run duration is **measured**: the bundled asset's handler (the same driver as bench/canary_bench.py)
probing the reference app on loopback with those probe mixes, median of 3 warm runs (an h3 probe is
timed as h2: there is no QUIC server here; the probes of a run go at once, so the stream's length sets
the duration); ``--duration-ms`` skips the measurement. Prices are bench/canary_bench.py's (us-east-1
list), imported, not repeated.

Per Region: Lambda arm64 compute + requests at the measured duration and the configured memory, the
custom metrics the Region's canary publishes (probes x the contract's metric names), its alarms (three per
probe, the function's two, a composite per path and the top one). Once: the dashboard (the account's first
three are free; counted here). CloudWatch Synthetics at the same schedule is one canary per location, each
run billed; it would need the same custom metrics, alarms and dashboard to judge buffering, so they are
added to it as well. Not counted on either side: CloudWatch Logs ingestion, the Lambda a Synthetics run
itself uses, its S3 artifacts, and EventBridge Scheduler (its free tier covers 43,200 runs a month).

    .venv/bin/python bench/canary_cost.py [--duration-ms MS] [--regions 1,2,3,5,10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "lambda" / "canary"), str(REPO / "service")]

from streampath_canary.contract import METRICS  # noqa: E402

from bench.canary_bench import (  # noqa: E402
    COMPOSITE_ALARM_MONTH,
    CUSTOM_METRIC_MONTH,
    DASHBOARD_MONTH,
    INVOCATIONS_PER_MONTH,
    LAMBDA_ARM_GB_S,
    LAMBDA_REQUEST,
    STANDARD_ALARM_MONTH,
    STREAM,
    SYNTHETICS_RUN,
    config_for,
    free_port,
    run_driver,
    server_process,
)
from streampath.config import load_config_by_name  # noqa: E402
from streampath.config.canary import COMMERCIAL_REGIONS  # noqa: E402
from streampath_cdk.canary_function import canary_bundler  # noqa: E402

RUNS = 3


@dataclass(frozen=True)
class RegionMix:
    """What one Region's canary probes: paths and (path, protocol) probes."""

    paths: int
    probes: tuple[tuple[str, str], ...]


def mixes(regions: int) -> tuple[RegionMix, RegionMix]:
    """The home Region's and another Region's probe mix for config/default.yaml run in ``regions``."""
    cfg = load_config_by_name("default")
    others = [r for r in COMMERCIAL_REGIONS if r != cfg.region][: max(1, regions) - 1] or ["us-east-1"]
    canary = cfg.enabled_canary
    assert canary is not None
    with_regions = cfg.model_copy(
        update={"canary": canary.model_copy(update={"regions": (cfg.region, *others)})}
    )
    home, other = with_regions.canary_deployments[0], with_regions.canary_deployments[1]

    def mix(paths: Any) -> RegionMix:
        probes = tuple((p.name, proto) for p in paths for proto in p.protocols)
        return RegionMix(paths=len(paths), probes=probes)

    return mix(home.paths), mix(other.paths)


def measure(mix: RegionMix) -> float:
    """Median wall time (ms) of a warm run probing ``mix`` (h1 probes over HTTP, h2 over TLS)."""
    from tests.support.servers import RunningServer
    from tests.support.tls import tls_files

    tls = tls_files()
    bin_dir = Path(sys.executable).parent
    p1, p2 = free_port(), free_port()
    h1 = RunningServer("127.0.0.1", p1)
    h2 = RunningServer("127.0.0.1", p2, "https", tls.ca_pem)
    uvicorn = [str(bin_dir / "uvicorn"), "streamcheck.reference_app:app", "--port", str(p1)]
    hypercorn = [
        str(bin_dir / "hypercorn"),
        "streamcheck.reference_app:app",
        "--bind",
        f"127.0.0.1:{p2}",
        "--certfile",
        tls.cert_pem,
        "--keyfile",
        tls.key_pem,
    ]
    protocols: dict[str, list[str]] = {}
    for name, protocol in mix.probes:
        timed_as = "h2" if protocol == "h3" else protocol
        if timed_as not in protocols.setdefault(name, []):
            protocols[name].append(timed_as)
    paths = [
        # A path probed over h2 needs TLS (hypercorn); an h1-only one is the plain-HTTP in-VPC kind.
        {"name": name, "url": h2.url(STREAM), "protocols": protos, "verify": h2.ca_pem}
        if "h2" in protos
        else {"name": name, "url": h1.url(STREAM), "protocols": protos}
        for name, protos in protocols.items()
    ]
    with tempfile.TemporaryDirectory(prefix="canary-asset-") as tmp:
        asset = Path(tmp)
        canary_bundler().try_bundle(str(asset))
        with server_process(uvicorn, p1), server_process(hypercorn, p2):
            runs = [run_driver(asset, config_for(paths), "run") for _ in range(RUNS)]
    for run in runs:
        assert run["failed"] == 0 and run["probes"] == sum(map(len, protocols.values())), run
    return float(statistics.median(r["wall_ms"] for r in runs))


@dataclass(frozen=True)
class RegionCost:
    lambda_: float
    metrics: float
    alarms: float

    @property
    def total(self) -> float:
        return self.lambda_ + self.metrics + self.alarms


def region_cost(mix: RegionMix, duration_ms: float, memory_mb: int) -> RegionCost:
    gb_s = memory_mb / 1024 * duration_ms / 1000
    return RegionCost(
        lambda_=INVOCATIONS_PER_MONTH * (gb_s * LAMBDA_ARM_GB_S + LAMBDA_REQUEST),
        metrics=len(mix.probes) * len(METRICS) * CUSTOM_METRIC_MONTH,
        alarms=(3 * len(mix.probes) + 2) * STANDARD_ALARM_MONTH + (mix.paths + 1) * COMPOSITE_ALARM_MONTH,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration-ms", type=float, help="a run's duration (skips the measurement)")
    parser.add_argument("--regions", default="1,2,3,5,10", help="the Region counts of the table")
    args = parser.parse_args()
    counts = [int(n) for n in args.regions.split(",")]
    home, other = mixes(max(counts))
    memory = load_config_by_name("default").enabled_canary.memory_mb  # type: ignore[union-attr]
    if args.duration_ms is not None:
        home_ms = other_ms = args.duration_ms
        how = f"given: {args.duration_ms:.0f} ms"
    else:
        home_ms, other_ms = measure(home), measure(other)
        how = f"measured on loopback, median of {RUNS} warm runs"
    home_cost, other_cost = region_cost(home, home_ms, memory), region_cost(other, other_ms, memory)
    synthetics_region = INVOCATIONS_PER_MONTH * SYNTHETICS_RUN

    print("| one Region's canary, per month | probes | run | Lambda | metrics | alarms | total |")
    print("|---|---|---|---|---|---|---|")
    for label, mix, ms, cost in (
        ("home Region (all 4 paths)", home, home_ms, home_cost),
        ("each other Region (3 public paths)", other, other_ms, other_cost),
    ):
        print(
            f"| {label} | {len(mix.probes)} | {ms:.0f} ms at {memory} MB | ${cost.lambda_:.2f} "
            f"| ${cost.metrics:.2f} | ${cost.alarms:.2f} | ${cost.total:.2f} |"
        )
    print()
    print("| Regions | streampath: Lambda + metrics + alarms + dashboard | CloudWatch Synthetics: runs "
          "| Synthetics + the same metrics, alarms, dashboard |")  # fmt: skip
    print("|---|---|---|---|")
    for n in counts:
        ours = home_cost.total + (n - 1) * other_cost.total + DASHBOARD_MONTH
        same_extras = (
            home_cost.metrics + home_cost.alarms + (n - 1) * (other_cost.metrics + other_cost.alarms)
        )
        runs = n * synthetics_region
        print(f"| {n} | ${ours:.2f} | ${runs:.2f} | ${runs + same_extras + DASHBOARD_MONTH:.2f} |")
    per_100ms = INVOCATIONS_PER_MONTH * memory / 1024 * 0.1 * LAMBDA_ARM_GB_S
    print(
        f"\n(run duration {how}; on AWS each run also waits for the network, and each extra 100 ms "
        f"costs ${per_100ms:.2f} a month per Region)"
    )
    print(
        f"(prices: bench/canary_bench.py, us-east-1 list; {INVOCATIONS_PER_MONTH} runs a month per Region; "
        f"Synthetics ${SYNTHETICS_RUN} a run per location; dashboard ${DASHBOARD_MONTH:.2f} once; "
        "not counted: Logs ingestion, a Synthetics run's own Lambda and S3 artifacts)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
