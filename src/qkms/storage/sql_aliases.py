"""The SQL of aliases (DESIGN §4, §4a), written once for both stores: names unique per account
and region, as in AWS. A mixin of `SqlKeyStore` (storage/sql.py), kept apart so that module
stays within its size."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, TypeVar

from qkms.storage.base import AliasRow
from qkms.storage.dialect import Connection, marks

__all__ = ["AliasSql"]

T = TypeVar("T")

_ALIAS_COLUMNS = ", ".join(field.name for field in fields(AliasRow))


class AliasSql(ABC):
    @abstractmethod
    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...

    @abstractmethod
    def _write(self, work: Callable[[Connection], T]) -> T: ...

    @abstractmethod
    def _insert(
        self, table: str, row: Any, change: tuple[str, str] | None, **encoded: Any
    ) -> None: ...

    @abstractmethod
    def _change_if_any(
        self, statement: str, params: Sequence[Any], change: tuple[str, str]
    ) -> bool: ...

    # --- aliases ----------------------------------------------------------------------------
    def insert_alias(self, row: AliasRow) -> None:
        self._insert("aliases", row, ("alias", row.cache_key))

    def get_alias(
        self, account_id: str, alias_name: str, regions: Sequence[str]
    ) -> AliasRow | None:
        # A region's own row before an unregioned one ('' sorts first, so order descending).
        rows = self._read(
            f"SELECT {_ALIAS_COLUMNS} FROM aliases WHERE account_id = %s AND alias_name = %s "
            f"AND region IN ({marks(len(regions))}) ORDER BY region DESC LIMIT 1",
            (account_id, alias_name, *regions),
        )
        return AliasRow(*rows[0]) if rows else None

    def update_alias(
        self, account_id: str, alias_name: str, key_id: str, now: float, region: str
    ) -> bool:
        return self._change_if_any(
            "UPDATE aliases SET key_id = %s, last_updated_date = %s "
            "WHERE account_id = %s AND alias_name = %s AND region = %s",
            (key_id, now, account_id, alias_name, region),
            ("alias", AliasRow(account_id, alias_name, key_id, 0.0, 0.0, region).cache_key),
        )

    def delete_alias(self, account_id: str, alias_name: str, region: str) -> bool:
        return self._change_if_any(
            "DELETE FROM aliases WHERE account_id = %s AND alias_name = %s AND region = %s",
            (account_id, alias_name, region),
            ("alias", AliasRow(account_id, alias_name, "", 0.0, 0.0, region).cache_key),
        )

    def list_aliases(
        self,
        account_id: str,
        key_id: str | None,
        after_alias: str | None,
        limit: int,
        regions: Sequence[str],
    ) -> list[AliasRow]:
        query = (
            f"SELECT {_ALIAS_COLUMNS} FROM aliases WHERE account_id = %s AND alias_name > %s "
            f"AND region IN ({marks(len(regions))})"
        )
        params: tuple[Any, ...] = (account_id, after_alias or "", *regions)
        if key_id is not None:
            query += " AND key_id = %s"
            params += (key_id,)
        rows = self._read(query + " ORDER BY alias_name LIMIT %s", (*params, limit))
        return [AliasRow(*r) for r in rows]
