"""Grant rules shared by the grant operations: principals, valid operations, listing entries."""

from __future__ import annotations

import base64
import binascii
import re

from qkms.domain.errors import InvalidMarkerException, ValidationException
from qkms.domain.grant_constraints import GrantConstraints as DomainConstraints
from qkms.domain.keys import Key, KeyUsage
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import GrantConstraints, GrantListEntry
from qkms.storage.base import GrantRow

__all__ = [
    "check_grant_operations",
    "check_principal",
    "grant_entry",
    "page_grants",
    "principal_spellings",
]

_PRINCIPAL = re.compile(
    r"^arn:(?P<partition>[^:]+):(?:iam:)?:?(?P<account>[0-9]{12}):(?:root|user/(?P<user>[\w+=,.@-]{1,64}))$"
)

_COMMON = {"DescribeKey", "CreateGrant", "RetireGrant"}
_ENCRYPTION = {"Decrypt", "Encrypt", "ReEncryptFrom", "ReEncryptTo"}
# AWS: the grant operations that make sense for each key type ("Grant operations").
_VALID_OPERATIONS: dict[KeyUsage, set[str]] = {
    KeyUsage.KEY_AGREEMENT: _COMMON | {"DeriveSharedSecret", "GetPublicKey"},
    KeyUsage.DERIVE_SHARED_SECRET: _COMMON | {"DeriveSharedSecret", "GetPublicKey"},
    KeyUsage.ENCAPSULATE_DECAPSULATE: _COMMON | {"Encapsulate", "Decapsulate", "GetPublicKey"},
    KeyUsage.SIGN_VERIFY: _COMMON | {"Sign", "Verify", "GetPublicKey"},
    KeyUsage.ENCRYPT_DECRYPT: _COMMON
    | _ENCRYPTION
    | {
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    },
    KeyUsage.GENERATE_VERIFY_MAC: _COMMON | {"GenerateMac", "VerifyMac"},
}

# AWS "Grant operations": an asymmetric ENCRYPT_DECRYPT key makes no data keys, and has a
# public key to get.
_RSA_ENCRYPTION_OPERATIONS = _COMMON | _ENCRYPTION | {"GetPublicKey"}


def check_principal(ctx: OperationContext, member: str, principal: str) -> None:
    """A grantee or retiring principal must be a user or account root that exists here."""
    match = _PRINCIPAL.match(principal)
    seed_or_aws = match is not None and (
        principal.count(":") == 3 or principal.split(":")[2] == "iam"
    )
    if match is None or not seed_or_aws or match["partition"] != ctx.services.arns.partition:
        raise ValidationException(
            f"{member} '{principal}' is not the ARN of a user or of an account root."
        )
    user = match["user"]
    if user is not None and ctx.services.store.get_user(match["account"], user) is None:
        raise ValidationException(f"{member} '{principal}' names a user that does not exist.")


def principal_spellings(ctx: OperationContext, principal: str) -> set[str]:
    """Both ARN shapes of a principal, so a grant matches however either side spelled it."""
    match = _PRINCIPAL.match(principal)
    if match is None:
        return {principal}
    partition, account, user = match["partition"], match["account"], match["user"]
    tail = f"user/{user}" if user else "root"
    return {f"arn:{partition}:{account}:{tail}", f"arn:{partition}:iam::{account}:{tail}"}


def check_grant_operations(key: Key, operations: list[str], key_arn: str) -> None:
    valid = (
        _RSA_ENCRYPTION_OPERATIONS if key.can_encrypt_with_rsa else _VALID_OPERATIONS[key.key_usage]
    )
    invalid = [op for op in operations if op not in valid]
    if invalid:
        raise ValidationException(
            f"Grant operations {invalid} are not valid for {key_arn}, whose key usage is "
            f"{key.key_usage.value}."
        )


def grant_entry(ctx: OperationContext, grant: GrantRow) -> GrantListEntry:
    arns = ctx.services.arns
    return GrantListEntry(
        key_id=arns.key_arn(grant.key_account_id, grant.key_id),
        grant_id=grant.grant_id,
        name=grant.name,
        creation_date=grant.creation_date,
        grantee_principal=grant.grantee_principal,
        retiring_principal=grant.retiring_principal,
        issuing_account=arns.account_root_arn(grant.issuing_account),
        operations=list(grant.operations),
        constraints_=_constraints_entry(grant.grant_constraints),
    )


def _constraints_entry(stored: str | None) -> GrantConstraints | None:
    constraints = DomainConstraints.from_json(stored)
    if constraints.is_empty:
        return None
    return GrantConstraints(
        encryption_context_equals=(
            dict(constraints.equals) if constraints.equals is not None else None
        ),
        encryption_context_subset=(
            dict(constraints.subset) if constraints.subset is not None else None
        ),
    )


def page_grants(
    grants: list[GrantRow], limit: int | None, marker: str | None
) -> tuple[list[GrantRow], str | None]:
    """One page of `grants` (already in a stable order) and the marker of the next, if any."""
    start = 0
    if marker is not None:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            after = ""
        ids = [g.grant_id for g in grants]
        if after not in ids:
            raise InvalidMarkerException(
                "The marker that specifies where to start paging is invalid."
            )
        start = ids.index(after) + 1
    size = limit or 50
    page = grants[start : start + size]
    more = start + size < len(grants)
    next_marker = (
        base64.urlsafe_b64encode(page[-1].grant_id.encode()).decode() if more and page else None
    )
    return page, next_marker
