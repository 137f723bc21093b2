"""EnableKeyRotation (DESIGN §4a): rotate a symmetric key automatically every N days.

RotationPeriodInDays is 90-2560 (the codec checks), default 365; the first rotation is one
period after the call, and re-enabling with another period restarts the schedule from now, as
AWS's "next rotation date" does.
"""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.domain.rotation import DEFAULT_ROTATION_PERIOD_DAYS, check_rotatable, next_rotation_date
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import EmptyResponse
from qkms.operations.shapes.rotation import EnableKeyRotationRequest
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["enable_key_rotation"]


def enable_key_rotation(ctx: OperationContext, request: EnableKeyRotationRequest) -> EmptyResponse:
    # parse
    period = request.rotation_period_in_days or DEFAULT_ROTATION_PERIOD_DAYS

    # load: the condition key kms:RotationPeriodInDays ("AWS KMS condition keys").
    key = load_cached_key(
        ctx,
        request.key_id,
        KeyOperation.ENABLE_KEY_ROTATION,
        extra_context={"kms:RotationPeriodInDays": period},
    ).key

    # check
    check_rotatable(key, key_arn(ctx, key))

    # act
    services = ctx.services
    services.store.set_rotation_schedule(
        key.key_id, period, next_rotation_date(services.clock(), period)
    )

    # respond
    return EmptyResponse()
