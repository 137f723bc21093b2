"""GetPublicKey (DESIGN §4): the DER SubjectPublicKeyInfo of an asymmetric key."""

from __future__ import annotations

from qkms.domain.errors import UnsupportedOperationException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.keys._metadata import algorithm_lists, encapsulation_algorithms
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import GetPublicKeyRequest, GetPublicKeyResponse
from qkms.operations.support.keys import key_arn, load_key

__all__ = ["get_public_key"]


def get_public_key(ctx: OperationContext, request: GetPublicKeyRequest) -> GetPublicKeyResponse:
    key = load_key(ctx, request.key_id, KeyOperation.GET_PUBLIC_KEY, request.grant_tokens)
    if key.public_key_der is None:
        raise UnsupportedOperationException(
            f"{key_arn(ctx, key)} key usage is {key.key_usage.value} which is not valid for "
            "GetPublicKey: it has no public key."
        )
    encryption, signing, agreement = algorithm_lists(key)
    return GetPublicKeyResponse(
        key_id=key_arn(ctx, key),
        public_key=key.public_key_der,
        customer_master_key_spec=key.key_spec.value,
        key_spec=key.key_spec.value,
        key_usage=key.key_usage.value,
        encryption_algorithms=encryption,
        signing_algorithms=signing,
        key_agreement_algorithms=agreement,
        encapsulation_algorithms=encapsulation_algorithms(key),
    )
