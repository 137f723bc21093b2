"""The shared store for several nodes: PostgreSQL through psycopg 3 and a connection pool.

`PostgresKeyStore(url, deadline_seconds, pool_size, schema)` keeps the KeyStore contract of
SqliteKeyStore (same ordering, return values and errors) on one PostgreSQL database.

Schema isolation: the store lives in one PostgreSQL schema, named by the `schema` argument or,
when that is None, by a `schema` query parameter of the URL
(`postgresql://host:5432/db?schema=qkms_a`; QKMS removes it before libpq sees the URL). Without
either, the server's default search_path applies (usually `public`). `migrate()` creates the
schema if needed, so several deployments or test runs can share one server.

Deadlines (DESIGN §3, issue #5.4), so that no call ever hangs:
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

import json
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

from qkms.storage.base import (
    AccessKeyRow,
    AliasRow,
    AuditRow,
    Change,
    DuplicateError,
    GrantRow,
    ImportParametersRow,
    KeyRow,
    StoreTimeoutError,
    StoreUnavailableError,
    UserPolicyRow,
    UserRow,
)
from qkms.storage.schema import MIGRATIONS, for_dialect

__all__ = ["PostgresKeyStore", "split_schema"]

T = TypeVar("T")

_KEY_COLUMNS = (
    "key_id, account_id, description, key_usage, key_spec, origin, key_state, "
    "creation_date, deletion_date, public_key, wrapped_material, policy, tags, "
    "expiration_model, valid_to"
)
_ALIAS_COLUMNS = "account_id, alias_name, key_id, creation_date, last_updated_date"
_IMPORT_COLUMNS = (
    "key_id, wrapping_key_spec, wrapping_algorithm, wrapped_wrapping_key, token_id, "
    "created_at, expires_at"
)
_AUDIT_COLUMNS = "event_id, event_time, event_name, account_id, error_code, resources, record"
_GRANT_COLUMNS = (
    "grant_id, key_id, key_account_id, name, grantee_principal, retiring_principal, "
    "operations, issuing_account, creation_date"
)
_ACCESS_KEY_COLUMNS = "access_key_id, account_id, user_name, wrapped_secret, status, created_at"
# Change-feed rows only need to outlive the slowest poller; an hour is generous.
_CHANGE_RETENTION_SECONDS = 3600.0
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


# --- rows ---------------------------------------------------------------------------------------
def _key_row(values: Sequence[Any]) -> KeyRow:
    return KeyRow(*values)


def _grant_row(values: Sequence[Any]) -> GrantRow:
    (grant_id, key_id, key_account, name, grantee, retiring, operations, issuing, created) = values
    return GrantRow(
        grant_id=grant_id,
        key_id=key_id,
        key_account_id=key_account,
        name=name,
        grantee_principal=grantee,
        retiring_principal=retiring,
        operations=tuple(json.loads(operations)),
        issuing_account=issuing,
        creation_date=created,
    )


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


class PostgresKeyStore:
    """A connection pool on one database and schema; every call is bounded by the deadline."""

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

    def _read(self, query: str, params: Sequence[Any] = ()) -> list[TupleRow]:
        return self._call(lambda conn: conn.execute(query, params).fetchall(), write=False)

    def _write(self, work: Callable[[_DeadlineConnection], T]) -> T:
        return self._call(work, write=True)

    def _record_changes(
        self, conn: psycopg.Connection[TupleRow], changes: Sequence[tuple[str, str]]
    ) -> None:
        """Append to the change feed; must be the last statements of the transaction.

        PostgreSQL hands out identity values at insert time but transactions commit in any
        order, so a poller reading `seq > last` could see seq 8 committed while seq 7 is still
        in flight, and then skip 7 for good. A transaction-scoped advisory lock, taken just
        before the insert and held until commit, makes change-feed writers allocate and commit
        one at a time: a row becomes visible before the next writer can even allocate its seq,
        so the feed is gap-free in commit order. The lock covers only the tail of each write
        transaction (insert + commit), and no other lock is awaited while holding it, so it
        cannot deadlock; key writes are rare next to derives, which never write.
        """
        if not changes:
            return
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_CHANGE_FEED_LOCK, self._lock_key))
        now = time.time()
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO changes (entity, entity_id, changed_at) VALUES (%s, %s, %s)",
                [(entity, entity_id, now) for entity, entity_id in changes],
            )

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
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = int(row[0]) if row and row[0] is not None else 0
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    conn.execute(for_dialect(statement, "postgresql"))
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
                current = version
            return current

        return self._call(work, write=True, budget=max(self._deadline, _MIGRATION_SECONDS))

    def close(self) -> None:
        with self._pool_lock:
            self._pool_opened = True  # a closed pool is never reopened: later calls fail cleanly
        self._pool.close(timeout=1.0)

    def ping(self) -> None:
        self._read("SELECT 1")

    # --- meta -------------------------------------------------------------------------------
    def get_meta(self, name: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE name = %s", (name,))
        return str(rows[0][0]) if rows else None

    def put_meta_if_absent(self, name: str, value: str) -> str:
        def work(conn: _DeadlineConnection) -> str:
            conn.execute(
                "INSERT INTO meta (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                (name, value),
            )
            row = conn.execute("SELECT value FROM meta WHERE name = %s", (name,)).fetchone()
            assert row is not None
            return str(row[0])

        return self._write(work)

    def set_meta(self, name: str, value: str) -> None:
        def work(conn: _DeadlineConnection) -> None:
            conn.execute(
                "INSERT INTO meta (name, value) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

        self._write(work)

    def delete_meta(self, name: str) -> None:
        def work(conn: _DeadlineConnection) -> None:
            conn.execute("DELETE FROM meta WHERE name = %s", (name,))

        self._write(work)

    # --- root key rotation ------------------------------------------------------------------
    def list_key_ids(self, after_key_id: str | None, limit: int) -> list[str]:
        rows = self._read(
            "SELECT key_id FROM keys WHERE key_id > %s ORDER BY key_id LIMIT %s",
            (after_key_id or "", limit),
        )
        return [str(r[0]) for r in rows]

    def list_access_key_ids(self, after_id: str | None, limit: int) -> list[str]:
        rows = self._read(
            "SELECT access_key_id FROM access_keys WHERE access_key_id > %s "
            "ORDER BY access_key_id LIMIT %s",
            (after_id or "", limit),
        )
        return [str(r[0]) for r in rows]

    def update_access_key_secret(self, access_key_id: str, wrapped_secret: bytes) -> bool:
        return self._change_if_any(
            "UPDATE access_keys SET wrapped_secret = %s WHERE access_key_id = %s",
            (wrapped_secret, access_key_id),
            "access_key",
            access_key_id,
        )

    def list_import_parameter_key_ids(self) -> list[str]:
        rows = self._read("SELECT key_id FROM import_parameters ORDER BY key_id")
        return [str(r[0]) for r in rows]

    # --- keys -------------------------------------------------------------------------------
    def insert_key(self, row: KeyRow) -> None:
        def work(conn: _DeadlineConnection) -> None:
            conn.execute(
                f"INSERT INTO keys ({_KEY_COLUMNS}) VALUES ({', '.join(['%s'] * 15)})",
                (
                    row.key_id,
                    row.account_id,
                    row.description,
                    row.key_usage,
                    row.key_spec,
                    row.origin,
                    row.key_state,
                    row.creation_date,
                    row.deletion_date,
                    row.public_key,
                    row.wrapped_material,
                    row.policy,
                    row.tags,
                    row.expiration_model,
                    row.valid_to,
                ),
            )
            self._record_changes(conn, [("key", row.key_id)])

        self._write(work)

    def get_key(self, key_id: str) -> KeyRow | None:
        rows = self._read(f"SELECT {_KEY_COLUMNS} FROM keys WHERE key_id = %s", (key_id,))
        return _key_row(rows[0]) if rows else None

    def update_key(self, key_id: str, change: Callable[[KeyRow], KeyRow]) -> KeyRow | None:
        def work(conn: _DeadlineConnection) -> KeyRow | None:
            found = conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM keys WHERE key_id = %s FOR UPDATE", (key_id,)
            ).fetchone()
            if found is None:
                return None
            new = change(_key_row(found))
            conn.execute(
                "UPDATE keys SET description = %s, key_state = %s, deletion_date = %s, "
                "public_key = %s, wrapped_material = %s, policy = %s, tags = %s, "
                "expiration_model = %s, valid_to = %s WHERE key_id = %s",
                (
                    new.description,
                    new.key_state,
                    new.deletion_date,
                    new.public_key,
                    new.wrapped_material,
                    new.policy,
                    new.tags,
                    new.expiration_model,
                    new.valid_to,
                    key_id,
                ),
            )
            self._record_changes(conn, [("key", key_id)])
            return new

        return self._write(work)

    def list_keys(self, account_id: str, after_key_id: str | None, limit: int) -> list[KeyRow]:
        rows = self._read(
            f"SELECT {_KEY_COLUMNS} FROM keys WHERE account_id = %s AND key_id > %s "
            "ORDER BY key_id LIMIT %s",
            (account_id, after_key_id or "", limit),
        )
        return [_key_row(r) for r in rows]

    def delete_keys_due(self, now: float) -> list[str]:
        def work(conn: _DeadlineConnection) -> list[str]:
            # FOR UPDATE re-checks each row after waiting for a concurrent writer, so a key
            # whose deletion was just cancelled is not destroyed.
            due = [
                str(r[0])
                for r in conn.execute(
                    "SELECT key_id FROM keys WHERE key_state = 'PendingDeletion' "
                    "AND deletion_date IS NOT NULL AND deletion_date <= %s "
                    "ORDER BY key_id FOR UPDATE",
                    (now,),
                ).fetchall()
            ]
            if due:
                conn.execute("DELETE FROM grants WHERE key_id = ANY(%s)", (due,))
                conn.execute("DELETE FROM aliases WHERE key_id = ANY(%s)", (due,))
                conn.execute("DELETE FROM import_parameters WHERE key_id = ANY(%s)", (due,))
                conn.execute("DELETE FROM keys WHERE key_id = ANY(%s)", (due,))
            conn.execute(
                "DELETE FROM changes WHERE changed_at < %s",
                (time.time() - _CHANGE_RETENTION_SECONDS,),
            )
            self._record_changes(conn, [("key", key_id) for key_id in due])
            return due

        return self._write(work)

    def keys_with_expired_material(self, now: float) -> list[str]:
        rows = self._read(
            "SELECT key_id FROM keys WHERE valid_to IS NOT NULL AND valid_to <= %s "
            "AND wrapped_material IS NOT NULL ORDER BY key_id",
            (now,),
        )
        return [str(r[0]) for r in rows]

    # --- principals -------------------------------------------------------------------------
    def ensure_account(self, account_id: str, now: float) -> None:
        self._write(
            lambda conn: conn.execute(
                "INSERT INTO accounts (account_id, created_at) VALUES (%s, %s) "
                "ON CONFLICT (account_id) DO NOTHING",
                (account_id, now),
            )
        )

    def ensure_user(self, account_id: str, user_name: str, now: float) -> None:
        self._write(
            lambda conn: conn.execute(
                "INSERT INTO users (account_id, user_name, created_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (account_id, user_name) DO NOTHING",
                (account_id, user_name, now),
            )
        )

    def insert_access_key(self, row: AccessKeyRow) -> None:
        def work(conn: _DeadlineConnection) -> None:
            conn.execute(
                f"INSERT INTO access_keys ({_ACCESS_KEY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    row.access_key_id,
                    row.account_id,
                    row.user_name,
                    row.wrapped_secret,
                    row.status,
                    row.created_at,
                ),
            )
            self._record_changes(conn, [("access_key", row.access_key_id)])

        self._write(work)

    def get_access_key(self, access_key_id: str) -> AccessKeyRow | None:
        rows = self._read(
            f"SELECT {_ACCESS_KEY_COLUMNS} FROM access_keys WHERE access_key_id = %s",
            (access_key_id,),
        )
        return AccessKeyRow(*rows[0]) if rows else None

    def get_user(self, account_id: str, user_name: str) -> UserRow | None:
        rows = self._read(
            "SELECT account_id, user_name, created_at FROM users "
            "WHERE account_id = %s AND user_name = %s",
            (account_id, user_name),
        )
        return UserRow(*rows[0]) if rows else None

    def list_users(self, account_id: str) -> list[UserRow]:
        rows = self._read(
            "SELECT account_id, user_name, created_at FROM users WHERE account_id = %s "
            "ORDER BY user_name",
            (account_id,),
        )
        return [UserRow(*r) for r in rows]

    def list_access_keys(self, account_id: str, user_name: str) -> list[AccessKeyRow]:
        rows = self._read(
            f"SELECT {_ACCESS_KEY_COLUMNS} FROM access_keys "
            "WHERE account_id = %s AND user_name = %s ORDER BY created_at, access_key_id",
            (account_id, user_name),
        )
        return [AccessKeyRow(*r) for r in rows]

    def _change_if_any(
        self, query: str, params: Sequence[Any], entity: str, entity_id: str
    ) -> bool:
        def work(conn: _DeadlineConnection) -> bool:
            changed = conn.execute(query, params).rowcount > 0
            if changed:
                self._record_changes(conn, [(entity, entity_id)])
            return changed

        return self._write(work)

    def set_access_key_status(self, access_key_id: str, status: str) -> bool:
        return self._change_if_any(
            "UPDATE access_keys SET status = %s WHERE access_key_id = %s",
            (status, access_key_id),
            "access_key",
            access_key_id,
        )

    def delete_access_key(self, access_key_id: str) -> bool:
        return self._change_if_any(
            "DELETE FROM access_keys WHERE access_key_id = %s",
            (access_key_id,),
            "access_key",
            access_key_id,
        )

    # --- identity policies ------------------------------------------------------------------
    def put_user_policy(self, row: UserPolicyRow, now: float) -> None:
        def work(conn: _DeadlineConnection) -> None:
            conn.execute(
                "INSERT INTO user_policies (account_id, user_name, policy_name, document, "
                "updated_at) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (account_id, user_name, policy_name) "
                "DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                (row.account_id, row.user_name, row.policy_name, row.document, now),
            )
            self._record_changes(conn, [("user", f"{row.account_id}:{row.user_name}")])

        self._write(work)

    def delete_user_policy(self, account_id: str, user_name: str, policy_name: str) -> bool:
        return self._change_if_any(
            "DELETE FROM user_policies "
            "WHERE account_id = %s AND user_name = %s AND policy_name = %s",
            (account_id, user_name, policy_name),
            "user",
            f"{account_id}:{user_name}",
        )

    def list_user_policies(self, account_id: str, user_name: str) -> list[UserPolicyRow]:
        rows = self._read(
            "SELECT account_id, user_name, policy_name, document FROM user_policies "
            "WHERE account_id = %s AND user_name = %s ORDER BY policy_name",
            (account_id, user_name),
        )
        return [UserPolicyRow(*r) for r in rows]

    # --- grants -----------------------------------------------------------------------------
    def insert_grant(self, row: GrantRow) -> None:
        def work(conn: _DeadlineConnection) -> None:
            conn.execute(
                f"INSERT INTO grants ({_GRANT_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    row.grant_id,
                    row.key_id,
                    row.key_account_id,
                    row.name,
                    row.grantee_principal,
                    row.retiring_principal,
                    json.dumps(list(row.operations)),
                    row.issuing_account,
                    row.creation_date,
                ),
            )
            self._record_changes(conn, [("grant", row.key_id)])

        self._write(work)

    def get_grant(self, grant_id: str) -> GrantRow | None:
        rows = self._read(f"SELECT {_GRANT_COLUMNS} FROM grants WHERE grant_id = %s", (grant_id,))
        return _grant_row(rows[0]) if rows else None

    def list_grants(self, key_id: str) -> list[GrantRow]:
        rows = self._read(
            f"SELECT {_GRANT_COLUMNS} FROM grants WHERE key_id = %s "
            "ORDER BY creation_date, grant_id",
            (key_id,),
        )
        return [_grant_row(r) for r in rows]

    def list_grants_by_retiring_principal(self, principal: str) -> list[GrantRow]:
        rows = self._read(
            f"SELECT {_GRANT_COLUMNS} FROM grants WHERE retiring_principal = %s "
            "ORDER BY creation_date, grant_id",
            (principal,),
        )
        return [_grant_row(r) for r in rows]

    def delete_grant(self, grant_id: str) -> GrantRow | None:
        def work(conn: _DeadlineConnection) -> GrantRow | None:
            found = conn.execute(
                f"DELETE FROM grants WHERE grant_id = %s RETURNING {_GRANT_COLUMNS}", (grant_id,)
            ).fetchone()
            if found is None:
                return None
            row = _grant_row(found)
            self._record_changes(conn, [("grant", row.key_id)])
            return row

        return self._write(work)

    # --- aliases ----------------------------------------------------------------------------
    def insert_alias(self, row: AliasRow) -> None:
        def work(conn: _DeadlineConnection) -> None:
            conn.execute(
                f"INSERT INTO aliases ({_ALIAS_COLUMNS}) VALUES (%s, %s, %s, %s, %s)",
                (
                    row.account_id,
                    row.alias_name,
                    row.key_id,
                    row.creation_date,
                    row.last_updated_date,
                ),
            )
            self._record_changes(conn, [("alias", f"{row.account_id}:{row.alias_name}")])

        self._write(work)

    def get_alias(self, account_id: str, alias_name: str) -> AliasRow | None:
        rows = self._read(
            f"SELECT {_ALIAS_COLUMNS} FROM aliases WHERE account_id = %s AND alias_name = %s",
            (account_id, alias_name),
        )
        return AliasRow(*rows[0]) if rows else None

    def update_alias(self, account_id: str, alias_name: str, key_id: str, now: float) -> bool:
        return self._change_if_any(
            "UPDATE aliases SET key_id = %s, last_updated_date = %s "
            "WHERE account_id = %s AND alias_name = %s",
            (key_id, now, account_id, alias_name),
            "alias",
            f"{account_id}:{alias_name}",
        )

    def delete_alias(self, account_id: str, alias_name: str) -> bool:
        return self._change_if_any(
            "DELETE FROM aliases WHERE account_id = %s AND alias_name = %s",
            (account_id, alias_name),
            "alias",
            f"{account_id}:{alias_name}",
        )

    def list_aliases(
        self, account_id: str, key_id: str | None, after_alias: str | None, limit: int
    ) -> list[AliasRow]:
        query = f"SELECT {_ALIAS_COLUMNS} FROM aliases WHERE account_id = %s AND alias_name > %s"
        params: tuple[Any, ...] = (account_id, after_alias or "")
        if key_id is not None:
            query += " AND key_id = %s"
            params += (key_id,)
        rows = self._read(query + " ORDER BY alias_name LIMIT %s", (*params, limit))
        return [AliasRow(*r) for r in rows]

    # --- import of key material -------------------------------------------------------------
    def put_import_parameters(self, row: ImportParametersRow) -> None:
        def work(conn: _DeadlineConnection) -> None:
            conn.execute(
                f"INSERT INTO import_parameters ({_IMPORT_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key_id) DO UPDATE SET "
                "wrapping_key_spec = excluded.wrapping_key_spec, "
                "wrapping_algorithm = excluded.wrapping_algorithm, "
                "wrapped_wrapping_key = excluded.wrapped_wrapping_key, "
                "token_id = excluded.token_id, created_at = excluded.created_at, "
                "expires_at = excluded.expires_at",
                (
                    row.key_id,
                    row.wrapping_key_spec,
                    row.wrapping_algorithm,
                    row.wrapped_wrapping_key,
                    row.token_id,
                    row.created_at,
                    row.expires_at,
                ),
            )

        self._write(work)

    def get_import_parameters(self, key_id: str) -> ImportParametersRow | None:
        rows = self._read(
            f"SELECT {_IMPORT_COLUMNS} FROM import_parameters WHERE key_id = %s", (key_id,)
        )
        return ImportParametersRow(*rows[0]) if rows else None

    def delete_import_parameters(self, key_id: str) -> None:
        self._write(
            lambda conn: conn.execute("DELETE FROM import_parameters WHERE key_id = %s", (key_id,))
        )

    # --- audit ------------------------------------------------------------------------------
    def append_audit_event(self, row: AuditRow) -> None:
        self._write(
            lambda conn: conn.execute(
                f"INSERT INTO audit_events ({_AUDIT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    row.event_id,
                    row.event_time,
                    row.event_name,
                    row.account_id,
                    row.error_code,
                    json.dumps(list(row.resources)),
                    row.record,
                ),
            )
        )

    def search_audit_events(
        self, since: float | None, event_name: str | None, resource: str | None, limit: int
    ) -> list[AuditRow]:
        conditions: list[str] = []
        params: list[Any] = []
        if since is not None:
            conditions.append("event_time >= %s")
            params.append(since)
        if event_name is not None:
            conditions.append("event_name = %s")
            params.append(event_name)
        if resource is not None:
            # resources is a JSON array of ARNs; match one element exactly.
            conditions.append("resources::jsonb ? %s")
            params.append(resource)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self._read(
            f"SELECT {_AUDIT_COLUMNS} FROM audit_events{where} "
            "ORDER BY event_time, event_id LIMIT %s",
            (*params, limit),
        )
        return [AuditRow(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), r[6]) for r in rows]

    # --- change feed ------------------------------------------------------------------------
    def latest_change(self) -> int:
        rows = self._read("SELECT COALESCE(MAX(seq), 0) FROM changes")
        return int(rows[0][0])

    def changes_since(self, seq: int, limit: int = 10000) -> list[Change]:
        rows = self._read(
            "SELECT seq, entity, entity_id FROM changes WHERE seq > %s ORDER BY seq LIMIT %s",
            (seq, limit),
        )
        return [Change(int(r[0]), str(r[1]), str(r[2])) for r in rows]
