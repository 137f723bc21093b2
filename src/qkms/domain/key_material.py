"""Creating, wrapping and unwrapping key material under the root key (DESIGN §6).

Material is wrapped with AES-256-GCM and the key's canonical ARN as associated data, so a
wrapped blob copied onto another key's row does not unwrap. The blob records which root key
wrapped it (its check value), ready for root-key rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from qkms.crypto import (
    MlKemPrivateKey,
    PrivateKey,
    RootKey,
    XdhPrivateKey,
    generate_key_pair,
    generate_mlkem_key_pair,
    generate_xdh_key_pair,
    load_mlkem_private_key,
    load_private_key,
    load_xdh_private_key,
    random_bytes,
    unwrap,
    wrap,
)
from qkms.domain.arns import canonical_key_arn
from qkms.domain.keys import Key, KeySpec, curve_of, mlkem_spec_of, xdh_curve_of

__all__ = [
    "NewMaterial",
    "create_material",
    "unwrap_mlkem_private_key",
    "unwrap_private_key",
    "unwrap_wrapping_key",
    "unwrap_xdh_private_key",
    "wrap_imported_material",
    "wrap_wrapping_key",
]

_SYMMETRIC_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class NewMaterial:
    public_key_der: bytes | None
    wrapped_material: bytes

    def __repr__(self) -> str:
        return "NewMaterial(<wrapped>)"


def create_material(root_key: RootKey, spec: KeySpec, account_id: str, key_id: str) -> NewMaterial:
    """Generate material for a supported spec and return it already wrapped."""
    aad = canonical_key_arn(account_id, key_id).encode()
    curve = curve_of(spec)
    if curve is not None:
        pair = generate_key_pair(curve)
        return NewMaterial(pair.public_spki_der, wrap(root_key, pair.private_pkcs8_der, aad))
    xdh_curve = xdh_curve_of(spec)
    if xdh_curve is not None:
        pair = generate_xdh_key_pair(xdh_curve)
        return NewMaterial(pair.public_spki_der, wrap(root_key, pair.private_pkcs8_der, aad))
    mlkem_spec = mlkem_spec_of(spec)
    if mlkem_spec is not None:
        pair = generate_mlkem_key_pair(mlkem_spec)
        return NewMaterial(pair.public_spki_der, wrap(root_key, pair.private_pkcs8_der, aad))
    if spec is KeySpec.SYMMETRIC_DEFAULT:
        return NewMaterial(None, wrap(root_key, random_bytes(_SYMMETRIC_KEY_BYTES), aad))
    # Callers check is_supported_pair first; reaching here is a programming error.
    raise ValueError(f"no material generator for {spec.value}")


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


def _unwrap_material(root_key: RootKey, key: Key) -> bytes:
    if key.wrapped_material is None:
        raise ValueError(f"{key!r} has no private key")
    aad = canonical_key_arn(key.account_id, key.key_id).encode()
    return unwrap(root_key, key.wrapped_material, aad)


def unwrap_xdh_private_key(root_key: RootKey, key: Key) -> XdhPrivateKey:
    """Unwrap and parse an X25519/X448 key's private key (crypto errors mapped by the caller)."""
    curve = key.xdh_curve
    if curve is None:
        raise ValueError(f"{key!r} is not an X25519/X448 key")
    return load_xdh_private_key(_unwrap_material(root_key, key), curve)


def unwrap_mlkem_private_key(root_key: RootKey, key: Key) -> MlKemPrivateKey:
    """Unwrap and parse an ML-KEM key's decapsulation key (crypto errors mapped by the caller)."""
    spec = key.mlkem_spec
    if spec is None:
        raise ValueError(f"{key!r} is not an ML-KEM key")
    return load_mlkem_private_key(_unwrap_material(root_key, key), spec)
