"""Real servers for the load tests, each in a process of its own (a server in the test's process would
share its GIL with hundreds of reading threads and delay its own events): the reference app under
uvicorn, the same app behind a concurrency-capped HAProxy and behind a buffering nginx, and under
hypercorn with TLS + h2 (and + HTTP/3) behind a wrapper that lists the connections and requests it
served."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lab.configs import haproxy_capped, nginx_buffering
from lab.procs import ManagedProcess, free_ports
from lab.topology import find_binary
from tests.support.tls import TLSFiles, make_tls

REPO = Path(__file__).resolve().parents[2]
#: The capped hop's maxconn in these tests.
CAP = 2


def served_connections(port: int, tls: TLSFiles) -> set[str]:
    """The client address:port pairs the counting app has served (one per connection)."""
    with httpx.Client(verify=tls.ca_pem) as client:
        return set(client.get(f"https://127.0.0.1:{port}/connections").json())


def requests_seen(port: int, tls: TLSFiles) -> list[dict[str, Any]]:
    """The requests the counting app has received, oldest first, asked over TCP (the listing itself is not
    one of them)."""
    with httpx.Client(verify=tls.ca_pem) as client:
        seen: list[dict[str, Any]] = client.get(f"https://127.0.0.1:{port}/requests").json()
    return seen


def _serve(process: ManagedProcess) -> Iterator[int]:
    """Start ``process``, yield its port, stop it (and all it forked)."""
    try:
        process.start()
        yield process.ports[0]
    finally:
        process.stop()


@pytest.fixture(scope="session")
def load_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("load")


@pytest.fixture(scope="session")
def app_port(load_tmp: Path) -> Iterator[int]:
    (port,) = free_ports(1)
    argv = [sys.executable, "-m", "uvicorn", "streamcheck.reference_app:create_app", "--factory"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    argv += ["--backlog", "2048", "--timeout-graceful-shutdown", "1"]
    yield from _serve(ManagedProcess("app", argv, log_path=load_tmp / "app.log", ports=[port]))


@pytest.fixture(scope="session")
def capped_port(load_tmp: Path, app_port: int) -> Iterator[int]:
    (port,) = free_ports(1)
    conf = load_tmp / "capped.cfg"
    conf.write_text(haproxy_capped(port=port, upstream_port=app_port, maxconn=CAP))
    argv = [find_binary("haproxy"), "-db", "-f", str(conf)]
    process = ManagedProcess("capped", argv, log_path=load_tmp / "capped.log", ports=[port])
    yield from _serve(process)


@pytest.fixture(scope="session")
def buffering_port(load_tmp: Path, app_port: int) -> Iterator[int]:
    (port,) = free_ports(1)
    tmp = load_tmp / "nginx"
    tmp.mkdir()
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_buffering(tmp, port=port, app_port=app_port))
    argv = [find_binary("nginx"), "-p", f"{tmp}/", "-c", str(conf), "-e", str(tmp / "error.log")]
    process = ManagedProcess("nginx", argv, log_path=tmp / "stderr.log", ports=[port], cwd=tmp)
    yield from _serve(process)


@pytest.fixture(scope="session")
def tls(load_tmp: Path) -> TLSFiles:
    return make_tls(load_tmp / "tls")


def counting_hypercorn(workdir: Path, tls: TLSFiles, *, quic: bool = False) -> Iterator[int]:
    """``tests.load.counting_app`` under hypercorn with TLS (h2 + HTTP/1.1) in a process of its own;
    with ``quic`` HTTP/3 too, on the UDP port of the same number (as Caddy and CloudFront serve it)."""
    (port,) = free_ports(1)
    argv = [sys.executable, "-m", "hypercorn", "tests.load.counting_app:app", "--bind", f"127.0.0.1:{port}"]
    if quic:
        argv += ["--quic-bind", f"127.0.0.1:{port}"]
    argv += ["--certfile", tls.cert_pem, "--keyfile", tls.key_pem, "--log-level", "warning"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    name = "h3" if quic else "h2"
    process = ManagedProcess(name, argv, log_path=workdir / f"{name}.log", ports=[port], cwd=REPO, env=env)
    yield from _serve(process)


@pytest.fixture(scope="session")
def h2_port(load_tmp: Path, tls: TLSFiles) -> Iterator[int]:
    yield from counting_hypercorn(load_tmp, tls)


@pytest.fixture(scope="session")
def h3_port(load_tmp: Path, tls: TLSFiles) -> Iterator[int]:
    """The counting app over HTTP/3 (and h2 + HTTP/1.1 on TCP, for its ``/connections`` listing)."""
    yield from counting_hypercorn(load_tmp, tls, quic=True)
