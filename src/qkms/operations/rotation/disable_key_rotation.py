"""DisableKeyRotation (DESIGN §4a): stop automatic rotation; existing material versions stay."""

from __future__ import annotations

from qkms.domain.lifecycle import KeyOperation
from qkms.domain.rotation import check_rotatable
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import EmptyResponse
from qkms.operations.shapes.rotation import DisableKeyRotationRequest
from qkms.operations.support.keys import key_arn, load_cached_key

__all__ = ["disable_key_rotation"]


def disable_key_rotation(
    ctx: OperationContext, request: DisableKeyRotationRequest
) -> EmptyResponse:
    key = load_cached_key(ctx, request.key_id, KeyOperation.DISABLE_KEY_ROTATION).key
    check_rotatable(key, key_arn(ctx, key))
    ctx.services.store.delete_rotation_schedule(key.key_id)
    return EmptyResponse()
