"""Rotation against a real SQLite store on a fake clock (DESIGN §4a)."""

from __future__ import annotations

import dataclasses

import pytest

from qkms.domain.errors import (
    DisabledException,
    InvalidMarkerException,
    LimitExceededException,
    UnsupportedOperationException,
)
from qkms.domain.rotation import check_rotatable
from qkms.operations.encryption import decrypt, encrypt
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.keys.disable_key import disable_key
from qkms.operations.keys.replicate_key import replicate_key
from qkms.operations.rotation.disable_key_rotation import disable_key_rotation
from qkms.operations.rotation.enable_key_rotation import enable_key_rotation
from qkms.operations.rotation.get_key_rotation_status import get_key_rotation_status
from qkms.operations.rotation.list_key_rotations import list_key_rotations
from qkms.operations.rotation.rotate_key_on_demand import rotate_key_on_demand
from qkms.operations.runtime.background import sweep
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import CreateKeyRequest, DescribeKeyRequest, DisableKeyRequest
from qkms.operations.shapes.encryption import DecryptRequest, EncryptRequest
from qkms.operations.shapes.multi_region import ReplicateKeyRequest
from qkms.operations.shapes.rotation import (
    DisableKeyRotationRequest,
    EnableKeyRotationRequest,
    GetKeyRotationStatusRequest,
    ListKeyRotationsRequest,
    RotateKeyOnDemandRequest,
)
from qkms.operations.support.key_rows import key_from_row
from tests.unit.support import FakeClock

DAY = 86400.0


def _current(ctx: OperationContext, key_id: str) -> str | None:
    return describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata.current_key_material_id


def _encrypt(ctx: OperationContext, key_id: str, data: bytes) -> bytes:
    return encrypt(ctx, EncryptRequest(key_id=key_id, plaintext=data)).ciphertext_blob


def _decrypt(ctx: OperationContext, blob: bytes) -> bytes | None:
    return decrypt(ctx, DecryptRequest(ciphertext_blob=blob)).plaintext


def test_on_demand_rotation_makes_new_material_current_and_old_blobs_still_decrypt(
    ctx: OperationContext, key_id: str
) -> None:
    before = _current(ctx, key_id)
    old_blob = _encrypt(ctx, key_id, b"old")
    rotate_key_on_demand(ctx, RotateKeyOnDemandRequest(key_id=key_id))
    after = _current(ctx, key_id)
    new_blob = _encrypt(ctx, key_id, b"new")
    assert after is not None and after != before
    assert _decrypt(ctx, old_blob) == b"old"
    assert _decrypt(ctx, new_blob) == b"new"


def test_rotation_status_reports_the_period_and_next_date(
    ctx: OperationContext, key_id: str, clock: FakeClock
) -> None:
    off = get_key_rotation_status(ctx, GetKeyRotationStatusRequest(key_id=key_id))
    assert off.key_rotation_enabled is False and off.next_rotation_date is None
    enable_key_rotation(ctx, EnableKeyRotationRequest(key_id=key_id))
    on = get_key_rotation_status(ctx, GetKeyRotationStatusRequest(key_id=key_id))
    assert on.key_rotation_enabled is True
    assert on.rotation_period_in_days == 365
    assert on.next_rotation_date == clock() + 365 * DAY
    disable_key_rotation(ctx, DisableKeyRotationRequest(key_id=key_id))
    again = get_key_rotation_status(ctx, GetKeyRotationStatusRequest(key_id=key_id))
    assert again.key_rotation_enabled is False


def test_the_sweeper_rotates_a_due_key_once_and_moves_its_date(
    ctx: OperationContext, services: Services, key_id: str, clock: FakeClock
) -> None:
    enable_key_rotation(ctx, EnableKeyRotationRequest(key_id=key_id, rotation_period_in_days=90))
    blob = _encrypt(ctx, key_id, b"before")
    first = _current(ctx, key_id)
    clock.advance(89 * DAY)
    sweep(services)
    assert _current(ctx, key_id) == first
    clock.advance(2 * DAY)
    sweep(services)
    sweep(services)  # a second sweeper at the same moment finds the date moved
    second = _current(ctx, key_id)
    assert second != first
    rotations = list_key_rotations(ctx, ListKeyRotationsRequest(key_id=key_id)).rotations
    assert [(r.key_material_id, r.rotation_type) for r in rotations] == [(second, "AUTOMATIC")]
    status = get_key_rotation_status(ctx, GetKeyRotationStatusRequest(key_id=key_id))
    assert status.next_rotation_date == clock() + 90 * DAY
    assert _decrypt(ctx, blob) == b"before"


