"""RotateKeyOnDemand (DESIGN §4a): a new current material version now, at most 25 per key.

AWS runs on-demand rotation asynchronously and answers ConflictException while one is in
progress; QKMS rotates before returning, under the key row's lock, so concurrent calls run one
after the other and each adds its own version (up to the quota).
"""

from __future__ import annotations

from qkms.domain.errors import NotFoundException, UnsupportedOperationException
from qkms.domain.keys import KeyOrigin
from qkms.domain.lifecycle import KeyOperation
from qkms.domain.rotation import RotationType, check_on_demand_quota, check_rotatable
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.rotation import RotateKeyOnDemandRequest, RotateKeyOnDemandResponse
from qkms.operations.support.key_rotation import add_rotation_material
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["rotate_key_on_demand"]


def rotate_key_on_demand(
    ctx: OperationContext, request: RotateKeyOnDemandRequest
) -> RotateKeyOnDemandResponse:
    # load
    key = load_cached_key(ctx, request.key_id, KeyOperation.ROTATE_KEY_ON_DEMAND).key
    arn = key_arn(ctx, key)

    # check
    check_rotatable(key, arn, on_demand=True)
    services = ctx.services
    materials = services.store.list_key_materials(key.key_id)
    on_demand = sum(1 for m in materials if m.rotation_type == RotationType.ON_DEMAND.value)
    check_on_demand_quota(on_demand, arn)

    # act: imported material rotates to the version imported as NEW_KEY_MATERIAL (AWS "Import
    # new key material"); generated material to a fresh version.
    if key.origin is KeyOrigin.EXTERNAL:
        if services.store.promote_pending_material(key.key_id, services.clock()) is None:
            # AWS's text for this case is not recorded publicly; this one says what is missing.
            raise UnsupportedOperationException(
                f"{arn} has no key material pending rotation. Import new key material with "
                "ImportType NEW_KEY_MATERIAL before rotating it on demand."
            )
        services.key_cache.evict(key.key_id)
    elif not add_rotation_material(services, key, RotationType.ON_DEMAND):
        raise NotFoundException(f"Key '{request.key_id}' does not exist")

    # respond
    return RotateKeyOnDemandResponse(key_id=arn)
