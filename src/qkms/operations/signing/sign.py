"""Sign (DESIGN §4a; AWS API reference "Sign"): a signature with an asymmetric SIGN_VERIFY key.

Reads top to bottom: parse -> load -> check -> act -> respond. The message is never stored,
logged or put in an audit event (the audit records no blob).
"""

from __future__ import annotations

from qkms.crypto import CryptoError, SigningInputError, SigningPrivateKey
from qkms.crypto import sign as sign_message
from qkms.domain.errors import DryRunOperationException, KMSInternalException
from qkms.domain.key_material import unwrap_signing_key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.signing import SignRequest, SignResponse
from qkms.operations.signing._signing import SigningRequest, load_signing_key
from qkms.operations.support.keys import key_arn

__all__ = ["sign"]


def _private_key(ctx: OperationContext, checked: SigningRequest) -> SigningPrivateKey:
    cached = checked.cached
    signing_key = cached.signing_key
    if signing_key is None:
        try:
            signing_key = unwrap_signing_key(ctx.services.root_key, cached.key)
        except (CryptoError, ValueError) as exc:
            # A wrong root key or a damaged row: an operator problem, never detailed here.
            raise KMSInternalException("The key material could not be used.") from exc
        cached.signing_key = signing_key
        ctx.services.parsed_keys.holding(cached)
    return signing_key


def sign(ctx: OperationContext, request: SignRequest) -> SignResponse:
    # parse
    message = request.message or b""

    # load and check: resolution, authorization, state, usage, algorithm, message type/length.
    checked = load_signing_key(ctx, KeyOperation.SIGN, request)
    private_key = _private_key(ctx, checked)
    if request.dry_run:
        raise DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set."
        )

    # act
    try:
        signature = sign_message(private_key, checked.algorithm, message, checked.message_type)
    except SigningInputError as exc:  # every input was checked above: a programming error
        raise KMSInternalException("The signature could not be made.") from exc

    # respond
    return SignResponse(
        key_id=key_arn(ctx, checked.key),
        signature=signature,
        signing_algorithm=checked.algorithm.value,
    )
