"""UpdatePrimaryRegion (DESIGN §4a): make a replica of a multi-region key its primary.

Called on the current primary, in its region; the named region's replica becomes the primary
and the old primary a replica, in every region's row at once (one transaction).
"""

from __future__ import annotations

from qkms.domain.errors import NotFoundException
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.keys._multi_region import check_region, require_primary
from qkms.operations.runtime.context import CachedKey, OperationContext
from qkms.operations.shapes import EmptyResponse
from qkms.operations.shapes.multi_region import UpdatePrimaryRegionRequest
from qkms.operations.support.access import KeyNotVisible, authorize_key_action
from qkms.operations.support.key_rows import key_from_row
from qkms.operations.support.keys import key_arn, load_cached_key
from qkms.storage.base import key_row_id

__all__ = ["update_primary_region"]


def update_primary_region(
    ctx: OperationContext, request: UpdatePrimaryRegionRequest
) -> EmptyResponse:
    new_region = check_region(request.primary_region or "", "primaryRegion")
    context = {"kms:PrimaryRegion": new_region}
    primary = load_cached_key(
        ctx, request.key_id, KeyOperation.UPDATE_PRIMARY_REGION, extra_context=context
    ).key
    require_primary(primary, key_arn(ctx, primary))
    if new_region == primary.region:
        return EmptyResponse()  # already the primary's region: nothing changes
    services = ctx.services
    replica_arn = services.arns.key_arn(primary.account_id, primary.key_id, new_region)
    row = services.store.get_key(key_row_id(primary.key_id, new_region))
    replica = key_from_row(row) if row is not None else None
    if replica is None or replica.is_gone(services.clock()):
        raise NotFoundException(f"Key '{replica_arn}' does not exist")
    # AWS: the caller needs kms:UpdatePrimaryRegion on the replica (its own policy) as well.
    try:
        authorize_key_action(
            ctx, CachedKey(replica), KeyOperation.UPDATE_PRIMARY_REGION.value, (), context
        )
    except KeyNotVisible:
        raise NotFoundException(f"Key '{replica_arn}' does not exist") from None
    for row_id in services.store.set_primary_region(primary.key_id, new_region):
        services.key_cache.evict(row_id)  # this worker at once; others by the change feed
    return EmptyResponse()
