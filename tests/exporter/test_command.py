"""``streamprobe exporter``'s command module: its options and its usage errors (one line each)."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import pytest
from streamprobe.commands import exporter as command
from streamprobe.exporter.config import ExporterConfig
from streamprobe.exporter.server import Settings, parse_listen
from streamprobe.usage import UsageError

from .support import get, running_exporter


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="streamprobe exporter")
    command.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults() -> None:
    args = parse("--listen", "127.0.0.1:9116")
    assert (args.config, args.allow_target, args.max_concurrent) == (None, [], 8)
    assert command.NAME == "exporter" and command.HELP


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--listen", "9116"], "--listen expects HOST:PORT"),
        (["--listen", "127.0.0.1:99999"], "--listen expects HOST:PORT"),
        (["--listen", "127.0.0.1:0", "--allow-target", "ftp://x/*"], "scheme must be http or https"),
        (["--listen", "127.0.0.1:0", "--allow-target", "*.svc.cluster.local"], "starts with http://"),
    ],
)
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        command.run(parse(*argv))


def test_bad_config_is_a_usage_error_naming_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "exporter.yaml"
    config.write_text("modules: {chat: {http: {protocol: h9}}}\n")
    with pytest.raises(UsageError) as caught:
        command.run(parse("--listen", "127.0.0.1:0", "--config", str(config)))
    assert str(caught.value).startswith(f"{config}: modules.chat.http.protocol: expected one of")


def test_a_taken_port_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert command.run(parse("--listen", f"127.0.0.1:{port}")) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"streamprobe exporter: cannot listen on 127.0.0.1:{port}: ") and err.count("\n") == 1
    )


def test_listens_on_ipv6_loopback() -> None:
    assert parse_listen("[::1]:9116") == ("::1", 9116)
    with running_exporter(Settings(ExporterConfig()), host="::1") as srv:
        assert srv.url.startswith("http://[::1]:")
        assert get(f"{srv.url}/").status == 200
