"""RetireGrant (issue #3): the grant's retiring principal (or its grantee) ends a grant.

AWS "Retiring and revoking grants": a grant may be retired by its retiring principal, by its
grantee when the grant includes the RetireGrant operation, or by a principal whom the key's
policies allow kms:RetireGrant.
"""

from __future__ import annotations

from qkms.domain.errors import (
    AccessDeniedException,
    DryRunOperationException,
    InvalidGrantIdException,
    InvalidGrantTokenException,
    KmsError,
    ValidationException,
)
from qkms.domain.lifecycle import KeyOperation
from qkms.operations._access import caller_principal_arns, decode_grant_token
from qkms.operations._grants import principal_spellings
from qkms.operations._keys import load_cached_key
from qkms.operations.context import OperationContext
from qkms.operations.shapes import EmptyResponse, RetireGrantRequest
from qkms.storage.base import GrantRow

__all__ = ["retire_grant"]


def _find_grant(ctx: OperationContext, request: RetireGrantRequest) -> GrantRow:
    store = ctx.services.store
    if request.grant_token is not None:
        grant = store.get_grant(decode_grant_token(request.grant_token))
        if grant is None:
            raise InvalidGrantTokenException("The grant token is not valid.")
        return grant
    if request.key_id is None or request.grant_id is None:
        raise ValidationException(
            "Either GrantToken, or both KeyId and GrantId, must be specified."
        )
    grant = store.get_grant(request.grant_id)
    ref = ctx.services.arns.parse_key_ref(request.key_id)
    named_account = (ref.account_id if ref is not None else None) or ctx.caller.account_id
    if (
        grant is None
        or ref is None
        or ref.key_id != grant.key_id
        or named_account != grant.key_account_id
    ):
        raise InvalidGrantIdException("The specified grant ID is not valid.")
    return grant


def _may_retire(ctx: OperationContext, request: RetireGrantRequest, grant: GrantRow) -> bool:
    caller = caller_principal_arns(ctx)
    if (
        grant.retiring_principal is not None
        and principal_spellings(ctx, grant.retiring_principal) & caller
    ):
        return True
    if (
        "RetireGrant" in grant.operations
        and principal_spellings(ctx, grant.grantee_principal) & caller
    ):
        return True
    key_ref = request.key_id or ctx.services.arns.key_arn(grant.key_account_id, grant.key_id)
    try:
        load_cached_key(ctx, key_ref, KeyOperation.RETIRE_GRANT)
    except KmsError:
        return False
    return True


def retire_grant(ctx: OperationContext, request: RetireGrantRequest) -> EmptyResponse:
    grant = _find_grant(ctx, request)
    if not _may_retire(ctx, request, grant):
        if grant.key_account_id != ctx.caller.account_id and request.grant_token is None:
            # Named by KeyId+GrantId: a key of another account that the caller may not touch
            # gets the answer a missing grant would get, so nothing is revealed (issue #3).
            raise InvalidGrantIdException("The specified grant ID is not valid.")
        raise AccessDeniedException(
            f"User: {ctx.services.arns.user_arn(ctx.caller.account_id, ctx.caller.user_name)} "
            "is not authorized to retire this grant."
        )
    if request.dry_run:
        raise DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set."
        )
    ctx.services.store.delete_grant(grant.grant_id)
    ctx.services.grants.evict(grant.key_id)
    return EmptyResponse()
