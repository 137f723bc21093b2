"""What every handler receives: the long-lived services and the facts of one request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qkms.crypto import PrivateKey, RootKey
from qkms.domain.arns import Arns
from qkms.domain.authorization import Authorizer
from qkms.domain.cache import FreshCache
from qkms.domain.keys import Key
from qkms.domain.principals import Caller
from qkms.storage.base import KeyStore

__all__ = ["CachedKey", "OperationContext", "Services"]


@dataclass(slots=True)
class CachedKey:
    """A key as last seen, and its private key once parsed (parsing is the costly part)."""

    key: Key
    private_key: PrivateKey | None = None


@dataclass(frozen=True, slots=True)
class Services:
    """Built once per process by the composition root (`qkms.app`) and shared by all requests."""

    store: KeyStore
    root_key: RootKey
    arns: Arns
    authorizer: Authorizer
    clock: Callable[[], float]  # wall-clock epoch seconds; injectable so tests can move time
    key_cache: FreshCache[str, CachedKey]
    account_id_default: str = "111122223333"


@dataclass(frozen=True, slots=True)
class OperationContext:
    services: Services
    caller: Caller
    request_id: str
