"""The thread hop: runs blocking work (the store, fsync) off the event loop, within a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from qkms.domain.errors import DependencyTimeoutException

__all__ = ["Workers", "within"]

T = TypeVar("T")


async def within(future: asyncio.Future[T], seconds: float) -> T:
    """`future`'s result, or TimeoutError if it has none after `seconds` (it is then cancelled).

    Used instead of `asyncio.wait_for`, which on Python 3.11 swallows a cancellation that
    arrives just as `future` completes (CPython gh-86296): a background loop cancelled at
    shutdown ran on, the worker's lifespan waited for it forever and `qkms serve` did not exit
    on SIGTERM. A cancellation here always propagates, and cancels `future` too.
    """
    try:
        done, _ = await asyncio.wait((future,), timeout=seconds)
    except asyncio.CancelledError:
        future.cancel()
        raise
    if not done:
        future.cancel()
        raise TimeoutError
    return future.result()


class Workers:
    """A pool of request threads whose every call is answered within `deadline_seconds`."""

    def __init__(self, threads: int, deadline_seconds: float) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="qkms-op")
        self._deadline = deadline_seconds

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        future = asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
        try:
            # The store bounds its own waits; this outer bound catches anything that does not,
            # so a caller always gets an answer (DESIGN §1: never a hang).
            return await within(future, self._deadline)
        except TimeoutError:
            raise DependencyTimeoutException("The key store did not answer in time.") from None

    def shutdown(self) -> None:
        """Wait for the calls in hand to finish; used once, when the worker stops."""
        self._executor.shutdown(wait=True)
