"""The one exception the CLI turns into a one-line message and a non-zero exit status."""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEM = 1  # the command ran, and what it found is not healthy
EXIT_REFUSED = 2  # the command could not run: bad config, no credentials, stack or output missing, ...


class Refusal(Exception):
    """A clear reason not to go on. ``str(refusal)`` is the whole (one-line) message."""

    def __init__(self, message: str, exit_code: int = EXIT_REFUSED) -> None:
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code
