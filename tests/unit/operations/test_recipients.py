"""The recipient helper every operation calls (DESIGN §3 "Recipients"): what it refuses, what it
adds to the policy facts and the audit event, and that answers to a recipient carry no plaintext."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime

import pytest

from qkms.crypto import AttestationTrust
from qkms.domain.errors import ValidationException
from qkms.operations.encryption.generate_random import generate_random
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import RecipientInfo
from qkms.operations.shapes.encryption import GenerateRandomRequest
from qkms.operations.support.recipients import attested_recipient, condition_facts_of
from tests.enclave import NOW, EnclaveKey, EnclavePKI, attestation_document

PCR0 = bytes.fromhex("9f" * 48)


@pytest.fixture(scope="module")
def pki() -> EnclavePKI:
    return EnclavePKI.create()


@pytest.fixture(scope="module")
def enclave_key() -> EnclaveKey:
    return EnclaveKey.create()


@pytest.fixture
def trusted(ctx: OperationContext, pki: EnclavePKI) -> OperationContext:
    """A context whose server trusts the test enclave's root and whose clock reads NOW."""
    services = dataclasses.replace(
        ctx.services,
        attestation=AttestationTrust.from_pem([pki.root.pem]),
        clock=lambda: NOW.timestamp(),
    )
    return dataclasses.replace(ctx, services=services, audit_details={})


def _recipient(document: bytes, algorithm: str | None = "RSAES_OAEP_SHA_256") -> RecipientInfo:
    return RecipientInfo(key_encryption_algorithm=algorithm, attestation_document=document)


def test_no_recipient_is_none_and_adds_no_condition_keys(trusted: OperationContext) -> None:
    assert attested_recipient(trusted, None, None) is None
    assert condition_facts_of(None) == {}
    assert trusted.audit_details == {}


def test_a_verified_recipient_gives_condition_keys_and_audit_details(
    trusted: OperationContext, pki: EnclavePKI, enclave_key: EnclaveKey
) -> None:
    document = attestation_document(pki, public_key=enclave_key.spki, pcrs={0: PCR0, 8: PCR0})
    for given in (
        (_recipient(document), None),
        (None, document),
        (_recipient(document, None), None),
    ):
        recipient = attested_recipient(trusted, *given)
        assert recipient is not None
        assert enclave_key.open(recipient.seal(b"secret")) == b"secret"
    facts = condition_facts_of(recipient)
    assert facts["kms:RecipientAttestation:ImageSha384"] == PCR0.hex()
    assert facts["kms:RecipientAttestation:PCR8"] == PCR0.hex()
    assert trusted.audit_details["recipient"] == {
        "attestationDocumentModuleId": "i-0123456789abcdef0-enc0123456789abcdef",
        "attestationDocumentEnclaveImageDigest": base64.b64encode(PCR0).decode(),
        "attestationDocumentEnclavePCR8": base64.b64encode(PCR0).decode(),
    }


@pytest.mark.parametrize(
    ("recipient", "recipient_info", "words"),
    [
        (RecipientInfo(attestation_document=b"d"), b"d", "not both"),
        (RecipientInfo(), None, "Value null at 'recipient.attestationDocument'"),
        (RecipientInfo(attestation_document=b""), None, "greater than or equal to 1"),
        (
            RecipientInfo(attestation_document=b"d" * 262145),
            None,
            "less than or equal to 262144",
        ),
        (
            RecipientInfo(key_encryption_algorithm="RSAES_OAEP_SHA_1", attestation_document=b"d"),
            None,
            "Value 'RSAES_OAEP_SHA_1' at 'recipient.keyEncryptionAlgorithm' failed to satisfy "
            "constraint: Member must satisfy enum value set: [RSAES_OAEP_SHA_256]",
        ),
        (None, b"\xa0", "does not parse"),
    ],
)
def test_refusals_are_validation_errors_naming_the_problem(
    trusted: OperationContext,
    recipient: RecipientInfo | None,
    recipient_info: bytes | None,
    words: str,
) -> None:
    with pytest.raises(ValidationException) as caught:
        attested_recipient(trusted, recipient, recipient_info)
    assert words in str(caught.value)


def test_refused_documents_name_the_check_and_never_their_bytes(
    trusted: OperationContext, pki: EnclavePKI, enclave_key: EnclaveKey
) -> None:
    cases = {
        "has no public key": attestation_document(pki, public_key=None),
        "older than the maximum age": attestation_document(
            pki, public_key=enclave_key.spki, timestamp=datetime(2025, 12, 31, tzinfo=UTC)
        ),
        "does not lead to a trusted root": attestation_document(
            EnclavePKI.create(), public_key=enclave_key.spki
        ),
    }
    for words, document in cases.items():
        with pytest.raises(ValidationException) as caught:
            attested_recipient(trusted, _recipient(document))
        message = str(caught.value)
        assert words in message
        assert document.hex()[:16] not in message


def test_generate_random_for_a_recipient_has_no_plaintext(
    trusted: OperationContext, pki: EnclavePKI, enclave_key: EnclaveKey
) -> None:
    document = attestation_document(pki, public_key=enclave_key.spki)
    answer = generate_random(
        trusted, GenerateRandomRequest(number_of_bytes=24, recipient=_recipient(document))
    )
    assert answer.plaintext is None
    assert answer.ciphertext_for_recipient is not None
    assert len(enclave_key.open(answer.ciphertext_for_recipient)) == 24
