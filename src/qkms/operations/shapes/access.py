"""Shapes of key policies and grants (DESIGN §5)."""

from __future__ import annotations

import msgspec

from qkms.operations.shapes.base import (
    GRANT_TOKENS,
    KEY_ID,
    LIMIT,
    MARKER,
    Member,
    Request,
    Response,
)

__all__ = [
    "GRANT_OPERATIONS",
    "CreateGrantRequest",
    "CreateGrantResponse",
    "GetKeyPolicyRequest",
    "GetKeyPolicyResponse",
    "GrantConstraints",
    "GrantListEntry",
    "ListGrantsRequest",
    "ListGrantsResponse",
    "ListKeyPoliciesRequest",
    "ListKeyPoliciesResponse",
    "ListRetirableGrantsRequest",
    "PutKeyPolicyRequest",
    "RetireGrantRequest",
    "RevokeGrantRequest",
]


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
    "Encapsulate",
    "Decapsulate",
)
_POLICY_NAME = Member("PolicyName", min_length=1, max_length=128)


class GetKeyPolicyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    policy_name: str | None = None

    constraints = (KEY_ID, _POLICY_NAME)


class PutKeyPolicyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    policy_name: str | None = None
    policy: str | None = None
    bypass_policy_lockout_safety_check: bool | None = None

    constraints = (
        KEY_ID,
        _POLICY_NAME,
        Member("Policy", required=True, min_length=1, max_length=32768),
    )


class ListKeyPoliciesRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    limit: int | None = None
    marker: str | None = None

    constraints = (KEY_ID, LIMIT, MARKER)


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
        KEY_ID,
        Member("GranteePrincipal", required=True, min_length=1, max_length=256),
        Member("RetiringPrincipal", min_length=1, max_length=256),
        Member(
            "Operations", required=True, min_length=1, max_length=17, each_enum=GRANT_OPERATIONS
        ),
        GRANT_TOKENS,
        Member("Name", min_length=1, max_length=256),
    )


class ListGrantsRequest(Request, frozen=True, kw_only=True):
    limit: int | None = None
    marker: str | None = None
    key_id: str | None = None
    grant_id: str | None = None
    grantee_principal: str | None = None

    constraints = (
        LIMIT,
        MARKER,
        KEY_ID,
        Member("GrantId", min_length=1, max_length=128),
        Member("GranteePrincipal", min_length=1, max_length=256),
    )


class ListRetirableGrantsRequest(Request, frozen=True, kw_only=True):
    limit: int | None = None
    marker: str | None = None
    retiring_principal: str | None = None

    constraints = (
        LIMIT,
        MARKER,
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

    constraints = (KEY_ID, Member("GrantId", required=True, min_length=1, max_length=128))


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
    constraints_: GrantConstraints | None = msgspec.field(default=None, name="Constraints")


class ListGrantsResponse(Response, frozen=True, kw_only=True):
    grants: list[GrantListEntry]
    next_marker: str | None = None
    truncated: bool
