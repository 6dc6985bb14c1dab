"""A reference reading of a stamped SSE stream with curl, independent of streamprobe's own code.

``curl -sS -N -H 'X-Streampath-Stamp: 1' URL`` writes every piece as it arrives (``-N``: no output
buffer); this module reads curl's stdout, timestamps each read, and applies the stamp contract
(docs/contracts/stamps.md) and the buffering-delay rule (docs/contracts/result.md) with its own small
parser and arithmetic, so that the probe's stamped mode can be checked against something that shares
none of its code: the first valid stamp after an event's dispatch dates the next event; a stamp is
never an event; ``lag = arrival - stamp``; ``delay = max(lag) - min(lag)``; streaming when the delay
is at most max(50 ms, 10 % of the stamped duration), buffered from 80 %, else partial.

:class:`CurlTee` serves what curl reads to another client as it comes, so that the probe and the
reference judge *the same stream* (the same stamps, the same blocks), the probe one local hop later.

Usage: ``python -m lab.curl_reference URL [--compressed] [--cacert FILE]`` prints the reading as JSON;
``python -m lab.curl_reference URL --tee PORT --out FILE`` serves URL through curl on 127.0.0.1:PORT (in
a process of its own, so the reader under test shares no interpreter with it) and appends each stream's
reading to FILE, one JSON line per stream.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

#: One read of curl's output: (ms since curl was started, the bytes).
Read = tuple[float, bytes]

_STAMP = re.compile(r": sp-sent=([0-9]+(?:\.[0-9]+)?)$")
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class CurlEvent:
    arrive_ms: float  # when the read that completed it returned, since curl was started
    stamp_ms: float | None


@dataclass
class CurlReading:
    """What curl delivered: the events with their stamps, and the verdict computed from them."""

    events: list[CurlEvent] = field(default_factory=list)
    exit_code: int | None = None
    stderr: str = ""

    @classmethod
    def from_reads(cls, reads: Sequence[Read]) -> CurlReading:
        """The events in curl's output, each timed by the read that completed it."""
        reading = cls()
        lines = _Lines()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for now_ms, chunk in reads:
            lines.feed(decoder.decode(chunk), now_ms, reading.events)
        return reading

    @property
    def stamped(self) -> list[CurlEvent]:
        return [e for e in self.events if e.stamp_ms is not None]

    @property
    def delay_ms(self) -> float | None:
        lags = [e.arrive_ms - e.stamp_ms for e in self.stamped if e.stamp_ms is not None]
        return max(lags) - min(lags) if len(lags) >= 2 else None

    @property
    def duration_ms(self) -> float | None:
        stamps = [e.stamp_ms for e in self.stamped if e.stamp_ms is not None]
        return stamps[-1] - stamps[0] if len(stamps) >= 2 else None

    @property
    def verdict(self) -> str:
        delay, duration = self.delay_ms, self.duration_ms
        if delay is None or duration is None:
            return "inconclusive"
        if delay <= max(50.0, 0.1 * duration):
            return "streaming"
        return "buffered" if delay >= 0.8 * duration else "partial"

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": len(self.events),
            "stamped": len(self.stamped),
            "delay_ms": self.delay_ms,
            "duration_ms": self.duration_ms,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
        }


class _Lines:
    """Just enough of an SSE reader for the reference: lines, comments, stamps and dispatch."""

    def __init__(self) -> None:
        self.pending = ""
        self.cr = False  # the text so far ended with \r: a leading \n belongs to it
        self.has_data = False
        self.stamp: float | None = None
        self.last_stamp: float | None = None

    def feed(self, text: str, now_ms: float, out: list[CurlEvent]) -> None:
        if self.cr and text.startswith("\n"):
            text = text[1:]
        self.cr = text.endswith("\r")
        parts = _LINE_END.split(self.pending + text)
        self.pending = parts.pop()  # the unterminated rest
        for line in parts:
            if line == "":
                if self.has_data:
                    out.append(CurlEvent(now_ms, self.stamp))
                    self.stamp = None
                self.has_data = False
            elif line.startswith(":"):
                match = _STAMP.match(line)
                if match:
                    value = float(match.group(1))
                    if self.last_stamp is None or value >= self.last_stamp:
                        self.last_stamp = value
                        if self.stamp is None:
                            self.stamp = value
            elif line.split(":", 1)[0] == "data":
                self.has_data = True


def _curl() -> str:
    curl = shutil.which("curl")
    if curl is None:
        raise RuntimeError("curl is not installed (apt-get install curl)")
    return curl


