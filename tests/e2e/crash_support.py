"""The crash tests' harness: the store under test (SQLite or PostgreSQL), kill -9 of a whole
server, and a multi-threaded load over keep-alive connections (shared by test_crash*.py).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pg_cluster import descendants
from tests.e2e.server import QkmsServer, signed_request
from tests.storage.postgres_support import drop_schema, new_schema_name, require_postgres

__all__ = ["KILL_AFTER_ACKS", "THREADS", "Load", "Store", "kill_9", "store"]

THREADS = 4
KILL_AFTER_ACKS = 25  # kill once the load is well under way


# --- the store under test ----------------------------------------------------------------------
@dataclass
class Store:
    backend: str
    data_dir: Path
    url: str | None = None
    root_key: str = field(default_factory=lambda: base64.b64encode(os.urandom(32)).decode())

    def server(self, workers: int) -> QkmsServer:
        if self.url is None:
            return QkmsServer(self.data_dir, workers=workers)
        return QkmsServer(
            self.data_dir,
            workers=workers,
            extra_args=["--database-url", self.url],
            env={"QKMS_ROOT_KEY": self.root_key},
        )


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        yield Store("sqlite", tmp_path / "data")
        return
    request.applymarker(pytest.mark.postgres)
    base = require_postgres()
    schema = new_schema_name()
    yield Store(
        "postgres", tmp_path / "data", f"{base}{'&' if '?' in base else '?'}schema={schema}"
    )
    drop_schema(schema)


# --- killing the whole server ------------------------------------------------------------------
def kill_9(server: QkmsServer) -> int:
    """SIGKILL the `qkms serve` parent and every process below it; how many were killed."""
    assert server.process is not None
    parent = server.process.pid
    victims = [parent, *descendants(parent)]
    for pid in victims:  # freeze all first, so none notices the others dying
        _signal(pid, signal.SIGSTOP)
    for pid in victims:
        _signal(pid, signal.SIGKILL)
    server.process.wait(10)
    server.process = None
    deadline = time.monotonic() + 10
    while any(_exists(pid) for pid in victims[1:]):
        assert time.monotonic() < deadline, "a worker survived SIGKILL"
        time.sleep(0.01)
    return len(victims)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _exists(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- load --------------------------------------------------------------------------------------
@dataclass
class Load:
    """THREADS threads, each sending `body_for(thread, i)` over its own keep-alive connection.

    `acked` collects `ack(thread, i, response)` of every 200 whose body was read in full;
    `errors` every HTTP answer that was not a 200; `dropped` how each thread's loop ended.
    """

    server: QkmsServer
    operation: str
    body_for: Callable[[int, int], dict[str, Any] | None]  # None: this thread is done
    ack: Callable[[int, int, dict[str, Any]], str]
    acked: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(THREADS)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def wait_for(self, acks: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < acks:
            assert time.monotonic() < deadline, f"only {len(self.acked)} acks: {self.errors[:3]}"
            assert any(t.is_alive() for t in self._threads), f"load ended: {self.dropped}"
            time.sleep(0.001)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(30)
            assert not thread.is_alive(), "a client hung after the server went away"

    def _run(self, thread: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        i = 0
        phase = "send"
        try:
            while (body := self.body_for(thread, i)) is not None:
                request = signed_request(self.server.endpoint, self.operation, body)
                assert isinstance(request.body, bytes)
                phase = "send on a new connection" if connection.sock is None else "send"
                connection.request(
                    "POST", "/", body=request.body, headers=dict(request.headers.items())
                )
                phase = "answer" if phase == "send" else "answer on a new connection"
                response = connection.getresponse()
                payload = response.read()
                if response.status == 200:
                    acked = self.ack(thread, i, json.loads(payload))
                    with self._lock:
                        self.acked.append(acked)
                else:
                    with self._lock:
                        self.errors.append((response.status, payload.decode(errors="replace")))
                i += 1
            self.dropped.append("done")
        except (OSError, http.client.HTTPException) as exc:
            self.dropped.append(f"{type(exc).__name__} awaiting {phase}")
        finally:
            connection.close()
