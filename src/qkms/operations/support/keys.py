"""The one way operations reach a key: resolve the reference, load (cached), authorize, check state.

Every key operation goes through `load_cached_key` or `change_key`, so resolution rules
(DESIGN §2), the authorization hook (DESIGN §5), the state table (DESIGN §4) and the cache bound
(DESIGN §7) are applied the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from qkms.domain.errors import NotFoundException, ValidationException
from qkms.domain.grant_constraints import GrantConstraints
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation, check_state
from qkms.domain.policy import ContextValue
from qkms.operations.runtime.context import CachedKey, OperationContext
from qkms.operations.runtime.key_usage import usage_operation
from qkms.operations.support.access import KeyNotVisible, authorize_key_action
from qkms.operations.support.key_rows import key_from_row, key_to_row
from qkms.storage.base import AliasRow, KeyRow, key_row_id

__all__ = [
    "alias_cache_key",
    "alias_regions",
    "alias_target",
    "change_key",
    "forget_alias",
    "key_arn",
    "key_region",
    "load_cached_key",
    "load_key",
]


def key_region(ctx: OperationContext, key: Key) -> str:
    """The region a key belongs to: its own, or the default one for keys stored before regions."""
    return key.region or ctx.services.arns.region


def key_arn(ctx: OperationContext, key: Key) -> str:
    """The key's ARN, in its own region (DESIGN §4a)."""
    return ctx.services.arns.key_arn(key.account_id, key.key_id, key_region(ctx, key))


def _not_found(key_ref: str | None) -> NotFoundException:
    # AWS's wording; the same for a malformed id, a missing key and a key the caller may not see.
    return NotFoundException(f"Key '{key_ref}' does not exist")


def _invisible(ctx: OperationContext, key_ref: str | None) -> NotFoundException:
    """The answer for a key the caller may not see: exactly what a missing one would get."""
    ref = ctx.services.arns.parse_key_ref(key_ref or "")
    if ref is not None and ref.alias_name is not None:
        account_id = ref.account_id or ctx.caller.account_id
        alias_arn = ctx.services.arns.alias_arn(account_id, ref.alias_name, ctx.region)
        return NotFoundException(f"Alias {alias_arn} is not found.")
    return _not_found(key_ref)


def _resolve_key_id(ctx: OperationContext, key_ref: str | None) -> tuple[str, str | None, str]:
    """(key id, the account an ARN named or None for a bare id, the region the key must be in).

    The region is the one an ARN names, else the request's: a bare id or alias never reaches
    another region's key, and an ARN of another region names a key this region does not have.
    """
    if key_ref is None:  # the codec refuses this first; kept so no path can skip the check
        raise ValidationException(
            "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: "
            "Member must not be null"
        )
    ref = ctx.services.arns.parse_key_ref(key_ref)
    if ref is None:
        raise NotFoundException(f"Invalid keyId '{key_ref}'")
    if ref.key_id is None and ref.alias_name is not None:
        account_id = ref.account_id or ctx.caller.account_id
        key_id = alias_target(ctx, account_id, ref.alias_name)
        if key_id is None:
            alias_arn = ctx.services.arns.alias_arn(account_id, ref.alias_name, ctx.region)
            raise NotFoundException(f"Alias {alias_arn} is not found.")
        return key_id, account_id, ref.region or ctx.region
    if ref.key_id is None:
        raise NotFoundException(f"Invalid keyId '{key_ref}'")
    return ref.key_id, ref.account_id, ref.region or ctx.region


def alias_regions(ctx: OperationContext) -> tuple[str, ...]:
    """The stored regions whose aliases the request sees: its own, and in the default region
    also '' (aliases stored before regions whose key had none, DESIGN §4a)."""
    if ctx.region == ctx.services.arns.region:
        return (ctx.region, "")
    return (ctx.region,)


def alias_cache_key(ctx: OperationContext, account_id: str, alias_name: str) -> str:
    """The alias cache entry of a name as this request's region resolves it."""
    return f"{account_id}:{ctx.region}:{alias_name}"


def forget_alias(ctx: OperationContext, row: AliasRow) -> None:
    """Drop a changed alias from this worker's cache before the call returns (DESIGN §7)."""
    ctx.services.aliases.evict(row.cache_key)
    ctx.services.aliases.evict(alias_cache_key(ctx, row.account_id, row.alias_name))