def curl_command(
    url: str,
    *,
    compressed: bool = False,
    cacert: str | None = None,
    method: str = "GET",
    data: bytes | None = None,
    timeout: float = 60.0,
) -> list[str]:
    curl = _curl()
    argv = [curl, "-sS", "-N", "-H", "X-Streampath-Stamp: 1", "-H", "Accept: text/event-stream"]
    argv += ["--max-time", f"{timeout:g}"]
    if compressed:
        argv.append("--compressed")
    if cacert:
        argv += ["--cacert", cacert]
    if method != "GET" or data is not None:
        argv += ["-X", method]
    if data is not None:
        argv += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
    return [*argv, url]


def read_with_curl(
    url: str,
    *,
    compressed: bool = False,
    cacert: str | None = None,
    method: str = "GET",
    data: bytes | None = None,
    timeout: float = 60.0,
) -> CurlReading:
    """Run curl on ``url`` and read its output as it arrives (``data``: a body, given on stdin)."""
    argv = curl_command(url, compressed=compressed, cacert=cacert, method=method, data=data, timeout=timeout)
    reads, exit_code, stderr = run_curl(argv, data, timeout)
    reading = CurlReading.from_reads(reads)
    reading.exit_code, reading.stderr = exit_code, stderr
    return reading


def run_curl(
    argv: Sequence[str], data: bytes | None, timeout: float, sink: BinaryIO | socket.socket | None = None
) -> tuple[list[Read], int, str]:
    """Run curl, timing each read of its output (and passing it on to ``sink`` at once):
    (reads, exit code, stderr)."""
    reads: list[Read] = []
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        if data is not None and proc.stdin is not None:
            proc.stdin.write(data)
            proc.stdin.close()
        fd = proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            now_ms = (time.perf_counter() - start) * 1000.0
            if not chunk:
                break
            reads.append((now_ms, chunk))
            if isinstance(sink, socket.socket):
                sink.sendall(chunk)
            elif sink is not None:
                sink.write(chunk)
                sink.flush()
        exit_code = proc.wait(timeout)
        stderr = proc.stderr.read().decode("utf-8", errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    return reads, exit_code, stderr


def parallel_ttfb_ms(urls: Sequence[str], parallel: int, *, timeout: float = 120.0) -> list[float]:
    """Each URL's time to first byte (curl's ``time_starttransfer``, ms), fetched by one ``curl -Z`` with
    up to ``parallel`` transfers at once, all started at once (``--parallel-immediate``): the reference
    ``streamprobe load`` is checked against. In the order curl finished them."""
    curl = _curl()
    argv = [curl, "-Z", "--parallel-immediate", "--parallel-max", str(parallel), "--no-progress-meter"]
    argv += ["--max-time", str(timeout), "-w", "%{time_starttransfer}\\n"]
    for url in urls:
        argv += [url, "-o", os.devnull]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10, check=True).stdout
    return [float(line) * 1000 for line in out.split()]


class CurlTee:
    """A loopback HTTP/1.1 server that answers each request by reading ``upstream`` with curl and passing
    curl's output on as it comes (``Connection: close`` framing). ``readings`` holds curl's reading of
    each stream served, so the client's judgement and the reference are of the very same bytes."""

    def __init__(
        self,
        upstream: str,
        *,
        compressed: bool = True,
        timeout: float = 60.0,
        port: int = 0,
        out: str | None = None,
    ) -> None:
        self.upstream = upstream
        self.out = out  # a file to append each reading to, as one JSON line
        self.argv = curl_command(upstream, compressed=compressed, timeout=timeout)
        self.timeout = timeout
        self.readings: list[CurlReading] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(16)
        self.port = int(self._listener.getsockname()[1])

    def serve_forever(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):  # a client that goes away ends only its stream
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(65536)
            if not chunk:
                return  # no request (a readiness check): nothing to read for it
            head += chunk
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Connection: close\r\n\r\n"
        )
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reads, exit_code, stderr = run_curl(self.argv, None, self.timeout, sink=conn)
        reading = CurlReading.from_reads(reads)
        reading.exit_code, reading.stderr = exit_code, stderr
        self.readings.append(reading)
        if self.out is not None:
            with open(self.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(reading.to_dict()) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.curl_reference", description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--compressed", action="store_true", help="ask for compression like the probe")
    parser.add_argument("--cacert", help="CA bundle for https:// (the lab's)")
    parser.add_argument("--tee", type=int, metavar="PORT", help="serve URL through curl on this port")
    parser.add_argument("--out", help="with --tee: append each stream's reading to this file (JSON lines)")
    args = parser.parse_args(argv)
    if args.tee is not None:
        tee = CurlTee(args.url, compressed=args.compressed, port=args.tee, out=args.out)
        tee.serve_forever()  # until the process is stopped
        return 0
    reading = read_with_curl(args.url, compressed=args.compressed, cacert=args.cacert)
    print(json.dumps(reading.to_dict()))
    return 0 if reading.exit_code == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
