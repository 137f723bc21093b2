"""KeyMetadata and the algorithm lists exactly as AWS KMS reports them for each key type."""

from __future__ import annotations

from qkms.domain.keys import Key, KeySpec, KeyUsage
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import KeyMetadata

__all__ = ["algorithm_lists", "encapsulation_algorithms", "key_metadata"]

_SIGNING = {
    KeySpec.ECC_NIST_P256: ["ECDSA_SHA_256"],
    KeySpec.ECC_NIST_P384: ["ECDSA_SHA_384"],
    KeySpec.ECC_NIST_P521: ["ECDSA_SHA_512"],
    KeySpec.ECC_SECG_P256K1: ["ECDSA_SHA_256"],
}


def encapsulation_algorithms(key: Key) -> list[str] | None:
    """EncapsulationAlgorithms: only for ENCAPSULATE_DECAPSULATE keys (AWS's KeyMetadata)."""
    return ["ML_KEM"] if key.key_usage is KeyUsage.ENCAPSULATE_DECAPSULATE else None


def algorithm_lists(key: Key) -> tuple[list[str] | None, list[str] | None, list[str] | None]:
    """(EncryptionAlgorithms, SigningAlgorithms, KeyAgreementAlgorithms) for this key."""
    if key.key_usage.is_key_agreement:
        return None, None, ["ECDH"]
    if key.key_usage is KeyUsage.SIGN_VERIFY:
        return None, _SIGNING.get(key.key_spec), None
    if key.key_usage is KeyUsage.ENCRYPT_DECRYPT and key.key_spec is KeySpec.SYMMETRIC_DEFAULT:
        return ["SYMMETRIC_DEFAULT"], None, None
    return None, None, None


def key_metadata(ctx: OperationContext, key: Key) -> KeyMetadata:
    encryption, signing, agreement = algorithm_lists(key)
    return KeyMetadata(
        aws_account_id=key.account_id,
        key_id=key.key_id,
        arn=ctx.services.arns.key_arn(key.account_id, key.key_id),
        creation_date=key.creation_date,
        enabled=key.is_enabled,
        description=key.description,
        key_usage=key.key_usage.value,
        key_state=key.state.value,
        deletion_date=key.deletion_date,
        valid_to=key.valid_to,
        origin=key.origin.value,
        expiration_model=key.expiration_model,
        key_manager="CUSTOMER",
        customer_master_key_spec=key.key_spec.value,
        key_spec=key.key_spec.value,
        encryption_algorithms=encryption,
        signing_algorithms=signing,
        key_agreement_algorithms=agreement,
        encapsulation_algorithms=encapsulation_algorithms(key),
        multi_region=False,
    )
