"""Policy condition keys of an attested recipient, from its verified attestation document.

AWS KMS developer guide, "Condition keys for Nitro Enclaves"
(docs.aws.amazon.com/kms/latest/developerguide/conditions-nitro-enclave.html):

- ``kms:RecipientAttestation:ImageSha384``: the image digest, which is PCR0;
- ``kms:RecipientAttestation:PCR<PCR_ID>``: any PCR, the ID concatenated to the key name;

both single-valued strings, PCR values in lower-case hexadecimal (AWS's examples compare them
with ``StringEqualsIgnoreCase``). A request without a document contributes no keys, so a
condition on them is unmet, as AWS documents ("permission is denied because this condition is
not satisfied").
"""

from __future__ import annotations

from typing import Final

from qkms.crypto import AttestationDocument

__all__ = [
    "IMAGE_SHA384_KEY",
    "PCR_KEY_PREFIX",
    "recipient_condition_values",
]

IMAGE_SHA384_KEY: Final = "kms:RecipientAttestation:ImageSha384"
PCR_KEY_PREFIX: Final = "kms:RecipientAttestation:PCR"
_IMAGE_PCR: Final = 0


def recipient_condition_values(document: AttestationDocument | None) -> dict[str, str]:
    """The condition-key -> value map a verified document adds to a request's context."""
    if document is None:
        return {}
    values = {f"{PCR_KEY_PREFIX}{index}": value.hex() for index, value in document.pcrs.items()}
    image = document.pcrs.get(_IMAGE_PCR)
    if image is not None:
        values[IMAGE_SHA384_KEY] = image.hex()
    return values
