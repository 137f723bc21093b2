"""QKMS's ciphertext blob for symmetric keys: layout, encoding, and the encrypt/decrypt recipe.

Layout, format version 1 (all fields fixed size; docs/ciphertext-format.md is the reference)::

    offset  size  field
         0     2  magic "QK" (0x51 0x4B)
         2     1  format version, 0x01
         3     1  key id form: 0x01 a key UUID, 0x02 a multi-Region key id (mrk-<32 hex>)
         4    16  key id (the UUID's 16 bytes, or the 16 bytes the 32 hex digits spell)
        20    32  key material id (AWS spells it as 64 hex characters)
        52    12  AES-GCM nonce (random)
        64     n  AES-256-GCM ciphertext, n = length of the plaintext
      64+n    16  AES-GCM tag

The 52 bytes before the nonce and the canonical encryption context are the GCM associated
data, so neither header nor context can change without the tag failing. The context itself is
never stored: the caller must present it again to decrypt (DESIGN §4a).
"""

from __future__ import annotations

import re
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from qkms.crypto.encryption_context import canonical_encryption_context
from qkms.crypto.errors import CiphertextError
from qkms.crypto.key_material_id import KEY_MATERIAL_ID_SIZE, is_key_material_id
from qkms.crypto.symmetric import (
    GCM_NONCE_SIZE,
    GCM_TAG_SIZE,
    SymmetricKey,
    aes_gcm_decrypt,
    aes_gcm_encrypt,
)

__all__ = [
    "CIPHERTEXT_BLOB_OVERHEAD",
    "CiphertextBlob",
    "decode_ciphertext_blob",
    "decrypt_ciphertext_blob",
    "encode_ciphertext_blob",
    "encrypt_to_ciphertext_blob",
]

_MAGIC: Final = b"QK"
_VERSION_1: Final = 0x01
_KEY_ID_UUID: Final = 0x01
_KEY_ID_MULTI_REGION: Final = 0x02
_KEY_ID_SIZE: Final = 16
_MULTI_REGION_PREFIX: Final = "mrk-"
# What GCM authenticates besides the context: magic, version, key id form, key id, material id.
_AUTHENTICATED_HEADER: Final = struct.Struct(f">2sBB{_KEY_ID_SIZE}s{KEY_MATERIAL_ID_SIZE}s")
# The whole header: the authenticated part, then the nonce.
_HEADER: Final = struct.Struct(_AUTHENTICATED_HEADER.format + f"{GCM_NONCE_SIZE}s")
CIPHERTEXT_BLOB_OVERHEAD: Final = _HEADER.size + GCM_TAG_SIZE  # bytes added to a plaintext

# Key ids exactly as QKMS writes them (str(uuid4()) and mrk- ids are lowercase); any other
# spelling would not survive the round trip through 16 bytes, so it is refused up front.
_UUID_KEY_ID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MULTI_REGION_KEY_ID: Final = re.compile(r"mrk-[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class CiphertextBlob:
    """A ciphertext blob taken apart: which key and material, and what to decrypt."""

    key_id: str
    key_material_id: str  # 64 lowercase hex characters
    nonce: bytes
    ciphertext_and_tag: bytes

    def associated_data(self, encryption_context: Mapping[str, str] | None) -> bytes:
        """What GCM authenticates besides the ciphertext: the header and the context."""
        return _authenticated_header(self.key_id, self.key_material_id) + (
            canonical_encryption_context(encryption_context)
        )


def encode_ciphertext_blob(blob: CiphertextBlob) -> bytes:
    """The bytes of `blob` in format version 1; ValueError for ids QKMS never issues."""
    if len(blob.nonce) != GCM_NONCE_SIZE or len(blob.ciphertext_and_tag) < GCM_TAG_SIZE:
        raise ValueError("nonce must be 12 bytes and the ciphertext must end in a 16-byte tag")
    return (
        _authenticated_header(blob.key_id, blob.key_material_id)
        + blob.nonce
        + blob.ciphertext_and_tag
    )


def decode_ciphertext_blob(data: bytes | bytearray | memoryview) -> CiphertextBlob:
    """Take a blob apart; CiphertextError for anything that is not a version-1 QKMS blob.

    Only the layout is checked here; whether the blob is intact is decided by the tag when it
    is decrypted. A well-formed header naming a key that does not exist is still not a valid
    ciphertext, and the caller should answer it as such.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CiphertextError("ciphertext is not a QKMS ciphertext blob")
    blob = bytes(data)
    if len(blob) < CIPHERTEXT_BLOB_OVERHEAD:
        raise CiphertextError("ciphertext is not a QKMS ciphertext blob")
    magic, version, form, key_id_bytes, material_id, nonce = _HEADER.unpack_from(blob)
    if magic != _MAGIC or version != _VERSION_1:
        raise CiphertextError("ciphertext is not a QKMS ciphertext blob")
    if form == _KEY_ID_UUID:
        key_id = str(uuid.UUID(bytes=key_id_bytes))
    elif form == _KEY_ID_MULTI_REGION:
        key_id = _MULTI_REGION_PREFIX + key_id_bytes.hex()
    else:
        raise CiphertextError("ciphertext is not a QKMS ciphertext blob")
    return CiphertextBlob(
        key_id=key_id,
        key_material_id=material_id.hex(),
        nonce=nonce,
        ciphertext_and_tag=blob[_HEADER.size :],
    )


def encrypt_to_ciphertext_blob(
    key: SymmetricKey,
    key_id: str,
    key_material_id: str,
    plaintext: bytes,
    encryption_context: Mapping[str, str] | None,
) -> bytes:
    """Encrypt `plaintext` under `key` (material `key_material_id` of `key_id`) to a blob."""
    header = _authenticated_header(key_id, key_material_id)
    nonce, ciphertext_and_tag = aes_gcm_encrypt(
        key, plaintext, header + canonical_encryption_context(encryption_context)
    )
    return header + nonce + ciphertext_and_tag


def decrypt_ciphertext_blob(
    key: SymmetricKey, blob: CiphertextBlob, encryption_context: Mapping[str, str] | None
) -> bytes:
    """The plaintext of a decoded blob; CiphertextError unless key, header and context match."""
    return aes_gcm_decrypt(
        key, blob.nonce, blob.ciphertext_and_tag, blob.associated_data(encryption_context)
    )


def _authenticated_header(key_id: str, key_material_id: str) -> bytes:
    if _UUID_KEY_ID.fullmatch(key_id):
        form, key_id_bytes = _KEY_ID_UUID, uuid.UUID(key_id).bytes
    elif _MULTI_REGION_KEY_ID.fullmatch(key_id):
        form = _KEY_ID_MULTI_REGION
        key_id_bytes = bytes.fromhex(key_id.removeprefix(_MULTI_REGION_PREFIX))
    else:
        raise ValueError("key id must be a lowercase UUID or mrk- followed by 32 hex digits")
    if not is_key_material_id(key_material_id):
        raise ValueError("key material id must be 64 lowercase hex characters")
    return _AUTHENTICATED_HEADER.pack(
        _MAGIC, _VERSION_1, form, key_id_bytes, bytes.fromhex(key_material_id)
    )
