"""The embedded default store: SQLite in the data directory, WAL with synchronous=FULL."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from qkms.storage.base import DuplicateError, StoreTimeoutError, StoreUnavailableError
from qkms.storage.dialect import SQLITE, Connection
from qkms.storage.schema import apply_migrations
from qkms.storage.sql import SqlKeyStore

__all__ = ["SqliteKeyStore"]

T = TypeVar("T")


class _Translating:
    """A connection for the shared statements: they are written with `%s`, sqlite3 reads `?`."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, statement: str, params: Sequence[Any] = (), /) -> sqlite3.Cursor:
        return self._conn.execute(SQLITE.prepare(statement), params)


# Writes per transaction at most: a batch stays short enough that its first write's caller is
# not kept long past its own work.
_MAX_BATCH = 64


class _PendingWrite(Generic[T]):
    """One thread's write, queued for the next transaction, and its outcome once committed."""

    __slots__ = ("batch_error", "done", "error", "result", "taken", "work")

    def __init__(self, work: Callable[[Connection], T]) -> None:
        self.work = work
        self.taken = False  # a batch has it (set under the queue lock)
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.batch_error = False  # the error is the whole batch's, shared with its other writes

    def outcome(self) -> T:
        error = self.error
        if error is None:
            return cast(T, self.result)
        if self.batch_error:
            # One exception object raised in several threads would share one traceback: each
            # gets a copy (an exception type that cannot be rebuilt from its args goes as is).
            try:
                copy = type(error)(*error.args)
            except Exception:
                raise error from None
            raise copy from error
        raise error


class SqliteKeyStore(SqlKeyStore):
    """One connection per thread; writes take the write lock up front (BEGIN IMMEDIATE), and
    concurrent writes of this process share one transaction and one commit (group commit).

    A write returns only after SQLite has fsynced the WAL (synchronous=FULL), so an
    acknowledged change survives a crash or power loss. Lock waits are bounded by the
    store deadline and surface as StoreTimeoutError, never as a hang.
    """

    dialect = SQLITE

    def __init__(self, path: Path, deadline_seconds: float = 2.0) -> None:
        self._path = path
        self._deadline = deadline_seconds
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # This process's writers queue here, so at most one of its threads waits on SQLite's
        # file lock. SQLite's own busy handler retries by sleeping up to 100 ms at a time and
        # favours nobody: with a dozen threads contending, some slept past the deadline while
        # others wrote (StoreTimeoutError under a CreateKey burst). A lock wait here wakes in
        # turn, the moment the writer before it commits.
        self._writer = threading.Lock()
        # Writes waiting for the next transaction, oldest first (group commit, see _write).
        self._queue: list[_PendingWrite[Any]] = []
        self._queue_lock = threading.Lock()
        self._writer_conn: sqlite3.Connection | None = None  # writer lock held to use it

    # --- connection and transactions --------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, for reads."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _write_conn(self) -> sqlite3.Connection:
        """The process's one connection for writes, used under the writer lock by whichever
        thread leads a batch. One connection, not one per thread: SQLite drops a connection's
        page cache whenever another connection has written, so writes spread over the request
        threads' connections re-read their pages on nearly every write."""
        conn = self._writer_conn
        if conn is None:
            conn = self._writer_conn = self._connect()
        return conn

    def _connect(self) -> sqlite3.Connection:
        self._create_private()
        conn = sqlite3.connect(
            self._path, timeout=self._deadline, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._deadline * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        with self._lock:
            self._connections.append(conn)
        return conn

    def _create_private(self) -> None:
        """Create the database file 0600 from its first byte, whatever the umask.

        SQLite gives the -wal and -shm files the database file's mode. O_EXCL matters: closing
        any descriptor of an open database drops every POSIX lock this process holds on it
        (SQLite's "posix advisory locks" caveat), so an existing file is never opened here.
        """
        try:
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            return
        os.close(fd)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise DuplicateError("sqlite store: row already exists") from exc
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                raise StoreTimeoutError(
                    f"sqlite store did not answer within {self._deadline:g}s (database is locked)"
                ) from exc
            raise StoreUnavailableError(f"sqlite store failed: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"sqlite store failed: {type(exc).__name__}") from exc
        except OSError as exc:  # creating the database file (see _conn)
            raise StoreUnavailableError(
                f"sqlite store failed: cannot open {self._path}: {exc.strerror}"
            ) from exc

    def _write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in a write transaction, possibly with other threads' writes (group commit).

        Each write of this process joins a queue; whichever thread takes the writer lock runs
        everything queued so far in one transaction, each write under its own savepoint, and
        commits once: the WAL's fsync (about a millisecond on a real disk) is paid per batch,
        not per write. A write that raises is rolled back to its savepoint alone and gets its
        own error; a failed COMMIT fails every write of the batch. Nobody learns of success
        before the COMMIT is durable."""
        pending = _PendingWrite(work)
        with self._queue_lock:
            self._queue.append(pending)
        if not self._writer.acquire(timeout=self._deadline):
            with self._queue_lock:
                if not pending.taken:
                    self._queue.remove(pending)
                    raise StoreTimeoutError(
                        f"sqlite store did not answer within {self._deadline:g}s (writers queued)"
                    )
            pending.done.wait()  # a batch took it while we waited: it finishes shortly
            return pending.outcome()
        try:
            while not pending.taken:  # lead batches until ours has run (FIFO)
                with self._queue_lock:
                    batch = self._queue[:_MAX_BATCH]
                    del self._queue[:_MAX_BATCH]
                    for queued in batch:
                        queued.taken = True
                self._commit_batch(batch)
        finally:
            self._writer.release()
        return pending.outcome()

    def _commit_batch(self, batch: list[_PendingWrite[Any]]) -> None:
        """One transaction for `batch`; each write's result or error lands on its entry."""
        try:
            with self._errors():
                conn = self._write_conn()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if len(batch) == 1:  # alone: no savepoint needed, its error aborts all
                        self._run_alone(conn, batch[0])
                    else:
                        for queued in batch:
                            self._run_in_savepoint(conn, queued)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except BaseException as exc:
            for queued in batch:
                if queued.error is None:  # its own error stands: nothing of it was written
                    queued.result, queued.error, queued.batch_error = None, exc, True
        finally:
            for queued in batch:
                queued.done.set()

    def _run_alone(self, conn: sqlite3.Connection, queued: _PendingWrite[Any]) -> None:
        try:
            with self._errors():
                queued.result = queued.work(_Translating(conn))
        except BaseException as exc:
            queued.error = exc  # its own error, raised as is
            raise

    def _run_in_savepoint(self, conn: sqlite3.Connection, queued: _PendingWrite[Any]) -> None:
        conn.execute("SAVEPOINT queued_write")
        try:
            with self._errors():
                queued.result = queued.work(_Translating(conn))
        except Exception as exc:
            queued.error = exc
            conn.execute("ROLLBACK TO queued_write")
        conn.execute("RELEASE queued_write")

    def _lock_change_feed(self, conn: Connection) -> None:
        pass  # write transactions already run one at a time: BEGIN IMMEDIATE takes the lock

    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._errors():
            return self._conn().execute(SQLITE.prepare(statement), params).fetchall()

    # --- lifecycle --------------------------------------------------------------------------
    def migrate(self) -> int:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self._write(lambda conn: apply_migrations(conn, self.dialect.name))

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._connections.clear()
        self._local = threading.local()
        self._writer_conn = None

    def ping(self) -> None:
        self._read("SELECT 1")
