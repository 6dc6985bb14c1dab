"""Loading a hostile config file in a test: bounded in time, and the message must be one safe line."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from streampath.config import ConfigError, load_config

#: The loader's promise for any file: a verdict within this many seconds.
DEADLINE_S = 2.0
DEFAULT_YAML = Path(__file__).resolve().parents[2] / "config" / "default.yaml"


def default_text() -> str:
    return DEFAULT_YAML.read_text()


def refusal(path: Path) -> str:
    """The loader's ConfigError message for ``path``; fails unless it is one printable line within 2 s.

    The loader runs in a daemon thread so a loader that hangs (a FIFO) fails the test instead of hanging it.
    """
    outcome: list[tuple[str, str]] = []

    def load() -> None:
        try:
            load_config(path)
            outcome.append(("loaded", ""))
        except ConfigError as error:
            outcome.append(("refused", str(error)))
        except BaseException as error:  # the promise is "never a traceback": report what escaped instead
            outcome.append(("raised", f"{type(error).__name__}: {str(error)[:300]}"))

    started = time.monotonic()
    worker = threading.Thread(target=load, name="load_config", daemon=True)
    worker.start()
    worker.join(DEADLINE_S)
    elapsed = time.monotonic() - started
    assert not worker.is_alive(), f"load_config({path}) did not return within {DEADLINE_S} s"
    assert elapsed < DEADLINE_S, elapsed
    kind, message = outcome[0]
    assert kind == "refused", f"expected a ConfigError, got {kind}: {message}"
    assert_one_safe_line(message)
    return message


def assert_one_safe_line(message: str) -> None:
    """One line, nothing a terminal would interpret (C0/C1 controls, DEL), at most 1000 characters."""
    assert "\n" not in message and "\r" not in message, message
    assert not [char for char in message if not char.isprintable()], repr(message)
    assert len(message) <= 1000, len(message)


def write(tmp_path: Path, text: str | bytes, name: str = "hostile.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path
