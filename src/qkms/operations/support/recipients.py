"""Attested recipients (DESIGN §3 "Recipients"): check the document, give its condition keys,
seal the answer for it.

Every operation that takes AWS's `Recipient` (and DeriveSharedSecret's seed `RecipientInfo`)
calls `attested_recipient` first: a document that does not verify is a ValidationException
naming the failed check, never a fall-back to plaintext; a verified one adds its
`kms:RecipientAttestation:*` keys to the request's condition facts and its module id and
PCRs to the audit event (as CloudTrail's `additionalEventData.recipient`), and the operation
answers with `seal_for` instead of the plaintext.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from qkms.crypto import (
    AttestationDocument,
    AttestationError,
    RecipientKey,
    envelope_for_recipient,
    recipient_key,
    verify_attestation_document,
)
from qkms.domain.errors import ValidationException
from qkms.domain.policy import ContextValue, recipient_condition_values
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.base import RecipientInfo

__all__ = ["AttestedRecipient", "attested_recipient", "condition_facts_of"]

# botocore's kms model: KeyEncryptionMechanism = [RSAES_OAEP_SHA_256]; AttestationDocumentType
# is a blob of 1 to 262144 bytes.
_KEY_ENCRYPTION_ALGORITHMS: Final = ("RSAES_OAEP_SHA_256",)
_MAX_DOCUMENT: Final = 262144
# The PCRs CloudTrail records beside the image digest (AWS KMS developer guide, "Monitoring
# requests for Nitro enclaves"), base64 as there.
_AUDITED_PCRS: Final = (1, 2, 3, 4, 8)


@dataclass(frozen=True, slots=True)
class AttestedRecipient:
    """A verified recipient: its claims (for conditions and audit) and the key to encrypt to."""

    document: AttestationDocument
    key: RecipientKey = field(repr=False)

    def seal(self, plaintext: bytes) -> bytes:
        """`CiphertextForRecipient`: CMS EnvelopedData only the recipient's private key opens."""
        return envelope_for_recipient(plaintext, self.key)


def _violation(value: str, member: str, constraint: str) -> ValidationException:
    # AWS's wording, a nested member named by its path ("at 'recipient.keyEncryptionAlgorithm'").
    return ValidationException(
        f"1 validation error detected: {value} at 'recipient.{member}' failed to satisfy "
        f"constraint: Member must {constraint}"
    )


def _document_of(recipient: RecipientInfo | None, recipient_info: bytes | None) -> bytes | None:
    if recipient is not None and recipient_info is not None:
        raise ValidationException(
            "Recipient and RecipientInfo name the same party: give one of them, not both."
        )
    if recipient_info is not None:
        return recipient_info  # the seed's bare document, RSAES_OAEP_SHA_256 implied
    if recipient is None:
        return None
    algorithm = recipient.key_encryption_algorithm
    # Absent, the only algorithm there is applies (the model marks the member optional).
    if algorithm is not None and algorithm not in _KEY_ENCRYPTION_ALGORITHMS:
        shown = algorithm if len(algorithm) <= 128 else algorithm[:128] + "..."
        allowed = ", ".join(_KEY_ENCRYPTION_ALGORITHMS)
        raise _violation(
            f"Value '{shown}'", "keyEncryptionAlgorithm", f"satisfy enum value set: [{allowed}]"
        )
    document = recipient.attestation_document
    if document is None:
        raise _violation("Value null", "attestationDocument", "not be null")
    if not document:
        raise _violation("Value", "attestationDocument", "have length greater than or equal to 1")
    if len(document) > _MAX_DOCUMENT:
        raise _violation(
            "Value", "attestationDocument", f"have length less than or equal to {_MAX_DOCUMENT}"
        )
    return document


def _audit_details(document: AttestationDocument) -> dict[str, object]:
    details: dict[str, object] = {"attestationDocumentModuleId": document.module_id}
    image = document.pcrs.get(0)
    if image is not None:
        details["attestationDocumentEnclaveImageDigest"] = base64.b64encode(image).decode()
    for index in _AUDITED_PCRS:
        value = document.pcrs.get(index)
        if value is not None:
            details[f"attestationDocumentEnclavePCR{index}"] = base64.b64encode(value).decode()
    return details


def attested_recipient(
    ctx: OperationContext,
    recipient: RecipientInfo | None,
    recipient_info: bytes | None = None,
) -> AttestedRecipient | None:
    """The request's verified recipient, None without one; ValidationException if refused.

    The message names the failed check (`AttestationError`'s), never the document's bytes.
    """
    data = _document_of(recipient, recipient_info)
    if data is None:
        return None
    now = datetime.fromtimestamp(ctx.services.clock(), UTC)
    try:
        document = verify_attestation_document(data, ctx.services.attestation, now)
        ctx.audit_details["recipient"] = _audit_details(document)
        key = recipient_key(document)
    except AttestationError as exc:
        raise ValidationException(f"Recipient refused: {exc}.") from None
    return AttestedRecipient(document, key)


def condition_facts_of(recipient: AttestedRecipient | None) -> dict[str, ContextValue]:
    """The `kms:RecipientAttestation:*` keys; none without a recipient, so a condition on them
    is unmet (AWS KMS developer guide, "Condition keys for Nitro Enclaves")."""
    return dict(recipient_condition_values(recipient.document if recipient else None))
