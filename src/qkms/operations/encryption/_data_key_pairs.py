"""What GenerateDataKeyPair and its WithoutPlaintext twin share: the spec, the pair, the seal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from qkms.crypto import DataKeyPairSpec, generate_data_key_pair
from qkms.domain.errors import UnsupportedOperationException
from qkms.operations.encryption._symmetric import seal
from qkms.operations.runtime.context import CachedKey, OperationContext

__all__ = ["SealedKeyPair", "data_key_pair_spec", "sealed_key_pair"]

_SERVED = frozenset(spec.value for spec in DataKeyPairSpec)


def data_key_pair_spec(key_pair_spec: str | None) -> DataKeyPairSpec:
    """A spec of AWS's enum QKMS cannot generate (SM2, Ed25519, ML-KEM) is refused by name;
    botocore lists UnsupportedOperationException among this operation's errors."""
    if key_pair_spec not in _SERVED or key_pair_spec is None:
        raise UnsupportedOperationException(
            f"KeyPairSpec {key_pair_spec} is not supported by QKMS for data key pairs."
        )
    return DataKeyPairSpec(key_pair_spec)


@dataclass(frozen=True, slots=True)
class SealedKeyPair:
    private_key_pkcs8_der: bytes
    private_key_ciphertext_blob: bytes
    public_key_der: bytes
    key_material_id: str

    def __repr__(self) -> str:
        return f"SealedKeyPair({self.key_material_id}, <redacted>)"


def sealed_key_pair(
    ctx: OperationContext,
    cached: CachedKey,
    spec: DataKeyPairSpec,
    encryption_context: Mapping[str, str] | None,
) -> SealedKeyPair:
    """A new pair; its private key (DER PKCS#8) encrypted as a normal ciphertext blob."""
    pair = generate_data_key_pair(spec)
    blob, material_id = seal(ctx, cached, pair.private_pkcs8_der, encryption_context)
    return SealedKeyPair(pair.private_pkcs8_der, blob, pair.public_spki_der, material_id)
