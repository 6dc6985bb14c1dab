"""One probe in OpenMetrics for node_exporter's textfile collector: labelled, promtool-clean."""

from __future__ import annotations

import time

from streamprobe import ProbeOptions, probe
from streamprobe.exporter.metrics import Measured, one_shot

from tests.support.servers import RunningServer

from .support import STREAM, assert_lint_clean, samples


def test_one_shot_is_labelled_and_lint_clean(h1_server: RunningServer) -> None:
    url = f"http://probe:Sekret-55@127.0.0.1:{h1_server.port}{STREAM}"
    started = time.perf_counter()
    result = probe(url, ProbeOptions(name="pod"))
    text = one_shot(Measured(result, time.perf_counter() - started), url)
    assert text.endswith("# EOF\n")
    assert_lint_clean(text)
    assert "Sekret" not in text and "nonce" not in text
    target = f"http://***@127.0.0.1:{h1_server.port}{STREAM}"
    values = samples(text.replace("# EOF\n", ""))
    assert values[f'streamprobe_verdict{{name="pod",target="{target}",verdict="streaming"}}'] == 1
    assert values[f'probe_success{{name="pod",target="{target}"}}'] == 1
