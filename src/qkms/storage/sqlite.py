"""The embedded default store: SQLite in the data directory, WAL with synchronous=FULL."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
from qkms.storage.schema import MIGRATIONS

__all__ = ["SqliteKeyStore"]

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
_GRANT_COLUMNS = (
    "grant_id, key_id, key_account_id, name, grantee_principal, retiring_principal, "
    "operations, issuing_account, creation_date"
)
# Change-feed rows only need to outlive the slowest poller; an hour is generous.
_CHANGE_RETENTION_SECONDS = 3600.0


def _key_row(values: tuple[Any, ...]) -> KeyRow:
    return KeyRow(*values)


def _grant_row(values: tuple[Any, ...]) -> GrantRow:
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


class SqliteKeyStore:
    """One connection per thread; writes take the write lock up front (BEGIN IMMEDIATE).

    A commit returns only after SQLite has fsynced the WAL (synchronous=FULL), so an
    acknowledged change survives a crash or power loss. Lock waits are bounded by the
    store deadline and surface as StoreTimeoutError, never as a hang.
    """

    def __init__(self, path: Path, deadline_seconds: float = 2.0) -> None:
        self._path = path
        self._deadline = deadline_seconds
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

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

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._errors():
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._errors():
            return self._conn().execute(sql, params).fetchall()

    @staticmethod
    def _record_change(conn: sqlite3.Connection, entity: str, entity_id: str) -> None:
        conn.execute(
            "INSERT INTO changes (entity, entity_id, changed_at) VALUES (?, ?, ?)",
            (entity, entity_id, time.time()),
        )

    # --- lifecycle --------------------------------------------------------------------------
    def migrate(self) -> int:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = int(row[0]) if row and row[0] is not None else 0
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
                current = version
        return current

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

    # --- meta -------------------------------------------------------------------------------
    def get_meta(self, name: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def put_meta_if_absent(self, name: str, value: str) -> str:
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)", (name, value))
            row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def delete_meta(self, name: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM meta WHERE name = ?", (name,))

    # --- root key rotation ------------------------------------------------------------------
    def list_key_ids(self, after_key_id: str | None, limit: int) -> list[str]:
        rows = self._read(
            "SELECT key_id FROM keys WHERE key_id > ? ORDER BY key_id LIMIT ?",
            (after_key_id or "", limit),
        )
        return [str(r[0]) for r in rows]

    def list_access_key_ids(self, after_id: str | None, limit: int) -> list[str]:
        rows = self._read(
            "SELECT access_key_id FROM access_keys WHERE access_key_id > ? "
            "ORDER BY access_key_id LIMIT ?",
            (after_id or "", limit),
        )
        return [str(r[0]) for r in rows]

    def update_access_key_secret(self, access_key_id: str, wrapped_secret: bytes) -> bool:
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE access_keys SET wrapped_secret = ? WHERE access_key_id = ?",
                (wrapped_secret, access_key_id),
            ).rowcount
            if changed:
                self._record_change(conn, "access_key", access_key_id)
        return bool(changed)

    def list_import_parameter_key_ids(self) -> list[str]:
        return [
            str(r[0]) for r in self._read("SELECT key_id FROM import_parameters ORDER BY key_id")
        ]

    # --- keys -------------------------------------------------------------------------------
    def insert_key(self, row: KeyRow) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO keys ({_KEY_COLUMNS}) VALUES ({', '.join('?' * 15)})",
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
            self._record_change(conn, "key", row.key_id)

    def get_key(self, key_id: str) -> KeyRow | None:
        rows = self._read(f"SELECT {_KEY_COLUMNS} FROM keys WHERE key_id = ?", (key_id,))
        return _key_row(rows[0]) if rows else None

    def update_key(self, key_id: str, change: Callable[[KeyRow], KeyRow]) -> KeyRow | None:
        with self._write() as conn:
            found = conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM keys WHERE key_id = ?", (key_id,)
            ).fetchone()
            if found is None:
                return None
            new = change(_key_row(found))
            conn.execute(
                "UPDATE keys SET description = ?, key_state = ?, deletion_date = ?, "
                "public_key = ?, wrapped_material = ?, policy = ?, tags = ?, "
                "expiration_model = ?, valid_to = ? WHERE key_id = ?",
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
            self._record_change(conn, "key", key_id)
        return new

    def list_keys(self, account_id: str, after_key_id: str | None, limit: int) -> list[KeyRow]:
        rows = self._read(
            f"SELECT {_KEY_COLUMNS} FROM keys WHERE account_id = ? AND key_id > ? "
            "ORDER BY key_id LIMIT ?",
            (account_id, after_key_id or "", limit),
        )
        return [_key_row(r) for r in rows]

    def delete_keys_due(self, now: float) -> list[str]:
        with self._write() as conn:
            due = [
                str(r[0])
                for r in conn.execute(
                    "SELECT key_id FROM keys WHERE key_state = 'PendingDeletion' "
                    "AND deletion_date IS NOT NULL AND deletion_date <= ?",
                    (now,),
                ).fetchall()
            ]
            for key_id in due:
                conn.execute("DELETE FROM grants WHERE key_id = ?", (key_id,))
                conn.execute("DELETE FROM aliases WHERE key_id = ?", (key_id,))
                conn.execute("DELETE FROM import_parameters WHERE key_id = ?", (key_id,))
                conn.execute("DELETE FROM keys WHERE key_id = ?", (key_id,))
                self._record_change(conn, "key", key_id)
            conn.execute(
                "DELETE FROM changes WHERE changed_at < ?",
                (time.time() - _CHANGE_RETENTION_SECONDS,),
            )
        return due

    def keys_with_expired_material(self, now: float) -> list[str]:
        rows = self._read(
            "SELECT key_id FROM keys WHERE valid_to IS NOT NULL AND valid_to <= ? "
            "AND wrapped_material IS NOT NULL ORDER BY key_id",
            (now,),
        )
        return [str(r[0]) for r in rows]

    # --- principals -------------------------------------------------------------------------
    def ensure_account(self, account_id: str, now: float) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO accounts (account_id, created_at) VALUES (?, ?)",
                (account_id, now),
            )

    def ensure_user(self, account_id: str, user_name: str, now: float) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO users (account_id, user_name, created_at) VALUES (?, ?, ?)",
                (account_id, user_name, now),
            )

    def insert_access_key(self, row: AccessKeyRow) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO access_keys (access_key_id, account_id, user_name, wrapped_secret, "
                "status, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    row.access_key_id,
                    row.account_id,
                    row.user_name,
                    row.wrapped_secret,
                    row.status,
                    row.created_at,
                ),
            )
            self._record_change(conn, "access_key", row.access_key_id)

    def get_access_key(self, access_key_id: str) -> AccessKeyRow | None:
        rows = self._read(
            "SELECT access_key_id, account_id, user_name, wrapped_secret, status, created_at "
            "FROM access_keys WHERE access_key_id = ?",
            (access_key_id,),
        )
        return AccessKeyRow(*rows[0]) if rows else None

    def get_user(self, account_id: str, user_name: str) -> UserRow | None:
        rows = self._read(
            "SELECT account_id, user_name, created_at FROM users WHERE account_id = ? AND user_name = ?",
            (account_id, user_name),
        )
        return UserRow(*rows[0]) if rows else None

    def list_users(self, account_id: str) -> list[UserRow]:
        rows = self._read(
            "SELECT account_id, user_name, created_at FROM users WHERE account_id = ? ORDER BY user_name",
            (account_id,),
        )
        return [UserRow(*r) for r in rows]

    def list_access_keys(self, account_id: str, user_name: str) -> list[AccessKeyRow]:
        rows = self._read(
            "SELECT access_key_id, account_id, user_name, wrapped_secret, status, created_at "
            "FROM access_keys WHERE account_id = ? AND user_name = ? ORDER BY created_at",
            (account_id, user_name),
        )
        return [AccessKeyRow(*r) for r in rows]

    def set_access_key_status(self, access_key_id: str, status: str) -> bool:
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE access_keys SET status = ? WHERE access_key_id = ?", (status, access_key_id)
            ).rowcount
            if changed:
                self._record_change(conn, "access_key", access_key_id)
        return bool(changed)

    def delete_access_key(self, access_key_id: str) -> bool:
        with self._write() as conn:
            changed = conn.execute(
                "DELETE FROM access_keys WHERE access_key_id = ?", (access_key_id,)
            ).rowcount
            if changed:
                self._record_change(conn, "access_key", access_key_id)
        return bool(changed)

    # --- identity policies ------------------------------------------------------------------
    def put_user_policy(self, row: UserPolicyRow, now: float) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO user_policies (account_id, user_name, policy_name, document, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, user_name, policy_name) "
                "DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                (row.account_id, row.user_name, row.policy_name, row.document, now),
            )
            self._record_change(conn, "user", f"{row.account_id}:{row.user_name}")

    def delete_user_policy(self, account_id: str, user_name: str, policy_name: str) -> bool:
        with self._write() as conn:
            changed = conn.execute(
                "DELETE FROM user_policies WHERE account_id = ? AND user_name = ? AND policy_name = ?",
                (account_id, user_name, policy_name),
            ).rowcount
            if changed:
                self._record_change(conn, "user", f"{account_id}:{user_name}")
        return bool(changed)

    def list_user_policies(self, account_id: str, user_name: str) -> list[UserPolicyRow]:
        rows = self._read(
            "SELECT account_id, user_name, policy_name, document FROM user_policies "
            "WHERE account_id = ? AND user_name = ? ORDER BY policy_name",
            (account_id, user_name),
        )
        return [UserPolicyRow(*r) for r in rows]

    # --- grants -----------------------------------------------------------------------------
    def insert_grant(self, row: GrantRow) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO grants ({_GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            self._record_change(conn, "grant", row.key_id)

    def get_grant(self, grant_id: str) -> GrantRow | None:
        rows = self._read(f"SELECT {_GRANT_COLUMNS} FROM grants WHERE grant_id = ?", (grant_id,))
        return _grant_row(rows[0]) if rows else None

    def list_grants(self, key_id: str) -> list[GrantRow]:
        rows = self._read(
            f"SELECT {_GRANT_COLUMNS} FROM grants WHERE key_id = ? ORDER BY creation_date, grant_id",
            (key_id,),
        )
        return [_grant_row(r) for r in rows]

    def list_grants_by_retiring_principal(self, principal: str) -> list[GrantRow]:
        rows = self._read(
            f"SELECT {_GRANT_COLUMNS} FROM grants WHERE retiring_principal = ? "
            "ORDER BY creation_date, grant_id",
            (principal,),
        )
        return [_grant_row(r) for r in rows]

    def delete_grant(self, grant_id: str) -> GrantRow | None:
        with self._write() as conn:
            found = conn.execute(
                f"SELECT {_GRANT_COLUMNS} FROM grants WHERE grant_id = ?", (grant_id,)
            ).fetchone()
            if found is None:
                return None
            conn.execute("DELETE FROM grants WHERE grant_id = ?", (grant_id,))
            row = _grant_row(found)
            self._record_change(conn, "grant", row.key_id)
        return row

    # --- aliases ----------------------------------------------------------------------------
    def insert_alias(self, row: AliasRow) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO aliases ({_ALIAS_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (
                    row.account_id,
                    row.alias_name,
                    row.key_id,
                    row.creation_date,
                    row.last_updated_date,
                ),
            )
            self._record_change(conn, "alias", f"{row.account_id}:{row.alias_name}")

    def get_alias(self, account_id: str, alias_name: str) -> AliasRow | None:
        rows = self._read(
            f"SELECT {_ALIAS_COLUMNS} FROM aliases WHERE account_id = ? AND alias_name = ?",
            (account_id, alias_name),
        )
        return AliasRow(*rows[0]) if rows else None

    def update_alias(self, account_id: str, alias_name: str, key_id: str, now: float) -> bool:
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE aliases SET key_id = ?, last_updated_date = ? "
                "WHERE account_id = ? AND alias_name = ?",
                (key_id, now, account_id, alias_name),
            ).rowcount
            if changed:
                self._record_change(conn, "alias", f"{account_id}:{alias_name}")
        return bool(changed)

    def delete_alias(self, account_id: str, alias_name: str) -> bool:
        with self._write() as conn:
            changed = conn.execute(
                "DELETE FROM aliases WHERE account_id = ? AND alias_name = ?",
                (account_id, alias_name),
            ).rowcount
            if changed:
                self._record_change(conn, "alias", f"{account_id}:{alias_name}")
        return bool(changed)

    def list_aliases(
        self, account_id: str, key_id: str | None, after_alias: str | None, limit: int
    ) -> list[AliasRow]:
        sql = f"SELECT {_ALIAS_COLUMNS} FROM aliases WHERE account_id = ? AND alias_name > ?"
        params: tuple[Any, ...] = (account_id, after_alias or "")
        if key_id is not None:
            sql += " AND key_id = ?"
            params += (key_id,)
        rows = self._read(sql + " ORDER BY alias_name LIMIT ?", (*params, limit))
        return [AliasRow(*r) for r in rows]

    # --- import of key material -------------------------------------------------------------
    def put_import_parameters(self, row: ImportParametersRow) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM import_parameters WHERE key_id = ?", (row.key_id,))
            conn.execute(
                f"INSERT INTO import_parameters ({_IMPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
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

    def get_import_parameters(self, key_id: str) -> ImportParametersRow | None:
        rows = self._read(
            f"SELECT {_IMPORT_COLUMNS} FROM import_parameters WHERE key_id = ?", (key_id,)
        )
        return ImportParametersRow(*rows[0]) if rows else None

    def delete_import_parameters(self, key_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM import_parameters WHERE key_id = ?", (key_id,))

    # --- audit ------------------------------------------------------------------------------
    def append_audit_event(self, row: AuditRow) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO audit_events (event_id, event_time, event_name, account_id, "
                "error_code, resources, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
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

    def search_audit_events(
        self, since: float | None, event_name: str | None, resource: str | None, limit: int
    ) -> list[AuditRow]:
        sql = (
            "SELECT event_id, event_time, event_name, account_id, error_code, resources, record "
            "FROM audit_events WHERE event_time >= ?"
        )
        params: tuple[Any, ...] = (since if since is not None else float("-inf"),)
        if event_name is not None:
            sql += " AND event_name = ?"
            params += (event_name,)
        rows = self._read(sql + " ORDER BY event_time, event_id", params)
        found = [
            AuditRow(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), r[6]) for r in rows
        ]
        if resource is not None:
            found = [row for row in found if resource in row.resources]
        return found[:limit]

    # --- change feed ------------------------------------------------------------------------
    def latest_change(self) -> int:
        rows = self._read("SELECT COALESCE(MAX(seq), 0) FROM changes")
        return int(rows[0][0])

    def changes_since(self, seq: int, limit: int = 10000) -> list[Change]:
        rows = self._read(
            "SELECT seq, entity, entity_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        return [Change(int(r[0]), str(r[1]), str(r[2])) for r in rows]
