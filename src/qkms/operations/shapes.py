"""Request and response shapes of the KMS operations, mirroring AWS's (STYLE §2, §4).

Python names are snake_case; the codec renames them to AWS's PascalCase (`key_id` <-> `KeyId`).
Every request member is optional at the type level so that a missing one is reported with
AWS's ValidationException wording from `constraints`, not as a decoding error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import msgspec

from qkms.domain.errors import InvalidPublicKeyException, KmsError
from qkms.domain.keys import KeyOrigin, KeySpec, KeyUsage

__all__ = [
    "GRANT_OPERATIONS",
    "AliasListEntry",
    "CancelKeyDeletionRequest",
    "CancelKeyDeletionResponse",
    "CreateAliasRequest",
    "CreateGrantRequest",
    "CreateGrantResponse",
    "CreateKeyRequest",
    "CreateKeyResponse",
    "DeleteAliasRequest",
    "DeriveSharedSecretRequest",
    "DeriveSharedSecretResponse",
    "DescribeKeyRequest",
    "DescribeKeyResponse",
    "DisableKeyRequest",
    "EmptyResponse",
    "EnableKeyRequest",
    "GetKeyPolicyRequest",
    "GetKeyPolicyResponse",
    "GetPublicKeyRequest",
    "GetPublicKeyResponse",
    "GrantConstraints",
    "GrantListEntry",
    "KeyListEntry",
    "KeyMetadata",
    "ListAliasesRequest",
    "ListAliasesResponse",
    "ListGrantsRequest",
    "ListGrantsResponse",
    "ListKeyPoliciesRequest",
    "ListKeyPoliciesResponse",
    "ListKeysRequest",
    "ListKeysResponse",
    "ListResourceTagsRequest",
    "ListResourceTagsResponse",
    "ListRetirableGrantsRequest",
    "Member",
    "PutKeyPolicyRequest",
    "RecipientInfo",
    "Request",
    "Response",
    "RetireGrantRequest",
    "RevokeGrantRequest",
    "ScheduleKeyDeletionRequest",
    "ScheduleKeyDeletionResponse",
    "Tag",
    "TagEntry",
    "TagResourceRequest",
    "UntagResourceRequest",
    "UpdateAliasRequest",
    "UpdateKeyDescriptionRequest",
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


def _values(enum_type: type[KeyUsage] | type[KeySpec] | type[KeyOrigin]) -> tuple[str, ...]:
    return tuple(member.value for member in enum_type)


_KEY_ID = Member("KeyId", required=True, min_length=1, max_length=2048)
_GRANT_TOKENS = Member("GrantTokens", min_length=0, max_length=10)


class Request(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    constraints: ClassVar[tuple[Member, ...]] = ()


class Response(msgspec.Struct, frozen=True, kw_only=True, rename="pascal", omit_defaults=True):
    pass


class Tag(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    tag_key: str
    tag_value: str


class RecipientInfo(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    """AWS's `Recipient` structure (Nitro Enclave attestation); not served by QKMS yet."""

    key_encryption_algorithm: str | None = None
    attestation_document: bytes | None = None


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
        Member("KeyUsage", enum=_values(KeyUsage)),
        Member("CustomerMasterKeySpec", enum=_values(KeySpec)),
        Member("KeySpec", enum=_values(KeySpec)),
        Member("Origin", enum=_values(KeyOrigin)),
        Member("CustomKeyStoreId", min_length=1, max_length=64),
        Member("XksKeyId", min_length=1, max_length=128),
    )


class DescribeKeyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    grant_tokens: list[str] | None = None

    constraints = (_KEY_ID, _GRANT_TOKENS)


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

    constraints = (_KEY_ID, _GRANT_TOKENS)


class EnableKeyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None

    constraints = (_KEY_ID,)


class DisableKeyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None

    constraints = (_KEY_ID,)


class ScheduleKeyDeletionRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    pending_window_in_days: int | None = None

    # AWS's model allows 1-365 on the wire but the service enforces 7-30 (DESIGN §4).
    constraints = (_KEY_ID, Member("PendingWindowInDays", min_value=7, max_value=30))


class CancelKeyDeletionRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None

    constraints = (_KEY_ID,)


class UpdateKeyDescriptionRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    description: str | None = None

    constraints = (_KEY_ID, Member("Description", required=True, min_length=0, max_length=8192))


class DeriveSharedSecretRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    public_key: bytes | None = None
    key_agreement_algorithm: str | None = None
    recipient_info: bytes | None = None
    recipient: RecipientInfo | None = None
    grant_tokens: list[str] | None = None
    dry_run: bool | None = None

    constraints = (
        _KEY_ID,
        Member(
            "PublicKey",
            required=True,
            min_length=1,
            max_length=8192,
            bad_base64=InvalidPublicKeyException,
        ),
        Member("KeyAgreementAlgorithm", enum=("ECDH",)),
        Member("RecipientInfo", max_length=8192),
        _GRANT_TOKENS,
    )


GRANT_OPERATIONS = (
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
)
_POLICY_NAME = Member("PolicyName", min_length=1, max_length=128)
_LIMIT = Member("Limit", min_value=1, max_value=1000)
_MARKER = Member("Marker", min_length=1, max_length=1024)


class GetKeyPolicyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    policy_name: str | None = None

    constraints = (_KEY_ID, _POLICY_NAME)


class PutKeyPolicyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    policy_name: str | None = None
    policy: str | None = None
    bypass_policy_lockout_safety_check: bool | None = None

    constraints = (
        _KEY_ID,
        _POLICY_NAME,
        Member("Policy", required=True, min_length=1, max_length=32768),
    )


class ListKeyPoliciesRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    limit: int | None = None
    marker: str | None = None

    constraints = (_KEY_ID, _LIMIT, _MARKER)


