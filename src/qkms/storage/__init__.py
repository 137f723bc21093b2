"""Storage: the KeyStore contract and its backends; SQL lives here and nowhere else."""

from typing import TYPE_CHECKING

from qkms.storage.base import (
    AccessKeyRow,
    AliasRow,
    AuditRow,
    Change,
    DuplicateError,
    GrantRow,
    ImportParametersRow,
    KeyMaterialRow,
    KeyRow,
    KeyStore,
    StoreError,
    StoreTimeoutError,
    StoreUnavailableError,
    UserPolicyRow,
    UserRow,
)
from qkms.storage.sqlite import SqliteKeyStore

if TYPE_CHECKING:
    from qkms.storage.postgres import PostgresKeyStore

__all__ = [
    "AccessKeyRow",
    "AliasRow",
    "AuditRow",
    "Change",
    "DuplicateError",
    "GrantRow",
    "ImportParametersRow",
    "KeyMaterialRow",
    "KeyRow",
    "KeyStore",
    "PostgresKeyStore",
    "SqliteKeyStore",
    "StoreError",
    "StoreTimeoutError",
    "StoreUnavailableError",
    "UserPolicyRow",
    "UserRow",
]


def __getattr__(name: str) -> object:
    # psycopg and its pool load only in processes that use PostgreSQL.
    if name == "PostgresKeyStore":
        from qkms.storage.postgres import PostgresKeyStore

        return PostgresKeyStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
