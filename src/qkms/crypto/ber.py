"""The few ASN.1 encodings CMS EnvelopedData needs, as DER plus BER's indefinite length (X.690).

`cryptography` offers no general ASN.1 encoder and its PKCS#7 builder cannot express
RSAES-OAEP recipients, so the envelope (`qkms.crypto.envelope`) is assembled from these
functions: each returns the complete encoding (tag, length, contents) of one value. Lengths are
definite and minimal (DER, X.690 §10.1) except in `indefinite`, which writes 0x80 and closes
with end-of-contents, as AWS KMS does on the outer layers of `CiphertextForRecipient`.
Only low tag numbers (< 31) occur in CMS, so multi-byte tags are refused rather than encoded.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = [
    "Tag",
    "context",
    "indefinite",
    "integer",
    "null",
    "octet_string",
    "oid",
    "sequence",
    "set_of",
    "tlv",
]

_CONSTRUCTED: Final = 0x20
_CONTEXT_CLASS: Final = 0x80
_END_OF_CONTENTS: Final = b"\x00\x00"


class Tag(enum.IntEnum):
    """Universal tags (X.680 §8.4) with the constructed bit where the type is always constructed."""

    INTEGER = 0x02
    OCTET_STRING = 0x04
    NULL = 0x05
    OBJECT_IDENTIFIER = 0x06
    SEQUENCE = 0x30
    SET = 0x31


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, contents: bytes) -> bytes:
    """One value with a definite, minimal length."""
    if not 0 <= tag <= 0xFF or tag & 0x1F == 0x1F:
        raise ValueError("only single-byte tags are supported")
    return bytes([tag]) + _length(len(contents)) + contents


def indefinite(tag: int, *parts: bytes) -> bytes:
    """A constructed value with indefinite length: 0x80, the parts, then end-of-contents."""
    if not tag & _CONSTRUCTED:
        raise ValueError("indefinite length is only allowed on constructed encodings")
    return tlv(tag, b"")[:1] + b"\x80" + b"".join(parts) + _END_OF_CONTENTS


def context(number: int, *, constructed: bool = True) -> int:
    """The tag byte of `[number]` (context-specific class)."""
    if not 0 <= number < 0x1F:
        raise ValueError("context tag number out of range")
    return _CONTEXT_CLASS | (_CONSTRUCTED if constructed else 0) | number


def integer(value: int) -> bytes:
    """INTEGER in two's complement, minimal octets (X.690 §8.3)."""
    size = (value + (value < 0)).bit_length() // 8 + 1
    return tlv(Tag.INTEGER, value.to_bytes(size, "big", signed=True))


def null() -> bytes:
    return tlv(Tag.NULL, b"")


def octet_string(value: bytes) -> bytes:
    return tlv(Tag.OCTET_STRING, value)


def oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER from its dotted form (X.690 §8.19): base-128 arcs, first two merged."""
    arcs = [int(arc) for arc in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError("not an object identifier")
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(Tag.OBJECT_IDENTIFIER, bytes(body))


def sequence(*parts: bytes) -> bytes:
    return tlv(Tag.SEQUENCE, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    """SET OF with DER's ordering: the encodings sorted as octet strings (X.690 §11.6)."""
    return tlv(Tag.SET, b"".join(sorted(parts)))
