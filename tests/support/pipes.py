"""Console scripts whose standard output is a pipe the reader has already closed (``... | head -1``)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

#: The exit status of a writer ended by a closed pipe: 128 + SIGPIPE, as a shell reports ``yes | head``.
EXIT_CLOSED_PIPE = 141


def run_into_closed_pipe(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with stdout a pipe whose read end is closed before the script writes a byte: every
    write fails with EPIPE, as once ``head`` has what it wanted and exited. stderr is captured."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            list(argv),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=None if env is None else dict(env),
            timeout=timeout,
            check=False,
        )
    finally:
        os.close(write_end)


def assert_quiet_end(proc: subprocess.CompletedProcess[str], status: int = EXIT_CLOSED_PIPE) -> None:
    """The script saw the closed pipe and ended as a Unix tool does: no traceback, no "Exception
    ignored" line from the interpreter's last flush, nothing at all on stderr, and ``status``."""
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert "Exception ignored" not in proc.stderr, proc.stderr
    assert proc.stderr == "", proc.stderr
    assert proc.returncode == status, (proc.returncode, proc.stderr)
