"""GenerateDataKeyPairWithoutPlaintext (DESIGN §4a): a key pair whose private key is returned
only encrypted under a symmetric key."""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.operations.encryption._data_key_pairs import data_key_pair_spec, sealed_key_pair
from qkms.operations.encryption._symmetric import check_usage, condition_facts, dry_run_succeeded
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.encryption import (
    GenerateDataKeyPairWithoutPlaintextRequest,
    GenerateDataKeyPairWithoutPlaintextResponse,
)
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["generate_data_key_pair_without_plaintext"]


def generate_data_key_pair_without_plaintext(
    ctx: OperationContext, request: GenerateDataKeyPairWithoutPlaintextRequest
) -> GenerateDataKeyPairWithoutPlaintextResponse:
    # parse
    spec = data_key_pair_spec(request.key_pair_spec)
    facts = condition_facts(request.encryption_context)
    facts["kms:DataKeyPairSpec"] = spec.value

    # load
    cached = load_cached_key(
        ctx,
        request.key_id,
        KeyOperation.GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT,
        request.grant_tokens,
        facts,
        encryption_context=request.encryption_context or {},
    )

    # check
    check_usage(ctx, cached.key, "GenerateDataKeyPairWithoutPlaintext")
    if request.dry_run:
        raise dry_run_succeeded()

    # act: the private key is dropped here, once sealed.
    sealed = sealed_key_pair(ctx, cached, spec, request.encryption_context)

    # respond
    return GenerateDataKeyPairWithoutPlaintextResponse(
        private_key_ciphertext_blob=sealed.private_key_ciphertext_blob,
        public_key=sealed.public_key_der,
        key_id=key_arn(ctx, cached.key),
        key_pair_spec=spec.value,
        key_material_id=sealed.key_material_id,
    )
