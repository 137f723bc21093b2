"""The SQL of the audit events copied into the store (DESIGN §6: several nodes on PostgreSQL
query one table), written once for both stores. A mixin of `SqlKeyStore` (storage/sql.py)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, ClassVar, TypeVar

from qkms.storage.base import AuditRow
from qkms.storage.dialect import Connection, SqlDialect, marks

__all__ = ["AuditSql"]

_AUDIT_NAMES = tuple(field.name for field in fields(AuditRow))
_AUDIT_COLUMNS = ", ".join(_AUDIT_NAMES)
T = TypeVar("T")


def _audit_row(values: Sequence[Any]) -> AuditRow:
    decoded = list(values)
    decoded[5] = tuple(json.loads(decoded[5]))  # resources, stored as a JSON array
    return AuditRow(*decoded)


class AuditSql(ABC):
    dialect: ClassVar[SqlDialect]

    @abstractmethod
    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...

    @abstractmethod
    def _insert(
        self, table: str, row: Any, change: tuple[str, str] | None, **encoded: Any
    ) -> None: ...

    @abstractmethod
    def _write(self, work: Callable[[Connection], T]) -> T: ...

    # --- audit ------------------------------------------------------------------------------
    def append_audit_event(self, row: AuditRow) -> None:
        self.append_audit_events((row,))

    def append_audit_events(self, rows: Sequence[AuditRow]) -> None:
        """Insert `rows` in one statement of one transaction: a worker's mirror thread copies
        what queued up since its last write, so a busy node pays one round trip per batch,
        not one per API call."""
        if not rows:
            return
        width = len(fields(AuditRow))
        values: list[Any] = []
        for row in rows:
            values.extend(
                json.dumps(list(row.resources)) if name == "resources" else getattr(row, name)
                for name in _AUDIT_NAMES
            )
        placeholders = ", ".join(f"({marks(width)})" for _ in rows)
        statement = f"INSERT INTO audit_events ({_AUDIT_COLUMNS}) VALUES {placeholders}"
        self._write(lambda conn: conn.execute(statement, values))

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
            conditions.append(self.dialect.json_array_has.format(column="resources"))
            params.append(resource)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self._read(
            f"SELECT {_AUDIT_COLUMNS} FROM audit_events{where} "
            "ORDER BY event_time, event_id LIMIT %s",
            (*params, limit),
        )
        return [_audit_row(r) for r in rows]
