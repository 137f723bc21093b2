"""The SQL of key material versions (DESIGN §4a), written once for both stores.

A mixin of `SqlKeyStore` (storage/sql.py), kept apart so that module stays one screenful of
statements per concern; inserting a key with its first material lives with `insert_key`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from qkms.storage.base import KeyMaterialRow, KeyUsageRow
from qkms.storage.dialect import Connection, SqlDialect
from qkms.storage.sql_multi_region import region_rows_pattern

_USAGE_CHUNK = 500  # keys per statement (5 parameters each)

T = TypeVar("T")

__all__ = ["KeyMaterialSql"]

_MATERIAL_COLUMNS = (
    "key_id, key_material_id, wrapped_material, created_at, rotation_type, material_state, "
    "description"
)
_PENDING_ROTATION = "PENDING_ROTATION"


class KeyMaterialSql(ABC):
    dialect: ClassVar[SqlDialect]

    @abstractmethod
    def _write(self, work: Callable[[Connection], T]) -> T: ...

    @abstractmethod
    def _record_changes(self, conn: Connection, changes: Sequence[tuple[str, str]]) -> None: ...

    @abstractmethod
    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...

    @abstractmethod
    def _change_if_any(
        self, statement: str, params: Sequence[Any], change: tuple[str, str]
    ) -> bool: ...

    def get_key_material(self, key_id: str, key_material_id: str) -> KeyMaterialRow | None:
        rows = self._read(
            f"SELECT {_MATERIAL_COLUMNS} FROM key_materials "
            "WHERE key_id = %s AND key_material_id = %s",
            (key_id, key_material_id),
        )
        return KeyMaterialRow(*rows[0]) if rows else None

    def list_key_materials(self, key_id: str) -> list[KeyMaterialRow]:
        rows = self._read(
            f"SELECT {_MATERIAL_COLUMNS} FROM key_materials WHERE key_id = %s "
            "ORDER BY created_at, key_material_id",
            (key_id,),
        )
        return [KeyMaterialRow(*r) for r in rows]

    def update_key_material_wrapping(
        self, key_id: str, key_material_id: str, wrapped_material: bytes
    ) -> bool:
        return self._change_if_any(
            "UPDATE key_materials SET wrapped_material = %s "
            "WHERE key_id = %s AND key_material_id = %s",
            (wrapped_material, key_id, key_material_id),
            ("key", key_id),
        )

    # --- rotation ----------------------------------------------------------------------------
    def add_key_material(self, material: KeyMaterialRow, next_rotation_date: float | None) -> bool:
        key_id = material.key_id

        def work(conn: Connection) -> bool:
            # The key row is locked first, so concurrent rotations of one key run one by one
            # and the current material is always the last one inserted.
            # A multi-region key's regions share its material: every region's row is locked
            # and moves to the new current material together.
            row_ids = [
                str(r[0])
                for r in conn.execute(
                    "SELECT key_id FROM keys WHERE key_id = %s OR key_id LIKE %s "
                    f"ORDER BY key_id{self.dialect.lock_rows}",
                    (key_id, region_rows_pattern(key_id)),
                ).fetchall()
            ]
            if not row_ids:
                return False
            if next_rotation_date is not None:
                # An automatic rotation happens only while still due: of several sweepers
                # that saw the same due date, the first rotates and the rest find it moved.
                due = conn.execute(
                    "SELECT key_id FROM rotation_schedules "
                    "WHERE key_id = %s AND next_rotation_date <= %s",
                    (key_id, material.created_at),
                ).fetchone()
                if due is None:
                    return False
            # Versions list in creation order (ListKeyRotations), so a new one is strictly
            # later than every older one even when the clock has not moved between them.
            latest = conn.execute(
                "SELECT MAX(created_at) FROM key_materials WHERE key_id = %s", (key_id,)
            ).fetchone()
            created_at = material.created_at
            if latest is not None and latest[0] is not None and created_at <= latest[0]:
                created_at = float(latest[0]) + 0.001
            conn.execute(
                f"INSERT INTO key_materials ({_MATERIAL_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    key_id,
                    material.key_material_id,
                    material.wrapped_material,
                    created_at,
                    material.rotation_type,
                    material.material_state,
                    material.description,
                ),
            )
            conn.execute(
                "UPDATE keys SET current_key_material_id = %s WHERE key_id = %s OR key_id LIKE %s",
                (material.key_material_id, key_id, region_rows_pattern(key_id)),
            )
            if next_rotation_date is not None:
                conn.execute(
                    "UPDATE rotation_schedules SET next_rotation_date = %s WHERE key_id = %s",
                    (next_rotation_date, key_id),
                )
            self._record_changes(conn, [("key", row_id) for row_id in row_ids])
            return True

        return self._write(work)

    # --- imported symmetric material --------------------------------------------------------
    def put_imported_key_material(self, material: KeyMaterialRow) -> None:
        def work(conn: Connection) -> None:
            conn.execute(
                f"INSERT INTO key_materials ({_MATERIAL_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (key_id, key_material_id) DO UPDATE SET "
                "wrapped_material = excluded.wrapped_material, "
                "description = COALESCE(excluded.description, key_materials.description)",
                (
                    material.key_id,
                    material.key_material_id,
                    material.wrapped_material,
                    material.created_at,
                    material.rotation_type,
                    material.material_state,
                    material.description,
                ),
            )
            self._record_changes(conn, [("key", material.key_id)])

        self._write(work)

    def destroy_key_materials(self, key_id: str) -> None:
        def work(conn: Connection) -> None:
            # Under the key row's lock, and only while the key row holds no material: a
            # reimport that has already landed is never undone.
            held = conn.execute(
                f"SELECT wrapped_material FROM keys WHERE key_id = %s{self.dialect.lock_rows}",
                (key_id,),
            ).fetchone()
            if held is None or held[0] is not None:
                return
            conn.execute(
                "UPDATE key_materials SET wrapped_material = NULL WHERE key_id = %s", (key_id,)
            )
            # A pending version is not bound to the key (AWS): once gone it is forgotten.
            conn.execute(
                "DELETE FROM key_materials WHERE key_id = %s AND material_state = %s",
                (key_id, _PENDING_ROTATION),
            )
            self._record_changes(conn, [("key", key_id)])

        self._write(work)

    def promote_pending_material(self, key_id: str, rotated_at: float) -> str | None:
        def work(conn: Connection) -> str | None:
            found = conn.execute(
                f"SELECT key_id FROM keys WHERE key_id = %s{self.dialect.lock_rows}", (key_id,)
            ).fetchone()
            pending = conn.execute(
                "SELECT key_material_id, wrapped_material FROM key_materials "
                "WHERE key_id = %s AND material_state = %s AND wrapped_material IS NOT NULL",
                (key_id, _PENDING_ROTATION),
            ).fetchone()
            if found is None or pending is None:
                return None
            material_id = str(pending[0])
            latest = conn.execute(
                "SELECT MAX(created_at) FROM key_materials WHERE key_id = %s", (key_id,)
            ).fetchone()
            at = rotated_at
            if latest is not None and latest[0] is not None and at <= latest[0]:
                at = float(latest[0]) + 0.001
            conn.execute(
                "UPDATE key_materials SET material_state = NULL, rotation_type = 'ON_DEMAND', "
                "created_at = %s WHERE key_id = %s AND key_material_id = %s",
                (at, key_id, material_id),
            )
            # The key row carries the current imported version's bytes too (expiry, deletion).
            conn.execute(
                "UPDATE keys SET current_key_material_id = %s, wrapped_material = %s "
                "WHERE key_id = %s",
                (material_id, pending[1], key_id),
            )
            self._record_changes(conn, [("key", key_id)])
            return material_id

        return self._write(work)

    # --- last usage --------------------------------------------------------------------------
    def record_key_usage(self, rows: Sequence[KeyUsageRow]) -> None:
        if not rows:
            return
        # One statement per chunk, not per key: a worker's flush carries every key it used in
        # the last interval (thousands under uniform use), and on PostgreSQL a statement per
        # key was a round trip per key. A statement may name a key once (PostgreSQL refuses
        # ON CONFLICT updating one row twice), so the latest use of each key is kept first.
        latest: dict[str, KeyUsageRow] = {}
        for row in rows:
            held = latest.get(row.key_id)
            if held is None or held.used_at <= row.used_at:
                latest[row.key_id] = row
        unique = list(latest.values())

        def work(conn: Connection) -> None:
            for start in range(0, len(unique), _USAGE_CHUNK):
                chunk = unique[start : start + _USAGE_CHUNK]
                values = [
                    value
                    for row in chunk
                    for value in (
                        row.key_id,
                        row.operation,
                        row.used_at,
                        row.request_id,
                        row.event_id,
                    )
                ]
                conn.execute(
                    "INSERT INTO key_last_usage (key_id, operation, used_at, request_id, "
                    f"event_id) VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(chunk))} "
                    "ON CONFLICT (key_id) DO UPDATE SET "
                    "operation = excluded.operation, used_at = excluded.used_at, "
                    "request_id = excluded.request_id, event_id = excluded.event_id "
                    "WHERE key_last_usage.used_at <= excluded.used_at",
                    values,
                )

        self._write(work)

    def get_key_usage(self, key_id: str) -> KeyUsageRow | None:
        rows = self._read(
            "SELECT key_id, operation, used_at, request_id, event_id FROM key_last_usage "
            "WHERE key_id = %s",
            (key_id,),
        )
        if not rows:
            return None
        found = rows[0]
        return KeyUsageRow(
            str(found[0]), str(found[1]), float(found[2]), str(found[3]), str(found[4])
        )

    def get_rotation_schedule(self, key_id: str) -> tuple[int, float] | None:
        rows = self._read(
            "SELECT rotation_period_in_days, next_rotation_date FROM rotation_schedules "
            "WHERE key_id = %s",
            (key_id,),
        )
        return (int(rows[0][0]), float(rows[0][1])) if rows else None

    def set_rotation_schedule(self, key_id: str, period_days: int, next_date: float) -> None:
        def work(conn: Connection) -> None:
            conn.execute("DELETE FROM rotation_schedules WHERE key_id = %s", (key_id,))
            conn.execute(
                "INSERT INTO rotation_schedules "
                "(key_id, rotation_period_in_days, next_rotation_date) VALUES (%s, %s, %s)",
                (key_id, period_days, next_date),
            )
            self._record_changes(conn, [("key", key_id)])

        self._write(work)

    def delete_rotation_schedule(self, key_id: str) -> None:
        self._change_if_any(
            "DELETE FROM rotation_schedules WHERE key_id = %s", (key_id,), ("key", key_id)
        )

    def keys_due_for_rotation(self, now: float) -> list[str]:
        rows = self._read(
            "SELECT key_id FROM rotation_schedules WHERE next_rotation_date <= %s "
            "ORDER BY next_rotation_date, key_id",
            (now,),
        )
        return [str(r[0]) for r in rows]
