"""The probe's clock, its phase marks and its hard deadlines.

* ``PhaseClock`` receives httpcore's ``trace`` events and records when each phase ran.
* ``Watchdog`` enforces deadlines that socket timeouts alone cannot (a server trickling a byte
  at a time, an HTTP/2 server sending PINGs and no data): when one passes it shuts the sockets down,
  which ends any blocked read at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

from .messages import Phase

now = time.perf_counter  # monotonic, high resolution


class Watchdog:
    """One background thread per probe that shuts the connection down when a deadline passes.

    Deadlines are named (``set("phase", t)``); the earliest one that passes is recorded in
    ``fired`` and every registered socket is shut down, so a blocked read returns at once.
    ``deadlines`` are armed before the thread starts, and the constructor returns once the thread
    sleeps on them: its start-up is over before the caller starts a clock.
    """

    def __init__(self, deadlines: Mapping[str, float] | None = None) -> None:
        self._cond = threading.Condition()
        self._deadlines: dict[str, float] = dict(deadlines or {})
        self._sockets: list[socket.socket] = []
        self._stopped = False
        self._asleep = threading.Event()
        self.fired: str | None = None
        self.fired_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="streamprobe-watchdog", daemon=True)
        self._thread.start()
        self._asleep.wait()

    def set(self, name: str, deadline: float | None) -> None:
        """Set (or with ``None`` clear) the deadline ``name``.

        The thread is woken only when the earliest deadline moves earlier: a later or cleared one
        is seen when it wakes for the old one. Waking it costs the probe a handoff of the GIL
        between threads, which would land inside the timed phases.

        Moving an armed deadline later -- what the reader does on every piece of a stream -- takes no
        lock: the thread would not be woken for it anyway, and it reads the deadlines again when it
        wakes for the old one. Replacing a value in place is atomic and leaves the mapping's size alone
        (the thread iterates it under its lock); a deadline is only ever moved by its one owner.
        """
        current = self._deadlines.get(name)
        if deadline is not None and current is not None and deadline >= current:
            self._deadlines[name] = deadline
            return
        with self._cond:
            earliest = min(self._deadlines.values(), default=None)
            if deadline is None:
                self._deadlines.pop(name, None)
                return
            self._deadlines[name] = deadline
            if earliest is None or deadline < earliest:
                self._cond.notify()

    def earliest(self) -> float | None:
        """The earliest pending deadline (the probe's clock), or None."""
        with self._cond:
            return min(self._deadlines.values(), default=None)

    def add_socket(self, sock: socket.socket) -> None:
        with self._cond:
            self._sockets.append(sock)
            if self.fired is not None:
                _shutdown(sock)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(1.0)

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if not self._deadlines:
                    self._asleep.set()
                    self._cond.wait()
                    continue
                name, deadline = min(self._deadlines.items(), key=lambda item: item[1])
                remaining = deadline - now()
                if remaining > 0:
                    self._asleep.set()
                    self._cond.wait(remaining)
                    continue
                self.fired, self.fired_at = name, now()
                for sock in self._sockets:
                    _shutdown(sock)
                break
        self._asleep.set()  # stopped or fired before it ever slept: the constructor must not wait on


def _shutdown(sock: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket.shutdown: that one would also drop the SSL object
    # under the feet of a reader in another thread.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class PhaseClock:
    """Collects httpcore ``trace`` events as timestamps on the probe's clock."""

    def __init__(self, watchdog: Watchdog, timeout: float) -> None:
        self.watchdog = watchdog
        self.timeout = timeout
        self.marks: dict[str, float] = {}
        self.phase: Phase = "connect"  # connect -> tls -> headers -> body
        self.http2 = False

    def __call__(self, name: str, info: dict[str, Any]) -> None:
        t = now()
        self.marks.setdefault(name, t)
        if name == "connection.connect_tcp.started":
            self.phase = "connect"
            self.watchdog.set("phase", t + self.timeout)
        elif name == "connection.start_tls.started":
            self.phase = "tls"
            self.watchdog.set("phase", t + self.timeout)
        elif name.endswith(".send_request_headers.started") or name == "http2.send_connection_init.started":
            if self.phase != "headers":
                self.phase = "headers"
                self.watchdog.set("phase", t + self.timeout)
            self.http2 = name.startswith("http2.")
        elif name.endswith(".receive_response_headers.complete"):
            # The body's silence bound starts: the reader moves it on each chunk of body bytes (later
            # each time, so the watchdog is never woken for it).
            self.phase = "body"
            self.watchdog.set("phase", t + self.timeout)

    def first(self, *names: str) -> float | None:
        times = [self.marks[n] for n in names if n in self.marks]
        return min(times) if times else None
