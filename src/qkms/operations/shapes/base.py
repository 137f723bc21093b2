"""What every request and response shape is built from: members' constraints, the base structs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import msgspec

from qkms.domain.errors import KmsError
from qkms.domain.keys import KeyOrigin, KeySpec, KeyUsage

__all__ = [
    "GRANT_TOKENS",
    "KEY_ID",
    "LIMIT",
    "MARKER",
    "Member",
    "RecipientInfo",
    "Request",
    "Response",
    "Tag",
    "enum_values",
]


@dataclass(frozen=True, slots=True)
class Member:
    """AWS's constraints on one request member, checked by the codec after decoding."""

    name: str  # wire name, e.g. "KeyId"
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    enum: tuple[str, ...] | None = None
    each_enum: tuple[str, ...] | None = None  # for a list member: every item in this set
    # The error for a blob that is not base64; SerializationException unless a member's
    # contract says otherwise (DESIGN §3: a PublicKey that is not base64 is an invalid key).
    bad_base64: type[KmsError] | None = None


def enum_values(enum_type: type[KeyUsage] | type[KeySpec] | type[KeyOrigin]) -> tuple[str, ...]:
    return tuple(member.value for member in enum_type)


KEY_ID = Member("KeyId", required=True, min_length=1, max_length=2048)
GRANT_TOKENS = Member("GrantTokens", min_length=0, max_length=10)


class Request(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    constraints: ClassVar[tuple[Member, ...]] = ()


class Response(msgspec.Struct, frozen=True, kw_only=True, rename="pascal", omit_defaults=True):
    pass


class Tag(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    tag_key: str
    tag_value: str


class RecipientInfo(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    """AWS's `Recipient` structure: an attestation document naming who gets the answer
    encrypted (DESIGN §3 "Recipients"); checked in `operations/support/recipients.py`."""

    key_encryption_algorithm: str | None = None
    attestation_document: bytes | None = None


LIMIT = Member("Limit", min_value=1, max_value=1000)
MARKER = Member("Marker", min_length=1, max_length=1024)
