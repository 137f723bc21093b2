"""Shapes of the key lifecycle and DeriveSharedSecret (DESIGN §3, §4)."""

from __future__ import annotations

import msgspec

from qkms.domain.errors import InvalidPublicKeyException
from qkms.domain.keys import KeyOrigin, KeySpec, KeyUsage
from qkms.operations.shapes.base import (
    GRANT_TOKENS,
    KEY_ID,
    Member,
    RecipientInfo,
    Request,
    Response,
    Tag,
    enum_values,
)
from qkms.operations.shapes.multi_region import MultiRegionConfiguration

__all__ = [
    "CancelKeyDeletionRequest",
    "CancelKeyDeletionResponse",
    "CreateKeyRequest",
    "CreateKeyResponse",
    "DeriveSharedSecretRequest",
    "DeriveSharedSecretResponse",
    "DescribeKeyRequest",
    "DescribeKeyResponse",
    "DisableKeyRequest",
    "EmptyResponse",
    "EnableKeyRequest",
    "GetPublicKeyRequest",
    "GetPublicKeyResponse",
    "KeyListEntry",
    "KeyMetadata",
    "ListKeysRequest",
    "ListKeysResponse",
    "ReplicateKeyResponse",
    "ScheduleKeyDeletionRequest",
    "ScheduleKeyDeletionResponse",
    "UpdateKeyDescriptionRequest",
]


# --- requests ---------------------------------------------------------------------------------
class CreateKeyRequest(Request, frozen=True, kw_only=True):
    policy: str | None = None
    description: str | None = None
    key_usage: str | None = None
    customer_master_key_spec: str | None = None
    key_spec: str | None = None
    origin: str | None = None
    custom_key_store_id: str | None = None
    bypass_policy_lockout_safety_check: bool | None = None
    tags: list[Tag] | None = None
    multi_region: bool | None = None
    xks_key_id: str | None = None

    constraints = (
        Member("Policy", min_length=1, max_length=32768),
        Member("Description", min_length=0, max_length=8192),
        Member("KeyUsage", enum=enum_values(KeyUsage)),
        Member("CustomerMasterKeySpec", enum=enum_values(KeySpec)),
        Member("KeySpec", enum=enum_values(KeySpec)),
        Member("Origin", enum=enum_values(KeyOrigin)),
        Member("CustomKeyStoreId", min_length=1, max_length=64),
        Member("XksKeyId", min_length=1, max_length=128),
    )


class DescribeKeyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    grant_tokens: list[str] | None = None

    constraints = (KEY_ID, GRANT_TOKENS)


class ListKeysRequest(Request, frozen=True, kw_only=True):
    limit: int | None = None
    marker: str | None = None

    constraints = (
        Member("Limit", min_value=1, max_value=1000),
        Member("Marker", min_length=1, max_length=1024),
    )


class GetPublicKeyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    grant_tokens: list[str] | None = None

    constraints = (KEY_ID, GRANT_TOKENS)


class EnableKeyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None

    constraints = (KEY_ID,)


class DisableKeyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None

    constraints = (KEY_ID,)


class ScheduleKeyDeletionRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    pending_window_in_days: int | None = None

    # AWS's model allows 1-365 on the wire but the service enforces 7-30 (DESIGN §4).
    constraints = (KEY_ID, Member("PendingWindowInDays", min_value=7, max_value=30))


class CancelKeyDeletionRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None

    constraints = (KEY_ID,)


class UpdateKeyDescriptionRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    description: str | None = None

    constraints = (KEY_ID, Member("Description", required=True, min_length=0, max_length=8192))


class DeriveSharedSecretRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    public_key: bytes | None = None
    key_agreement_algorithm: str | None = None
    recipient_info: bytes | None = None
    recipient: RecipientInfo | None = None
    grant_tokens: list[str] | None = None
    dry_run: bool | None = None

    constraints = (
        KEY_ID,
        Member(
            "PublicKey",
            required=True,
            min_length=1,
            max_length=8192,
            bad_base64=InvalidPublicKeyException,
        ),
        Member("KeyAgreementAlgorithm", enum=("ECDH",)),
        Member("RecipientInfo", max_length=8192),
        GRANT_TOKENS,
    )


# --- responses --------------------------------------------------------------------------------
class KeyMetadata(Response, frozen=True, kw_only=True):
    aws_account_id: str = msgspec.field(name="AWSAccountId")
    key_id: str
    arn: str
    creation_date: float
    enabled: bool
    description: str
    key_usage: str
    key_state: str
    deletion_date: float | None = None
    valid_to: float | None = None  # imported material with KEY_MATERIAL_EXPIRES (DESIGN §4)
    origin: str
    expiration_model: str | None = None  # EXTERNAL keys with material imported
    key_manager: str
    customer_master_key_spec: str
    key_spec: str
    encryption_algorithms: list[str] | None = None
    signing_algorithms: list[str] | None = None
    key_agreement_algorithms: list[str] | None = None
    mac_algorithms: list[str] | None = None  # HMAC keys only
    encapsulation_algorithms: list[str] | None = None
    multi_region: bool
    # Multi-region keys only (botocore's KeyMetadata): absent for a single-region key, as AWS.
    multi_region_configuration: MultiRegionConfiguration | None = None
    current_key_material_id: str | None = None  # symmetric encryption keys (DESIGN §4a)


class ReplicateKeyResponse(Response, frozen=True, kw_only=True):
    replica_key_metadata: KeyMetadata
    replica_policy: str
    replica_tags: list[Tag]


class CreateKeyResponse(Response, frozen=True, kw_only=True):
    key_metadata: KeyMetadata


class DescribeKeyResponse(Response, frozen=True, kw_only=True):
    key_metadata: KeyMetadata


class KeyListEntry(Response, frozen=True, kw_only=True):
    key_id: str
    key_arn: str


class ListKeysResponse(Response, frozen=True, kw_only=True):
    keys: list[KeyListEntry]
    next_marker: str | None = None
    truncated: bool


class GetPublicKeyResponse(Response, frozen=True, kw_only=True):
    key_id: str
    public_key: bytes
    customer_master_key_spec: str
    key_spec: str
    key_usage: str
    encryption_algorithms: list[str] | None = None
    signing_algorithms: list[str] | None = None
    key_agreement_algorithms: list[str] | None = None
    encapsulation_algorithms: list[str] | None = None


class ScheduleKeyDeletionResponse(Response, frozen=True, kw_only=True):
    key_id: str
    deletion_date: float
    key_state: str
    pending_window_in_days: int


class CancelKeyDeletionResponse(Response, frozen=True, kw_only=True):
    key_id: str


class EmptyResponse(Response, frozen=True, kw_only=True):
    pass


class DeriveSharedSecretResponse(Response, frozen=True, kw_only=True):
    key_id: str
    shared_secret: bytes | None = None  # None with a recipient: CiphertextForRecipient instead
    ciphertext_for_recipient: bytes | None = None
    key_agreement_algorithm: str
    key_origin: str

    def __repr__(self) -> str:  # the shared secret never reaches a log line (DESIGN §3)
        return f"DeriveSharedSecretResponse(key_id={self.key_id!r}, shared_secret=<redacted>)"