def alias_target(ctx: OperationContext, account_id: str, alias_name: str) -> str | None:
    """The key id an alias of the request's region points at, through the change-feed-bounded
    cache (DESIGN §7). Alias names are per (account, region), as in AWS."""
    services = ctx.services
    cache_key = alias_cache_key(ctx, account_id, alias_name)

    def load() -> str | None:
        row = services.store.get_alias(account_id, alias_name, alias_regions(ctx))
        return None if row is None else row.key_id

    return services.aliases.get_or_load(cache_key, load)


def _check_visible(
    ctx: OperationContext,
    key: Key,
    key_ref: str | None,
    named_account: str | None,
    region: str,
) -> None:
    """A bare id resolves in the caller's account only; another account's key only by its ARN
    (DESIGN §2), and an ARN must name the key's real account. Only the request's region's keys
    are seen, and an ARN must name the key's real region (DESIGN §4a)."""
    expected_account = named_account if named_account is not None else ctx.caller.account_id
    if (
        key.account_id != expected_account
        or key_region(ctx, key) != region
        or region != ctx.region
        or key.is_gone(ctx.services.clock())
    ):
        raise _invisible(ctx, key_ref)


def load_cached_key(
    ctx: OperationContext,
    key_ref: str | None,
    operation: KeyOperation,
    grant_tokens: Sequence[str] | None = None,
    extra_context: Mapping[str, ContextValue] | None = None,
    new_grant_operations: frozenset[str] | None = None,
    consult_grants: bool = True,
    encryption_context: Mapping[str, str] | None = None,
    new_grant_constraints: GrantConstraints | None = None,
) -> CachedKey:
    """Resolve, load (from the fresh cache or the store), authorize and state-check a key.

    `new_grant_operations`, `consult_grants`, `encryption_context` and `new_grant_constraints`
    are passed to `authorize_key_action`.
    """
    services = ctx.services
    key_id, named_account, region = _resolve_key_id(ctx, key_ref)
    row_id = key_row_id(key_id, region)  # a multi-region key: its row in that region

    def load() -> CachedKey:
        row = services.store.get_key(row_id)
        if row is None:
            raise _not_found(key_ref)
        return CachedKey(key_from_row(row))

    cached = services.key_cache.get_or_load(row_id, load)
    if cached.key.material_has_expired(services.clock()):
        # Imported material past its ValidTo: the key is PendingImport from that moment on,
        # whether or not the sweeper has written that down yet (DESIGN §4).
        cached = CachedKey(cached.key.as_of(services.clock()))
    _check_visible(ctx, cached.key, key_ref, named_account, region)
    try:
        authorize_key_action(
            ctx,
            cached,
            operation.value,
            grant_tokens or (),
            extra_context,
            new_grant_operations=new_grant_operations,
            consult_grants=consult_grants,
            encryption_context=encryption_context,
            new_grant_constraints=new_grant_constraints,
        )
    except KeyNotVisible:
        raise _invisible(ctx, key_ref) from None
    check_state(cached.key, operation, key_arn(ctx, cached.key))
    used = usage_operation(operation)
    if used is not None:
        ctx.used_keys.append((key_id, used))
    return cached


def load_key(
    ctx: OperationContext,
    key_ref: str | None,
    operation: KeyOperation,
    grant_tokens: Sequence[str] | None = None,
) -> Key:
    return load_cached_key(ctx, key_ref, operation, grant_tokens).key


def change_key(
    ctx: OperationContext,
    key_ref: str | None,
    operation: KeyOperation,
    transition: Callable[[Key], Key],
    grant_tokens: Sequence[str] | None = None,
) -> Key:
    """Apply a state transition inside one write transaction, checking against the stored row.

    Authorization and the state check run again on the row read under the write lock (not
    the cached copy), so two racing callers cannot both pass a check only one should.
    """
    services = ctx.services
    key_id, named_account, region = _resolve_key_id(ctx, key_ref)

    def apply(row: KeyRow) -> KeyRow:
        key = key_from_row(row).as_of(services.clock())
        _check_visible(ctx, key, key_ref, named_account, region)
        try:
            authorize_key_action(ctx, CachedKey(key), operation.value, grant_tokens or ())
        except KeyNotVisible:
            raise _invisible(ctx, key_ref) from None
        check_state(key, operation, key_arn(ctx, key))
        return key_to_row(transition(key))

    row_id = key_row_id(key_id, region)
    new_row = services.store.update_key(row_id, apply)
    # Effective in this worker before the call returns (DESIGN §7); other workers see the
    # change feed within the staleness bound.
    services.key_cache.evict(row_id)
    if new_row is None:
        raise _not_found(key_ref)
    return key_from_row(new_row)
