"""Online copy of a SQLite store, and what a copy holds: the storage side of `qkms backup`.

The copy uses SQLite's online backup API while servers keep writing: each step copies pages
under a read lock, and pages written meanwhile are copied again, so the result is one
consistent state of the database. The source is opened read-only: a backup never writes to it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from qkms.storage.base import StoreUnavailableError

__all__ = ["StoreContents", "copy_online", "describe"]

_ROOT_KCV = "root_key_check_value"  # the meta row qkms.app writes on first start


@dataclass(frozen=True, slots=True)
class StoreContents:
    schema_version: int
    root_key_check_value: str | None
    row_counts: dict[str, int]
    intact: str  # PRAGMA integrity_check's answer: "ok", or what is damaged


def copy_online(database: Path, copy: Path) -> None:
    """Copy `database` into the new single-file database `copy`; StoreUnavailableError if not."""
    try:
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
        target = sqlite3.connect(copy)
        try:
            source.backup(target, pages=256, sleep=0.005)
            target.execute("PRAGMA journal_mode = DELETE")  # self-contained: no -wal beside it
        finally:
            target.close()
            source.close()
    except sqlite3.Error as exc:
        raise StoreUnavailableError(f"the store could not be copied: {exc}") from exc


def describe(database: Path) -> StoreContents:
    """Schema version, root key check value, row counts per table, integrity of `database`."""
    try:
        db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            tables = [
                str(row[0])
                for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            # Table names come from the database's own catalogue, never from input.
            counts = {
                name: int(db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])
                for name in tables
            }
            version = (
                db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                if "schema_version" in counts
                else None
            )
            kcv = (
                db.execute("SELECT value FROM meta WHERE name = ?", (_ROOT_KCV,)).fetchone()
                if "meta" in counts
                else None
            )
            intact = str(db.execute("PRAGMA integrity_check").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise StoreUnavailableError(f"the database is not readable: {exc}") from exc
    return StoreContents(
        schema_version=int(version or 0),
        root_key_check_value=str(kcv[0]) if kcv else None,
        row_counts=counts,
        intact=intact,
    )
