"""The probe's own CPU per event, apart from the network and the HTTP stack: a stamped chat stream fed
in-process, one chunk per event, through what ``streamprobe.probing`` does with each chunk it reads --
the silence bound moved before and after (``Watchdog.set``), the decoder (no ``Content-Encoding``) and
the SSE parser. Prints the best and the median of 7 rounds of 400 streams, in microseconds per event.

``bench/load_bench.py`` measures the whole cost (sockets, threads, httpx/httpcore/h11, judging); this
one isolates the part the probe's own code decides, so that a change to it shows above the noise of a
shared machine.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "probe" / "src")]

from streamprobe.decoding import Decoder  # noqa: E402
from streamprobe.sse import SSEParser  # noqa: E402
from streamprobe.timing import Watchdog, now  # noqa: E402

STREAMS, ROUNDS = 400, 7
#: What StampMiddleware sends for a chat token: its stamp comment, then the event.
CHUNKS = [b': stamp 1765130000123.456\ndata: {"token": " word%d"}\n\n' % i for i in range(50)]
CHUNKS.append(b"data: [DONE]\n\n")


def one_round(watchdog: Watchdog) -> float:
    """CPU microseconds per event over ``STREAMS`` streams."""
    events = 0
    started = time.process_time()
    for _ in range(STREAMS):
        parser, decoder = SSEParser(1 << 20), Decoder(None)
        for chunk in CHUNKS:
            watchdog.set("phase", now() + 30)
            for piece in decoder.iter_decode(chunk):
                events += len(parser.feed(piece))
            watchdog.set("phase", now() + 30)
    return (time.process_time() - started) / events * 1e6


def main() -> int:
    watchdog = Watchdog({"max_duration": now() + 3600, "phase": now() + 30})
    try:
        rounds = [one_round(watchdog) for _ in range(ROUNDS)]
    finally:
        watchdog.stop()
    print(f"probe's own work per event: best {min(rounds):.2f} us, median {statistics.median(rounds):.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
