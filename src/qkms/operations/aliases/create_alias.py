"""CreateAlias (DESIGN §4): a friendly name for a key, unique in its account."""

from __future__ import annotations

from qkms.domain.errors import AlreadyExistsException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.aliases._rules import check_alias_name, drop_stale_alias, load_alias_target
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import CreateAliasRequest, EmptyResponse
from qkms.storage.base import AliasRow, DuplicateError

__all__ = ["create_alias"]


def create_alias(ctx: OperationContext, request: CreateAliasRequest) -> EmptyResponse:
    alias_name = request.alias_name or ""
    check_alias_name(alias_name)
    key = load_alias_target(ctx, request.target_key_id, KeyOperation.CREATE_ALIAS)
    now = ctx.services.clock()
    row = AliasRow(key.account_id, alias_name, key.key_id, now, now)
    try:
        ctx.services.store.insert_alias(row)
    except DuplicateError:
        # The name is free again if the key it named is gone, sweeper or not.
        if not drop_stale_alias(ctx, key.account_id, alias_name):
            alias_arn = ctx.services.arns.alias_arn(key.account_id, alias_name)
            raise AlreadyExistsException(
                f"An alias with the name {alias_arn} already exists"
            ) from None
        ctx.services.store.insert_alias(row)
    ctx.services.aliases.evict(f"{key.account_id}:{alias_name}")
    return EmptyResponse()
