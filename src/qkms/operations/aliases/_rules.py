"""Alias rules shared by the alias operations: AWS's name rules and the target-key rules."""

from __future__ import annotations

import re

from qkms.domain.errors import NotAuthorizedException, NotFoundException, ValidationException
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.support.key_rows import key_from_row
from qkms.operations.support.keys import alias_regions, forget_alias, load_key
from qkms.storage.base import AliasRow, key_row_id

__all__ = [
    "alias_not_found",
    "check_alias_name",
    "drop_stale_alias",
    "is_stale",
    "live_alias",
    "load_alias_target",
    "require_live_alias",
]

_PREFIX = "alias/"
_PATTERN = re.compile(r"^[a-zA-Z0-9:/_-]+$")
_RESERVED = "alias/aws/"  # AWS managed keys' aliases: never a customer's


def check_alias_name(alias_name: str) -> None:
    if not alias_name.startswith(_PREFIX) or len(alias_name) == len(_PREFIX):
        raise ValidationException(
            'Alias must start with the prefix "alias/". '
            "Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
        )
    if not _PATTERN.match(alias_name):
        raise ValidationException(
            f"1 validation error detected: Value '{alias_name}' at 'aliasName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )
    if alias_name.startswith(_RESERVED):
        raise NotAuthorizedException(
            f"{alias_name} is a reserved alias name: alias/aws/ is for AWS managed keys."
        )


def is_stale(ctx: OperationContext, row: AliasRow) -> bool:
    """An alias whose key is gone (deleted, or past its deletion window) names nothing.

    AWS deletes a key's aliases with the key; here the sweeper removes the rows, and until it
    runs such an alias must already behave as if it did not exist.
    """
    region = row.region or ctx.services.arns.region
    key_row = ctx.services.store.get_key(key_row_id(row.key_id, region))
    return key_row is None or key_from_row(key_row).is_gone(ctx.services.clock())


def live_alias(ctx: OperationContext, account_id: str, alias_name: str) -> AliasRow | None:
    """The account's alias of that name in the request's region, unless its key is gone."""
    row = ctx.services.store.get_alias(account_id, alias_name, alias_regions(ctx))
    return None if row is None or is_stale(ctx, row) else row


def drop_stale_alias(ctx: OperationContext, account_id: str, alias_name: str) -> bool:
    """Remove the request region's alias if its key is gone; True if it did."""
    row = ctx.services.store.get_alias(account_id, alias_name, alias_regions(ctx))
    if row is None or not is_stale(ctx, row):
        return False
    ctx.services.store.delete_alias(account_id, alias_name, row.region)
    forget_alias(ctx, row)
    return True


def alias_not_found(ctx: OperationContext, alias_name: str) -> NotFoundException:
    """AWS's NotFoundException for an alias of the caller's account, naming its ARN."""
    alias_arn = ctx.services.arns.alias_arn(ctx.caller.account_id, alias_name, ctx.region)
    return NotFoundException(f"Alias {alias_arn} is not found.")


def require_live_alias(ctx: OperationContext, alias_name: str) -> AliasRow:
    """The caller's alias `alias_name` once its name passes AWS's rules; else NotFoundException.

    DeleteAlias and UpdateAlias both start here. A stale row met on the way (its key is gone)
    is removed as the sweeper would remove it: it names nothing either way.
    """
    check_alias_name(alias_name)
    account_id = ctx.caller.account_id
    alias = live_alias(ctx, account_id, alias_name)
    if alias is None:
        drop_stale_alias(ctx, account_id, alias_name)
        raise alias_not_found(ctx, alias_name)
    return alias


def load_alias_target(
    ctx: OperationContext, target_key_id: str | None, operation: KeyOperation
) -> Key:
    """The key an alias may point at: named by key id or key ARN, in the caller's account."""
    ref = ctx.services.arns.parse_key_ref(target_key_id or "")
    if ref is not None and ref.alias_name is not None:
        raise ValidationException("TargetKeyId must be a key id or key ARN, not an alias.")
    key = load_key(ctx, target_key_id, operation)
    if key.account_id != ctx.caller.account_id:
        # An alias and its key live in one account (AWS); say nothing more about the key.
        raise ValidationException("An alias must be in the same account as its key.")
    return key
