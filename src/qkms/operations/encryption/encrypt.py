"""Encrypt (DESIGN §4a): up to 4,096 bytes under a symmetric key's current material.

Reads top to bottom: parse -> load -> check -> act -> respond. The plaintext exists only in
the request; the ciphertext blob is QKMS's own format (docs/ciphertext-format.md).
"""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.operations.encryption._rsa import check_rsa_request, rsa_encrypt
from qkms.operations.encryption._symmetric import (
    SYMMETRIC_DEFAULT,
    check_algorithm,
    check_usage,
    condition_facts,
    dry_run_succeeded,
    seal,
)
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.encryption import EncryptRequest, EncryptResponse
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["encrypt"]


def encrypt(ctx: OperationContext, request: EncryptRequest) -> EncryptResponse:
    # parse: the codec has checked Plaintext's 1-4,096 bytes and the algorithm's enum.
    context = request.encryption_context

    # load: resolution, authorization with the request's condition keys, the state table.
    cached = load_cached_key(
        ctx,
        request.key_id,
        KeyOperation.ENCRYPT,
        request.grant_tokens,
        condition_facts(context, request.encryption_algorithm),
        encryption_context=context or {},
    )
    key = cached.key

    # check
    if key.can_encrypt_with_rsa:
        algorithm = check_rsa_request(key, request.encryption_algorithm, context)
        if request.dry_run:
            raise dry_run_succeeded()
        ciphertext = rsa_encrypt(ctx.services, cached, algorithm, request.plaintext or b"")
        return EncryptResponse(
            ciphertext_blob=ciphertext,
            key_id=key_arn(ctx, key),
            encryption_algorithm=algorithm.value,
        )
    check_usage(ctx, key, "Encrypt")
    check_algorithm(key, request.encryption_algorithm)
    if request.dry_run:
        raise dry_run_succeeded()

    # act
    blob, _ = seal(ctx, cached, request.plaintext or b"", context)

    # respond
    return EncryptResponse(
        ciphertext_blob=blob, key_id=key_arn(ctx, key), encryption_algorithm=SYMMETRIC_DEFAULT
    )
