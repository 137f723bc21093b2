"""Counts of what a store holds, for the metrics sampler (qkms.metrics), written once for both
stores. A mixin of `SqlKeyStore` (storage/sql.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

__all__ = ["KeyCountSql"]


class KeyCountSql(ABC):
    @abstractmethod
    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...

    def key_counts(self) -> dict[tuple[str, str], int]:
        """Keys of every account by (key state, key spec): a handful of rows, whatever the size."""
        rows = self._read(
            "SELECT key_state, key_spec, COUNT(*) FROM keys GROUP BY key_state, key_spec"
        )
        return {(str(state), str(spec)): int(count) for state, spec, count in rows}
