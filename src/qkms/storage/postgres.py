"""The shared store for several nodes: PostgreSQL through psycopg 3 and a connection pool.

`PostgresKeyStore(url, deadline_seconds, pool_size, schema)` runs the shared statements of
storage/sql.py (the same ones SqliteKeyStore runs, so the same ordering, return values and
errors) on one PostgreSQL database; this module holds only the pool, the deadlines, schema
isolation and the advisory locks.

Schema isolation: the store lives in one PostgreSQL schema, named by the `schema` argument or,
when that is None, by a `schema` query parameter of the URL
(`postgresql://host:5432/db?schema=qkms_a`; QKMS removes it before libpq sees the URL). Without
either, the server's default search_path applies (usually `public`). `migrate()` creates the
schema if needed, so several deployments or test runs can share one server.

Deadlines (DESIGN §1: never a hang), so that no call ever hangs:
- the whole call, pool acquisition included, is bounded on the client: a connection subclass
  bounds every wait on the socket by the time left, and a connection whose deadline passed is
  closed (its protocol state is unknown) and replaced by the pool;
- the server aborts sooner on its own (`statement_timeout`, `lock_timeout` at 90% of the
  deadline), so a lock wait ends cleanly and the connection is kept;
- `connect_timeout` bounds connection attempts, which pool workers make in the background.
Timeouts raise StoreTimeoutError, other failures StoreUnavailableError. A pooled connection
that died meanwhile (server restart, terminated backend) is retried once per connection on a
fresh one when it fails before any of the call's work was done; the pool reconnects by itself
when the server returns, without a restart.

Writes commit with the server's default synchronous_commit (on): durable before returning.
"""

from __future__ import annotations

import math
import threading
import time
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import psycopg.errors
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from qkms.storage.base import DuplicateError, StoreTimeoutError, StoreUnavailableError
from qkms.storage.dialect import POSTGRESQL, Connection
from qkms.storage.schema import apply_migrations
from qkms.storage.sql import SqlKeyStore

__all__ = ["PostgresKeyStore", "split_schema"]

T = TypeVar("T")

# Migrations may take longer than a request: DDL on a large table, or waiting for another
# node's migration to finish.
_MIGRATION_SECONDS = 60.0
# First keys of the two-key advisory locks; the second key is derived from the schema name.
_MIGRATION_LOCK = 0x716B6D73  # "qkms"
_CHANGE_FEED_LOCK = 0x716B6D74
_SCHEMA_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


# --- deadline-bounded connections ---------------------------------------------------------------
class _Deadline(threading.local):
    until: float | None = None


_CALL = _Deadline()


class _DeadlineExceeded(psycopg.OperationalError):
    """The store call's deadline passed while waiting on the server."""


class _DeadlineConnection(psycopg.Connection[TupleRow]):
    """A connection whose every wait on the socket ends at the running store call's deadline.

    psycopg funnels each round trip through `wait`; bounding it here covers a server that
    hangs or a network that drops packets, which server-side timeouts cannot.
    """

    def wait(
        self, gen: Generator[Any, Any, T], interval: float = 0.1, timeout: float | None = None
    ) -> T:
        until = _CALL.until
        if until is None:
            return super().wait(gen, interval, timeout)
        remaining = until - time.monotonic()
        if remaining <= 0:
            self.pgconn.finish()
            raise _DeadlineExceeded("deadline passed before the server was asked")
        try:
            return super().wait(
                gen, interval, remaining if timeout is None else min(timeout, remaining)
            )
        except psycopg.OperationalError as exc:
            if isinstance(exc, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable):
                raise  # the server ended the statement itself; the connection is fine
            if time.monotonic() >= until:
                # Mid-protocol: the connection cannot be reused. Not close(): that takes the
                # connection lock, which the waiting cursor holds.
                self.pgconn.finish()
                raise _DeadlineExceeded("deadline passed waiting for the server") from exc
            raise


class _StaleConnection(Exception):
    """A pooled connection failed before doing any work of the call: safe to try another."""


