"""What every handler receives: the long-lived services and the facts of one request."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from qkms.crypto import (
    AttestationTrust,
    HmacKey,
    MlKemPrivateKey,
    PrivateKey,
    RootKey,
    RsaPrivateKey,
    SigningPrivateKey,
    SymmetricKey,
    XdhPrivateKey,
)
from qkms.domain.arns import Arns
from qkms.domain.grant_constraints import GrantConstraints
from qkms.domain.grants import grant_permits
from qkms.domain.keys import Key
from qkms.domain.policy import PolicyDocument
from qkms.domain.principals import Caller
from qkms.operations.runtime.cache import FreshCache
from qkms.operations.runtime.key_usage import KeyUsageTracker
from qkms.operations.runtime.parsed_keys import ParsedKeyBudget
from qkms.storage.base import GrantRow, KeyStore

__all__ = ["CachedKey", "KeyGrants", "OperationContext", "Services"]


# What a cached key holds before its first symmetric material or remembered allow: one shared,
# read-only empty map instead of two dicts per key (128 bytes of each of 100,000 cached keys).
_EMPTY: Mapping[Any, Any] = MappingProxyType({})


def _empty() -> Mapping[Any, Any]:
    return _EMPTY


@dataclass(slots=True)
class CachedKey:
    """A key as last seen, and its private key once parsed (parsing is the costly part).

    Its two maps are never changed in place, only replaced by a changed copy (rare: on a first
    use), so a request on another thread reads the old map or the new one, never one mid-change,
    and keys remembering the same allows can share one map (`qkms.operations.support.access`).
    """

    key: Key
    private_key: PrivateKey | XdhPrivateKey | MlKemPrivateKey | None = None
    signing_key: SigningPrivateKey | None = None
    mac_key: HmacKey | None = None
    rsa_encryption_key: RsaPrivateKey | None = None
    policy_document: PolicyDocument | None = None
    # Symmetric keys: unwrapped material versions by key material id, as they are first used.
    symmetric_materials: Mapping[str, SymmetricKey] = field(default_factory=_empty)
    # Policy allows remembered for this version of the key (`qkms.operations.support.access`):
    # (account, user, action) -> the identity policies they were reached under.
    remembered_allows: Mapping[tuple[str, str, str], tuple[PolicyDocument, ...]] = field(
        default_factory=_empty
    )

    def add_symmetric_material(self, material_id: str, material: SymmetricKey) -> None:
        self.symmetric_materials = {**self.symmetric_materials, material_id: material}

    def forget_material(self) -> None:
        """Drop the parsed private material (ParsedKeyBudget); the next use unwraps it again."""
        self.private_key = None
        self.signing_key = None
        self.mac_key = None
        self.rsa_encryption_key = None
        self.symmetric_materials = _EMPTY


@dataclass(frozen=True, slots=True)
class KeyGrants:
    """One key's grants, indexed by grantee: a lookup costs the same with 1 grantee or 10,000.

    Each grant's operations (and encryption-context constraints) stay its own, never pooled
    per grantee: what a grant permits is bounded by that one grant (`qkms.domain.grants`).
    """

    operations_by_grantee: Mapping[str, tuple[tuple[frozenset[str], GrantConstraints], ...]]

    @classmethod
    def of(cls, grants: Iterable[GrantRow]) -> KeyGrants:
        index: dict[str, list[tuple[frozenset[str], GrantConstraints]]] = {}
        for grant in grants:
            entry = (
                frozenset(grant.operations),
                GrantConstraints.from_json(grant.grant_constraints),
            )
            index.setdefault(grant.grantee_principal, []).append(entry)
        return cls({grantee: tuple(entries) for grantee, entries in index.items()})

    def allow(
        self,
        grantees: Iterable[str],
        operation: str,
        new_grant_operations: frozenset[str] | None = None,
        encryption_context: Mapping[str, str] | None = None,
        new_grant_constraints: GrantConstraints | None = None,
    ) -> bool:
        return any(
            grant_permits(
                operations,
                operation,
                new_grant_operations,
                constraints=constraints,
                encryption_context=encryption_context,
                new_grant_constraints=new_grant_constraints,
            )
            for grantee in grantees
            for operations, constraints in self.operations_by_grantee.get(grantee, ())
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
    # Whose attestation documents name a recipient (DESIGN §3 "Recipients"); default the AWS root.
    attestation: AttestationTrust = field(default_factory=AttestationTrust.from_pem)
    # Each key's latest cryptographic use, flushed by the background loop (GetKeyLastUsage).
    key_usage: KeyUsageTracker = field(default_factory=KeyUsageTracker)
    # Which cached keys keep their parsed private material (--parsed-key-cache-size).
    parsed_keys: ParsedKeyBudget = field(default_factory=lambda: ParsedKeyBudget(10000))


@dataclass(frozen=True, slots=True)
class OperationContext:
    services: Services
    caller: Caller
    request_id: str
    # What the audit event adds under additionalEventData (e.g. the attested recipient's
    # module id and PCRs, as CloudTrail records them); never a secret.
    audit_details: dict[str, object] = field(default_factory=dict)
    # The region of the request's SigV4 credential scope (DESIGN §4a), already parsed by the
    # signature check; None when there is none (in-process callers): the default region.
    signed_region: str | None = None
    # The keys this request used cryptographically, as (key id, KeyLastUsage operation); noted
    # in the worker's usage record once the operation succeeds (dispatch).
    used_keys: list[tuple[str, str]] = field(default_factory=list)
    # The audit event's eventID, chosen by the wire up front so GetKeyLastUsage can name it;
    # empty for in-process callers, which write no audit event.
    event_id: str = ""

    @property
    def region(self) -> str:
        """The region this request acts in: its keys, aliases and listings are this region's."""
        return self.signed_region or self.services.arns.region
