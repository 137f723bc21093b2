"""The one byte encoding of an encryption context, authenticated as AES-GCM associated data.

Layout (docs/ciphertext-format.md, "Encryption context")::

    pair count (4, unsigned big-endian)
    then per pair, in ascending order of the key's UTF-8 bytes:
        key length (4) | key (UTF-8) | value length (4) | value (UTF-8)

Every string carries its own length, so no two different contexts share an encoding
({"a": "bc"} and {"ab": "c"} differ), and the sort makes the encoding independent of the
order in which the caller listed the pairs, as KMS's own matching is. An empty context and no
context are the same thing, as in KMS.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Final

from qkms.crypto.errors import EncryptionContextError

__all__ = ["canonical_encryption_context"]

_LENGTH: Final = struct.Struct(">I")


def canonical_encryption_context(context: Mapping[str, str] | None) -> bytes:
    """`context` as the deterministic bytes that ciphertexts authenticate.

    EncryptionContextError if a key or value holds a lone surrogate (JSON can carry one;
    UTF-8 cannot), so such a context is refused rather than silently altered.
    """
    pairs = sorted((_utf8(key), _utf8(value)) for key, value in (context or {}).items())
    parts = [_LENGTH.pack(len(pairs))]
    for key, value in pairs:
        parts += (_LENGTH.pack(len(key)), key, _LENGTH.pack(len(value)), value)
    return b"".join(parts)


def _utf8(text: str) -> bytes:
    if not isinstance(text, str):
        raise EncryptionContextError("encryption context keys and values must be strings")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise EncryptionContextError("encryption context is not valid Unicode text") from None