def split_schema(url: str) -> tuple[str, str | None]:
    """Remove QKMS's own `schema` query parameter from a PostgreSQL URL: (libpq URL, schema)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for name, value in query if name == "schema"), None)
    rest = urlencode([(name, value) for name, value in query if name != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema or None


def _check_schema_name(schema: str) -> str:
    if not (
        0 < len(schema) <= 63 and set(schema) <= _SCHEMA_NAME_CHARS and not schema[0].isdigit()
    ):
        raise ValueError(
            "the PostgreSQL schema name must be 1-63 characters of a-z, 0-9 and _, "
            "not starting with a digit"
        )
    return schema


def _check_login(conninfo: str) -> None:
    """Connect once before the pool does, so a refused login reads as the server's own words.

    The pool connects in the background and reports nothing but a timeout to its callers; a
    wrong role or database would start as "did not answer within 2s".
    """
    try:
        psycopg.connect(conninfo, autocommit=True).close()
    except psycopg.errors.ConnectionTimeout as exc:
        raise StoreTimeoutError(f"cannot connect to PostgreSQL: {_one_line(exc)}") from exc
    except psycopg.Error as exc:
        raise StoreUnavailableError(f"cannot connect to PostgreSQL: {_one_line(exc)}") from exc


def _one_line(exc: Exception) -> str:
    """libpq's message (it never contains the password), on one line."""
    text = " ".join(str(exc).split())
    return text.removeprefix("connection failed: ")


