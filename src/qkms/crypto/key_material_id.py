"""Key material ids: which material of a key encrypted a ciphertext (`CurrentKeyMaterialId`).

AWS returns a key material id as 64 lowercase hex characters (32 bytes), e.g. in DescribeKey's
`CurrentKeyMaterialId` (KMS API reference, DescribeKey example). Material KMS generates gets a
random id; for imported material AWS "assigns a unique identifier to the key material based on
the KMS key ID and the imported key material" (ImportKeyMaterial, `KeyMaterialId`), so that a
re-import of the same material can be recognised. QKMS does the same with a keyed hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final

__all__ = [
    "KEY_MATERIAL_ID_SIZE",
    "imported_key_material_id",
    "is_key_material_id",
    "new_key_material_id",
]

KEY_MATERIAL_ID_SIZE: Final = 32
_HEX_ID: Final = re.compile(r"[0-9a-f]{64}")
_IMPORTED_LABEL: Final = b"qkms key material id v1\x00"


def new_key_material_id() -> str:
    """A fresh random id for material QKMS generated (or for a rotation)."""
    return secrets.token_hex(KEY_MATERIAL_ID_SIZE)


def imported_key_material_id(key_id: str, material: bytes) -> str:
    """The id of imported `material` in key `key_id`: the same inputs always give the same id.

    HMAC keyed with the material, not a hash of it: the id commits to the material without
    being a public fingerprint that someone without the key could compare guesses against
    any faster than by trying the key itself.
    """
    if not material:
        raise ValueError("key material must not be empty")
    return hmac.digest(material, _IMPORTED_LABEL + key_id.encode(), hashlib.sha256).hex()


def is_key_material_id(text: str) -> bool:
    """Whether `text` is a key material id in AWS's spelling (64 lowercase hex characters)."""
    return _HEX_ID.fullmatch(text) is not None
