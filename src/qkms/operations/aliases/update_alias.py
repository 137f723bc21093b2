"""UpdateAlias (DESIGN §4): point an alias at another key of the same type and usage."""

from __future__ import annotations

from qkms.domain.errors import ValidationException
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.aliases._rules import alias_not_found, load_alias_target, require_live_alias
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import EmptyResponse, UpdateAliasRequest
from qkms.operations.support.keys import forget_alias, key_arn, load_key

__all__ = ["update_alias"]


def _kind(key: Key) -> tuple[bool, str]:
    usage = "KEY_AGREEMENT" if key.key_usage.is_key_agreement else key.key_usage.value
    return key.key_spec.is_symmetric, usage


def update_alias(ctx: OperationContext, request: UpdateAliasRequest) -> EmptyResponse:
    alias_name = request.alias_name or ""
    alias = require_live_alias(ctx, alias_name)
    account_id = ctx.caller.account_id
    alias_arn = ctx.services.arns.alias_arn(account_id, alias_name, ctx.region)
    current = load_key(ctx, alias.key_id, KeyOperation.UPDATE_ALIAS)
    new = load_alias_target(ctx, request.target_key_id, KeyOperation.UPDATE_ALIAS)
    # AWS: the current and new key must be the same type with the same key usage, so code
    # that uses the alias keeps working.
    if _kind(current) != _kind(new):
        raise ValidationException(
            f"{key_arn(ctx, new)} is not the same type of key, with the same key usage, as the "
            f"key {alias_arn} points at now ({key_arn(ctx, current)})."
        )
    if not ctx.services.store.update_alias(
        account_id, alias_name, new.key_id, ctx.services.clock(), alias.region
    ):
        raise alias_not_found(ctx, alias_name)
    forget_alias(ctx, alias)
    return EmptyResponse()
