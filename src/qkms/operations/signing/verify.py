"""Verify (DESIGN §4a; AWS API reference "Verify"): check a signature with a SIGN_VERIFY key.

Reads top to bottom: parse -> load -> check -> act -> respond. A signature that does not verify
(wrong key, wrong message, malformed DER, wrong length) is KMSInvalidSignatureException: AWS
never answers SignatureValid false.
"""

from __future__ import annotations

from qkms.crypto import CryptoError, SigningInputError, load_signing_public_key
from qkms.crypto import verify as verify_signature
from qkms.domain.errors import (
    DryRunOperationException,
    KMSInternalException,
    KMSInvalidSignatureException,
)
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.signing import VerifyRequest, VerifyResponse
from qkms.operations.signing._signing import load_signing_key
from qkms.operations.support.keys import key_arn

__all__ = ["verify"]

# botocore's description of KMSInvalidSignatureException (the kms service model).
_INVALID_SIGNATURE = (
    "The request was rejected because the signature verification failed. Signature "
    "verification fails when it cannot confirm that signature was produced by signing the "
    "specified message with the specified KMS key and signing algorithm."
)


def verify(ctx: OperationContext, request: VerifyRequest) -> VerifyResponse:
    # parse
    message = request.message or b""
    signature = request.signature or b""

    # load and check: resolution, authorization, state, usage, algorithm, message type/length.
    checked = load_signing_key(ctx, KeyOperation.VERIFY, request)
    key = checked.key
    try:
        public_key = load_signing_public_key(key.public_key_der or b"", checked.spec)
    except CryptoError as exc:  # a damaged row: an operator problem
        raise KMSInternalException("The key material could not be used.") from exc
    if request.dry_run:
        raise DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set."
        )

    # act
    try:
        valid = verify_signature(
            public_key, checked.algorithm, message, signature, checked.message_type
        )
    except SigningInputError as exc:  # every input was checked above: a programming error
        raise KMSInternalException("The signature could not be checked.") from exc
    if not valid:
        raise KMSInvalidSignatureException(_INVALID_SIGNATURE)

    # respond
    return VerifyResponse(
        key_id=key_arn(ctx, key), signature_valid=True, signing_algorithm=checked.algorithm.value
    )
