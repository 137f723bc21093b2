"""Decrypt (DESIGN §4a): a QKMS ciphertext blob back to its plaintext; the blob names its key.

Reads top to bottom: parse -> load -> check -> act -> respond. KeyId is optional; when given it
must be the key the blob names (IncorrectKeyException).
"""

from __future__ import annotations

from qkms.domain.errors import ValidationException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.encryption._rsa import blob_for_key, check_rsa_request, rsa_decrypt
from qkms.operations.encryption._symmetric import (
    SYMMETRIC_DEFAULT,
    check_algorithm,
    check_usage,
    condition_facts,
    dry_run_succeeded,
    load_ciphertext_key,
    open_blob,
)
from qkms.operations.runtime.context import CachedKey, OperationContext
from qkms.operations.shapes.encryption import DecryptRequest, DecryptResponse
from qkms.operations.support.keys import key_arn, load_cached_key
from qkms.operations.support.recipients import attested_recipient, condition_facts_of

__all__ = ["decrypt"]


def _decrypt_rsa(
    ctx: OperationContext, cached: CachedKey, request: DecryptRequest
) -> DecryptResponse:
    """Decrypt with an RSA ENCRYPT_DECRYPT key: the blob is plain RSA-OAEP (AWS)."""
    algorithm = check_rsa_request(
        cached.key, request.encryption_algorithm, request.encryption_context
    )
    plaintext = rsa_decrypt(ctx.services, cached, algorithm, request.ciphertext_blob or b"")
    if request.dry_run:
        raise dry_run_succeeded()
    return DecryptResponse(
        key_id=key_arn(ctx, cached.key),
        plaintext=plaintext,
        encryption_algorithm=algorithm.value,
    )


def decrypt(ctx: OperationContext, request: DecryptRequest) -> DecryptResponse:
    # parse
    recipient = attested_recipient(ctx, request.recipient)  # DESIGN §3 "Recipients"
    context = request.encryption_context
    facts = condition_facts(context, request.encryption_algorithm)
    facts.update(condition_facts_of(recipient))
    if request.dry_run and "IGNORE_CIPHERTEXT" in (request.dry_run_modifiers or []):
        # AWS "Testing your permissions": authorization only, no ciphertext; the key must then
        # be named, since there is no blob to name it.
        if request.key_id is None:
            raise ValidationException(
                "KeyId is required when DryRunModifiers includes IGNORE_CIPHERTEXT."
            )
        cached = load_cached_key(
            ctx,
            request.key_id,
            KeyOperation.DECRYPT,
            request.grant_tokens,
            facts,
            encryption_context=context or {},
        )
        if cached.key.can_encrypt_with_rsa:
            check_rsa_request(cached.key, request.encryption_algorithm, context)
        else:
            check_usage(ctx, cached.key, "Decrypt")
        raise dry_run_succeeded()

    # load: a given KeyId first (an RSA ciphertext names no key); else the key the blob names.
    if request.key_id is not None:
        cached = load_cached_key(
            ctx,
            request.key_id,
            KeyOperation.DECRYPT,
            request.grant_tokens,
            facts,
            encryption_context=context or {},
        )
        if cached.key.can_encrypt_with_rsa:
            return _decrypt_rsa(ctx, cached, request)
        blob = blob_for_key(cached.key, request.ciphertext_blob)
    else:
        cached, blob = load_ciphertext_key(
            ctx,
            request.ciphertext_blob,
            None,
            KeyOperation.DECRYPT,
            request.grant_tokens,
            facts,
            context,
        )
    key = cached.key

    # check
    check_usage(ctx, key, "Decrypt")
    check_algorithm(key, request.encryption_algorithm)
    plaintext = open_blob(ctx, cached, blob, context)
    if request.dry_run:
        raise dry_run_succeeded()

    # respond
    return DecryptResponse(
        key_id=key_arn(ctx, key),
        plaintext=plaintext if recipient is None else None,
        ciphertext_for_recipient=recipient.seal(plaintext) if recipient else None,
        encryption_algorithm=SYMMETRIC_DEFAULT,
        key_material_id=blob.key_material_id,
    )
