"""Child processes the lab starts and always stops: free ports, readiness, clean shutdown."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class LabError(RuntimeError):
    """A component failed to start (the message includes the tail of its log)."""


class PortConflict(LabError):
    """A component's port was taken by another process between choosing it and binding it."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: all sockets are held open until every port is chosen."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _listening_inodes(port: int) -> set[str] | None:
    """Socket inodes listening on 127.0.0.1:``port`` (None when /proc/net/tcp cannot be read)."""
    local = f"0100007F:{port:04X}"
    try:
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    found = set()
    for row in rows:
        fields = row.split()
        if len(fields) > 9 and fields[1] == local and fields[3] == "0A":  # 0A: LISTEN
            found.add(fields[9])
    return found


def _group_socket_inodes(pgid: int) -> set[str]:
    """Socket inodes held open by processes in process group or session ``pgid``."""
    inodes = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if pgid not in (int(fields[2]), int(fields[3])):  # pgrp, session
                continue
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except (OSError, IndexError, ValueError):
            continue
    return inodes


def port_owned_by(port: int, pgid: int) -> bool:
    """Whether the socket listening on ``port`` belongs to group ``pgid`` (True where /proc can't tell).

    A port chosen free a moment ago may have been taken by someone else since: a connection that
    succeeds proves nothing about *our* component listening there.
    """
    listening = _listening_inodes(port)
    if listening is None:
        return True
    return bool(listening & _group_socket_inodes(pgid))


_IN_USE = "address already in use"


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class ManagedProcess:
    """One child in its own session (so its workers form a process group we can stop as a whole).

    ``stop()`` sends ``stop_signal`` to the child, waits, then SIGKILLs the whole group: whatever the
    child forked (nginx workers) goes too. Only processes this object started are ever signalled.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        ports: Sequence[int],
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
        ready: Callable[[], bool] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.ports = list(ports)
        self.cwd = cwd
        self.env = env
        self.stop_signal = stop_signal
        self.ready = ready
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def start(self, timeout: float = 15.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the child without waiting (start several, then ``wait_ready`` each)."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Wait until every port accepts connections (and ``ready()`` says yes); LabError otherwise."""
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                log = tail(self.log_path)
                error = PortConflict if _IN_USE in log.lower() else LabError
                raise error(f"{self.name} exited with status {code} while starting; {self.log_path}:\n{log}")
            listening = all(port_open(p) for p in self.ports)
            owned = listening and all(port_owned_by(p, self.proc.pid) for p in self.ports)
            if owned and (self.ready is None or self.ready()):
                return
            if time.monotonic() > deadline:
                if listening or any(_listening_inodes(p) for p in self.ports):
                    raise PortConflict(
                        f"{self.name}: another process listens on one of {self.ports}; "
                        f"{self.log_path}:\n{tail(self.log_path)}"
                    )
                raise LabError(
                    f"{self.name} did not listen on {self.ports} within {timeout:.0f} s; "
                    f"{self.log_path}:\n{tail(self.log_path)}"
                )
            time.sleep(0.05)

    def stop(self, grace: float = 5.0) -> None:
        proc = self.proc
        if proc is None:
            return
        pgid = proc.pid  # start_new_session: the child leads its own group
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(self.stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace)
        # Anything left in the group (workers, or a child that ignored the signal) is killed.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        deadline = time.monotonic() + grace
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.02)


def group_alive(pgid: int) -> bool:
    """Whether any process is still in group ``pgid`` (zombies of ours already reaped don't count)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields: state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
