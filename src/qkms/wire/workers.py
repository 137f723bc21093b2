"""The thread hop: runs blocking work (the store, fsync) off the event loop, within a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from qkms.domain.errors import DependencyTimeoutException

__all__ = ["Workers"]

T = TypeVar("T")


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
            return await asyncio.wait_for(future, self._deadline)
        except TimeoutError:
            raise DependencyTimeoutException("The key store did not answer in time.") from None

    def shutdown(self) -> None:
        """Wait for the calls in hand to finish; used once, when the worker stops."""
        self._executor.shutdown(wait=True)
