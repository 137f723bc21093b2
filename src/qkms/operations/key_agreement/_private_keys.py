"""Unwrapping a key-agreement or KEM key's private key once per cached key, for the family."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from qkms.crypto import CryptoError, MlKemPrivateKey, PrivateKey, RootKey, XdhPrivateKey
from qkms.domain.errors import KMSInternalException
from qkms.domain.key_material import (
    unwrap_mlkem_private_key,
    unwrap_private_key,
    unwrap_xdh_private_key,
)
from qkms.domain.keys import Key
from qkms.operations.runtime.context import CachedKey, OperationContext

__all__ = ["ecdh_private_key", "mlkem_private_key", "xdh_private_key"]

_T = TypeVar("_T", PrivateKey, XdhPrivateKey, MlKemPrivateKey)


def _cached(
    ctx: OperationContext,
    cached: CachedKey,
    kind: type[_T],
    unwrap: Callable[[RootKey, Key], _T],
) -> _T:
    loaded = cached.private_key
    if isinstance(loaded, kind):
        return loaded
    try:
        fresh = unwrap(ctx.services.root_key, cached.key)
    except (CryptoError, ValueError) as exc:
        # Material that does not unwrap means a wrong root key or a damaged row: an
        # operator problem, logged by the wire with the request id, never detailed here.
        raise KMSInternalException("The key material could not be used.") from exc
    cached.private_key = fresh
    ctx.services.parsed_keys.holding(cached)
    return fresh


def ecdh_private_key(ctx: OperationContext, cached: CachedKey) -> PrivateKey:
    return _cached(ctx, cached, PrivateKey, unwrap_private_key)


def xdh_private_key(ctx: OperationContext, cached: CachedKey) -> XdhPrivateKey:
    return _cached(ctx, cached, XdhPrivateKey, unwrap_xdh_private_key)


def mlkem_private_key(ctx: OperationContext, cached: CachedKey) -> MlKemPrivateKey:
    return _cached(ctx, cached, MlKemPrivateKey, unwrap_mlkem_private_key)
