"""The SQLite store under a burst of writers from one process (many request threads at once)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from qkms.storage import SqliteKeyStore
from qkms.storage.base import DuplicateError, StoreTimeoutError
from qkms.storage.dialect import Connection

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


def _hold_the_writer(store: SqliteKeyStore) -> tuple[threading.Thread, threading.Event]:
    """A write that keeps the writer lock until the returned event is set."""
    inside, release = threading.Event(), threading.Event()

    def work(conn: object) -> None:
        inside.set()
        release.wait(5)

    holder = threading.Thread(target=store._write, args=(work,))
    holder.start()
    assert inside.wait(5)
    return holder, release


def _queue_writes(
    store: SqliteKeyStore, works: list[Callable[[Connection], object]]
) -> tuple[list[threading.Thread], dict[int, object]]:
    """Start one thread per work and wait until every one of them is queued."""
    outcomes: dict[int, object] = {}

    def run(index: int) -> None:
        try:
            outcomes[index] = store._write(works[index])
        except Exception as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while len(store._queue) < len(works) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(store._queue) == len(works)
    return threads, outcomes


def test_writes_queued_behind_a_transaction_commit_together(tmp_path: Path) -> None:
    """Group commit: what queued while one transaction ran goes in the next one, all of it run
    by one thread, and each caller still gets its own result."""
    store = SqliteKeyStore(tmp_path / "q.db", deadline_seconds=2.0)
    store.migrate()
    holder, release = _hold_the_writer(store)
    ran_on: list[int] = []

    def insert(number: int) -> Callable[[Connection], object]:
        def work(conn: Connection) -> object:
            ran_on.append(threading.get_ident())
            conn.execute("INSERT INTO meta (name, value) VALUES (%s, %s)", (f"n{number}", "x"))
            return number

        return work

    threads, outcomes = _queue_writes(store, [insert(n) for n in range(12)])
    release.set()
    holder.join()
    for thread in threads:
        thread.join()
    try:
        assert outcomes == {n: n for n in range(12)}
        assert len(ran_on) == 12 and len(set(ran_on)) == 1  # one transaction, one leader
        assert all(store.get_meta(f"n{n}") == "x" for n in range(12))
    finally:
        store.close()


def test_a_failing_write_in_a_batch_is_rolled_back_alone(tmp_path: Path) -> None:
    """A write that raises after writing leaves nothing behind and gets its own error; the
    writes batched with it commit."""
    store = SqliteKeyStore(tmp_path / "q.db", deadline_seconds=2.0)
    store.migrate()
    store.set_meta("taken", "first")
    holder, release = _hold_the_writer(store)

    def good(name: str) -> Callable[[Connection], object]:
        def work(conn: Connection) -> object:
            conn.execute("INSERT INTO meta (name, value) VALUES (%s, %s)", (name, "x"))
            return name

        return work

    def half_then_duplicate(conn: Connection) -> object:
        conn.execute("INSERT INTO meta (name, value) VALUES (%s, %s)", ("half", "x"))
        conn.execute("INSERT INTO meta (name, value) VALUES (%s, %s)", ("taken", "again"))
        return "unreachable"

    class Refused(Exception):
        pass

    def half_then_refuse(conn: Connection) -> object:
        conn.execute("INSERT INTO meta (name, value) VALUES (%s, %s)", ("half2", "x"))
        raise Refused("no")

    works = [good("a"), half_then_duplicate, good("b"), half_then_refuse, good("c")]
    threads, outcomes = _queue_writes(store, works)
    release.set()
    holder.join()
    for thread in threads:
        thread.join()
    try:
        assert outcomes[0] == "a" and outcomes[2] == "b" and outcomes[4] == "c"
        assert isinstance(outcomes[1], DuplicateError)
        assert isinstance(outcomes[3], Refused)
        assert [store.get_meta(n) for n in ("a", "b", "c", "taken")] == ["x", "x", "x", "first"]
        assert store.get_meta("half") is None and store.get_meta("half2") is None
    finally:
        store.close()
