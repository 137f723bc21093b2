"""Root-key rotation re-wraps every blob, resumes after an interruption, and refuses mix-ups."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from qkms.admin.root_key_rotation import (
    META_ROOT_KCV,
    META_ROTATING_TO,
    RotationError,
    rotate_root_key,
)
from qkms.crypto import RootKey, wrapped_key_check_value
from qkms.operations.encryption import decrypt, encrypt
from qkms.operations.key_agreement.derive_shared_secret import derive_shared_secret
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.replicate_key import replicate_key
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.runtime.credentials import create_access_key
from qkms.operations.shapes import CreateKeyRequest, DeriveSharedSecretRequest
from qkms.operations.shapes.encryption import DecryptRequest, EncryptRequest
from qkms.operations.shapes.multi_region import ReplicateKeyRequest
from qkms.operations.shapes.signing import SignRequest
from qkms.operations.signing import sign
from tests.peer_keys import peer_public_key_der
from tests.unit.support import ACCOUNT, FakeClock, context, make_services


def peer() -> bytes:
    return peer_public_key_der(ec.SECP384R1())


class Interrupt(Exception):
    pass


def setup(ctx: OperationContext, services: Services, count: int) -> list[str]:
    services.store.put_meta_if_absent(META_ROOT_KCV, services.root_key.key_check_value)
    create_access_key(services, ACCOUNT, "admin")
    return [
        create_key(
            ctx, CreateKeyRequest(key_spec="ECC_NIST_P384", key_usage="KEY_AGREEMENT")
        ).key_metadata.key_id
        for _ in range(count)
    ]


def test_everything_is_rewrapped_and_still_works(
    tmp_path: Path, ctx: OperationContext, services: Services, root_key: RootKey, clock: FakeClock
) -> None:
    key_ids = setup(ctx, services, 5)
    the_peer = peer()
    before = derive_shared_secret(
        ctx, DeriveSharedSecretRequest(key_id=key_ids[0], public_key=the_peer)
    )
    new_key = RootKey.generate()
    seen: list[tuple[str, int, int]] = []
    report = rotate_root_key(services, new_key, lambda *p: seen.append(p))
    assert report.keys_rewrapped == 5 and report.access_keys_rewrapped == 1
    assert seen[-1] == ("access keys", 1, 1) and ("keys", 5, 5) in seen
    store = services.store
    for key_id in key_ids:
        row = store.get_key(key_id)
        assert row is not None and row.wrapped_material is not None
        assert wrapped_key_check_value(row.wrapped_material) == new_key.key_check_value
    assert store.get_meta(META_ROOT_KCV) == new_key.key_check_value
    assert store.get_meta(META_ROTATING_TO) is None
    # A server with only the new key derives the same secret as before.
    after_services = make_services(tmp_path / "qkms.db", new_key, clock)
    after = derive_shared_secret(
        context(after_services), DeriveSharedSecretRequest(key_id=key_ids[0], public_key=the_peer)
    )
    assert after.shared_secret == before.shared_secret
    with pytest.raises(RotationError, match="already under"):
        rotate_root_key(after_services, new_key, lambda *p: None)


def test_an_interrupted_rotation_finishes_when_run_again(
    ctx: OperationContext, services: Services
) -> None:
    key_ids = setup(ctx, services, 6)
    new_key = RootKey.generate()

    def stop_after_three(what: str, done: int, total: int) -> None:
        if what == "keys" and done == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        rotate_root_key(services, new_key, stop_after_three)
    store = services.store
    under = [
        wrapped_key_check_value(row.wrapped_material)
        for key_id in key_ids
        if (row := store.get_key(key_id)) is not None and row.wrapped_material is not None
    ]
    assert under.count(new_key.key_check_value) == 3  # half done, and it says so
    assert store.get_meta(META_ROOT_KCV) == services.root_key.key_check_value
    assert store.get_meta(META_ROTATING_TO) == new_key.key_check_value
    # Another new key may not start while this rotation is unfinished.
    with pytest.raises(RotationError, match="under way"):
        rotate_root_key(services, RootKey.generate(), lambda *p: None)
    report = rotate_root_key(services, new_key, lambda *p: None)
    assert report.keys_rewrapped == 3  # only what was left
    assert store.get_meta(META_ROOT_KCV) == new_key.key_check_value


def test_the_wrong_current_key_is_refused(
    ctx: OperationContext, services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    setup(ctx, services, 1)
    impostor = make_services(tmp_path / "qkms.db", RootKey.generate(), clock)
    with pytest.raises(RotationError, match="not the one in force"):
        rotate_root_key(impostor, RootKey.generate(), lambda *p: None)


def test_symmetric_material_versions_are_rewrapped_and_old_ciphertexts_decrypt(
    tmp_path: Path, ctx: OperationContext, services: Services, clock: FakeClock
) -> None:
    services.store.put_meta_if_absent(META_ROOT_KCV, services.root_key.key_check_value)
    key_id = create_key(ctx, CreateKeyRequest()).key_metadata.key_id
    blob = encrypt(ctx, EncryptRequest(key_id=key_id, plaintext=b"kept")).ciphertext_blob
    new_key = RootKey.generate()
    report = rotate_root_key(services, new_key, lambda *p: None)
    assert report.keys_rewrapped == 1
    [version] = services.store.list_key_materials(key_id)
    assert version.wrapped_material is not None
    assert wrapped_key_check_value(version.wrapped_material) == new_key.key_check_value
    # A server with only the new root key still decrypts what was encrypted before.
    after = context(make_services(tmp_path / "qkms.db", new_key, clock))
    assert decrypt(after, DecryptRequest(ciphertext_blob=blob)).plaintext == b"kept"


def test_a_multi_region_keys_shared_material_and_every_regions_private_key_are_rewrapped(
    tmp_path: Path, ctx: OperationContext, services: Services, clock: FakeClock
) -> None:
    # Its rows are "<mrk id>@<region>" while its material is under the bare id, wrapped with
    # the region-free key id as associated data (storage/base.py): both must be found.
    services.store.put_meta_if_absent(META_ROOT_KCV, services.root_key.key_check_value)
    east = dataclasses.replace(ctx, signed_region="us-east-1")
    symmetric = create_key(east, CreateKeyRequest(multi_region=True)).key_metadata.key_id
    signing = create_key(
        east, CreateKeyRequest(multi_region=True, key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    ).key_metadata.key_id
    for key_id in (symmetric, signing):
        replicate_key(east, ReplicateKeyRequest(key_id=key_id, replica_region="us-west-2"))
    blob = encrypt(east, EncryptRequest(key_id=symmetric, plaintext=b"kept")).ciphertext_blob
    new_key = RootKey.generate()
    rotate_root_key(services, new_key, lambda *p: None)
    after = make_services(tmp_path / "qkms.db", new_key, clock)
    for region in ("us-east-1", "us-west-2"):
        there = dataclasses.replace(context(after), signed_region=region)
        assert decrypt(there, DecryptRequest(ciphertext_blob=blob)).plaintext == b"kept"
        signed = sign(
            there,
            SignRequest(key_id=signing, message=b"m", signing_algorithm="ECDSA_SHA_256"),
        )
        assert signed.signature
