"""``/probe`` against real servers: the verdicts, blackbox_exporter's names, seconds, promtool-clean."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from streamcheck.reference_app import create_app
from streamprobe.exporter.config import load_config
from streamprobe.exporter.metrics import METRIC_NAMES
from streamprobe.exporter.server import ExporterHTTPServer, Settings
from streamprobe.result import VERDICTS

from tests.support.servers import RunningServer, hypercorn_server
from tests.support.tls import tls_files

from .support import STREAM, running_exporter, samples, scrape


def probe_url(exporter: ExporterHTTPServer, target: str) -> str:
    return f"{exporter.url}/probe?target={quote(target, safe='')}"


def test_streaming_target(exporter: ExporterHTTPServer, h1_server: RunningServer) -> None:
    reply = scrape(probe_url(exporter, h1_server.url(STREAM)))
    assert reply.status == 200, reply.body
    values = samples(reply.body)
    assert values["probe_success"] == 1
    assert values["probe_http_status_code"] == 200
    assert values["probe_http_version"] == 1.1
    assert values["probe_http_ssl"] == 0
    assert values['streamprobe_verdict{verdict="streaming"}'] == 1
    assert sum(values[f'streamprobe_verdict{{verdict="{v}"}}'] for v in VERDICTS) == 1
    assert values["streamprobe_events"] == 7  # 6 ticks and the done event
    # seconds, not milliseconds: a 250 ms stream on loopback
    assert 0 <= values["streamprobe_buffering_delay_seconds"] < 0.05
    assert 0 < values["streamprobe_ttfb_seconds"] <= values["streamprobe_first_event_seconds"] < 1
    assert 0.2 < values["probe_duration_seconds"] < 5
    assert 0.03 < values["streamprobe_gap_p99_seconds"] < 0.2
    phases = {k for k in values if k.startswith("probe_http_duration_seconds")}
    assert len(phases) == 5
    assert values['probe_http_duration_seconds{phase="transfer"}'] > 0.2


def test_buffering_target(exporter: ExporterHTTPServer, buffering_nginx: RunningServer) -> None:
    reply = scrape(probe_url(exporter, buffering_nginx.url(STREAM)))
    values = samples(reply.body)
    assert values['streamprobe_verdict{verdict="buffered"}'] == 1, reply.body
    assert values["probe_success"] == 1
    assert values["streamprobe_buffering_delay_seconds"] >= 0.2


def test_failed_probe_keeps_blackbox_names_and_leaves_out_unmeasured(
    exporter: ExporterHTTPServer, h1_server: RunningServer
) -> None:
    reply = scrape(probe_url(exporter, h1_server.url("/api/not-there")))
    values = samples(reply.body)
    assert values["probe_success"] == 0
    assert values["probe_http_status_code"] == 404
    assert values['streamprobe_verdict{verdict="error"}'] == 1
    # not measured: absent, never a 0 that would read as "streams perfectly"
    assert "streamprobe_buffering_delay_seconds" not in values
    assert "streamprobe_first_event_seconds" not in values
    names = {line.split()[2] for line in reply.body.splitlines() if line.startswith("# TYPE")}
    assert names <= set(METRIC_NAMES)


def test_own_metrics_and_index(exporter: ExporterHTTPServer, h1_server: RunningServer) -> None:
    scrape(probe_url(exporter, h1_server.url(STREAM)))
    reply = scrape(f"{exporter.url}/metrics")
    values = samples(reply.body)
    assert values['streamprobe_exporter_probes_total{module="default",verdict="streaming"}'] >= 1
    assert values["streamprobe_exporter_max_concurrent_probes"] == 4
    assert "process_cpu_seconds_total" in values
    index = scrape(f"{exporter.url}/")
    assert index.status == 200 and "/probe?target=" in index.body
    assert scrape(f"{exporter.url}/nothing").status == 404


def test_https_h2_target_with_a_modules_ca_file(tmp_path: Path) -> None:
    """Over TLS with ALPN h2 (hypercorn, a trustme CA named by the module's tls_config)."""
    tls = tls_files()
    config = tmp_path / "exporter.yaml"
    config.write_text(f"modules: {{internal: {{http: {{tls_config: {{ca_file: {tls.ca_pem}}}}}}}}}\n")
    with hypercorn_server(create_app(), tls=tls) as h2:
        allow = (f"https://127.0.0.1:{h2.port}/*",)
        with running_exporter(Settings(load_config(config), allow_targets=allow)) as srv:
            target = quote(h2.url(STREAM), safe="")
            values = samples(scrape(f"{srv.url}/probe?module=internal&target={target}").body)
            untrusted = samples(scrape(f"{srv.url}/probe?target={target}").body)
    assert (values["probe_http_version"], values["probe_http_ssl"], values["probe_success"]) == (2, 1, 1)
    assert values['probe_http_duration_seconds{phase="tls"}'] > 0
    assert values['streamprobe_verdict{verdict="streaming"}'] == 1
    # the default module trusts only the system's CAs: a TLS error, no response
    assert (untrusted["probe_success"], untrusted["probe_http_version"]) == (0, 0)
