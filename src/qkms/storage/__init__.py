"""Storage: the KeyStore contract and its backends; SQL lives here and nowhere else."""

from qkms.storage.base import (
    AccessKeyRow,
    Change,
    DuplicateError,
    KeyRow,
    KeyStore,
    StoreError,
    StoreTimeoutError,
    StoreUnavailableError,
)
from qkms.storage.sqlite import SqliteKeyStore

__all__ = [
    "AccessKeyRow",
    "Change",
    "DuplicateError",
    "KeyRow",
    "KeyStore",
    "SqliteKeyStore",
    "StoreError",
    "StoreTimeoutError",
    "StoreUnavailableError",
]
