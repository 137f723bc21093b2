"""CreateAlias (DESIGN §4): a friendly name for a key, unique in its account and region."""

from __future__ import annotations

from qkms.domain.errors import AlreadyExistsException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.aliases._rules import check_alias_name, drop_stale_alias, load_alias_target
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import CreateAliasRequest, EmptyResponse
from qkms.operations.support.keys import alias_regions, forget_alias
from qkms.storage.base import AliasRow, DuplicateError

__all__ = ["create_alias"]


def create_alias(ctx: OperationContext, request: CreateAliasRequest) -> EmptyResponse:
    alias_name = request.alias_name or ""
    check_alias_name(alias_name)
    key = load_alias_target(ctx, request.target_key_id, KeyOperation.CREATE_ALIAS)
    now = ctx.services.clock()
    # The alias lives in the request's region, where its key is (load_alias_target saw it).
    row = AliasRow(key.account_id, alias_name, key.key_id, now, now, ctx.region)
    try:
        # In the default region a name may also be held by a row stored before regions ('').
        if ctx.services.store.get_alias(key.account_id, alias_name, alias_regions(ctx)):
            raise DuplicateError("aliases")
        ctx.services.store.insert_alias(row)
    except DuplicateError:
        # The name is free again if the key it named is gone, sweeper or not.
        if not drop_stale_alias(ctx, key.account_id, alias_name):
            alias_arn = ctx.services.arns.alias_arn(key.account_id, alias_name, ctx.region)
            raise AlreadyExistsException(
                f"An alias with the name {alias_arn} already exists"
            ) from None
        ctx.services.store.insert_alias(row)
    forget_alias(ctx, row)
    return EmptyResponse()
