"""DeleteAlias (DESIGN §4): remove an alias; the key itself is untouched."""

from __future__ import annotations

from qkms.domain.errors import NotFoundException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.aliases._rules import check_alias_name, drop_stale_alias, live_alias
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import DeleteAliasRequest, EmptyResponse
from qkms.operations.support.keys import load_key

__all__ = ["delete_alias"]


def delete_alias(ctx: OperationContext, request: DeleteAliasRequest) -> EmptyResponse:
    alias_name = request.alias_name or ""
    check_alias_name(alias_name)
    account_id = ctx.caller.account_id
    store = ctx.services.store
    alias = live_alias(ctx, account_id, alias_name)
    alias_arn = ctx.services.arns.alias_arn(account_id, alias_name)
    if alias is None:
        drop_stale_alias(ctx, account_id, alias_name)
        raise NotFoundException(f"Alias {alias_arn} is not found.")
    load_key(ctx, alias.key_id, KeyOperation.DELETE_ALIAS)  # authorizes on the aliased key
    if not store.delete_alias(account_id, alias_name):
        raise NotFoundException(f"Alias {alias_arn} is not found.")
    ctx.services.aliases.evict(f"{account_id}:{alias_name}")
    return EmptyResponse()
