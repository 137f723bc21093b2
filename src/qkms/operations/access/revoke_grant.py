"""RevokeGrant (DESIGN §5): a key administrator removes a grant; effective everywhere within 1 s."""

from __future__ import annotations

from qkms.domain.errors import DryRunOperationException, InvalidGrantIdException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import EmptyResponse, RevokeGrantRequest
from qkms.operations.support.keys import load_key

__all__ = ["revoke_grant"]


def revoke_grant(ctx: OperationContext, request: RevokeGrantRequest) -> EmptyResponse:
    key = load_key(ctx, request.key_id, KeyOperation.REVOKE_GRANT)
    store = ctx.services.store
    grant = store.get_grant(request.grant_id or "")
    if grant is None or grant.key_id != key.key_id:
        raise InvalidGrantIdException("The specified grant ID is not valid.")
    if request.dry_run:
        raise DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set."
        )
    store.delete_grant(grant.grant_id)
    ctx.services.grants.evict(key.key_id)
    return EmptyResponse()
