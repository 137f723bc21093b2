"""ScheduleKeyDeletion (DESIGN §4): PendingDeletion for 7-30 days, then the sweeper destroys it."""

from __future__ import annotations

from qkms.domain import lifecycle
from qkms.domain.keys import Key
from qkms.domain.lifecycle import KeyOperation
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse
from qkms.operations.support.keys import change_key, key_arn

__all__ = ["schedule_key_deletion"]

_DEFAULT_WINDOW_DAYS = 30


def schedule_key_deletion(
    ctx: OperationContext, request: ScheduleKeyDeletionRequest
) -> ScheduleKeyDeletionResponse:
    days = request.pending_window_in_days or _DEFAULT_WINDOW_DAYS
    now = ctx.services.clock()

    def schedule(key: Key) -> Key:
        return lifecycle.schedule_deletion(key, now, days)

    key = change_key(ctx, request.key_id, KeyOperation.SCHEDULE_KEY_DELETION, schedule)
    return ScheduleKeyDeletionResponse(
        key_id=key_arn(ctx, key),
        deletion_date=now + days * 86400.0,
        key_state=key.state.value,
        pending_window_in_days=days,
    )
