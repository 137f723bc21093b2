"""A worker's life: catch up with the store's changes before serving, follow them and sweep
expired keys in the background while serving, close everything on shutdown (ASGI lifespan)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from qkms.operations.runtime.background import ChangeFollower, sweep
from qkms.operations.runtime.context import Services
from qkms.operations.runtime.key_usage import FLUSH_INTERVAL_SECONDS
from qkms.wire.messages import Receive, Send
from qkms.wire.workers import within

__all__ = ["Lifespan"]

_log = logging.getLogger("qkms.request")
_SAMPLE_SECONDS = 5.0  # Prometheus scrapes every 15-60 s by default


class Lifespan:
    """Runs the background loops on one thread of their own, so they never wait behind calls."""

    def __init__(
        self,
        services: Services,
        follower: ChangeFollower,
        background: ThreadPoolExecutor,
        *,
        poll_interval_seconds: float,
        sweep_interval_seconds: float,
        job_deadline_seconds: float,
        close: Callable[[], None],
        sample: Callable[[], None] | None = None,
    ) -> None:
        self._services = services
        self._follower = follower
        self._background = background
        self._poll_interval = poll_interval_seconds
        self._sweep_interval = sweep_interval_seconds
        self._job_deadline = job_deadline_seconds
        self._close = close
        self._sample = sample  # metrics sampled rather than counted per call (qkms.metrics)
        self._tasks: list[asyncio.Task[None]] = []

    async def serve(self, receive: Receive, send: Send) -> None:
        """ASGI's lifespan protocol: startup, then shutdown."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._background, self._follower.poll)
        self._tasks = [
            asyncio.create_task(self._every(self._poll_interval, self._follower.poll)),
            # The first sweep runs at once: work that came due while the server was down
            # (deletions, expiries, automatic rotations) does not wait a whole interval.
            asyncio.create_task(self._every(self._sweep_interval, self._sweep, first_delay=0.0)),
            # Key usage is noted in memory by requests and written down here (GetKeyLastUsage).
            asyncio.create_task(self._every(FLUSH_INTERVAL_SECONDS, self._flush_key_usage)),
        ]
        if self._sample is not None:
            self._tasks.append(asyncio.create_task(self._every(_SAMPLE_SECONDS, self._sample)))

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:  # a clean shutdown keeps the last uses it noted
            await asyncio.get_running_loop().run_in_executor(
                self._background, self._flush_key_usage
            )
        except Exception:
            _log.warning("could not write key usage at shutdown", exc_info=True)
        self._close()

    async def _every(
        self, seconds: float, job: Callable[[], object], first_delay: float | None = None
    ) -> None:
        loop = asyncio.get_running_loop()
        delay = seconds if first_delay is None else first_delay
        while True:
            await asyncio.sleep(delay)
            delay = seconds
            try:
                await within(loop.run_in_executor(self._background, job), self._job_deadline)
            except Exception:
                _log.warning("background job %s failed", job.__name__, exc_info=True)

    def _flush_key_usage(self) -> None:
        self._services.key_usage.flush(self._services.store, self._services.clock())

    def _sweep(self) -> None:
        deleted, expired = sweep(self._services)
        if expired:
            _log.info("destroyed imported material past its ValidTo: %s", expired)
        if deleted:
            _log.info("destroyed %d key(s) whose deletion window ended: %s", len(deleted), deleted)
