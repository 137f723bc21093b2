"""DeleteAlias (DESIGN §4): remove an alias; the key itself is untouched."""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.operations.aliases._rules import alias_not_found, require_live_alias
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import DeleteAliasRequest, EmptyResponse
from qkms.operations.support.keys import forget_alias, load_key

__all__ = ["delete_alias"]


def delete_alias(ctx: OperationContext, request: DeleteAliasRequest) -> EmptyResponse:
    alias_name = request.alias_name or ""
    alias = require_live_alias(ctx, alias_name)
    account_id = ctx.caller.account_id
    load_key(ctx, alias.key_id, KeyOperation.DELETE_ALIAS)  # authorizes on the aliased key
    if not ctx.services.store.delete_alias(account_id, alias_name, alias.region):
        raise alias_not_found(ctx, alias_name)
    forget_alias(ctx, alias)
    return EmptyResponse()
