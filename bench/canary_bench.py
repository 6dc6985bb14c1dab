"""Canary benchmark: concurrency, cold import, peak memory, bundle size and monthly cost.

Runs the handler from the **bundled asset** (built by the same local bundler ``cdk synth`` uses) in a
clean interpreter (``python -I -S -B``: only the asset on ``sys.path``, no bytecode cache, as on Lambda's
read-only ``/var/task``) against the reference app on loopback (uvicorn for HTTP/1.1, hypercorn + TLS
for HTTP/2). Prints a Markdown table.

- 20 paths x {h1, h2} in one invocation vs the slowest of the same paths run alone (goal <= 1.2x)
- cold start, each on a fresh copy of the asset without bytecode (``PYTHONDONTWRITEBYTECODE=1``), as
  two figures: ``import handler`` incl. CANARY_CONFIG validation, then the first probe's imports
  (``runner.load_probe()``: streamprobe, httpx, httpcore, h2), checked to happen there and not earlier
  (goal < 300 ms each)
- peak RSS of the invocation process
- monthly cost of one path probed every minute over both protocols vs CloudWatch Synthetics
- HTTP/3 (``--h3`` for these alone): the bundle before (pure Python, no h3 extra) and after (aioquic and its
  compiled dependencies as manylinux aarch64 wheels), zipped and unzipped; the first h3 probe's imports
  (``runner.load_http3``: aioquic, pylsqpack, cryptography, pyOpenSSL, service-identity and the CA store);
  CPU per probe over h3 and over h2 through the same local Caddy front (h1 h2 h3, TLS) to the reference
  app; and the default config's mix (8 probes, the CloudFront path over h1, h2 and h3) for peak RSS and
  CPU against what the default 512 MB buys (~0.29 vCPU). The h3 runs use the asset with its aarch64
  shared objects swapped for this machine's builds of the same versions (tests/canary_h3/host_asset.py):
  the asset's Python code is what runs; the native code's speed is this machine's, not Graviton's.

``--imports-only`` measures the two cold-start figures alone (seconds, not minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from statistics import median
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "lambda" / "canary"), str(REPO / "service")]

from lab.caddy import CaddySite, caddy_process  # noqa: E402
from lab.procs import free_ports  # noqa: E402
from lab.topology import find_binary  # noqa: E402
from streampath_cdk.canary_function import (  # noqa: E402
    ASSET_EXCLUDE,
    CANARY_PACKAGE,
    COPIED_DISTRIBUTIONS,
    RUNTIME_PYTHON_VERSION,
    canary_bundler,
)
from streampath_cdk.local_bundling import LocalPythonBundler  # noqa: E402

PATHS = 20
STREAM = "/api/streamcheck?events=20&interval_ms=100"  # the default config's stream: ~1.9 s
MEMORY_MB = 512
INVOCATIONS_PER_MONTH = 30 * 24 * 60  # every minute, 30 days
# us-east-1 list prices (checked 2026): Lambda arm64 per GB-second and per request; Synthetics per run.
LAMBDA_ARM_GB_S = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
SYNTHETICS_RUN = 0.0012
CUSTOM_METRIC_MONTH = 0.30  # first 10k metrics
STANDARD_ALARM_MONTH = 0.10
COMPOSITE_ALARM_MONTH = 0.50
DASHBOARD_MONTH = 3.00  # per dashboard beyond the account's first three (bench/canary_cost.py)

DRIVER = r"""
import json, os, sys, time, resource
out = os.fdopen(os.dup(1), "w")
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)  # EMF + log lines are still produced, just not kept
PROBE_STACK = {"anyio", "h11", "h2", "hpack", "httpcore", "httpx", "hyperframe", "streamprobe"}
H3_STACK = {"aioquic", "pylsqpack", "cryptography", "OpenSSL", "service_identity"}
def probe_stack(names=PROBE_STACK):
    return sorted({name.split(".")[0] for name in sys.modules} & names)
start = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from streampath_canary import handler, runner
import_ms = (time.perf_counter() - start) * 1000
error = handler.SPEC_ERROR
result = {"import_ms": import_ms, "config_error": None if error is None else str(error)}
if sys.argv[2] == "import":
    result["loaded_by_import"] = probe_stack()
    start = time.perf_counter()
    runner.load_probe()  # exactly what the first run of a container does before its probes
    result["probe_import_ms"] = (time.perf_counter() - start) * 1000
    result["loaded_by_first_probe"] = probe_stack()
    result["h3_loaded_before"] = probe_stack(H3_STACK)
    if "h3" in handler.SPEC.protocols:
        start = time.perf_counter()
        runner.load_http3(handler.SPEC)  # what the first run with an h3 path does before its probes
        result["h3_import_ms"] = (time.perf_counter() - start) * 1000
        result["loaded_by_first_h3_probe"] = probe_stack(H3_STACK)
