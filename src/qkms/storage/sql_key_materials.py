"""The SQL of key material versions (DESIGN §4a), written once for both stores.

A mixin of `SqlKeyStore` (storage/sql.py), kept apart so that module stays one screenful of
statements per concern; inserting a key with its first material lives with `insert_key`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from qkms.storage.base import KeyMaterialRow

__all__ = ["KeyMaterialSql"]

_MATERIAL_COLUMNS = "key_id, key_material_id, wrapped_material, created_at"


class KeyMaterialSql(ABC):
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
