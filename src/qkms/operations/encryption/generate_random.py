"""GenerateRandom (DESIGN §4a): 1 to 1,024 bytes from the OS CSPRNG; no key involved.

An account-level action (kms:GenerateRandom in an identity policy, as in AWS).
"""

from __future__ import annotations

from qkms.crypto import random_bytes
from qkms.domain.errors import CustomKeyStoreNotFoundException, ValidationException
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.encryption import GenerateRandomRequest, GenerateRandomResponse
from qkms.operations.support.access import authorize_account_action
from qkms.operations.support.recipients import attested_recipient, condition_facts_of

__all__ = ["generate_random"]


def generate_random(
    ctx: OperationContext, request: GenerateRandomRequest
) -> GenerateRandomResponse:
    # parse: AWS requires NumberOfBytes although the model marks it optional (LocalStack's
    # AWS-validated snapshot: "NumberOfBytes is required.").
    recipient = attested_recipient(ctx, request.recipient)  # DESIGN §3 "Recipients"
    if request.number_of_bytes is None:
        raise ValidationException("NumberOfBytes is required.")

    # check
    authorize_account_action(ctx, "GenerateRandom", condition_facts_of(recipient))
    if request.custom_key_store_id is not None:
        # QKMS has no custom key stores, so every id names none: the error botocore lists for
        # an id KMS cannot find, with its documented meaning as the message.
        raise CustomKeyStoreNotFoundException(
            f"Custom key store {request.custom_key_store_id} does not exist."
        )

    # act, respond: to a recipient, the bytes only inside its envelope.
    plaintext = random_bytes(request.number_of_bytes)
    if recipient is not None:
        return GenerateRandomResponse(ciphertext_for_recipient=recipient.seal(plaintext))
    return GenerateRandomResponse(plaintext=plaintext)
