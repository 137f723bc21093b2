"""What every handler receives: the long-lived services and the facts of one request."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from qkms.crypto import MlKemPrivateKey, PrivateKey, RootKey, XdhPrivateKey
from qkms.domain.arns import Arns
from qkms.domain.grants import grant_permits
from qkms.domain.keys import Key
from qkms.domain.policy import PolicyDocument
from qkms.domain.principals import Caller
from qkms.operations.runtime.cache import FreshCache
from qkms.storage.base import GrantRow, KeyStore

__all__ = ["CachedKey", "KeyGrants", "OperationContext", "Services"]


@dataclass(slots=True)
class CachedKey:
    """A key as last seen, and its private key once parsed (parsing is the costly part)."""

    key: Key
    private_key: PrivateKey | XdhPrivateKey | MlKemPrivateKey | None = None
    policy_document: PolicyDocument | None = None


@dataclass(frozen=True, slots=True)
class KeyGrants:
    """One key's grants, indexed by grantee: a lookup costs the same with 1 grantee or 10,000.

    Each grant's operations stay a set of their own, never pooled per grantee: what a grant
    may hand on through CreateGrant is bounded by that one grant (`qkms.domain.grants`).
    """

    operations_by_grantee: Mapping[str, tuple[frozenset[str], ...]]

    @classmethod
    def of(cls, grants: Iterable[GrantRow]) -> KeyGrants:
        index: dict[str, set[frozenset[str]]] = {}
        for grant in grants:
            index.setdefault(grant.grantee_principal, set()).add(frozenset(grant.operations))
        return cls({grantee: tuple(sets) for grantee, sets in index.items()})

    def allow(
        self,
        grantees: Iterable[str],
        operation: str,
        new_grant_operations: frozenset[str] | None = None,
    ) -> bool:
        return any(
            grant_permits(operations, operation, new_grant_operations)
            for grantee in grantees
            for operations in self.operations_by_grantee.get(grantee, ())
        )


@dataclass(frozen=True, slots=True)
class Services:
    """Built once per process by the composition root (`qkms.app`) and shared by all requests."""

    store: KeyStore
    root_key: RootKey
    arns: Arns
    clock: Callable[[], float]  # wall-clock epoch seconds; injectable so tests can move time
    key_cache: FreshCache[str, CachedKey]
    # Keyed "<account>:<user>"; evicted by the change feed's "user" entries.
    identity_policies: FreshCache[str, tuple[PolicyDocument, ...]]
    # Keyed by key id; evicted by the change feed's "grant" entries.
    grants: FreshCache[str, KeyGrants]
    # "<account>:<alias name>" -> key id; evicted by the change feed's "alias" entries.
    aliases: FreshCache[str, str]


@dataclass(frozen=True, slots=True)
class OperationContext:
    services: Services
    caller: Caller
    request_id: str
