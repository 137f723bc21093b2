"""The SQL of multi-region keys: a key's rows in every region, replicas, the primary's region.

A multi-region key has one `keys` row per region under "<mrk- id>@<region>" (storage/base.py
says why); these statements find a key's rows by that prefix. '@' sorts before every letter and
digit, and the id before it has a fixed length, so the LIKE pattern matches no other key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, ClassVar, TypeVar

from qkms.storage.base import REGION_ROW_SEPARATOR, KeyRow, key_row_id
from qkms.storage.dialect import Connection, SqlDialect, marks

__all__ = ["MultiRegionSql", "region_rows_pattern"]

T = TypeVar("T")

_KEY_COLUMNS = ", ".join(field.name for field in fields(KeyRow))


def region_rows_pattern(key_id: str) -> str:
    """The LIKE pattern of a multi-region key's row ids (key ids hold no LIKE wildcard)."""
    return f"{key_id}{REGION_ROW_SEPARATOR}%"


class MultiRegionSql(ABC):
    dialect: ClassVar[SqlDialect]

    @abstractmethod
    def _write(self, work: Callable[[Connection], T]) -> T: ...

    @abstractmethod
    def _record_changes(self, conn: Connection, changes: Sequence[tuple[str, str]]) -> None: ...

    @abstractmethod
    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...

    def region_rows(self, key_id: str) -> list[KeyRow]:
        rows = self._read(
            f"SELECT {_KEY_COLUMNS} FROM keys WHERE key_id LIKE %s ORDER BY key_id",
            (region_rows_pattern(key_id),),
        )
        return [KeyRow(*r) for r in rows]

    def insert_replica(self, row: KeyRow) -> bool:
        key_id = row.key_id.partition(REGION_ROW_SEPARATOR)[0]

        def work(conn: Connection) -> bool:
            # The existing rows are locked first, so two replications into one region (or a
            # replication racing UpdatePrimaryRegion) run one after the other.
            existing = [
                str(r[0])
                for r in conn.execute(
                    "SELECT key_id FROM keys WHERE key_id LIKE %s ORDER BY key_id"
                    f"{self.dialect.lock_rows}",
                    (region_rows_pattern(key_id),),
                ).fetchall()
            ]
            if row.key_id in existing:
                return False
            values = tuple(getattr(row, field.name) for field in fields(KeyRow))
            conn.execute(f"INSERT INTO keys ({_KEY_COLUMNS}) VALUES ({marks(len(values))})", values)
            self._record_changes(conn, [("key", row_id) for row_id in [*existing, row.key_id]])
            return True

        return self._write(work)

    def set_primary_region(self, key_id: str, region: str) -> list[str]:
        def work(conn: Connection) -> list[str]:
            changed = [
                str(r[0])
                for r in conn.execute(
                    "SELECT key_id FROM keys WHERE key_id LIKE %s ORDER BY key_id"
                    f"{self.dialect.lock_rows}",
                    (region_rows_pattern(key_id),),
                ).fetchall()
            ]
            if key_row_id(key_id, region) not in changed:
                return []
            conn.execute(
                "UPDATE keys SET primary_region = %s WHERE key_id LIKE %s",
                (region, region_rows_pattern(key_id)),
            )
            self._record_changes(conn, [("key", row_id) for row_id in changed])
            return changed

        return self._write(work)
