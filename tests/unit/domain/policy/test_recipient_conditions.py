"""`kms:RecipientAttestation:*` condition keys from a verified document, and how policies see them."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from qkms.crypto import AttestationDocument, AttestationTrust, verify_attestation_document
from qkms.domain.policy import ContextValue
from qkms.domain.policy.conditions import block_holds, normalise_context, parse_condition_block
from qkms.domain.policy.recipient_conditions import recipient_condition_values
from tests.enclave import NOW, EnclavePKI, attestation_document

PCR0 = bytes.fromhex("9fedcba8" * 12)
PCR8 = bytes(range(48))


def _document(pcrs: Mapping[int, bytes]) -> AttestationDocument:
    return AttestationDocument("module", "SHA384", 1, dict(pcrs), None, None, None)


def _holds(condition: Mapping[str, object], context: Mapping[str, ContextValue]) -> bool:
    clauses = parse_condition_block(dict(condition), "Statement[0].Condition")
    return block_holds(clauses, normalise_context(context))


def test_image_sha384_is_pcr0_and_every_pcr_has_its_key() -> None:
    values = recipient_condition_values(_document({0: PCR0, 8: PCR8}))
    assert values == {
        "kms:RecipientAttestation:ImageSha384": PCR0.hex(),
        "kms:RecipientAttestation:PCR0": PCR0.hex(),
        "kms:RecipientAttestation:PCR8": PCR8.hex(),
    }
    assert all(value == value.lower() for value in values.values())


def test_no_pcr0_means_no_image_key() -> None:
    assert recipient_condition_values(_document({1: PCR8})) == {
        "kms:RecipientAttestation:PCR1": PCR8.hex()
    }


def test_no_document_adds_no_keys() -> None:
    assert recipient_condition_values(None) == {}


def test_values_come_from_a_verified_document() -> None:
    pki = EnclavePKI.create()
    data = attestation_document(pki, public_key=None, pcrs={0: PCR0, 4: PCR8})
    document = verify_attestation_document(data, AttestationTrust.from_pem([pki.root.pem]), NOW)
    values = recipient_condition_values(document)
    assert values["kms:RecipientAttestation:ImageSha384"] == PCR0.hex()
    assert values["kms:RecipientAttestation:PCR4"] == PCR8.hex()


# AWS's documented policy shape: StringEqualsIgnoreCase on the PCR or image digest.
@pytest.mark.parametrize(
    ("condition_key", "expected", "pcrs", "allowed"),
    [
        ("kms:RecipientAttestation:PCR0", PCR0.hex().upper(), {0: PCR0}, True),
        ("kms:RecipientAttestation:PCR0", PCR0.hex(), {0: PCR8}, False),
        ("kms:RecipientAttestation:ImageSha384", PCR0.hex(), {0: PCR0}, True),
        ("kms:RecipientAttestation:ImageSha384", PCR0.hex(), {0: PCR8}, False),
        ("kms:RecipientAttestation:PCR8", PCR8.hex(), {0: PCR0, 8: PCR8}, True),
        ("kms:RecipientAttestation:PCR8", PCR8.hex(), {0: PCR0}, False),
        ("kms:RecipientAttestation:PCR0", PCR0.hex(), None, False),
        ("kms:RecipientAttestation:ImageSha384", PCR0.hex(), None, False),
    ],
)
def test_conditions_on_the_keys(
    condition_key: str, expected: str, pcrs: Mapping[int, bytes] | None, allowed: bool
) -> None:
    document = None if pcrs is None else _document(pcrs)
    context: dict[str, ContextValue] = {"kms:CallerAccount": "111122223333"}
    context.update(recipient_condition_values(document))
    condition = {"StringEqualsIgnoreCase": {condition_key: expected}}
    assert _holds(condition, context) is allowed
