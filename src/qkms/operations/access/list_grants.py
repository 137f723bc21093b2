"""ListGrants (DESIGN §5): the grants of one key, optionally filtered by grant id or grantee."""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.operations.access._grants import grant_entry, page_grants, principal_spellings
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import ListGrantsRequest, ListGrantsResponse
from qkms.operations.support.keys import load_key

__all__ = ["list_grants"]


def list_grants(ctx: OperationContext, request: ListGrantsRequest) -> ListGrantsResponse:
    key = load_key(ctx, request.key_id, KeyOperation.LIST_GRANTS)
    grants = ctx.services.store.list_grants(key.key_id)
    if request.grant_id is not None:
        grants = [g for g in grants if g.grant_id == request.grant_id]
    if request.grantee_principal is not None:
        wanted = principal_spellings(ctx, request.grantee_principal)
        grants = [g for g in grants if g.grantee_principal in wanted]
    page, next_marker = page_grants(grants, request.limit, request.marker)
    return ListGrantsResponse(
        grants=[grant_entry(ctx, g) for g in page],
        truncated=next_marker is not None,
        next_marker=next_marker,
    )