if sys.argv[2] == "run":
    runner.load_probe()  # a warm container: the probe stack is loaded
    if "h3" in handler.SPEC.protocols:
        runner.load_http3(handler.SPEC)  # and its HTTP/3 stack, when a path probes h3
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    summary = handler.run(handler.SPEC, budget_s=50)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    result.update(wall_ms=(time.perf_counter() - t) * 1000, cpu_s=cpu_s)
    result.update(failed=summary["failed"], probes=summary["probes"])
# VmHWM: this process's own peak RSS (ru_maxrss can carry the parent's across exec on Linux)
with open("/proc/self/status") as status:
    hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
result["maxrss_mb"] = hwm_kb / 1024
out.write(json.dumps(result) + "\n")
out.flush()
os._exit(0)
"""


def run_driver(asset: Path, config: dict[str, Any], mode: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "CANARY_"))}
    env.update(
        CANARY_CONFIG=json.dumps(config),
        POWERTOOLS_SERVICE_NAME="streampath-canary",
        PYTHONDONTWRITEBYTECODE="1",
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", DRIVER, str(asset), mode],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(asset),
        timeout=300,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def cold_imports(
    asset: Path, runs: int = 5, protocols: tuple[str, ...] = ("h1", "h2")
) -> list[dict[str, Any]]:
    """``import handler`` then the first probe's imports (and the first h3 probe's, when ``protocols`` has
    h3), each run on a fresh copy of the asset (no ``__pycache__`` can exist in it), checking that the
    probe stack is loaded by the second step only and the HTTP/3 stack by the third only."""
    results = []
    url = "https://example.invalid/api/streamcheck"
    config = config_for([{"name": "p", "url": url, "protocols": list(protocols)}])
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="canary-cold-") as tmp:
            fresh = Path(tmp) / "asset"
            shutil.copytree(asset, fresh)
            result = run_driver(fresh, config, "import")
        assert result["config_error"] is None, result
        # The contract shares the probe's standard-library-only modules (the lazy package, its body and
        # redaction rules): nothing of the HTTP stack may load before the first probe.
        loaded = set(result["loaded_by_import"])
        assert loaded <= {"streamprobe"}, f"import handler loaded {sorted(loaded)}"
        assert {"httpx", "httpcore", "h2", "streamprobe"} <= set(result["loaded_by_first_probe"]), result
        assert result["h3_loaded_before"] == [], f"HTTP/3 loaded before an h3 probe: {result}"
        if "h3" in protocols:
            assert len(result["loaded_by_first_h3_probe"]) == len(H3_STACK), result
        results.append(result)
    return results


def print_cold_imports(runs: list[dict[str, Any]]) -> tuple[float, float]:
    imports = median(r["import_ms"] for r in runs)
    probe_imports = median(r["probe_import_ms"] for r in runs)
    print("| canary cold start (fresh asset copy, no .pyc), median of", len(runs), "| measured | goal |")
    print("|---|---|---|")
    print(f"| `import handler` + config validation | {imports:.0f} ms | < 300 ms {_ok(imports < 300)} |")
    print(
        f"| first probe's imports ({', '.join(runs[0]['loaded_by_first_probe'])}) | {probe_imports:.0f} ms "
        f"| < 300 ms {_ok(probe_imports < 300)} |"
    )
    return imports, probe_imports


def _ok(met: bool) -> str:
    return "OK" if met else "MISSED"


def config_for(paths: list[dict[str, Any]]) -> dict[str, Any]:
    return {"probe_timeout_s": 10, "max_duration_s": 30, "deadline_s": 50, "paths": paths}


def zipped_size(directory: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "asset.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(directory.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(directory))
        return target.stat().st_size


@contextlib.contextmanager
def server_process(args: list[str], port: int) -> Iterator[None]:
    """A reference-app server in its own process (its own GIL, like a real remote service)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "service")}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"server did not start: {args}")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        proc.wait(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- HTTP/3 -------------------------------------------------------------------------------------------

H3_STACK = ("aioquic", "pylsqpack", "cryptography", "OpenSSL", "service_identity")
#: Runs per protocol for the CPU per probe.
H3_RUNS = 5


def bundle_figures(bundler: LocalPythonBundler) -> tuple[int, int, int]:
    """(unzipped bytes, zipped bytes, files) of the asset ``bundler`` builds."""
    with tempfile.TemporaryDirectory(prefix="canary-asset-") as tmp:
        asset = Path(tmp)
        bundler.try_bundle(str(asset))
        files = [p for p in asset.rglob("*") if p.is_file()]
        return sum(p.stat().st_size for p in files), zipped_size(asset), len(files)


def pure_bundler() -> LocalPythonBundler:
    """The asset as it was before HTTP/3: the same recipe without the h3 extra, pure-Python wheels only."""
    return LocalPythonBundler(
        handler=CANARY_PACKAGE,
        requirements=("streamprobe", "aws-lambda-powertools"),
        copied=COPIED_DISTRIBUTIONS,
        exclude=ASSET_EXCLUDE,
        python_version=RUNTIME_PYTHON_VERSION,
    )


@contextlib.contextmanager
def caddy_front(upstream_port: int, tls: Any) -> Iterator[str]:
    """Caddy (h1 h2 h3, the lab's TLS) in front of the reference app on ``upstream_port``: its base URL."""
    (port,) = free_ports(1)
    with tempfile.TemporaryDirectory(prefix="canary-caddy-") as tmp:
        caddy = caddy_process(
            find_binary("caddy"),
            Path(tmp),
            [CaddySite(port, upstream_port)],
            cert_pem=tls.cert_pem,
            key_pem=tls.key_pem,
        )
        caddy.start(timeout=20)
        try:
            yield f"https://127.0.0.1:{port}"
        finally:
            caddy.stop()


def h3_figures(
    before_bundle: tuple[int, int, int], after_bundle: tuple[int, int, int]
) -> list[tuple[str, str, str]]:
    """The HTTP/3 rows: cold imports, CPU per probe h3 vs h2, the default config's mix at 512 MB."""
    from tests.canary_h3.host_asset import host_runnable_copy
    from tests.support.tls import tls_files

    tls = tls_files()
    (p1,) = free_ports(1)
    uvicorn_cmd = [str(Path(sys.executable).parent / "uvicorn"), "streamcheck.reference_app:app"]
    uvicorn_cmd += ["--port", str(p1), "--log-level", "warning"]
    with tempfile.TemporaryDirectory(prefix="canary-asset-") as tmp:
        built = Path(tmp) / "built"
        canary_bundler().try_bundle(str(built))
        asset = Path(tmp) / "host"
        host_runnable_copy(built, asset)
        cold = cold_imports(asset, protocols=("h1", "h2", "h3"))
        with server_process(uvicorn_cmd, p1), caddy_front(p1, tls) as base:
            front = f"{base}{STREAM}"
            plain = f"http://127.0.0.1:{p1}{STREAM}"
            per_probe: dict[str, list[dict[str, Any]]] = {}
            for _ in range(H3_RUNS):  # alternately, so both see the same machine load
                for protocol in ("h2", "h3"):
                    path = {"name": "cf", "url": front, "protocols": [protocol], "verify": tls.ca_pem}
                    run = run_driver(asset, config_for([path]), "run")
                    assert run["failed"] == 0, run
                    per_probe.setdefault(protocol, []).append(run)

            def default_mix(cloudfront: list[str]) -> list[dict[str, Any]]:
                paths = [
                    {"name": "alb", "url": front, "protocols": ["h1", "h2"], "verify": tls.ca_pem},
                    {"name": "nlb", "url": front, "protocols": ["h1", "h2"], "verify": tls.ca_pem},
                    {"name": "cloudfront", "url": front, "protocols": cloudfront, "verify": tls.ca_pem},
                    {"name": "direct", "url": plain, "protocols": ["h1"]},
                ]
                runs = [run_driver(asset, config_for(paths), "run") for _ in range(3)]
                assert all(r["failed"] == 0 for r in runs), runs
                return runs

            mix_h3 = default_mix(["h1", "h2", "h3"])
            mix_h2 = default_mix(["h1", "h2"])

    cpu = {p: median(r["cpu_s"] for r in runs) * 1000 for p, runs in per_probe.items()}
    wall = {p: median(r["wall_ms"] for r in runs) for p, runs in per_probe.items()}
    vcpu = MEMORY_MB / 1769
    mix_cpu, mix_wall = median(r["cpu_s"] for r in mix_h3), median(r["wall_ms"] for r in mix_h3) / 1000
    base_cpu = median(r["cpu_s"] for r in mix_h2)
    share = mix_cpu / (vcpu * mix_wall)  # of the CPU time 512 MB gives during the run
    (before, before_zip, before_files), (after, after_zip, after_files) = before_bundle, after_bundle
    h3_import = median(r["h3_import_ms"] for r in cold)
    return [
        (
            "bundle before HTTP/3 (pure-Python wheels)",
            f"{before / 1e6:.1f} MB unzipped, {before_zip / 1e6:.1f} MB zipped, {before_files} files",
            "",
        ),
        (
            "bundle with HTTP/3 (+ aioquic, pylsqpack, cryptography, cffi: manylinux aarch64)",
            f"{after / 1e6:.1f} MB unzipped, {after_zip / 1e6:.1f} MB zipped, {after_files} files",
            f"< 50 MB zipped, < 250 MB unzipped (Lambda) {_ok(after_zip < 50e6 and after < 250e6)}",
        ),
        (
            "cold `import handler` + config (an h3 path in it), no .pyc",
            f"{median(r['import_ms'] for r in cold):.0f} ms",
            "aioquic not loaded: " + _ok(all(r["h3_loaded_before"] == [] for r in cold)),
        ),
        (
            f"  then the first h3 probe's imports ({', '.join(H3_STACK)}, CA store), no .pyc",
            f"{h3_import:.0f} ms",
            f"< 300 ms {_ok(h3_import < 300)}",
        ),
        (
            f"CPU per probe through Caddy, median of {H3_RUNS}: h2 / h3",
            f"{cpu['h2']:.0f} ms / {cpu['h3']:.0f} ms ({cpu['h3'] / cpu['h2']:.1f}x)",
            f"wall {wall['h2']:.0f} / {wall['h3']:.0f} ms",
        ),
        (
            "default config's mix, 8 probes (cloudfront h1+h2+h3): CPU of a run / without h3",
            f"{mix_cpu:.2f} s / {base_cpu:.2f} s",
            f"{share:.0%} of {MEMORY_MB} MB's ~{vcpu:.2f} vCPU over the {mix_wall:.1f} s run",
        ),
        (
            "  peak RSS with h3 / without",
            f"{max(r['maxrss_mb'] for r in mix_h3):.0f} MB / {max(r['maxrss_mb'] for r in mix_h2):.0f} MB",
            f"< {MEMORY_MB} MB {_ok(max(r['maxrss_mb'] for r in mix_h3) < MEMORY_MB)}",
        ),
    ]


def print_rows(title: str, rows: list[tuple[str, str, str]]) -> None:
    print(f"| {title} | measured | goal |")
    print("|---|---|---|")
    for name, value, goal in rows:
        print(f"| {name} | {value} | {goal} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--imports-only", action="store_true", help="only the two cold-start figures")
    parser.add_argument("--h3", action="store_true", help="only the HTTP/3 figures")
    args = parser.parse_args()
    if args.imports_only:
        with tempfile.TemporaryDirectory(prefix="canary-asset-") as tmp:
            canary_bundler().try_bundle(tmp)
            print_cold_imports(cold_imports(Path(tmp)))
        return 0
    if args.h3:
        print_rows(
            "canary with HTTP/3", h3_figures(bundle_figures(pure_bundler()), bundle_figures(canary_bundler()))
        )
        return 0

    from tests.support.servers import RunningServer
    from tests.support.tls import tls_files

    tls = tls_files()
    bin_dir = Path(sys.executable).parent
    p1, p2 = free_port(), free_port()
    h1 = RunningServer("127.0.0.1", p1)
    h2 = RunningServer("127.0.0.1", p2, "https", tls.ca_pem)
    uvicorn_cmd = [
        str(bin_dir / "uvicorn"),
        "streamcheck.reference_app:app",
        "--port",
        str(p1),
        "--log-level",
        "warning",
    ]
    hypercorn_cmd = [
        str(bin_dir / "hypercorn"),
        "streamcheck.reference_app:app",
        "--bind",
        f"127.0.0.1:{p2}",
        "--certfile",
        tls.cert_pem,
        "--keyfile",
        tls.key_pem,
        "--log-level",
        "warning",
    ]

    with tempfile.TemporaryDirectory(prefix="canary-asset-") as tmp:
        asset = Path(tmp)
        canary_bundler().try_bundle(str(asset))
        unzipped = sum(p.stat().st_size for p in asset.rglob("*") if p.is_file())
        zipped = zipped_size(asset)

        with server_process(uvicorn_cmd, p1), server_process(hypercorn_cmd, p2):
            # Half the paths plain HTTP (h1 only), half TLS (h1 + h2): 30 probes, like a real mix.
            def path(i: int) -> dict[str, Any]:
                if i % 2 == 0:
                    return {"name": f"p{i:02d}", "url": h1.url(STREAM), "protocols": ["h1"]}
                return {
                    "name": f"p{i:02d}",
                    "url": h2.url(STREAM),
                    "protocols": ["h1", "h2"],
                    "verify": h2.ca_pem,
                }

            paths = [path(i) for i in range(PATHS)]
            import_runs = cold_imports(asset)
            singles = [run_driver(asset, config_for([p]), "run") for p in paths]
            for single in singles:
                assert single["failed"] == 0, single
            all_runs = [run_driver(asset, config_for(paths), "run") for _ in range(3)]
            for run in all_runs:
                assert run["failed"] == 0, run
            one_path_both = [run_driver(asset, config_for([paths[1]]), "run") for _ in range(3)]

    slowest_single = max(s["wall_ms"] for s in singles)
    all_median = statistics.median(r["wall_ms"] for r in all_runs)
    ratio = all_median / slowest_single
    import_median = statistics.median(r["import_ms"] for r in import_runs)
    probe_import_median = statistics.median(r["probe_import_ms"] for r in import_runs)
    peak_all = max(r["maxrss_mb"] for r in all_runs)
    peak_single = max(s["maxrss_mb"] for s in singles)
    probes_all = all_runs[0]["probes"]
    cpu_all = statistics.median(r["cpu_s"] for r in all_runs)
    cpu_single = statistics.median(r["cpu_s"] for r in one_path_both)
    vcpu = MEMORY_MB / 1769  # Lambda: 1769 MB = 1 vCPU

    duration_s = statistics.median(r["wall_ms"] for r in one_path_both) / 1000  # warm runs
    gb_s = MEMORY_MB / 1024 * duration_s
    lambda_month = INVOCATIONS_PER_MONTH * (gb_s * LAMBDA_ARM_GB_S + LAMBDA_REQUEST)
    synthetics_month = INVOCATIONS_PER_MONTH * SYNTHETICS_RUN
    metrics_month = 2 * 10 * CUSTOM_METRIC_MONTH
    alarms_month = 2 * 3 * STANDARD_ALARM_MONTH + COMPOSITE_ALARM_MONTH

    ratio_ok = "OK" if ratio <= 1.2 else "MISSED"
    cpu_wall = f"at {MEMORY_MB} MB (~{vcpu:.2f} vCPU): {cpu_all / vcpu:.1f} s / {cpu_single / vcpu:.1f} s"
    rows = [
        (
            "bundle (the asset synth builds)",
            f"{unzipped / 1e6:.1f} MB unzipped, {zipped / 1e6:.1f} MB zipped",
            "",
        ),
        (f"{PATHS} paths ({probes_all} probes) in one invocation, median of 3", f"{all_median:.0f} ms", ""),
        (f"slowest single path run alone (of {PATHS})", f"{slowest_single:.0f} ms", ""),
        ("ratio all / slowest single", f"{ratio:.2f}x", f"<= 1.2x {ratio_ok}"),
        (
            "cold `import handler` + config validation, no .pyc",
            f"{import_median:.0f} ms",
            f"< 300 ms {_ok(import_median < 300)}",
        ),
        (
            "  then the first probe's imports (streamprobe, httpx, httpcore, h2), no .pyc",
            f"{probe_import_median:.0f} ms",
            f"< 300 ms {_ok(probe_import_median < 300)}",
        ),
        (
            f"CPU (user+sys) of one run: {PATHS} paths / 1 path",
            f"{cpu_all:.2f} s / {cpu_single:.2f} s",
            cpu_wall,
        ),
        (
            f"peak RSS: {PATHS} paths / 1 path",
            f"{peak_all:.0f} MB / {peak_single:.0f} MB",
            f"< {MEMORY_MB} MB",
        ),
        ("one path h1+h2 every minute: billed duration", f"{duration_s * 1000:.0f} ms at {MEMORY_MB} MB", ""),
        ("  Lambda arm64 compute + requests / month", f"${lambda_month:.2f}", ""),
        ("  CloudWatch Synthetics, $0.0012 a run / month", f"${synthetics_month:.2f}", ""),
        (
            "  either way: 20 custom metrics + 6 alarms + composite",
            f"${metrics_month + alarms_month:.2f}",
            "",
        ),
    ]
    rows += h3_figures(bundle_figures(pure_bundler()), bundle_figures(canary_bundler()))
    print_rows("canary benchmark", rows)
    print(f"\n(prices: us-east-1 list; {INVOCATIONS_PER_MONTH} runs/month)")
    print("(reference app under uvicorn and hypercorn in their own processes on this machine:")
    print(f" network time ~0, but they share its {os.cpu_count()} CPUs with the canary)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
