"""Children that a test interrupts with SIGINT, as a terminal's Ctrl-C would.

A process started in the background by a shell without job control (``cmd &`` in a script, ``nohup``)
inherits SIGINT as ignored, and Python then installs no KeyboardInterrupt handler: a Ctrl-C test would wait
for nothing. The child gets the default disposition back before it starts, whatever the runner inherited.
"""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """``preexec_fn`` for a child that must see SIGINT as a user's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
