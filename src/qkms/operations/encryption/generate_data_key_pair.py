"""GenerateDataKeyPair (DESIGN §4a): an RSA or ECC key pair for the caller, the private key
in clear (DER PKCS#8) and encrypted under a symmetric key.

Reads top to bottom: parse -> load -> check -> act -> respond.
"""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.operations.encryption._data_key_pairs import data_key_pair_spec, sealed_key_pair
from qkms.operations.encryption._symmetric import (
    check_usage,
    condition_facts,
    dry_run_succeeded,
)
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.encryption import (
    GenerateDataKeyPairRequest,
    GenerateDataKeyPairResponse,
)
from qkms.operations.support.keys import key_arn, load_cached_key
from qkms.operations.support.recipients import attested_recipient, condition_facts_of

__all__ = ["generate_data_key_pair"]


def generate_data_key_pair(
    ctx: OperationContext, request: GenerateDataKeyPairRequest
) -> GenerateDataKeyPairResponse:
    # parse
    recipient = attested_recipient(ctx, request.recipient)  # DESIGN §3 "Recipients"
    spec = data_key_pair_spec(request.key_pair_spec)
    facts = condition_facts(request.encryption_context)
    facts.update(condition_facts_of(recipient))
    facts["kms:DataKeyPairSpec"] = spec.value

    # load
    cached = load_cached_key(
        ctx,
        request.key_id,
        KeyOperation.GENERATE_DATA_KEY_PAIR,
        request.grant_tokens,
        facts,
        encryption_context=request.encryption_context or {},
    )

    # check
    check_usage(ctx, cached.key, "GenerateDataKeyPair")
    if request.dry_run:
        raise dry_run_succeeded()

    # act
    sealed = sealed_key_pair(ctx, cached, spec, request.encryption_context)

    # respond: to a recipient, the private key (DER PKCS#8) only inside its envelope.
    private_key = sealed.private_key_pkcs8_der
    return GenerateDataKeyPairResponse(
        private_key_ciphertext_blob=sealed.private_key_ciphertext_blob,
        private_key_plaintext=private_key if recipient is None else None,
        ciphertext_for_recipient=recipient.seal(private_key) if recipient else None,
        public_key=sealed.public_key_der,
        key_id=key_arn(ctx, cached.key),
        key_pair_spec=spec.value,
        key_material_id=sealed.key_material_id,
    )
