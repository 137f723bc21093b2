"""The SQL both stores run, written once: column lists, row mappers and every KeyStore statement.

`SqlKeyStore` implements the KeyStore contract over three things a backend supplies: `_read`
(one statement, no transaction), `_write` (a function run in one write transaction) and its
`dialect` (storage/dialect.py). Backends keep connections, deadlines, `migrate`, `close`, `ping`.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from qkms.storage.base import (
    AccessKeyRow,
    Change,
    GrantRow,
    ImportParametersRow,
    KeyMaterialRow,
    KeyRow,
    UserPolicyRow,
    UserRow,
    split_key_row_id,
)
from qkms.storage.dialect import Connection, SqlDialect, batches, marks
from qkms.storage.sql_aliases import AliasSql
from qkms.storage.sql_audit import AuditSql
from qkms.storage.sql_key_materials import KeyMaterialSql
from qkms.storage.sql_multi_region import MultiRegionSql
from qkms.storage.sql_stats import KeyCountSql

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["SqlKeyStore"]

T = TypeVar("T")

# Change-feed rows only need to outlive the slowest poller; an hour is generous.
_CHANGE_RETENTION_SECONDS = 3600.0


# --- rows ---------------------------------------------------------------------------------------
def _columns(row_type: type[DataclassInstance]) -> str:
    return ", ".join(field.name for field in fields(row_type))


def _values(row: DataclassInstance, **encoded: Any) -> tuple[Any, ...]:
    """The row's fields in column order; `encoded` stands in for fields stored as JSON text."""
    return tuple(encoded.get(field.name, getattr(row, field.name)) for field in fields(row))


def _grant_row(values: Sequence[Any]) -> GrantRow:
    decoded = list(values)
    decoded[6] = tuple(json.loads(decoded[6]))  # operations, stored as a JSON array
    return GrantRow(*decoded)


# A row dataclass's fields are its table's columns, in order: rows map to and from positionally.
_KEY_COLUMNS = _columns(KeyRow)
# What update_key writes back; the key's id, account, usage, spec, origin and creation date
# are fixed when it is created.
_KEY_UPDATABLE = (
    "description, key_state, deletion_date, public_key, wrapped_material, policy, tags, "
    "expiration_model, valid_to, current_key_material_id, primary_region"
).split(", ")
_KEY_SET = ", ".join(f"{column} = %s" for column in _KEY_UPDATABLE)
_ACCESS_KEY_COLUMNS = _columns(AccessKeyRow)
_USER_COLUMNS = _columns(UserRow)
_USER_POLICY_COLUMNS = _columns(UserPolicyRow)
_GRANT_COLUMNS = _columns(GrantRow)
_IMPORT_COLUMNS = _columns(ImportParametersRow)