def test_a_disabled_key_is_not_rotated_until_enabled_again(
    ctx: OperationContext, services: Services, key_id: str, clock: FakeClock
) -> None:
    enable_key_rotation(ctx, EnableKeyRotationRequest(key_id=key_id, rotation_period_in_days=90))
    first = _current(ctx, key_id)
    disable_key(ctx, DisableKeyRequest(key_id=key_id))
    clock.advance(100 * DAY)
    sweep(services)
    assert _current(ctx, key_id) == first
    with pytest.raises(DisabledException):
        rotate_key_on_demand(ctx, RotateKeyOnDemandRequest(key_id=key_id))


def test_list_key_rotations_pages_in_order_with_states(ctx: OperationContext, key_id: str) -> None:
    original = _current(ctx, key_id)
    for _ in range(3):
        rotate_key_on_demand(ctx, RotateKeyOnDemandRequest(key_id=key_id))
    seen = []
    marker = None
    while True:
        page = list_key_rotations(
            ctx,
            ListKeyRotationsRequest(
                key_id=key_id, limit=2, marker=marker, include_key_material="ALL_KEY_MATERIAL"
            ),
        )
        seen.extend(page.rotations)
        if not page.truncated:
            break
        marker = page.next_marker
    assert len(seen) == 4
    assert seen[0].key_material_id == original and seen[0].rotation_type is None
    assert [r.key_material_state for r in seen] == ["NON_CURRENT"] * 3 + ["CURRENT"]
    assert [r.rotation_type for r in seen[1:]] == ["ON_DEMAND"] * 3
    with pytest.raises(InvalidMarkerException):
        list_key_rotations(ctx, ListKeyRotationsRequest(key_id=key_id, marker="bm90LWFuLWlk"))


def test_the_twenty_sixth_on_demand_rotation_is_refused(ctx: OperationContext, key_id: str) -> None:
    for _ in range(25):
        rotate_key_on_demand(ctx, RotateKeyOnDemandRequest(key_id=key_id))
    with pytest.raises(LimitExceededException):
        rotate_key_on_demand(ctx, RotateKeyOnDemandRequest(key_id=key_id))


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY"),
            "is not a symmetric encryption KMS key.",
        ),
        (
            CreateKeyRequest(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC"),
            "is not a symmetric encryption KMS key.",
        ),
    ],
)
def test_keys_aws_cannot_rotate_are_refused(
    ctx: OperationContext, request_: CreateKeyRequest, message: str
) -> None:
    key_id = create_key(ctx, request_).key_metadata.key_id
    for call in (
        lambda: enable_key_rotation(ctx, EnableKeyRotationRequest(key_id=key_id)),
        lambda: rotate_key_on_demand(ctx, RotateKeyOnDemandRequest(key_id=key_id)),
    ):
        with pytest.raises(UnsupportedOperationException, match=message):
            call()


def test_imported_material_is_refused_before_the_key_type(ctx: OperationContext) -> None:
    # An EXTERNAL key waits for its material (PendingImport), so the rule is checked directly.
    request = CreateKeyRequest(
        key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC", origin="EXTERNAL"
    )
    key = key_from_row(ctx.services.store.get_key(create_key(ctx, request).key_metadata.key_id))  # type: ignore[arg-type]
    with pytest.raises(UnsupportedOperationException) as refused:
        check_rotatable(key, "arn:k")
    assert (
        refused.value.message == "arn:k origin is EXTERNAL which is not valid for this operation."
    )


def test_the_sweeper_rotates_a_multi_region_key_in_every_region_at_once(
    ctx: OperationContext, services: Services, clock: FakeClock
) -> None:
    # Its schedule is under the bare key id, its rows per region: the sweeper must find them.
    east = dataclasses.replace(ctx, signed_region=services.arns.region)
    west = dataclasses.replace(ctx, signed_region="us-west-2")
    key_id = create_key(east, CreateKeyRequest(multi_region=True)).key_metadata.key_id
    replicate_key(east, ReplicateKeyRequest(key_id=key_id, replica_region="us-west-2"))
    enable_key_rotation(east, EnableKeyRotationRequest(key_id=key_id, rotation_period_in_days=90))
    first = _current(east, key_id)
    clock.advance(91 * DAY)
    sweep(services)
    rotated = _current(east, key_id)
    assert rotated != first and _current(west, key_id) == rotated
    blob = _encrypt(west, key_id, b"after")
    assert _decrypt(east, blob) == b"after"
    # Rotation is the primary's to set (AWS "Rotating multi-Region keys").
    with pytest.raises(UnsupportedOperationException, match="replica"):
        rotate_key_on_demand(west, RotateKeyOnDemandRequest(key_id=key_id))
    with pytest.raises(UnsupportedOperationException, match="replica"):
        disable_key_rotation(west, DisableKeyRotationRequest(key_id=key_id))
