"""ReEncrypt (DESIGN §4a): decrypt under one key and encrypt under another, inside QKMS.

Reads top to bottom: parse -> load -> check -> act -> respond. As in AWS the source needs
kms:ReEncryptFrom and the destination kms:ReEncryptTo, each with its own encryption context as
condition keys; the plaintext never leaves this function.
"""

from __future__ import annotations

from qkms.crypto import CiphertextError, decode_ciphertext_blob
from qkms.domain.errors import ValidationException
from qkms.domain.lifecycle import KeyOperation
from qkms.domain.policy import ContextValue
from qkms.operations.encryption._rsa import (
    blob_for_key,
    check_rsa_request,
    rsa_decrypt,
    rsa_encrypt,
)
from qkms.operations.encryption._symmetric import (
    SYMMETRIC_DEFAULT,
    check_algorithm,
    check_usage,
    condition_facts,
    dry_run_succeeded,
    invalid_ciphertext,
    load_ciphertext_key,
    open_blob,
    seal,
)
from qkms.operations.runtime.context import CachedKey, OperationContext
from qkms.operations.shapes.encryption import ReEncryptRequest, ReEncryptResponse
from qkms.operations.support.keys import alias_target, key_arn, load_cached_key

__all__ = ["re_encrypt"]


def _named_key_id(ctx: OperationContext, key_ref: str | None) -> str | None:
    """The key id a reference names, before authorization (for kms:ReEncryptOnSameKey only)."""
    ref = ctx.services.arns.parse_key_ref(key_ref or "")
    if ref is None:
        return None
    if ref.key_id is None and ref.alias_name is not None:
        return alias_target(ctx, ref.account_id or ctx.caller.account_id, ref.alias_name)
    return ref.key_id


def _source_key_id(ctx: OperationContext, request: ReEncryptRequest, ignore: bool) -> str | None:
    if ignore:
        return _named_key_id(ctx, request.source_key_id)
    try:
        return decode_ciphertext_blob(request.ciphertext_blob or b"").key_id
    except CiphertextError:
        # An RSA ciphertext names no key: SourceKeyId names it (AWS requires it then).
        if request.source_key_id is not None:
            return _named_key_id(ctx, request.source_key_id)
        raise invalid_ciphertext() from None


def _open_source(
    ctx: OperationContext, request: ReEncryptRequest, facts: dict[str, ContextValue]
) -> tuple[CachedKey, bytes, str, str | None]:
    """(source key, plaintext, source algorithm, source material id); the key is loaded once,
    by SourceKeyId when given (it may be an RSA key, whose ciphertext names no key)."""
    context = request.source_encryption_context
    if request.source_key_id is not None:
        source = load_cached_key(
            ctx,
            request.source_key_id,
            KeyOperation.RE_ENCRYPT_FROM,
            request.grant_tokens,
            facts,
            encryption_context=context or {},
        )
        if source.key.can_encrypt_with_rsa:
            algorithm = check_rsa_request(source.key, request.source_encryption_algorithm, context)
            plaintext = rsa_decrypt(ctx.services, source, algorithm, request.ciphertext_blob or b"")
            return source, plaintext, algorithm.value, None
        blob = blob_for_key(source.key, request.ciphertext_blob)
    else:
        source, blob = load_ciphertext_key(
            ctx,
            request.ciphertext_blob,
            None,
            KeyOperation.RE_ENCRYPT_FROM,
            request.grant_tokens,
            facts,
            context,
        )
    check_usage(ctx, source.key, "ReEncrypt")
    check_algorithm(source.key, request.source_encryption_algorithm)
    plaintext = open_blob(ctx, source, blob, context)
    return source, plaintext, SYMMETRIC_DEFAULT, blob.key_material_id


def _seal_destination(
    ctx: OperationContext, destination: CachedKey, request: ReEncryptRequest, plaintext: bytes
) -> tuple[bytes, str, str | None]:
    """(ciphertext, destination algorithm, destination material id)."""
    context = request.destination_encryption_context
    key = destination.key
    if key.can_encrypt_with_rsa:
        algorithm = check_rsa_request(key, request.destination_encryption_algorithm, context)
        return (
            rsa_encrypt(ctx.services, destination, algorithm, plaintext),
            algorithm.value,
            None,
        )
    blob, material_id = seal(ctx, destination, plaintext, context)
    return blob, SYMMETRIC_DEFAULT, material_id


def _check_destination(destination: CachedKey, request: ReEncryptRequest) -> None:
    key = destination.key
    if key.can_encrypt_with_rsa:
        check_rsa_request(
            key, request.destination_encryption_algorithm, request.destination_encryption_context
        )


def re_encrypt(ctx: OperationContext, request: ReEncryptRequest) -> ReEncryptResponse:
    # parse
    source_facts = condition_facts(
        request.source_encryption_context, request.source_encryption_algorithm
    )
    destination_facts = condition_facts(
        request.destination_encryption_context, request.destination_encryption_algorithm
    )
    ignore_ciphertext = bool(request.dry_run) and "IGNORE_CIPHERTEXT" in (
        request.dry_run_modifiers or []
    )
    # AWS condition key kms:ReEncryptOnSameKey: whether source and destination are one key.
    same_key = _source_key_id(ctx, request, ignore_ciphertext) == _named_key_id(
        ctx, request.destination_key_id
    )
    source_facts["kms:ReEncryptOnSameKey"] = same_key
    destination_facts["kms:ReEncryptOnSameKey"] = same_key

    # load: the destination first (it is named), then the source the blob names.
    destination = load_cached_key(
        ctx,
        request.destination_key_id,
        KeyOperation.RE_ENCRYPT_TO,
        request.grant_tokens,
        destination_facts,
        encryption_context=request.destination_encryption_context or {},
    )
    if ignore_ciphertext:
        if request.source_key_id is None:
            raise ValidationException(
                "SourceKeyId is required when DryRunModifiers includes IGNORE_CIPHERTEXT."
            )
        source_key = load_cached_key(
            ctx,
            request.source_key_id,
            KeyOperation.RE_ENCRYPT_FROM,
            request.grant_tokens,
            source_facts,
            encryption_context=request.source_encryption_context or {},
        ).key
        if not source_key.can_encrypt_with_rsa:
            check_usage(ctx, source_key, "ReEncrypt")
        if not destination.key.can_encrypt_with_rsa:
            check_usage(ctx, destination.key, "ReEncrypt")
        raise dry_run_succeeded()
    # check (destination first, so a wrong destination costs no decryption) and act
    if destination.key.can_encrypt_with_rsa:
        _check_destination(destination, request)
    else:
        check_usage(ctx, destination.key, "ReEncrypt")
        check_algorithm(destination.key, request.destination_encryption_algorithm)
    source, plaintext, source_algorithm, source_material_id = _open_source(
        ctx, request, source_facts
    )
    if request.dry_run:
        raise dry_run_succeeded()
    new_blob, destination_algorithm, destination_material_id = _seal_destination(
        ctx, destination, request, plaintext
    )

    # respond
    return ReEncryptResponse(
        ciphertext_blob=new_blob,
        source_key_id=key_arn(ctx, source.key),
        key_id=key_arn(ctx, destination.key),
        source_encryption_algorithm=source_algorithm,
        destination_encryption_algorithm=destination_algorithm,
        source_key_material_id=source_material_id,
        destination_key_material_id=destination_material_id,
    )