class SqlKeyStore(KeyMaterialSql, MultiRegionSql, AliasSql, AuditSql, KeyCountSql, ABC):
    """Every KeyStore method once; a subclass supplies the dialect, `_read` and `_write`."""

    dialect: ClassVar[SqlDialect]

    @abstractmethod
    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one statement that writes nothing; return its rows."""

    @abstractmethod
    def _write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one write transaction: commit when it returns, roll back if it raises."""

    @abstractmethod
    def _lock_change_feed(self, conn: Connection) -> None:
        """Hold, until commit, what makes change-feed writers commit in `seq` order."""

    def _record_changes(self, conn: Connection, changes: Sequence[tuple[str, str]]) -> None:
        """Append to the change feed; must be the last statements of the write transaction."""
        if not changes:
            return
        self._lock_change_feed(conn)
        now = time.time()
        for batch in batches(changes):
            conn.execute(
                "INSERT INTO changes (entity, entity_id, changed_at) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(batch)),
                [value for entity, entity_id in batch for value in (entity, entity_id, now)],
            )

    def _ids(self, statement: str, params: Sequence[Any] = ()) -> list[str]:
        return [str(r[0]) for r in self._read(statement, params)]

    def _insert(
        self, table: str, row: DataclassInstance, change: tuple[str, str] | None, **encoded: Any
    ) -> None:
        """Insert `row` (its fields are the table's columns) and record `change` if any."""

        def work(conn: Connection) -> None:
            values = _values(row, **encoded)
            conn.execute(
                f"INSERT INTO {table} ({_columns(type(row))}) VALUES ({marks(len(values))})",
                values,
            )
            self._record_changes(conn, [change] if change else [])

        self._write(work)

    def _change_if_any(
        self, statement: str, params: Sequence[Any], change: tuple[str, str]
    ) -> bool:
        """Run one write; record `change` if it touched a row; say whether it did."""

        def work(conn: Connection) -> bool:
            changed = conn.execute(statement, params).rowcount > 0
            if changed:
                self._record_changes(conn, [change])
            return changed

        return self._write(work)

    # --- meta -------------------------------------------------------------------------------
    def get_meta(self, name: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE name = %s", (name,))
        return str(rows[0][0]) if rows else None

    def put_meta_if_absent(self, name: str, value: str) -> str:
        def work(conn: Connection) -> str:
            conn.execute(
                "INSERT INTO meta (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                (name, value),
            )
            return str(
                conn.execute("SELECT value FROM meta WHERE name = %s", (name,)).fetchone()[0]
            )

        return self._write(work)

    def set_meta(self, name: str, value: str) -> None:
        self._write(
            lambda conn: conn.execute(
                "INSERT INTO meta (name, value) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
        )

    def delete_meta(self, name: str) -> None:
        self._write(lambda conn: conn.execute("DELETE FROM meta WHERE name = %s", (name,)))

    # --- root key rotation ------------------------------------------------------------------
    def list_key_ids(self, after_key_id: str | None, limit: int) -> list[str]:
        return self._ids(
            "SELECT key_id FROM keys WHERE key_id > %s ORDER BY key_id LIMIT %s",
            (after_key_id or "", limit),
        )

    def list_access_key_ids(self, after_id: str | None, limit: int) -> list[str]:
        return self._ids(
            "SELECT access_key_id FROM access_keys WHERE access_key_id > %s "
            "ORDER BY access_key_id LIMIT %s",
            (after_id or "", limit),
        )

    def update_access_key_secret(self, access_key_id: str, wrapped_secret: bytes) -> bool:
        return self._change_if_any(
            "UPDATE access_keys SET wrapped_secret = %s WHERE access_key_id = %s",
            (wrapped_secret, access_key_id),
            ("access_key", access_key_id),
        )

    def list_import_parameter_key_ids(self) -> list[str]:
        return self._ids("SELECT key_id FROM import_parameters ORDER BY key_id")

    # --- keys -------------------------------------------------------------------------------
    def insert_key(self, row: KeyRow, materials: Sequence[KeyMaterialRow] = ()) -> None:
        def work(conn: Connection) -> None:
            rows: list[tuple[str, DataclassInstance]] = [("keys", row)]
            for table, values in rows + [("key_materials", m) for m in materials]:
                columns, count = _columns(type(values)), len(fields(values))
                conn.execute(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks(count)})", _values(values)
                )
            self._record_changes(conn, [("key", row.key_id)])

        self._write(work)

    def get_key(self, key_id: str) -> KeyRow | None:
        rows = self._read(f"SELECT {_KEY_COLUMNS} FROM keys WHERE key_id = %s", (key_id,))
        # The caller's string for the id, equal to the stored one: a key cached under `key_id`
        # then holds one copy of it, not two (~85 bytes of each of 100,000 cached keys).
        return KeyRow(key_id, *rows[0][1:]) if rows else None

    def update_key(self, key_id: str, change: Callable[[KeyRow], KeyRow]) -> KeyRow | None:
        def work(conn: Connection) -> KeyRow | None:
            found = conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM keys WHERE key_id = %s{self.dialect.lock_rows}",
                (key_id,),
            ).fetchone()
            if found is None:
                return None
            new = change(KeyRow(*found))
            updated = tuple(getattr(new, column) for column in _KEY_UPDATABLE)
            conn.execute(f"UPDATE keys SET {_KEY_SET} WHERE key_id = %s", (*updated, key_id))
            self._record_changes(conn, [("key", key_id)])
            return new

        return self._write(work)

    def list_keys(
        self,
        account_id: str,
        after_key_id: str | None,
        limit: int,
        region: str | None = None,
        with_unregioned: bool = True,
    ) -> list[KeyRow]:
        if region is None:
            rows = self._read(
                f"SELECT {_KEY_COLUMNS} FROM keys WHERE account_id = %s AND key_id > %s "
                "ORDER BY key_id LIMIT %s",
                (account_id, after_key_id or "", limit),
            )
            return [KeyRow(*r) for r in rows]
        unregioned = " OR region IS NULL" if with_unregioned else ""
        rows = self._read(
            f"SELECT {_KEY_COLUMNS} FROM keys WHERE account_id = %s AND key_id > %s "
            f"AND (region = %s{unregioned}) ORDER BY key_id LIMIT %s",
            (account_id, after_key_id or "", region, limit),
        )
        return [KeyRow(*r) for r in rows]

    def delete_keys_due(self, now: float) -> list[str]:
        def work(conn: Connection) -> list[str]:
            # Locked rows are re-checked after waiting for a concurrent writer, so a key whose
            # deletion was just cancelled is not destroyed.
            rows = conn.execute(
                "SELECT key_id FROM keys WHERE key_state = 'PendingDeletion' "
                "AND deletion_date IS NOT NULL AND deletion_date <= %s "
                f"ORDER BY key_id{self.dialect.lock_rows}",
                (now,),
            ).fetchall()
            due = [str(r[0]) for r in rows]
            for batch in batches(due):
                for table in (
                    "grants",
                    "aliases",
                    "import_parameters",
                    "key_materials",
                    "rotation_schedules",
                    "key_last_usage",
                    "keys",
                ):
                    conn.execute(
                        f"DELETE FROM {table} WHERE key_id IN ({marks(len(batch))})", batch
                    )
            # A multi-region key's aliases are its region's (its row id names the region).
            for row_id in due:
                key_id, region = split_key_row_id(row_id)
                if region is not None:
                    conn.execute(
                        "DELETE FROM aliases WHERE key_id = %s AND region = %s", (key_id, region)
                    )
            # What a multi-region key's regions share goes with its last region's row.
            for table in ("key_materials", "rotation_schedules", "grants"):
                conn.execute(
                    f"DELETE FROM {table} WHERE key_id LIKE %s AND NOT EXISTS "
                    f"(SELECT 1 FROM keys WHERE keys.key_id LIKE {table}.key_id || %s)",
                    ("mrk-%", "@%"),
                )
            conn.execute(
                "DELETE FROM changes WHERE changed_at < %s",
                (time.time() - _CHANGE_RETENTION_SECONDS,),
            )
            self._record_changes(conn, [("key", key_id) for key_id in due])
            return due

        return self._write(work)

    def keys_with_expired_material(self, now: float) -> list[str]:
        return self._ids(
            "SELECT key_id FROM keys WHERE valid_to IS NOT NULL AND valid_to <= %s "
            "AND wrapped_material IS NOT NULL ORDER BY key_id",
            (now,),
        )

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
                f"INSERT INTO users ({_USER_COLUMNS}) VALUES (%s, %s, %s) "
                "ON CONFLICT (account_id, user_name) DO NOTHING",
                (account_id, user_name, now),
            )
        )

    def insert_access_key(self, row: AccessKeyRow) -> None:
        self._insert("access_keys", row, ("access_key", row.access_key_id))

    def get_access_key(self, access_key_id: str) -> AccessKeyRow | None:
        rows = self._read(
            f"SELECT {_ACCESS_KEY_COLUMNS} FROM access_keys WHERE access_key_id = %s",
            (access_key_id,),
        )
        return AccessKeyRow(*rows[0]) if rows else None

    def get_user(self, account_id: str, user_name: str) -> UserRow | None:
        rows = self._read(
            f"SELECT {_USER_COLUMNS} FROM users WHERE account_id = %s AND user_name = %s",
            (account_id, user_name),
        )
        return UserRow(*rows[0]) if rows else None

    def list_users(self, account_id: str) -> list[UserRow]:
        rows = self._read(
            f"SELECT {_USER_COLUMNS} FROM users WHERE account_id = %s ORDER BY user_name",
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

    def set_access_key_status(self, access_key_id: str, status: str) -> bool:
        return self._change_if_any(
            "UPDATE access_keys SET status = %s WHERE access_key_id = %s",
            (status, access_key_id),
            ("access_key", access_key_id),
        )

    def delete_access_key(self, access_key_id: str) -> bool:
        return self._change_if_any(
            "DELETE FROM access_keys WHERE access_key_id = %s",
            (access_key_id,),
            ("access_key", access_key_id),
        )

    # --- identity policies ------------------------------------------------------------------
    def put_user_policy(self, row: UserPolicyRow, now: float) -> None:
        self._change_if_any(
            f"INSERT INTO user_policies ({_USER_POLICY_COLUMNS}, updated_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account_id, user_name, policy_name) "
            "DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
            (row.account_id, row.user_name, row.policy_name, row.document, now),
            ("user", f"{row.account_id}:{row.user_name}"),
        )

    def delete_user_policy(self, account_id: str, user_name: str, policy_name: str) -> bool:
        return self._change_if_any(
            "DELETE FROM user_policies "
            "WHERE account_id = %s AND user_name = %s AND policy_name = %s",
            (account_id, user_name, policy_name),
            ("user", f"{account_id}:{user_name}"),
        )

    def list_user_policies(self, account_id: str, user_name: str) -> list[UserPolicyRow]:
        rows = self._read(
            f"SELECT {_USER_POLICY_COLUMNS} FROM user_policies "
            "WHERE account_id = %s AND user_name = %s ORDER BY policy_name",
            (account_id, user_name),
        )
        return [UserPolicyRow(*r) for r in rows]

    # --- grants -----------------------------------------------------------------------------
    def insert_grant(self, row: GrantRow) -> None:
        operations = json.dumps(list(row.operations))
        self._insert("grants", row, ("grant", row.key_id), operations=operations)

    def get_grant(self, grant_id: str) -> GrantRow | None:
        found = self._grants_where("grant_id", grant_id)
        return found[0] if found else None

    def list_grants(self, key_id: str) -> list[GrantRow]:
        return self._grants_where("key_id", key_id)

    def list_grants_by_retiring_principal(self, principal: str) -> list[GrantRow]:
        return self._grants_where("retiring_principal", principal)

    def _grants_where(self, column: str, value: str) -> list[GrantRow]:
        rows = self._read(
            f"SELECT {_GRANT_COLUMNS} FROM grants WHERE {column} = %s "
            "ORDER BY creation_date, grant_id",
            (value,),
        )
        return [_grant_row(r) for r in rows]

    def delete_grant(self, grant_id: str) -> GrantRow | None:
        def work(conn: Connection) -> GrantRow | None:
            found = conn.execute(
                f"SELECT {_GRANT_COLUMNS} FROM grants WHERE grant_id = %s{self.dialect.lock_rows}",
                (grant_id,),
            ).fetchone()
            if found is None:
                return None
            conn.execute("DELETE FROM grants WHERE grant_id = %s", (grant_id,))
            row = _grant_row(found)
            self._record_changes(conn, [("grant", row.key_id)])
            return row

        return self._write(work)

    # --- import of key material -------------------------------------------------------------
    def put_import_parameters(self, row: ImportParametersRow) -> None:
        self._write(
            lambda conn: conn.execute(
                f"INSERT INTO import_parameters ({_IMPORT_COLUMNS}) VALUES ({marks(7)}) "
                "ON CONFLICT (key_id) DO UPDATE SET "
                "wrapping_key_spec = excluded.wrapping_key_spec, "
                "wrapping_algorithm = excluded.wrapping_algorithm, "
                "wrapped_wrapping_key = excluded.wrapped_wrapping_key, "
                "token_id = excluded.token_id, created_at = excluded.created_at, "
                "expires_at = excluded.expires_at",
                _values(row),
            )
        )

    def get_import_parameters(self, key_id: str) -> ImportParametersRow | None:
        rows = self._read(
            f"SELECT {_IMPORT_COLUMNS} FROM import_parameters WHERE key_id = %s", (key_id,)
        )
        return ImportParametersRow(*rows[0]) if rows else None

    def delete_import_parameters(self, key_id: str) -> None:
        self._write(
            lambda conn: conn.execute("DELETE FROM import_parameters WHERE key_id = %s", (key_id,))
        )

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
