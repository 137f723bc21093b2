"""Creating, wrapping and unwrapping key material under the root key (DESIGN §6).

Material is wrapped with AES-256-GCM and the key's canonical ARN as associated data, so a
wrapped blob copied onto another key's row does not unwrap. The blob records which root key
wrapped it (its check value), ready for root-key rotation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from qkms.crypto import (
    HmacKey,
    MlKemPrivateKey,
    PrivateKey,
    RootKey,
    RsaPrivateKey,
    SigningPrivateKey,
    SymmetricKey,
    XdhPrivateKey,
    generate_key_pair,
    generate_mlkem_key_pair,
    generate_signing_key_pair,
    generate_xdh_key_pair,
    load_mlkem_private_key,
    load_private_key,
    load_rsa_private_key,
    load_signing_private_key,
    load_xdh_private_key,
    new_key_material_id,
    unwrap,
    wrap,
)
from qkms.domain.arns import canonical_key_arn
from qkms.domain.keys import (
    Key,
    KeySpec,
    curve_of,
    hmac_spec_of,
    mlkem_spec_of,
    signing_spec_of,
    xdh_curve_of,
)

__all__ = [
    "NewMaterial",
    "NewSymmetricMaterial",
    "create_material",
    "create_symmetric_material",
    "unwrap_hmac_key",
    "unwrap_mlkem_private_key",
    "unwrap_private_key",
    "unwrap_rsa_encryption_key",
    "unwrap_signing_key",
    "unwrap_symmetric_material",
    "unwrap_wrapping_key",
    "unwrap_xdh_private_key",
    "wrap_imported_material",
    "wrap_wrapping_key",
]

_S = TypeVar("_S")  # what selects the loader: a curve or a key spec
_K = TypeVar("_K")  # the loaded key


@dataclass(frozen=True, slots=True)
class NewMaterial:
    public_key_der: bytes | None
    wrapped_material: bytes = field(repr=False)


def create_material(root_key: RootKey, spec: KeySpec, account_id: str, key_id: str) -> NewMaterial:
    """Generate an asymmetric or HMAC key's material and return it already wrapped.

    Private keys (ECC, RSA, ML-DSA) and HMAC keys go into the one wrapped-material column,
    wrapped exactly as key-agreement private keys are; symmetric keys have material versions
    instead (`create_symmetric_material`).
    """
    aad = canonical_key_arn(account_id, key_id).encode()
    curve = curve_of(spec)
    signing_spec = signing_spec_of(spec)
    if curve is not None:
        # One PKCS#8 EC key serves ECDH and ECDSA alike.
        pair = generate_key_pair(curve)
        return NewMaterial(pair.public_spki_der, wrap(root_key, pair.private_pkcs8_der, aad))
    if signing_spec is not None:
        pair = generate_signing_key_pair(signing_spec)
        return NewMaterial(pair.public_spki_der, wrap(root_key, pair.private_pkcs8_der, aad))
    hmac_spec = hmac_spec_of(spec)
    if hmac_spec is not None:
        return NewMaterial(None, wrap(root_key, HmacKey.generate(hmac_spec).to_bytes(), aad))
    xdh_curve = xdh_curve_of(spec)
    if xdh_curve is not None:
        pair = generate_xdh_key_pair(xdh_curve)
        return NewMaterial(pair.public_spki_der, wrap(root_key, pair.private_pkcs8_der, aad))
    mlkem_spec = mlkem_spec_of(spec)
    if mlkem_spec is not None:
        pair = generate_mlkem_key_pair(mlkem_spec)
        return NewMaterial(pair.public_spki_der, wrap(root_key, pair.private_pkcs8_der, aad))
    # Callers check is_supported_pair first; reaching here is a programming error.
    raise ValueError(f"no material generator for {spec.value}")


@dataclass(frozen=True, slots=True)
class NewSymmetricMaterial:
    key_material_id: str
    wrapped_material: bytes = field(repr=False)


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


def wrap_imported_material(root_key: RootKey, key: Key, material: bytes) -> bytes:
    """Wrap imported material (a PKCS#8 private key or HMAC key bytes) exactly as generated
    material is wrapped."""
    return wrap(root_key, material, canonical_key_arn(key.account_id, key.key_id).encode())


def _wrapping_key_aad(key_id: str, token_id: str) -> bytes:
    # Bound to the key and the token: a wrapping key serves one GetParametersForImport only.
    return f"qkms import wrapping key v1|{key_id}|{token_id}".encode()


def wrap_wrapping_key(root_key: RootKey, key_id: str, token_id: str, private_der: bytes) -> bytes:
    """Wrap an import's RSA private key, which is stored only this way (DESIGN §4)."""
    return wrap(root_key, private_der, _wrapping_key_aad(key_id, token_id))


def unwrap_wrapping_key(root_key: RootKey, key_id: str, token_id: str, blob: bytes) -> bytes:
    return unwrap(root_key, blob, _wrapping_key_aad(key_id, token_id))


def _unwrapped(root_key: RootKey, key: Key) -> bytes:
    if key.wrapped_material is None:
        raise ValueError(f"{key!r} has no key material")
    return unwrap(
        root_key, key.wrapped_material, canonical_key_arn(key.account_id, key.key_id).encode()
    )


def _unwrap_as(
    root_key: RootKey, key: Key, spec: _S | None, kind: str, load: Callable[[bytes, _S], _K]
) -> _K:
    """Unwrap `key`'s material and load it by `spec`, which is None when `key` is not of `kind`."""
    if spec is None:
        raise ValueError(f"{key!r} is not {kind}")
    return load(_unwrapped(root_key, key), spec)


def unwrap_private_key(root_key: RootKey, key: Key) -> PrivateKey:
    """Unwrap and parse an ECC key's private key (raises crypto errors, mapped by the caller)."""
    return _unwrap_as(root_key, key, key.curve, "an ECC key", load_private_key)


def unwrap_signing_key(root_key: RootKey, key: Key) -> SigningPrivateKey:
    """Unwrap and parse a SIGN_VERIFY key's private key (crypto errors mapped by the caller)."""
    return _unwrap_as(root_key, key, key.signing_spec, "a signing key", load_signing_private_key)


def unwrap_hmac_key(root_key: RootKey, key: Key) -> HmacKey:
    """Unwrap an HMAC key's material (crypto errors mapped by the caller)."""
    return _unwrap_as(
        root_key, key, key.hmac_spec, "an HMAC key", lambda material, spec: HmacKey(spec, material)
    )


def unwrap_xdh_private_key(root_key: RootKey, key: Key) -> XdhPrivateKey:
    """Unwrap and parse an X25519/X448 key's private key (crypto errors mapped by the caller)."""
    return _unwrap_as(root_key, key, key.xdh_curve, "an X25519/X448 key", load_xdh_private_key)


def unwrap_mlkem_private_key(root_key: RootKey, key: Key) -> MlKemPrivateKey:
    """Unwrap and parse an ML-KEM key's decapsulation key (crypto errors mapped by the caller)."""
    return _unwrap_as(root_key, key, key.mlkem_spec, "an ML-KEM key", load_mlkem_private_key)


def unwrap_rsa_encryption_key(root_key: RootKey, key: Key) -> RsaPrivateKey:
    """Unwrap an RSA ENCRYPT_DECRYPT key's private key (crypto errors mapped by the caller)."""
    if not key.can_encrypt_with_rsa:
        raise ValueError(f"{key!r} is not an RSA encryption key")
    return load_rsa_private_key(_unwrapped(root_key, key))
