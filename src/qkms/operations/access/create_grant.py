"""CreateGrant (DESIGN §5): let a principal use one key for some operations, revocable at once."""

from __future__ import annotations

import secrets

from qkms.domain.errors import DryRunOperationException, ValidationException
from qkms.domain.grant_constraints import GrantConstraints
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.access._grants import (
    check_grant_operations,
    check_principal,
    principal_spellings,
)
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import CreateGrantRequest, CreateGrantResponse
from qkms.operations.support.grant_tokens import issue_grant_token
from qkms.operations.support.keys import key_arn, load_cached_key
from qkms.storage.base import GrantRow

__all__ = ["create_grant"]


def create_grant(ctx: OperationContext, request: CreateGrantRequest) -> CreateGrantResponse:
    grantee = request.grantee_principal or ""
    operations = sorted(set(request.operations or []))
    context: dict[str, str | bool | tuple[str, ...]] = {
        "kms:GrantOperations": tuple(operations),
        "kms:GranteePrincipal": grantee,
        "kms:GrantIsForAWSResource": False,
    }
    if request.retiring_principal is not None:
        context["kms:RetiringPrincipal"] = request.retiring_principal
    given = request.constraints_
    constraints = GrantConstraints(
        equals=given.encryption_context_equals if given is not None else None,
        subset=given.encryption_context_subset if given is not None else None,
    )
    # A grant's CreateGrant permission reaches only grants within that grant's operations
    # (`qkms.domain.grants.grant_permits`; KMS guide, "Granting CreateGrant permission"); a
    # policy's is bounded by its conditions alone. Beyond it the caller gets the plain
    # AccessDeniedException "User: <arn> is not authorized to perform: kms:CreateGrant on
    # resource: <key arn>" (AWS's wording, as in awsdocs/iam-user-guide#119): AWS documents no
    # other text for this case, and a message naming the parent grant would say more than needed.
    cached = load_cached_key(
        ctx,
        request.key_id,
        KeyOperation.CREATE_GRANT,
        request.grant_tokens,
        context,
        new_grant_operations=frozenset(operations),
        new_grant_constraints=constraints,
    )
    key = cached.key
    check_principal(ctx, "GranteePrincipal", grantee)
    if request.retiring_principal is not None:
        check_principal(ctx, "RetiringPrincipal", request.retiring_principal)
    if not constraints.is_empty and not key.can_encrypt_symmetrically:
        # Encryption-context constraints only apply to operations that take an encryption
        # context (AWS GrantConstraints: symmetric encryption keys); a key-agreement or
        # signing key has none, so such a grant would be a lie.
        raise ValidationException(
            "Grant constraints are not supported for this key: none of its operations take an "
            "encryption context."
        )
    check_grant_operations(key, operations, key_arn(ctx, key))

    store = ctx.services.store
    if request.name is not None:
        # AWS: retrying CreateGrant with the same name and parameters returns the same grant.
        for existing in store.list_grants(key.key_id):
            if (
                existing.name == request.name
                and existing.grantee_principal in principal_spellings(ctx, grantee)
                and existing.retiring_principal == request.retiring_principal
                and list(existing.operations) == operations
                and existing.grant_constraints == constraints.to_json()
            ):
                if request.dry_run:
                    raise DryRunOperationException(
                        "The request would have succeeded, but the DryRun option is set."
                    )
                return CreateGrantResponse(
                    grant_token=issue_grant_token(ctx, existing), grant_id=existing.grant_id
                )
    if request.dry_run:
        raise DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set."
        )
    grant_id = secrets.token_hex(32)  # 64 hex characters, like AWS grant ids
    grant = GrantRow(
        grant_id=grant_id,
        key_id=key.key_id,
        key_account_id=key.account_id,
        name=request.name,
        grantee_principal=grantee,
        retiring_principal=request.retiring_principal,
        operations=tuple(operations),
        issuing_account=ctx.caller.account_id,
        creation_date=ctx.services.clock(),
        grant_constraints=constraints.to_json(),
    )
    store.insert_grant(grant)
    ctx.services.grants.evict(key.key_id)
    return CreateGrantResponse(grant_token=issue_grant_token(ctx, grant), grant_id=grant_id)
