"""Reading a config file's bytes, refusing anything that is not a small regular file.

A path can name a FIFO (``open`` blocks until a writer appears: forever), a character device such as
``/dev/zero`` (``read`` never ends), a directory, or a regular file of many megabytes (PyYAML takes about a
minute over 50 MB). The file is checked with ``stat`` before it is opened, opened non-blocking (so a FIFO
swapped in after the check cannot block the open), checked again on the open descriptor (the path may name
another file by now), and read to at most :data:`MAX_CONFIG_BYTES` plus one byte (it may have grown).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from streampath.config.common import ConfigError

__all__ = ["MAX_CONFIG_BYTES", "read_config_text"]

#: A real config is a few KB (the shipped ones are 3-4 KB). At this cap the slowest text to parse (a quoted
#: scalar of escapes) takes about 0.2 s, well inside the loader's 2-second promise on a busy machine.
MAX_CONFIG_BYTES = 256 * 1024

# Non-blocking: opening a FIFO for reading would otherwise wait for a writer. The flags Windows lacks are 0.
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
)

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_config_text(path: Path | str, shown: str) -> str:
    """The text of the config file at ``path``; ``shown`` is its name as messages show it."""
    try:
        _check(os.stat(path), shown)
        descriptor = os.open(path, _OPEN_FLAGS)
    except ConfigError:
        raise
    except FileNotFoundError:
        raise ConfigError(f"{shown}: file not found") from None
    except OSError as error:
        raise ConfigError(f"{shown}: cannot read: {error.strerror or type(error).__name__}") from None
    except ValueError:  # a path with a NUL byte in it
        raise ConfigError(f"{shown}: cannot read: the path is not valid") from None
    try:
        _check(os.fstat(descriptor), shown)
        data = _read_at_most(descriptor, MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{shown}: cannot read: {error.strerror or type(error).__name__}") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(_too_large(shown, f"more than {MAX_CONFIG_BYTES}"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = data[error.start]
        raise ConfigError(f"{shown}: not UTF-8 text (byte 0x{bad:02x} at offset {error.start})") from None


def _check(status: os.stat_result, shown: str) -> None:
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a file")
        raise ConfigError(f"{shown}: not a regular file ({kind}); a config must be a regular file")
    if status.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(_too_large(shown, str(status.st_size)))


def _too_large(shown: str, size: str) -> str:
    return f"{shown}: too large: {size} bytes (a config is at most {MAX_CONFIG_BYTES} bytes)"


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(descriptor, min(remaining, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
