"""ReEncrypt (DESIGN §4a): decrypt under one key and encrypt under another, inside QKMS.

Reads top to bottom: parse -> load -> check -> act -> respond. As in AWS the source needs
kms:ReEncryptFrom and the destination kms:ReEncryptTo, each with its own encryption context as
condition keys; the plaintext never leaves this function.
"""

from __future__ import annotations

from qkms.crypto import CiphertextError, decode_ciphertext_blob
from qkms.domain.errors import ValidationException
from qkms.domain.lifecycle import KeyOperation
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
from qkms.operations.runtime.context import OperationContext
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
        raise invalid_ciphertext() from None


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
        check_usage(ctx, source_key, "ReEncrypt")
        check_usage(ctx, destination.key, "ReEncrypt")
        raise dry_run_succeeded()
    source, blob = load_ciphertext_key(
        ctx,
        request.ciphertext_blob,
        request.source_key_id,
        KeyOperation.RE_ENCRYPT_FROM,
        request.grant_tokens,
        source_facts,
        request.source_encryption_context,
    )

    # check
    check_usage(ctx, source.key, "ReEncrypt")
    check_usage(ctx, destination.key, "ReEncrypt")
    check_algorithm(source.key, request.source_encryption_algorithm)
    check_algorithm(destination.key, request.destination_encryption_algorithm)
    plaintext = open_blob(ctx, source, blob, request.source_encryption_context)
    if request.dry_run:
        raise dry_run_succeeded()

    # act
    new_blob, destination_material_id = seal(
        ctx, destination, plaintext, request.destination_encryption_context
    )

    # respond
    return ReEncryptResponse(
        ciphertext_blob=new_blob,
        source_key_id=key_arn(ctx, source.key),
        key_id=key_arn(ctx, destination.key),
        source_encryption_algorithm=SYMMETRIC_DEFAULT,
        destination_encryption_algorithm=SYMMETRIC_DEFAULT,
        source_key_material_id=blob.key_material_id,
        destination_key_material_id=destination_material_id,
    )
