"""``streamprobe load`` as a user runs it: exit status, JSON on stdout in every case but a usage error,
one-line usage errors, nothing on stderr off a terminal, Ctrl-C prints what finished."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.servers import refused_port
from tests.support.signals import default_sigint

pytestmark = pytest.mark.timing

KEYS = {
    "url",
    "protocol",
    "concurrency",
    "connections",
    "streams",
    "verdicts",
    "percentiles_ms",
    "goodput",
    "events_per_s",
    "duration_ms",
}


def load(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "streamprobe", "load", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def url(port: int, events: int = 3, interval_ms: int = 100) -> str:
    return f"http://127.0.0.1:{port}/api/streamcheck?events={events}&interval_ms={interval_ms}"


def test_healthy_streams_exit_0_with_the_json_alone_on_stdout(app_port: int) -> None:
    run = load(url(app_port), "--concurrency", "5", "--streams", "10", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert set(result) >= KEYS
    assert result["goodput"] == {
        "slo": "first_event<=2000,buffering<=500",
        "good": 10,
        "total": 10,
        "ratio": 1.0,
    }
    assert run.stderr == ""  # no progress off a terminal


def test_goodput_below_the_minimum_exits_1(buffering_port: int) -> None:
    run = load(url(buffering_port, 6, 200), "--concurrency", "2", "--streams", "2", "--json")
    assert run.returncode == 1
    assert json.loads(run.stdout)["goodput"]["good"] == 0
    lenient = load(url(buffering_port, 6, 200), "--concurrency", "2", "--streams", "2", "--min-goodput", "0")
    assert lenient.returncode == 0 and "goodput    0 of 2 good" in lenient.stdout


def test_every_stream_failed_exits_2_and_still_prints_the_json() -> None:
    run = load(url(refused_port()), "--concurrency", "2", "--streams", "3", "--json")
    assert run.returncode == 2
    result = json.loads(run.stdout)
    assert result["streams"] == {"started": 3, "finished": 3, "errors": {"connect": 3}}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--concurrency", "0", "--streams", "1"], "--concurrency: must be 1..100000, got 0"),
        (["--concurrency", "100001", "--streams", "1"], "--concurrency: must be 1..100000"),
        (["--concurrency", "1", "--streams", "0"], "--streams: must be 1..100000, got 0"),
        (["--concurrency", "1"], "one of the arguments --streams --duration is required"),
        (["--concurrency", "1", "--streams", "1", "--slo", "first_event<=2000,p99<=5"], "'p99<=5'"),
        (["--concurrency", "1", "--streams", "1", "--records", "/nonexistent/dir/r.ndjson"], "cannot write"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(app_port: int, args: list[str], says: str) -> None:
    run = load(url(app_port), *args, "--json")
    assert run.returncode == 2
    assert run.stdout == ""
    first = run.stderr.splitlines()[0]
    assert says in first and "Traceback" not in run.stderr


def test_ctrl_c_prints_what_finished_and_exits_1(app_port: int) -> None:
    argv = [sys.executable, "-m", "streamprobe", "load", url(app_port, 3, 100)]
    argv += ["--concurrency", "2", "--duration", "60", "--json"]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint
    )
    time.sleep(2.5)  # a few streams of 200 ms have finished
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    result = json.loads(out)
    assert result["interrupted"] is True and result["streams"]["finished"] >= 1
    assert result["verdicts"]["streaming"] == result["streams"]["finished"]


def test_records_are_written_as_streams_finish(app_port: int, tmp_path: Path) -> None:
    records = tmp_path / "streams.ndjson"
    run = load(url(app_port), "--concurrency", "3", "--streams", "5", "--records", str(records))
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    assert len(lines) == 5 and all(line["good"] for line in lines)
