"""DeleteImportedKeyMaterial, ValidTo expiry, and the sweeper that writes expiry down."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from qkms.domain.errors import (
    IncorrectKeyMaterialException,
    KMSInvalidStateException,
    UnsupportedOperationException,
)
from qkms.operations.key_import.delete_imported_key_material import delete_imported_key_material
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.keys.enable_key import enable_key
from qkms.operations.keys.schedule_key_deletion import schedule_key_deletion
from qkms.operations.runtime.background import sweep_expired_material
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import (
    CreateKeyRequest,
    DescribeKeyRequest,
    EnableKeyRequest,
    ScheduleKeyDeletionRequest,
)
from qkms.operations.shapes.key_import import DeleteImportedKeyMaterialRequest
from tests.import_client import spki
from tests.unit.support import (
    DAY,
    FakeClock,
    derive,
    do_import,
    external_key,
    state,
)


def delete(ctx: OperationContext, key_id: str) -> None:
    delete_imported_key_material(ctx, DeleteImportedKeyMaterialRequest(key_id=key_id))


def test_delete_keeps_the_public_key_and_allows_reimport_of_the_same_material(
    ctx: OperationContext, services: Services
) -> None:
    key_id = external_key(ctx)
    private_key = ec.generate_private_key(ec.SECP256R1())
    do_import(ctx, key_id, private_key)
    delete(ctx, key_id)
    row = services.store.get_key(key_id)
    assert row is not None
    assert (row.key_state, row.wrapped_material, row.expiration_model) == (
        "PendingImport",
        None,
        None,
    )
    assert row.public_key == spki(private_key)
    with pytest.raises(KMSInvalidStateException):
        derive(ctx, key_id, ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(IncorrectKeyMaterialException):
        do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()))
    do_import(ctx, key_id, private_key)
    peer = ec.generate_private_key(ec.SECP256R1())
    assert derive(ctx, key_id, peer) == peer.exchange(ec.ECDH(), private_key.public_key())


def test_delete_on_a_pending_deletion_key_keeps_its_state(
    ctx: OperationContext, services: Services
) -> None:
    key_id = external_key(ctx)
    do_import(ctx, key_id, ec.generate_private_key(ec.SECP256R1()))
    schedule_key_deletion(ctx, ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7))
    delete(ctx, key_id)
    row = services.store.get_key(key_id)
    assert row is not None and row.key_state == "PendingDeletion" and row.wrapped_material is None


def test_delete_on_an_aws_kms_key_is_unsupported(ctx: OperationContext, services: Services) -> None:
    request = CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    key_id = create_key(ctx, request).key_metadata.key_id
    with pytest.raises(UnsupportedOperationException, match="origin is AWS_KMS"):
        delete(ctx, key_id)
    row = services.store.get_key(key_id)
    assert row is not None and row.wrapped_material is not None


def test_key_material_id_is_refused(ctx: OperationContext) -> None:
    request = DeleteImportedKeyMaterialRequest(key_id=external_key(ctx), key_material_id="a" * 64)
    with pytest.raises(UnsupportedOperationException, match="KeyMaterialId"):
        delete_imported_key_material(ctx, request)


def test_material_expires_at_valid_to(
    ctx: OperationContext, services: Services, clock: FakeClock
) -> None:
    key_id = external_key(ctx)
    private_key = ec.generate_private_key(ec.SECP256R1())
    valid_to = clock() + 3600
    do_import(ctx, key_id, private_key, expiration_model="KEY_MATERIAL_EXPIRES", valid_to=valid_to)
    metadata = describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata
    assert (metadata.expiration_model, metadata.valid_to) == ("KEY_MATERIAL_EXPIRES", valid_to)
    peer = ec.generate_private_key(ec.SECP256R1())
    derive(ctx, key_id, peer)  # cached, with its parsed private key

    clock.advance(3600)
    # Effective at ValidTo on every path, before the sweeper has run.
    with pytest.raises(KMSInvalidStateException, match="pending import"):
        derive(ctx, key_id, peer)
    metadata = describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata
    assert (metadata.key_state, metadata.expiration_model, metadata.valid_to) == (
        "PendingImport",
        None,
        None,
    )
    with pytest.raises(KMSInvalidStateException):
        enable_key(ctx, EnableKeyRequest(key_id=key_id))

    # The sweeper writes it down: the wrapped material does not outlive ValidTo at rest.
    other = external_key(ctx)
    assert sweep_expired_material(services, [key_id, other, "no-such-key"]) == [key_id]
    row = services.store.get_key(key_id)
    assert row is not None
    assert (row.key_state, row.wrapped_material, row.valid_to) == ("PendingImport", None, None)
    assert sweep_expired_material(services, [key_id]) == []

    do_import(ctx, key_id, private_key)  # the same material comes back
    assert state(ctx, key_id) == "Enabled"
    assert derive(ctx, key_id, peer) == peer.exchange(ec.ECDH(), private_key.public_key())


def test_reimport_changes_the_expiration(ctx: OperationContext, clock: FakeClock) -> None:
    key_id = external_key(ctx)
    private_key = ec.generate_private_key(ec.SECP256R1())
    do_import(
        ctx, key_id, private_key, expiration_model="KEY_MATERIAL_EXPIRES", valid_to=clock() + 60
    )
    do_import(ctx, key_id, private_key)  # KEY_MATERIAL_DOES_NOT_EXPIRE
    clock.advance(2 * DAY)
    assert state(ctx, key_id) == "Enabled"
