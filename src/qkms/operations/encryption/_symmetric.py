"""What the symmetric data-plane operations share: usage and algorithm checks, condition keys,
finding the key and material a ciphertext names, sealing and opening blobs (DESIGN §4a).

Every way a ciphertext can be wrong (not a QKMS blob, truncated, tampered, a key or material
that does not exist, another encryption context) is one InvalidCiphertextException with AWS's
empty message: LocalStack's AWS-validated provider raises it without one after a failed tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qkms.crypto import (
    CiphertextBlob,
    CiphertextError,
    CryptoError,
    EncryptionContextError,
    SymmetricKey,
    decode_ciphertext_blob,
    decrypt_ciphertext_blob,
    encrypt_to_ciphertext_blob,
)
from qkms.domain.errors import (
    DryRunOperationException,
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    KMSInternalException,
    ValidationException,
)
from qkms.domain.key_material import unwrap_symmetric_material
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.domain.policy import ContextValue
from qkms.operations.runtime.context import CachedKey, OperationContext
from qkms.operations.support.keys import key_arn, load_cached_key
from qkms.storage.base import key_row_id

__all__ = [
    "SYMMETRIC_DEFAULT",
    "check_algorithm",
    "check_usage",
    "condition_facts",
    "dry_run_succeeded",
    "invalid_ciphertext",
    "load_ciphertext_key",
    "open_blob",
    "seal",
]

SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"


def invalid_ciphertext() -> InvalidCiphertextException:
    return InvalidCiphertextException("")


def dry_run_succeeded() -> DryRunOperationException:
    return DryRunOperationException(
        "The request would have succeeded, but the DryRun option is set."
    )


def condition_facts(
    encryption_context: Mapping[str, str] | None, algorithm: str | None = None
) -> dict[str, ContextValue]:
    """The request's condition keys (AWS "AWS KMS condition keys"): kms:EncryptionAlgorithm,
    kms:EncryptionContext:<key> per pair and kms:EncryptionContextKeys (absent when there is
    no context, so ForAllValues holds and ForAnyValue does not, as in AWS)."""
    facts: dict[str, ContextValue] = {"kms:EncryptionAlgorithm": algorithm or SYMMETRIC_DEFAULT}
    pairs = encryption_context or {}
    for name, value in pairs.items():
        facts[f"kms:EncryptionContext:{name}"] = value
    if pairs:
        facts["kms:EncryptionContextKeys"] = tuple(sorted(pairs))
    return facts


def check_usage(ctx: OperationContext, key: Key, operation: str) -> None:
    """AWS's wording (LocalStack's AWS-validated provider, `_validate_key_for_encryption_decryption`)."""
    if not key.can_encrypt_symmetrically:
        raise InvalidKeyUsageException(
            f"{key_arn(ctx, key)} key usage is {key.key_usage.value} which is not valid for "
            f"{operation}."
        )


def check_algorithm(key: Key, algorithm: str | None) -> None:
    """A symmetric key takes SYMMETRIC_DEFAULT (or none); an RSAES or SM2 algorithm is
    InvalidKeyUsageException. AWS's text is not documented; this is the one other AWS-compatible
    emulators record ("Algorithm ... is incompatible with key spec SYMMETRIC_DEFAULT.")."""
    if algorithm is not None and algorithm != SYMMETRIC_DEFAULT:
        raise InvalidKeyUsageException(
            f"Algorithm {algorithm} is incompatible with key spec {key.key_spec.value}."
        )


def _material(ctx: OperationContext, cached: CachedKey, material_id: str) -> SymmetricKey | None:
    found = cached.symmetric_materials.get(material_id)
    if found is not None:
        return found
    row = ctx.services.store.get_key_material(cached.key.key_id, material_id)
    if row is None or row.wrapped_material is None:
        return None
    try:
        material = unwrap_symmetric_material(
            ctx.services.root_key, cached.key, row.wrapped_material
        )
    except (CryptoError, ValueError) as exc:
        # A wrong root key or a damaged row: an operator problem, logged by the wire.
        raise KMSInternalException("The key material could not be used.") from exc
    cached.add_symmetric_material(material_id, material)
    ctx.services.parsed_keys.holding(cached)
    return material


def seal(
    ctx: OperationContext,
    cached: CachedKey,
    plaintext: bytes,
    encryption_context: Mapping[str, str] | None,
) -> tuple[bytes, str]:
    """(ciphertext blob, key material id) under the key's current material."""
    key = cached.key
    material_id = key.current_key_material_id
    material = _material(ctx, cached, material_id) if material_id is not None else None
    if material is None or material_id is None:
        raise KMSInternalException("The key has no current key material.")
    try:
        blob = encrypt_to_ciphertext_blob(
            material, key.key_id, material_id, plaintext, encryption_context
        )
    except EncryptionContextError:
        raise ValidationException("EncryptionContext must be valid Unicode text.") from None
    return blob, material_id


def _key_ref_of_blob(ctx: OperationContext, blob: CiphertextBlob) -> str:
    """The ARN of the key a blob names; a key that does not exist makes an invalid ciphertext."""
    services = ctx.services
    # A multi-region key's ciphertext is the same in every region: this region's row decides.
    row_id = key_row_id(blob.key_id, ctx.region)
    cached = services.key_cache.get(row_id)
    if cached is not None:
        account_id, region = cached.key.account_id, cached.key.region
    else:
        row = services.store.get_key(row_id)
        if row is None:
            raise invalid_ciphertext()
        account_id, region = row.account_id, row.region
    # Another region's key does not exist here (DESIGN §4a): its ciphertext is as foreign as one
    # of a deleted key.
    if (region or services.arns.region) != ctx.region:
        raise invalid_ciphertext()
    return services.arns.key_arn(account_id, blob.key_id, ctx.region)


def load_ciphertext_key(
    ctx: OperationContext,
    ciphertext: bytes | None,
    key_ref: str | None,
    operation: KeyOperation,
    grant_tokens: Sequence[str] | None,
    facts: Mapping[str, ContextValue],
    encryption_context: Mapping[str, str] | None,
) -> tuple[CachedKey, CiphertextBlob]:
    """Decode the blob, then load (authorize, state-check) the key it names.

    A KeyId the caller gives must name that very key (AWS: IncorrectKeyException, with the
    wording LocalStack's AWS-validated provider uses).
    """
    context = dict(encryption_context or {})  # grant constraints: no context is the empty one
    try:
        blob = decode_ciphertext_blob(ciphertext or b"")
    except CiphertextError:
        raise invalid_ciphertext() from None
    if key_ref is not None:
        cached = load_cached_key(
            ctx, key_ref, operation, grant_tokens, facts, encryption_context=context
        )
        if cached.key.key_id != blob.key_id:
            raise IncorrectKeyException(
                "The key ID in the request does not identify a CMK that can perform this operation."
            )
        return cached, blob
    cached = load_cached_key(
        ctx, _key_ref_of_blob(ctx, blob), operation, grant_tokens, facts, encryption_context=context
    )
    return cached, blob


def open_blob(
    ctx: OperationContext,
    cached: CachedKey,
    blob: CiphertextBlob,
    encryption_context: Mapping[str, str] | None,
) -> bytes:
    """The plaintext; InvalidCiphertextException for unknown material, a wrong context or any
    tampering (not told apart, docs/ciphertext-format.md)."""
    material = _material(ctx, cached, blob.key_material_id)
    if material is None:
        raise invalid_ciphertext()
    try:
        return decrypt_ciphertext_blob(material, blob, encryption_context)
    except (CiphertextError, EncryptionContextError):
        raise invalid_ciphertext() from None
