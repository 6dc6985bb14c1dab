"""How exact is the probe's stamped mode? Its buffering delay against curl's reading of the same stamps.

The reference app (``StampMiddleware`` mounted) runs under uvicorn in its own process, behind the lab's
hops: nothing (direct), the lab's 4 KiB block proxy (``lab/block_proxy.py``; the goal: within 5 ms) and
the lab's buffering nginx (gzip + ``proxy_buffering on``, X-Accel ignored). ``curl -N --compressed -H
'X-Streampath-Stamp: 1'`` is the reference; ``lab/curl_reference.py`` computes its delay with its own
parser and arithmetic. Two comparisons per path:

* same stream: curl reads the stream and a tee (``python -m lab.curl_reference --tee``, a process of its
  own) passes curl's output on to the probe as it comes; both judge the very same stamps and blocks, so
  the difference is what the probe's reading adds (plus one loopback hop);
* concurrent reads: the probe and curl each request the stream at the same time; the difference also
  holds the app's pacing jitter between two streams (each has its own schedule).

Prints a Markdown table and a JSON summary line.

Usage: .venv/bin/python bench/stamped_accuracy.py [--pairs N] [--quick]   (loopback only; needs curl, nginx)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "service")]

from streamprobe import ProbeOptions, ProbeResult, probe  # noqa: E402

from lab import configs  # noqa: E402
from lab.curl_reference import read_with_curl  # noqa: E402
from lab.procs import ManagedProcess, free_ports  # noqa: E402
from lab.topology import BLOCK_BYTES, find_binary  # noqa: E402

CHAT = "/api/chat/stream?tokens=300&interval_ms=10"  # 3 s, ~15 KiB stamped: four 4 KiB blocks
GOAL_MS = 5.0
OPTIONS = ProbeOptions(timeout=10, max_duration=30)


def pair(r: ProbeResult, curl_ms: float | None, curl_verdict: str) -> dict[str, Any]:
    return {
        "probe_ms": r.buffering_delay_ms,
        "curl_ms": curl_ms,
        "probe_verdict": r.verdict,
        "curl_verdict": curl_verdict,
        "mode": r.mode,
    }


def read_concurrently(url: str) -> dict[str, Any]:
    """The probe and curl, each with its own request for ``url``, at the same time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        ours = pool.submit(probe, url, OPTIONS)
        theirs = pool.submit(read_with_curl, url, compressed=True, timeout=30)
        r, c = ours.result(), theirs.result()
    return pair(r, c.delay_ms, c.verdict)


def read_through_tee(tee_url: str, out: Path) -> dict[str, Any]:
    """The probe reads the tee; curl's reading of that same stream is the tee's next line in ``out``."""
    before = len(out.read_text().splitlines()) if out.exists() else 0
    r = probe(tee_url, OPTIONS)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = out.read_text().splitlines() if out.exists() else []
        if len(lines) > before:
            c = json.loads(lines[before])
            return pair(r, c["delay_ms"], c["verdict"])
        time.sleep(0.02)
    raise RuntimeError("the curl tee wrote no reading")


