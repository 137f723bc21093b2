"""Decapsulate (DESIGN §4a): the shared secret in an ML-KEM ciphertext, by the key's private key.

Reads top to bottom: parse -> load -> check -> act -> respond. AWS's Decapsulate page: a
SharedSecretCiphertextBlob whose length is inconsistent with the key spec is
InvalidCiphertextException; any other ciphertext, altered or made for another key, yields a
32-byte pseudo-random value by FIPS 203 implicit rejection, never an error. The secret exists
only in the response (DESIGN §3, §4a).
"""

from __future__ import annotations

from qkms.crypto import KemCiphertextError
from qkms.crypto import decapsulate as mlkem_decapsulate
from qkms.domain.errors import (
    DryRunOperationException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
)
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.key_agreement._private_keys import mlkem_private_key
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.key_agreement import DecapsulateRequest, DecapsulateResponse
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["decapsulate"]


def decapsulate(ctx: OperationContext, request: DecapsulateRequest) -> DecapsulateResponse:
    # parse: the codec has checked the blob's presence and AWS's 1..6144 length bounds.
    ciphertext = request.shared_secret_ciphertext_blob or b""

    # load: resolution, authorization and the key-state table, in one place.
    cached = load_cached_key(ctx, request.key_id, KeyOperation.DECAPSULATE, request.grant_tokens)
    key = cached.key

    # check: usage, then the ciphertext's length against the key spec (the only refusal).
    spec = key.mlkem_spec
    if not key.can_encapsulate or spec is None:
        raise InvalidKeyUsageException(
            f"{key_arn(ctx, key)} key usage is {key.key_usage.value} which is not valid for "
            "Decapsulate."
        )
    if len(ciphertext) != spec.ciphertext_length:
        raise InvalidCiphertextException(
            f"The SharedSecretCiphertextBlob length is inconsistent with the {spec.value} key spec."
        )
    private_key = mlkem_private_key(ctx, cached)
    if request.dry_run:
        raise DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set."
        )

    # act: a right-length ciphertext never fails (implicit rejection).
    try:
        shared_secret = mlkem_decapsulate(private_key, ciphertext)
    except KemCiphertextError:
        raise InvalidCiphertextException(
            f"The SharedSecretCiphertextBlob length is inconsistent with the {spec.value} key spec."
        ) from None

    # respond
    return DecapsulateResponse(
        key_id=key_arn(ctx, key), shared_secret=shared_secret, encapsulation_algorithm="ML_KEM"
    )
