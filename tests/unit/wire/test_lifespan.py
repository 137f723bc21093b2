"""A worker's lifespan always completes its shutdown, whenever the shutdown arrives.

The background loops (change feed, sweeper, key-usage flush) run their jobs on a thread and
are stopped by cancelling them. On Python 3.11, `asyncio.wait_for` swallows a cancellation that
arrives just as the awaited job finishes (CPython gh-86296): the loop ran on, the lifespan's
shutdown waited for it forever, and `qkms serve` did not exit on SIGTERM (seen as a 40 s stop
in the crash tests, and in about 1 stop in 15 of an idle two-worker server).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from qkms.crypto import RootKey
from qkms.operations.runtime.background import ChangeFollower
from qkms.operations.runtime.cache import FreshCache
from qkms.operations.runtime.context import Services
from qkms.operations.runtime.credentials import Credential
from qkms.wire.lifespan import Lifespan
from tests.unit.support import FakeClock, make_services

_STOP_WITHIN_SECONDS = 10.0


class _ShutdownAsPollEnds(ChangeFollower):
    """The real change follower; its `nth` poll asks the worker to shut down just before it
    returns, so the shutdown's cancellation meets a job that has just finished."""

    def __init__(self, services: Services, nth: int, ask_shutdown: Callable[[], None]) -> None:
        super().__init__(services, FreshCache[str, Credential](10))
        self._nth = nth
        self._ask_shutdown = ask_shutdown
        self.polls = 0

    def poll(self) -> int:
        applied = super().poll()
        self.polls += 1
        if self.polls == self._nth:
            self._ask_shutdown()
        return applied


def _lifespan_messages(services: Services, shutdown_on_poll: int) -> list[str]:
    """What the lifespan sends back for startup then a shutdown asked for during a poll."""

    async def run() -> list[str]:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        sent: list[str] = []

        def ask_shutdown() -> None:
            loop.call_soon_threadsafe(inbox.put_nowait, {"type": "lifespan.shutdown"})

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message["type"])

        follower = _ShutdownAsPollEnds(services, shutdown_on_poll, ask_shutdown)
        background = ThreadPoolExecutor(1)
        lifespan = Lifespan(
            services,
            follower,
            background,
            poll_interval_seconds=0.001,  # the loop polls back to back
            sweep_interval_seconds=3600.0,
            job_deadline_seconds=5.0,
            close=background.shutdown,
        )
        inbox.put_nowait({"type": "lifespan.startup"})
        await lifespan.serve(inbox.get, send)
        return sent

    outcome: list[list[str]] = []
    # A lifespan that never stops would also hang asyncio.run's own clean-up (it cancels the
    # loops the same way), so it runs on a daemon thread that the test gives up on.
    thread = threading.Thread(target=lambda: outcome.append(asyncio.run(run())), daemon=True)
    thread.start()
    thread.join(_STOP_WITHIN_SECONDS)
    assert outcome, (
        f"the lifespan did not finish its shutdown within {_STOP_WITHIN_SECONDS:g} s "
        f"when it was asked for during poll {shutdown_on_poll}"
    )
    return outcome[0]


def test_shutdown_completes_when_a_background_job_finishes_as_it_is_cancelled(
    tmp_path: Path,
) -> None:
    services = make_services(tmp_path / "qkms.db", RootKey.generate(), FakeClock())
    # Poll 1 is the startup's catch-up; from poll 2 on they run in the background loop.
    for nth in range(2, 7):
        messages = _lifespan_messages(services, nth)
        assert messages == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
