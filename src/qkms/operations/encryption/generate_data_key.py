"""GenerateDataKey (DESIGN §4a): a fresh data key, in clear and encrypted under a symmetric key.

Reads top to bottom: parse -> load -> check -> act -> respond. The plaintext data key exists
only in the response.
"""

from __future__ import annotations

from qkms.crypto import DataKeySpec
from qkms.crypto import generate_data_key as random_data_key
from qkms.domain.errors import ValidationException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.encryption._symmetric import (
    check_usage,
    condition_facts,
    dry_run_succeeded,
    seal,
)
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.encryption import GenerateDataKeyRequest, GenerateDataKeyResponse
from qkms.operations.support.keys import key_arn, load_cached_key
from qkms.operations.support.recipients import attested_recipient, condition_facts_of

__all__ = ["data_key_size", "generate_data_key"]


def data_key_size(key_spec: str | None, number_of_bytes: int | None) -> int:
    """Exactly one of KeySpec and NumberOfBytes (AWS's wording, as moto records it)."""
    if (key_spec is None) == (number_of_bytes is None):
        raise ValidationException("Please specify either number of bytes or key spec.")
    if key_spec is not None:
        return DataKeySpec(key_spec).size
    return number_of_bytes or 0


def generate_data_key(
    ctx: OperationContext, request: GenerateDataKeyRequest
) -> GenerateDataKeyResponse:
    # parse
    recipient = attested_recipient(ctx, request.recipient)  # DESIGN §3 "Recipients"
    size = data_key_size(request.key_spec, request.number_of_bytes)
    facts = condition_facts(request.encryption_context)
    facts.update(condition_facts_of(recipient))

    # load
    cached = load_cached_key(
        ctx,
        request.key_id,
        KeyOperation.GENERATE_DATA_KEY,
        request.grant_tokens,
        facts,
        encryption_context=request.encryption_context or {},
    )

    # check
    check_usage(ctx, cached.key, "GenerateDataKey")
    if request.dry_run:
        raise dry_run_succeeded()

    # act
    data_key = random_data_key(size)
    blob, material_id = seal(ctx, cached, data_key, request.encryption_context)

    # respond
    return GenerateDataKeyResponse(
        ciphertext_blob=blob,
        plaintext=data_key if recipient is None else None,
        ciphertext_for_recipient=recipient.seal(data_key) if recipient else None,
        key_id=key_arn(ctx, cached.key),
        key_material_id=material_id,
    )
