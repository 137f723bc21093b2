"""Creating, wrapping and unwrapping key material under the root key (DESIGN §6).

Material is wrapped with AES-256-GCM and the key's canonical ARN as associated data, so a
wrapped blob copied onto another key's row does not unwrap. The blob records which root key
wrapped it (its check value), ready for root-key rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from qkms.crypto import (
    PrivateKey,
    RootKey,
    SymmetricKey,
    generate_key_pair,
    load_private_key,
    new_key_material_id,
    unwrap,
    wrap,
)
from qkms.domain.arns import canonical_key_arn
from qkms.domain.keys import Key, KeySpec, curve_of

__all__ = [
    "NewMaterial",
    "NewSymmetricMaterial",
    "create_material",
    "create_symmetric_material",
    "unwrap_private_key",
    "unwrap_symmetric_material",
    "unwrap_wrapping_key",
    "wrap_imported_material",
    "wrap_wrapping_key",
]


@dataclass(frozen=True, slots=True)
class NewMaterial:
    public_key_der: bytes | None
    wrapped_material: bytes

    def __repr__(self) -> str:
        return "NewMaterial(<wrapped>)"


def create_material(root_key: RootKey, spec: KeySpec, account_id: str, key_id: str) -> NewMaterial:
    """Generate an asymmetric key's material and return it already wrapped (symmetric keys
    have material versions instead: `create_symmetric_material`)."""
    aad = canonical_key_arn(account_id, key_id).encode()
    curve = curve_of(spec)
    if curve is not None:
        pair = generate_key_pair(curve)
        return NewMaterial(pair.public_spki_der, wrap(root_key, pair.private_pkcs8_der, aad))
    # Callers check is_supported_pair first; reaching here is a programming error.
    raise ValueError(f"no material generator for {spec.value}")


@dataclass(frozen=True, slots=True)
class NewSymmetricMaterial:
    key_material_id: str
    wrapped_material: bytes

    def __repr__(self) -> str:
        return f"NewSymmetricMaterial({self.key_material_id}, <wrapped>)"


def create_symmetric_material(
    root_key: RootKey, account_id: str, key_id: str
) -> NewSymmetricMaterial:
    """A fresh AES-256 material version with a random id, wrapped like every key's material.

    The associated data is the key's canonical ARN, as for private keys: wrapped material
    moved onto another key does not unwrap. Within one key, the material id is bound by every
    ciphertext's header, which only the right material authenticates.
    """
    aad = canonical_key_arn(account_id, key_id).encode()
    return NewSymmetricMaterial(
        new_key_material_id(), wrap(root_key, SymmetricKey.generate().to_bytes(), aad)
    )


def unwrap_symmetric_material(root_key: RootKey, key: Key, wrapped: bytes) -> SymmetricKey:
    """One material version of a symmetric key (raises crypto errors, mapped by the caller)."""
    aad = canonical_key_arn(key.account_id, key.key_id).encode()
    return SymmetricKey(unwrap(root_key, wrapped, aad))


def wrap_imported_material(root_key: RootKey, key: Key, private_pkcs8_der: bytes) -> bytes:
    """Wrap imported material exactly as generated material is wrapped (issue #4)."""
    return wrap(root_key, private_pkcs8_der, canonical_key_arn(key.account_id, key.key_id).encode())


def _wrapping_key_aad(key_id: str, token_id: str) -> bytes:
    # Bound to the key and the token: a wrapping key serves one GetParametersForImport only.
    return f"qkms import wrapping key v1|{key_id}|{token_id}".encode()


def wrap_wrapping_key(root_key: RootKey, key_id: str, token_id: str, private_der: bytes) -> bytes:
    """Wrap an import's RSA private key, which is stored only this way (issue #4)."""
    return wrap(root_key, private_der, _wrapping_key_aad(key_id, token_id))


def unwrap_wrapping_key(root_key: RootKey, key_id: str, token_id: str, blob: bytes) -> bytes:
    return unwrap(root_key, blob, _wrapping_key_aad(key_id, token_id))


def unwrap_private_key(root_key: RootKey, key: Key) -> PrivateKey:
    """Unwrap and parse an ECC key's private key (raises crypto errors, mapped by the caller)."""
    curve = key.curve
    if curve is None or key.wrapped_material is None:
        raise ValueError(f"{key!r} has no private key")
    aad = canonical_key_arn(key.account_id, key.key_id).encode()
    return load_private_key(unwrap(root_key, key.wrapped_material, aad), curve)
