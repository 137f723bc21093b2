"""What SQLite and PostgreSQL spell differently, named once, and the driver shape the SQL needs.

Everything else is spelled alike by both: the shared statements in `storage/sql.py` use only
SQL both accept, including upserts (`INSERT ... ON CONFLICT (...) DO NOTHING` or
`DO UPDATE SET c = excluded.c`, which SQLite reads since 3.24), so upserts need no hook.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from qkms.storage.schema import Dialect

__all__ = ["POSTGRESQL", "SQLITE", "Connection", "Cursor", "SqlDialect", "batches", "marks"]

T = TypeVar("T")

# Rows per multi-row statement: far below SQLite's 32766 and PostgreSQL's 65535 parameters.
_BATCH = 500


class Cursor(Protocol):
    """The part of a DB-API cursor the shared statements use (sqlite3's and psycopg's)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """A connection inside the running transaction; statements use the `%s` placeholder."""

    def execute(self, statement: str, params: Sequence[Any] = ..., /) -> Cursor: ...


def marks(count: int) -> str:
    """`count` parameter markers, as the shared statements write them."""
    return ", ".join(["%s"] * count)


def batches(items: Sequence[T]) -> list[Sequence[T]]:
    """`items` in slices small enough for one statement's parameters on either database."""
    return [items[start : start + _BATCH] for start in range(0, len(items), _BATCH)]


@dataclass(frozen=True, slots=True)
class SqlDialect:
    """The hooks by which one statement text serves both databases."""

    name: Dialect
    # Appended to a SELECT whose rows the transaction then changes. PostgreSQL locks them until
    # commit, so two writers of one row take turns and the second reads the first's outcome;
    # SQLite needs nothing, as BEGIN IMMEDIATE already holds the database's single write lock.
    lock_rows: str
    # A condition: the JSON array of strings in `{column}` holds the parameter as an element.
    json_array_has: str
    # The driver's parameter marker. Statements are written with psycopg's `%s` (a literal
    # percent sign as `%%`); sqlite3 reads `?`.
    placeholder: str

    def prepare(self, statement: str) -> str:
        """The statement as this dialect's driver reads it."""
        if self.placeholder == "%s":
            return statement
        return _with_placeholder(statement, self.placeholder)


@functools.lru_cache(maxsize=512)
def _with_placeholder(statement: str, placeholder: str) -> str:
    return _MARKS.sub(lambda m: placeholder if m.group(1) == "s" else "%", statement)


_MARKS = re.compile(r"%([s%])")

SQLITE = SqlDialect(
    name="sqlite",
    lock_rows="",
    json_array_has="EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = %s)",
    placeholder="?",
)

POSTGRESQL = SqlDialect(
    name="postgresql",
    lock_rows=" FOR UPDATE",
    # jsonb's `?` operator (has this string element); psycopg's only marker is `%s`.
    json_array_has="{column}::jsonb ? %s",
    placeholder="%s",
)