class PostgresKeyStore(SqlKeyStore):
    """A connection pool on one database and schema; every call is bounded by the deadline."""

    dialect = POSTGRESQL

    def __init__(
        self,
        url: str,
        deadline_seconds: float = 2.0,
        pool_size: int = 8,
        schema: str | None = None,
    ) -> None:
        libpq_url, url_schema = split_schema(url)
        self._schema = _check_schema_name(schema) if schema else None
        if self._schema is None and url_schema is not None:
            self._schema = _check_schema_name(url_schema)
        self._deadline = deadline_seconds
        # Both advisory locks are scoped to the schema, so deployments sharing a server do
        # not serialise on each other.
        self._lock_key = zlib.crc32((self._schema or "").encode()) - 2**31
        server_ms = max(1, int(deadline_seconds * 900))
        settings = [
            f"-c statement_timeout={server_ms}",
            f"-c lock_timeout={server_ms}",
            # A client that vanished mid-transaction must not hold row locks for long.
            f"-c idle_in_transaction_session_timeout={max(5000, int(deadline_seconds * 4000))}",
        ]
        if self._schema is not None:
            settings.append(f"-c search_path={self._schema}")
        params = conninfo_to_dict(libpq_url)
        options = " ".join([str(params.get("options") or ""), *settings]).strip()
        params.update(
            options=options,
            connect_timeout=max(2, math.ceil(deadline_seconds)),
            application_name=params.get("application_name") or "qkms",
        )
        self._conninfo = make_conninfo("", **params)
        self._pool: ConnectionPool[_DeadlineConnection] = ConnectionPool(
            self._conninfo,
            connection_class=_DeadlineConnection,
            kwargs={"autocommit": True},
            min_size=1,
            max_size=max(1, pool_size),
            timeout=deadline_seconds,
            # Give up a failing reconnection loop soon: the next call starts a fresh attempt,
            # so a returning server is used within seconds, not after a long backoff.
            reconnect_timeout=max(3.0, 2 * deadline_seconds),
            name=f"qkms-{self._schema or 'default'}",
            open=False,
        )
        # Opened by the first call, not here: `migrate` (the first call of every process) first
        # checks the login itself, before the pool's background attempts can only time out.
        self._pool_opened = False
        self._pool_lock = threading.Lock()

    @property
    def schema(self) -> str | None:
        return self._schema

    # --- calls and transactions -------------------------------------------------------------
    def _call(
        self,
        work: Callable[[_DeadlineConnection], T],
        *,
        write: bool,
        budget: float | None = None,
    ) -> T:
        if not self._pool_opened:
            self._open_pool()
        seconds = self._deadline if budget is None else budget
        until = time.monotonic() + seconds
        outer = _CALL.until
        _CALL.until = until
        try:
            with self._errors(seconds):
                while True:
                    remaining = min(until - time.monotonic(), self._deadline)
                    if remaining <= 0:
                        raise _DeadlineExceeded("deadline passed acquiring a connection")
                    conn = self._pool.getconn(timeout=remaining)
                    try:
                        return self._attempt(conn, work, write)
                    except _StaleConnection:
                        continue
                    finally:
                        self._pool.putconn(conn)
        finally:
            _CALL.until = outer

    def _open_pool(self) -> None:
        with self._pool_lock:
            if not self._pool_opened:
                self._pool.open(wait=False)
                self._pool_opened = True

    @staticmethod
    def _attempt(
        conn: _DeadlineConnection, work: Callable[[_DeadlineConnection], T], write: bool
    ) -> T:
        started = False
        try:
            if not write:
                return work(conn)  # one statement, nothing written: safe to repeat
            conn.execute("BEGIN")
            started = True
            result = work(conn)
            conn.execute("COMMIT")
            return result
        except _DeadlineExceeded:
            raise
        except psycopg.OperationalError as exc:
            if conn.closed and not started:
                raise _StaleConnection from exc
            PostgresKeyStore._rollback(conn)
            raise
        except BaseException:
            PostgresKeyStore._rollback(conn)
            raise

    @staticmethod
    def _rollback(conn: _DeadlineConnection) -> None:
        if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
            with suppress(psycopg.Error):
                conn.execute("ROLLBACK")

    @contextmanager
    def _errors(self, seconds: float) -> Iterator[None]:
        try:
            yield
        except psycopg.IntegrityError as exc:
            raise DuplicateError("postgres store: row already exists") from exc
        except PoolTimeout as exc:
            raise StoreTimeoutError(
                f"postgres store did not answer within {min(seconds, self._deadline):g}s "
                "(no connection to the server)"
            ) from exc
        except (
            _DeadlineExceeded,
            psycopg.errors.QueryCanceled,
            psycopg.errors.LockNotAvailable,
            psycopg.errors.ConnectionTimeout,
        ) as exc:
            raise StoreTimeoutError(
                f"postgres store did not answer within {seconds:g}s ({type(exc).__name__})"
            ) from exc
        except psycopg.Error as exc:
            primary = exc.diag.message_primary or type(exc).__name__
            raise StoreUnavailableError(f"postgres store failed: {primary}") from exc
        except Exception as exc:  # pool closed or misused: still a store failure, never a 500
            if type(exc).__module__.startswith("psycopg_pool"):
                raise StoreUnavailableError(f"postgres store failed: {exc}") from exc
            raise

    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[TupleRow]:
        return self._call(lambda conn: conn.execute(statement, params).fetchall(), write=False)

    def _write(self, work: Callable[[Connection], T]) -> T:
        return self._call(work, write=True)

    def _lock_change_feed(self, conn: Connection) -> None:
        """Make change-feed writers allocate and commit one at a time.

        PostgreSQL hands out identity values at insert time but transactions commit in any
        order, so a poller reading `seq > last` could see seq 8 committed while seq 7 is still
        in flight, and then skip 7 for good. A transaction-scoped advisory lock, taken just
        before the insert and held until commit, makes change-feed writers allocate and commit
        one at a time: a row becomes visible before the next writer can even allocate its seq,
        so the feed is gap-free in commit order. The lock covers only the tail of each write
        transaction (insert + commit), and no other lock is awaited while holding it, so it
        cannot deadlock; key writes are rare next to derives, which never write.
        """
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_CHANGE_FEED_LOCK, self._lock_key))

    # --- lifecycle --------------------------------------------------------------------------
    def migrate(self) -> int:
        """Create or upgrade the schema under an advisory lock, so concurrent starts queue."""
        if not self._pool_opened:
            _check_login(self._conninfo)

        def work(conn: _DeadlineConnection) -> int:
            timeout = f"{int(_MIGRATION_SECONDS * 1000)}ms"
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(timeout)))
            conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(timeout)))
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_MIGRATION_LOCK, self._lock_key))
            if self._schema is not None:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self._schema))
                )
            return apply_migrations(conn, self.dialect.name)

        return self._call(work, write=True, budget=max(self._deadline, _MIGRATION_SECONDS))

    def close(self) -> None:
        with self._pool_lock:
            self._pool_opened = True  # a closed pool is never reopened: later calls fail cleanly
        self._pool.close(timeout=1.0)

    def ping(self) -> None:
        self._read("SELECT 1")
