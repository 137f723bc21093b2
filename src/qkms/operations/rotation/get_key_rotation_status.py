"""GetKeyRotationStatus (DESIGN §4a): whether automatic rotation is on, its period and next date.

OnDemandRotationStartDate is AWS's marker of an on-demand rotation still in progress; QKMS
completes an on-demand rotation before RotateKeyOnDemand returns, so it is never present.
"""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.rotation import (
    GetKeyRotationStatusRequest,
    GetKeyRotationStatusResponse,
)
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["get_key_rotation_status"]


def get_key_rotation_status(
    ctx: OperationContext, request: GetKeyRotationStatusRequest
) -> GetKeyRotationStatusResponse:
    key = load_cached_key(ctx, request.key_id, KeyOperation.GET_KEY_ROTATION_STATUS).key
    schedule = ctx.services.store.get_rotation_schedule(key.key_id)
    if schedule is None:
        return GetKeyRotationStatusResponse(key_rotation_enabled=False, key_id=key_arn(ctx, key))
    period, next_date = schedule
    return GetKeyRotationStatusResponse(
        key_rotation_enabled=True,
        key_id=key_arn(ctx, key),
        rotation_period_in_days=period,
        next_rotation_date=next_date,
    )
