"""ListAliases (DESIGN §4, §4a): the account's aliases in the request's region, or one key's,
paged by name."""

from __future__ import annotations

import base64
import binascii

from qkms.domain.errors import InvalidMarkerException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.aliases._rules import is_stale
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import AliasListEntry, ListAliasesRequest, ListAliasesResponse
from qkms.operations.support.access import authorize_account_action
from qkms.operations.support.keys import alias_regions, load_key

__all__ = ["list_aliases"]

_DEFAULT_LIMIT = 50


def _after(marker: str | None) -> str | None:
    if marker is None:
        return None
    try:
        name = base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        name = ""
    if not name.startswith("alias/"):
        raise InvalidMarkerException("The marker that specifies where to start paging is invalid.")
    return name


def list_aliases(ctx: OperationContext, request: ListAliasesRequest) -> ListAliasesResponse:
    key_id = None
    if request.key_id is not None:
        key_id = load_key(ctx, request.key_id, KeyOperation.DESCRIBE_KEY).key_id
    authorize_account_action(ctx, "ListAliases")
    limit = request.limit or _DEFAULT_LIMIT
    account_id = ctx.caller.account_id
    arns = ctx.services.arns
    rows = [
        row
        for row in ctx.services.store.list_aliases(
            account_id, key_id, _after(request.marker), limit + 1, alias_regions(ctx)
        )
        if not is_stale(ctx, row)
    ]
    page = rows[:limit]
    entries = [
        AliasListEntry(
            alias_name=row.alias_name,
            alias_arn=arns.alias_arn(account_id, row.alias_name, ctx.region),
            target_key_id=row.key_id,
            creation_date=row.creation_date,
            last_updated_date=row.last_updated_date,
        )
        for row in page
    ]
    if len(rows) > limit:
        marker = base64.urlsafe_b64encode(page[-1].alias_name.encode()).decode()
        return ListAliasesResponse(aliases=entries, truncated=True, next_marker=marker)
    return ListAliasesResponse(aliases=entries, truncated=False)
