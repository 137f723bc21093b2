"""RetireGrant (DESIGN §5): the grant's retiring principal (or its grantee) ends a grant.

AWS "Retiring and revoking grants": a grant may be retired by its retiring principal, by its
grantee when the grant includes the RetireGrant operation, or by a principal whom the key's
policies allow kms:RetireGrant.
"""

from __future__ import annotations

from qkms.domain.errors import (
    AccessDeniedException,
    DryRunOperationException,
    InvalidGrantIdException,
    KmsError,
    ValidationException,
)
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.access._grants import principal_spellings
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import EmptyResponse, RetireGrantRequest
from qkms.operations.support.access import caller_principal_arns
from qkms.operations.support.grant_tokens import invalid_grant_token, read_grant_token, token_grant
from qkms.operations.support.keys import load_cached_key
from qkms.storage.base import GrantRow

__all__ = ["retire_grant"]


def _find_grant(ctx: OperationContext, request: RetireGrantRequest) -> GrantRow:
    store = ctx.services.store
    if request.grant_token is not None:
        claims = read_grant_token(ctx, request.grant_token)
        # A KeyId beside the token must name the grant's own key. Any other answers as a token
        # that names no grant: nothing about the grant's key or account, nor whether the
        # token was good, reaches a caller who named a key the grant is not on.
        if request.key_id is not None and not _names_key(
            ctx, request.key_id, claims.key_account_id, claims.key_id
        ):
            raise invalid_grant_token()
        grant = token_grant(ctx, claims)
        if grant is None:
            raise invalid_grant_token()
        return grant
    if request.key_id is None or request.grant_id is None:
        raise ValidationException(
            "Either GrantToken, or both KeyId and GrantId, must be specified."
        )
    grant = store.get_grant(request.grant_id)
    if grant is None or not _names_key(ctx, request.key_id, grant.key_account_id, grant.key_id):
        raise InvalidGrantIdException("The specified grant ID is not valid.")
    return grant


def _names_key(ctx: OperationContext, key_ref: str, account_id: str, key_id: str) -> bool:
    """Whether `key_ref` (a key id, or a key ARN of either shape) names exactly this key; a bare
    id names a key of the caller's own account only (DESIGN §2)."""
    ref = ctx.services.arns.parse_key_ref(key_ref)
    if ref is None or ref.key_id is None:
        return False
    named_account = ref.account_id or ctx.caller.account_id
    return ref.key_id == key_id and named_account == account_id


def _may_retire(ctx: OperationContext, grant: GrantRow) -> bool:
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
    # Otherwise a policy must allow kms:RetireGrant on the grant's own key, whatever key the
    # request named. Grants are not asked: a grant's RetireGrant operation lets its grantee
    # retire that grant (above), never the other grants on the key (AWS "Retiring and
    # revoking grants").
    key_arn = ctx.services.arns.key_arn(grant.key_account_id, grant.key_id)
    try:
        load_cached_key(ctx, key_arn, KeyOperation.RETIRE_GRANT, consult_grants=False)
    except KmsError:
        return False
    return True


def retire_grant(ctx: OperationContext, request: RetireGrantRequest) -> EmptyResponse:
    grant = _find_grant(ctx, request)
    if not _may_retire(ctx, grant):
        if grant.key_account_id != ctx.caller.account_id and request.grant_token is None:
            # Named by KeyId+GrantId: a key of another account that the caller may not touch
            # gets the answer a missing grant would get, so nothing is revealed (DESIGN §5).
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
