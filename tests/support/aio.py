"""Run a coroutine function to completion in a thread of its own.

A session-scoped Playwright browser (tests/browser, tests/lab) keeps an asyncio loop running in the main
thread for the whole session, so ``anyio.run`` there fails with "Already running asyncio in this
thread". Tests that drive ASGI apps directly use this instead: a fresh thread has no loop.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

T = TypeVar("T")


def run_async(func: Callable[[], Awaitable[T]], *, timeout: float = 60.0) -> T:
    """``anyio.run(func)`` in a new thread; its result, or its exception re-raised here."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(anyio.run(func))
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)

    thread = threading.Thread(target=target, name="run-async", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"coroutine still running after {timeout} s")
    if failure:
        raise failure[0]
    return outcome[0]
