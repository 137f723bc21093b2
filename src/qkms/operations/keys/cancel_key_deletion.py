"""CancelKeyDeletion (DESIGN §4): PendingDeletion -> Disabled, as in AWS."""

from __future__ import annotations

from qkms.domain import lifecycle
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import CancelKeyDeletionRequest, CancelKeyDeletionResponse
from qkms.operations.support.keys import change_key, key_arn

__all__ = ["cancel_key_deletion"]


def cancel_key_deletion(
    ctx: OperationContext, request: CancelKeyDeletionRequest
) -> CancelKeyDeletionResponse:
    key = change_key(
        ctx, request.key_id, KeyOperation.CANCEL_KEY_DELETION, lifecycle.cancel_deletion
    )
    return CancelKeyDeletionResponse(key_id=key_arn(ctx, key))
