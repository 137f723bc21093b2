"""Encapsulate (DESIGN §4a): a fresh shared secret and its ciphertext under an ML-KEM key.

Reads top to bottom: parse -> load -> check -> act -> respond. The shared secret exists only in
the response; it is never stored, logged or put in an exception (DESIGN §3, §4a). AWS's
Encapsulate page: KMS encapsulates to the key's public key, `kms:Encapsulate` on the key policy.
"""

from __future__ import annotations

from qkms.crypto import CryptoError, load_encapsulation_key
from qkms.crypto import encapsulate as mlkem_encapsulate
from qkms.domain.errors import (
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInternalException,
)
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.key_agreement import EncapsulateRequest, EncapsulateResponse
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["encapsulate"]


def encapsulate(ctx: OperationContext, request: EncapsulateRequest) -> EncapsulateResponse:
    # parse: the codec has checked EncapsulationAlgorithm against AWS's enum (ML_KEM only).

    # load: resolution, authorization and the key-state table, in one place.
    cached = load_cached_key(ctx, request.key_id, KeyOperation.ENCAPSULATE, request.grant_tokens)
    key = cached.key

    # check: usage, then the key's encapsulation key.
    spec = key.mlkem_spec
    if not key.can_encapsulate or spec is None:
        raise InvalidKeyUsageException(
            f"{key_arn(ctx, key)} key usage is {key.key_usage.value} which is not valid for "
            "Encapsulate."
        )
    try:
        public_key = load_encapsulation_key(key.public_key_der or b"", spec)
    except CryptoError as exc:
        # QKMS wrote this public key itself: one that does not load is a damaged row.
        raise KMSInternalException("The key material could not be used.") from exc
    if request.dry_run:
        raise DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set."
        )

    # act
    encapsulation = mlkem_encapsulate(public_key)

    # respond
    return EncapsulateResponse(
        key_id=key_arn(ctx, key),
        shared_secret=encapsulation.shared_secret,
        shared_secret_ciphertext_blob=encapsulation.ciphertext,
        encapsulation_algorithm="ML_KEM",
    )
