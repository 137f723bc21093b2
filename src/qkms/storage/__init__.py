"""Storage: the KeyStore contract and its backends; SQL lives here and nowhere else."""

from typing import TYPE_CHECKING

from qkms.storage import base
from qkms.storage.base import *  # noqa: F403 - the contract's names, listed once in base.__all__
from qkms.storage.sqlite import SqliteKeyStore

if TYPE_CHECKING:
    from qkms.storage.postgres import PostgresKeyStore

__all__ = [*base.__all__, "PostgresKeyStore", "SqliteKeyStore"]


def __getattr__(name: str) -> object:
    # psycopg and its pool load only in processes that use PostgreSQL.
    if name == "PostgresKeyStore":
        from qkms.storage.postgres import PostgresKeyStore

        return PostgresKeyStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