def summarise(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    good = [p for p in pairs if p["probe_ms"] is not None and p["curl_ms"] is not None]
    diffs = sorted(abs(p["probe_ms"] - p["curl_ms"]) for p in good)
    return {
        "pairs": len(pairs),
        "stamped": sum(p["mode"] == "stamped" for p in pairs),
        "probe_ms_median": statistics.median(p["probe_ms"] for p in good) if good else None,
        "curl_ms_median": statistics.median(p["curl_ms"] for p in good) if good else None,
        "diff_ms_median": statistics.median(diffs) if diffs else None,
        "diff_ms_max": diffs[-1] if diffs else None,
        "verdicts_agree": sum(p["probe_verdict"] == p["curl_verdict"] for p in pairs),
        "verdicts": sorted({p["probe_verdict"] for p in pairs}),
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render(rows: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = [
        f"machine: {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
        f"reference app chat stream {CHAT} (uvicorn, its own process), loopback",
        "",
        "| path | comparison | pairs | stamped | verdict (probe) | probe delay (median) "
        "| curl delay (median) | abs(probe - curl) median | max | verdicts agree |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, kinds in rows.items():
        for kind, s in kinds.items():
            cells = [
                name,
                kind,
                str(s["pairs"]),
                str(s["stamped"]),
                ", ".join(s["verdicts"]),
                f"{_fmt(s['probe_ms_median'])} ms",
                f"{_fmt(s['curl_ms_median'])} ms",
                f"{_fmt(s['diff_ms_median'])} ms",
                f"{_fmt(s['diff_ms_max'])} ms",
                f"{s['verdicts_agree']}/{s['pairs']}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    block = rows.get("block-proxy", {}).get("same stream", {})
    met = block.get("diff_ms_median") is not None and block["diff_ms_median"] <= GOAL_MS
    lines += [
        "",
        f"goal: block-proxy, same stream, within {GOAL_MS:g} ms (median): {'met' if met else 'NOT met'}",
    ]
    return "\n".join(lines)


def processes(
    tmp: Path, env: dict[str, str]
) -> tuple[list[ManagedProcess], dict[str, str], dict[str, tuple[str, Path]]]:
    """The app, the block proxy, the buffering nginx and one curl tee per path: (processes, URLs, tees)."""
    app_port, block_port, nginx_port, *tee_ports = free_ports(6)
    (tmp / "nginx").mkdir()
    conf = tmp / "nginx" / "nginx.conf"
    conf.write_text(configs.nginx_buffering(tmp / "nginx", port=nginx_port, app_port=app_port))

    def python(name: str, port: int, *argv: str) -> ManagedProcess:
        return ManagedProcess(
            name, [sys.executable, "-m", *argv], log_path=tmp / f"{name}.log", ports=[port], cwd=tmp, env=env
        )

    procs = [
        python("app", app_port, "uvicorn", "streamcheck.reference_app:app", "--port", str(app_port),
               "--log-level", "warning", "--no-access-log"),
        python("block-proxy", block_port, "lab.block_proxy", "--port", str(block_port),
               "--upstream", str(app_port), "--block", str(BLOCK_BYTES)),
        ManagedProcess(
            "buffering-nginx",
            [find_binary("nginx"), "-p", f"{conf.parent}/", "-c", str(conf), "-e", str(tmp / "nginx.err")],
            log_path=tmp / "nginx.log",
            ports=[nginx_port],
            cwd=tmp / "nginx",
        ),
    ]  # fmt: skip
    urls = {
        "direct": f"http://127.0.0.1:{app_port}{CHAT}",
        "block-proxy": f"http://127.0.0.1:{block_port}{CHAT}",
        "buffering-nginx": f"http://127.0.0.1:{nginx_port}{CHAT}",
    }
    tees = {}
    for (name, url), port in zip(urls.items(), tee_ports, strict=True):
        out = tmp / f"tee-{name}.jsonl"
        procs.append(
            python(
                f"tee-{name}",
                port,
                "lab.curl_reference",
                url,
                "--compressed",
                "--tee",
                str(port),
                "--out",
                str(out),
            )
        )
        tees[name] = (f"http://127.0.0.1:{port}/", out)
    return procs, urls, tees


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pairs", type=int, default=10, help="pairs per path and comparison (1..100, default 10)"
    )
    parser.add_argument("--quick", action="store_true", help="1 pair each (a smoke run)")
    args = parser.parse_args(argv)
    pairs = 1 if args.quick else args.pairs
    if not 1 <= pairs <= 100:
        parser.error("--pairs must be 1..100")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "service")]))
    with tempfile.TemporaryDirectory(prefix="streampath-stamped-bench-") as tmp_name:
        procs, urls, tees = processes(Path(tmp_name), env)
        try:
            for proc in procs:
                proc.start()
            read_concurrently(urls["direct"])  # warm: the first request of each process pays for imports
            rows = {
                name: {
                    "same stream": summarise([read_through_tee(*tees[name]) for _ in range(pairs)]),
                    "concurrent reads": summarise([read_concurrently(url) for _ in range(pairs)]),
                }
                for name, url in urls.items()
            }
        finally:
            for proc in reversed(procs):
                proc.stop()
    print(render(rows))
    summary = {
        f"{name} / {kind}": {k: s[k] for k in ("diff_ms_median", "diff_ms_max", "verdicts")}
        for name, kinds in rows.items()
        for kind, s in kinds.items()
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