class GrantConstraints(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    encryption_context_subset: dict[str, str] | None = None
    encryption_context_equals: dict[str, str] | None = None


class CreateGrantRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    grantee_principal: str | None = None
    retiring_principal: str | None = None
    operations: list[str] | None = None
    constraints_: GrantConstraints | None = msgspec.field(default=None, name="Constraints")
    grant_tokens: list[str] | None = None
    name: str | None = None
    dry_run: bool | None = None

    constraints = (
        _KEY_ID,
        Member("GranteePrincipal", required=True, min_length=1, max_length=256),
        Member("RetiringPrincipal", min_length=1, max_length=256),
        Member(
            "Operations", required=True, min_length=1, max_length=17, each_enum=GRANT_OPERATIONS
        ),
        _GRANT_TOKENS,
        Member("Name", min_length=1, max_length=256),
    )


class ListGrantsRequest(Request, frozen=True, kw_only=True):
    limit: int | None = None
    marker: str | None = None
    key_id: str | None = None
    grant_id: str | None = None
    grantee_principal: str | None = None

    constraints = (
        _LIMIT,
        _MARKER,
        _KEY_ID,
        Member("GrantId", min_length=1, max_length=128),
        Member("GranteePrincipal", min_length=1, max_length=256),
    )


class ListRetirableGrantsRequest(Request, frozen=True, kw_only=True):
    limit: int | None = None
    marker: str | None = None
    retiring_principal: str | None = None

    constraints = (
        _LIMIT,
        _MARKER,
        Member("RetiringPrincipal", required=True, min_length=1, max_length=256),
    )


class RetireGrantRequest(Request, frozen=True, kw_only=True):
    grant_token: str | None = None
    key_id: str | None = None
    grant_id: str | None = None
    dry_run: bool | None = None

    constraints = (
        Member("GrantToken", min_length=1, max_length=8192),
        Member("KeyId", min_length=1, max_length=2048),
        Member("GrantId", min_length=1, max_length=128),
    )


class RevokeGrantRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    grant_id: str | None = None
    dry_run: bool | None = None

    constraints = (_KEY_ID, Member("GrantId", required=True, min_length=1, max_length=128))


_ALIAS_NAME = Member("AliasName", required=True, min_length=1, max_length=256)
_TARGET_KEY_ID = Member("TargetKeyId", required=True, min_length=1, max_length=2048)


class CreateAliasRequest(Request, frozen=True, kw_only=True):
    alias_name: str | None = None
    target_key_id: str | None = None

    constraints = (_ALIAS_NAME, _TARGET_KEY_ID)


class UpdateAliasRequest(Request, frozen=True, kw_only=True):
    alias_name: str | None = None
    target_key_id: str | None = None

    constraints = (_ALIAS_NAME, _TARGET_KEY_ID)


class DeleteAliasRequest(Request, frozen=True, kw_only=True):
    alias_name: str | None = None

    constraints = (_ALIAS_NAME,)


class ListAliasesRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    limit: int | None = None
    marker: str | None = None

    constraints = (
        Member("KeyId", min_length=1, max_length=2048),
        Member("Limit", min_value=1, max_value=100),
        _MARKER,
    )


class TagResourceRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    tags: list[Tag] | None = None

    constraints = (_KEY_ID, Member("Tags", required=True))


class UntagResourceRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    tag_keys: list[str] | None = None

    constraints = (_KEY_ID, Member("TagKeys", required=True, max_length=50))


class ListResourceTagsRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    limit: int | None = None
    marker: str | None = None

    constraints = (_KEY_ID, Member("Limit", min_value=1, max_value=50), _MARKER)


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
    valid_to: float | None = None  # imported material with KEY_MATERIAL_EXPIRES (issue #4)
    origin: str
    expiration_model: str | None = None  # EXTERNAL keys with material imported
    key_manager: str
    customer_master_key_spec: str
    key_spec: str
    encryption_algorithms: list[str] | None = None
    signing_algorithms: list[str] | None = None
    key_agreement_algorithms: list[str] | None = None
    multi_region: bool


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


class ScheduleKeyDeletionResponse(Response, frozen=True, kw_only=True):
    key_id: str
    deletion_date: float
    key_state: str
    pending_window_in_days: int


class CancelKeyDeletionResponse(Response, frozen=True, kw_only=True):
    key_id: str


class EmptyResponse(Response, frozen=True, kw_only=True):
    pass


class GetKeyPolicyResponse(Response, frozen=True, kw_only=True):
    policy: str
    policy_name: str


class ListKeyPoliciesResponse(Response, frozen=True, kw_only=True):
    policy_names: list[str]
    next_marker: str | None = None
    truncated: bool


class CreateGrantResponse(Response, frozen=True, kw_only=True):
    grant_token: str
    grant_id: str


class GrantListEntry(Response, frozen=True, kw_only=True):
    key_id: str
    grant_id: str
    name: str | None = None
    creation_date: float
    grantee_principal: str
    retiring_principal: str | None = None
    issuing_account: str
    operations: list[str]


class ListGrantsResponse(Response, frozen=True, kw_only=True):
    grants: list[GrantListEntry]
    next_marker: str | None = None
    truncated: bool


class AliasListEntry(Response, frozen=True, kw_only=True):
    alias_name: str
    alias_arn: str
    target_key_id: str
    creation_date: float
    last_updated_date: float


class ListAliasesResponse(Response, frozen=True, kw_only=True):
    aliases: list[AliasListEntry]
    next_marker: str | None = None
    truncated: bool


class TagEntry(Response, frozen=True, kw_only=True):
    tag_key: str
    tag_value: str


class ListResourceTagsResponse(Response, frozen=True, kw_only=True):
    tags: list[TagEntry]
    next_marker: str | None = None
    truncated: bool


class DeriveSharedSecretResponse(Response, frozen=True, kw_only=True):
    key_id: str
    shared_secret: bytes
    key_agreement_algorithm: str
    key_origin: str

    def __repr__(self) -> str:  # the shared secret never reaches a log line (DESIGN §3)
        return f"DeriveSharedSecretResponse(key_id={self.key_id!r}, shared_secret=<redacted>)"
