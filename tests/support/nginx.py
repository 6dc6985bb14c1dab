"""The lab's buffering nginx (lab.configs.nginx_buffering: ``proxy_buffering on``), real, in front of a
test server on loopback."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab.configs import nginx_buffering
from lab.procs import ManagedProcess, free_port
from lab.topology import find_binary

from .servers import HOST, RunningServer


@contextmanager
def buffering_nginx(app_port: int) -> Iterator[RunningServer]:
    """nginx as the lab runs it for its buffering row, proxying ``/api/`` to ``app_port``."""
    with tempfile.TemporaryDirectory(prefix="buffering-nginx-") as name:
        tmp = Path(name)
        port = free_port()
        conf = tmp / "nginx.conf"
        conf.write_text(nginx_buffering(tmp, port=port, app_port=app_port))
        argv = [find_binary("nginx"), "-p", f"{tmp}/", "-c", str(conf), "-e", str(tmp / "error.log")]
        process = ManagedProcess("nginx", argv, log_path=tmp / "stderr.log", ports=[port], cwd=tmp)
        process.start()
        try:
            yield RunningServer(HOST, port)
        finally:
            process.stop()
