"""The embedded default store: SQLite in the data directory, WAL with synchronous=FULL."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

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


class SqliteKeyStore(SqlKeyStore):
    """One connection per thread; writes take the write lock up front (BEGIN IMMEDIATE).

    A commit returns only after SQLite has fsynced the WAL (synchronous=FULL), so an
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

    # --- connection and transactions --------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self._create_private()
            conn = sqlite3.connect(
                self._path, timeout=self._deadline, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._deadline * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
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
        if not self._writer.acquire(timeout=self._deadline):
            raise StoreTimeoutError(
                f"sqlite store did not answer within {self._deadline:g}s (writers queued)"
            )
        try:
            with self._errors():
                conn = self._conn()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(_Translating(conn))
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return result
        finally:
            self._writer.release()

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

    def ping(self) -> None:
        self._read("SELECT 1")
