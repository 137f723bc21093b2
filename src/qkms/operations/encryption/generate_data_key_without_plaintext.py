"""GenerateDataKeyWithoutPlaintext (DESIGN §4a): a data key returned only encrypted."""

from __future__ import annotations

from qkms.crypto import generate_data_key as random_data_key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.encryption._symmetric import (
    check_usage,
    condition_facts,
    dry_run_succeeded,
    seal,
)
from qkms.operations.encryption.generate_data_key import data_key_size
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.encryption import (
    GenerateDataKeyWithoutPlaintextRequest,
    GenerateDataKeyWithoutPlaintextResponse,
)
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["generate_data_key_without_plaintext"]


def generate_data_key_without_plaintext(
    ctx: OperationContext, request: GenerateDataKeyWithoutPlaintextRequest
) -> GenerateDataKeyWithoutPlaintextResponse:
    # parse
    size = data_key_size(request.key_spec, request.number_of_bytes)

    # load
    cached = load_cached_key(
        ctx,
        request.key_id,
        KeyOperation.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT,
        request.grant_tokens,
        condition_facts(request.encryption_context),
        encryption_context=request.encryption_context or {},
    )

    # check
    check_usage(ctx, cached.key, "GenerateDataKeyWithoutPlaintext")
    if request.dry_run:
        raise dry_run_succeeded()

    # act: the data key never leaves this function in clear.
    blob, material_id = seal(ctx, cached, random_data_key(size), request.encryption_context)

    # respond
    return GenerateDataKeyWithoutPlaintextResponse(
        ciphertext_blob=blob, key_id=key_arn(ctx, cached.key), key_material_id=material_id
    )
