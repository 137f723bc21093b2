"""ListRetirableGrants (DESIGN §5): grants that name a principal as their retiring principal."""

from __future__ import annotations

from qkms.domain.errors import ValidationException
from qkms.operations.access._grants import grant_entry, page_grants, principal_spellings
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import ListGrantsResponse, ListRetirableGrantsRequest
from qkms.operations.support.access import authorize_account_action

__all__ = ["list_retirable_grants"]


def list_retirable_grants(
    ctx: OperationContext, request: ListRetirableGrantsRequest
) -> ListGrantsResponse:
    authorize_account_action(ctx, "ListRetirableGrants")
    principal = request.retiring_principal or ""
    own_account = ctx.caller.account_id
    if not any(f":{own_account}:" in spelling for spelling in principal_spellings(ctx, principal)):
        # AWS: "You must specify a principal in your AWS account." Another account's grants
        # are not the caller's to see.
        raise ValidationException("RetiringPrincipal must be a principal in your account.")
    store = ctx.services.store
    grants = [
        grant
        for spelling in sorted(principal_spellings(ctx, request.retiring_principal or ""))
        for grant in store.list_grants_by_retiring_principal(spelling)
    ]
    grants.sort(key=lambda g: (g.creation_date, g.grant_id))
    page, next_marker = page_grants(grants, request.limit, request.marker)
    return ListGrantsResponse(
        grants=[grant_entry(ctx, g) for g in page],
        truncated=next_marker is not None,
        next_marker=next_marker,
    )
