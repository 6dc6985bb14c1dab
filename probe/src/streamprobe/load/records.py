"""``--records FILE``: one NDJSON line per stream as it finishes (the probe's result JSON, plus the
stream's number, when it started, and whether it was good). Written through, so memory stays flat."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO, Any


class RecordsError(ValueError):
    """The records file cannot be written (a usage error: the run has not started)."""


class Records:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file: IO[str] = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise RecordsError(f"cannot write records to {str(path)!r}: {exc.strerror or exc}") from None
        self._lock = threading.Lock()

    def write(self, stream: int, started_ms: float, good: bool, result: dict[str, Any]) -> None:
        line = json.dumps({"stream": stream, "started_ms": round(started_ms, 3), "good": good, **result})
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
