"""ScheduleKeyDeletion with a moved clock: the key is gone after its window, and only then."""

from __future__ import annotations

import pytest

from qkms.domain.errors import KMSInvalidStateException, NotFoundException
from qkms.operations.keys.cancel_key_deletion import cancel_key_deletion
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.keys.list_keys import list_keys
from qkms.operations.keys.schedule_key_deletion import schedule_key_deletion
from qkms.operations.runtime.background import sweep_deleted_keys
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import (
    CancelKeyDeletionRequest,
    CreateKeyRequest,
    DescribeKeyRequest,
    ListKeysRequest,
    ScheduleKeyDeletionRequest,
)
from tests.unit.support import FakeClock

DAY = 86400.0


def new_key(ctx: OperationContext) -> str:
    created = create_key(ctx, CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT"))
    return created.key_metadata.key_id


def test_key_is_destroyed_after_the_window(
    ctx: OperationContext, services: Services, clock: FakeClock
) -> None:
    key_id = new_key(ctx)
    response = schedule_key_deletion(
        ctx, ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7)
    )
    assert response.deletion_date == clock() + 7 * DAY
    assert response.key_state == "PendingDeletion"

    clock.advance(7 * DAY - 1)
    assert sweep_deleted_keys(services) == []
    assert (
        describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata.key_state
        == "PendingDeletion"
    )

    clock.advance(1)
    # Gone at once, even before the sweeper runs...
    with pytest.raises(NotFoundException):
        describe_key(ctx, DescribeKeyRequest(key_id=key_id))
    assert list_keys(ctx, ListKeysRequest()).keys == []
    # ...and the sweeper then destroys the material for good.
    assert sweep_deleted_keys(services) == [key_id]
    assert services.store.get_key(key_id) is None


def test_default_window_is_30_days(ctx: OperationContext, clock: FakeClock) -> None:
    key_id = new_key(ctx)
    response = schedule_key_deletion(ctx, ScheduleKeyDeletionRequest(key_id=key_id))
    assert response.pending_window_in_days == 30
    assert response.deletion_date == clock() + 30 * DAY


def test_cancelled_deletion_survives_the_window(
    ctx: OperationContext, services: Services, clock: FakeClock
) -> None:
    key_id = new_key(ctx)
    schedule_key_deletion(ctx, ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7))
    cancel_key_deletion(ctx, CancelKeyDeletionRequest(key_id=key_id))
    clock.advance(8 * DAY)
    assert sweep_deleted_keys(services) == []
    metadata = describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata
    assert metadata.key_state == "Disabled"
    assert metadata.deletion_date is None


def test_scheduling_twice_is_refused(ctx: OperationContext) -> None:
    key_id = new_key(ctx)
    schedule_key_deletion(ctx, ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7))
    with pytest.raises(KMSInvalidStateException, match="pending deletion"):
        schedule_key_deletion(
            ctx, ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7)
        )
