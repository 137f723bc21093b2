"""The SQLite store under a burst of writers from one process (many request threads at once)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from qkms.storage import SqliteKeyStore
from qkms.storage.base import StoreTimeoutError

THREADS = 48
WRITES = 20


def test_a_burst_of_writer_threads_all_commit_within_the_deadline(tmp_path: Path) -> None:
    """Each write waits its turn behind the process's other writers and commits; none is lost
    and none is starved past the deadline (the default one, 2 s, as `qkms serve` runs). What the
    writer queue gains in throughput is measured by `python -m benchmarks.sqlite_writers`."""
    store = SqliteKeyStore(tmp_path / "q.db", deadline_seconds=2.0)
    store.migrate()
    timeouts: list[str] = []

    def writer(number: int) -> None:
        for index in range(WRITES):
            try:
                store.put_meta_if_absent(f"writer-{number}-{index}", "x")
            except StoreTimeoutError as exc:
                timeouts.append(str(exc))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert timeouts == []
        assert all(
            store.get_meta(f"writer-{n}-{i}") == "x" for n in range(THREADS) for i in range(WRITES)
        )
    finally:
        store.close()


def test_a_writer_queued_past_the_deadline_gets_a_store_timeout(tmp_path: Path) -> None:
    store = SqliteKeyStore(tmp_path / "q.db", deadline_seconds=0.2)
    store.migrate()
    inside, release = threading.Event(), threading.Event()

    def long_transaction() -> None:
        def work(conn: object) -> None:
            inside.set()
            release.wait(5)

        store._write(work)

    holder = threading.Thread(target=long_transaction)
    holder.start()
    try:
        assert inside.wait(5)
        started = time.perf_counter()
        try:
            store.put_meta_if_absent("late", "x")
            outcome = "written"
        except StoreTimeoutError:
            outcome = "timeout"
        waited = time.perf_counter() - started
        assert outcome == "timeout"
        assert 0.15 < waited < 2.0  # bounded by the deadline, not by the other transaction
    finally:
        release.set()
        holder.join()
        store.close()
    assert store.get_meta("late") is None
