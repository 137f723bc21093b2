"""Storage: the KeyStore contract and its backends; SQL lives here and nowhere else."""

from qkms.storage.base import (
    AccessKeyRow,
    Change,
    DuplicateError,
    GrantRow,
    KeyRow,
    KeyStore,
    StoreError,
    StoreTimeoutError,
    StoreUnavailableError,
    UserPolicyRow,
    UserRow,
)
from qkms.storage.sqlite import SqliteKeyStore

__all__ = [
    "AccessKeyRow",
    "Change",
    "DuplicateError",
    "GrantRow",
    "KeyRow",
    "KeyStore",
    "SqliteKeyStore",
    "StoreError",
    "StoreTimeoutError",
    "StoreUnavailableError",
    "UserPolicyRow",
    "UserRow",
]
