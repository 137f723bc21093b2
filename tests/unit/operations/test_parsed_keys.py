"""The parsed-material budget (runtime/parsed_keys.py): many keys cached, few of them parsed."""

from __future__ import annotations

import dataclasses

from cryptography.hazmat.primitives.asymmetric import ec

from qkms.operations.encryption import decrypt, encrypt
from qkms.operations.keys.create_key import create_key
from qkms.operations.rotation.rotate_key_on_demand import rotate_key_on_demand
from qkms.operations.runtime.context import CachedKey, Services
from qkms.operations.runtime.parsed_keys import ParsedKeyBudget
from qkms.operations.shapes import CreateKeyRequest
from qkms.operations.shapes.encryption import DecryptRequest, EncryptRequest
from qkms.operations.shapes.rotation import RotateKeyOnDemandRequest
from qkms.operations.support.key_rows import key_from_row
from tests.unit.support import context, derive, new_key


def test_past_the_budget_the_oldest_parsed_key_forgets_its_material(services: Services) -> None:
    services = dataclasses.replace(services, parsed_keys=ParsedKeyBudget(2))
    ctx = context(services)
    key_ids = [new_key(services) for _ in range(3)]
    peer = ec.generate_private_key(ec.SECP256R1())
    first_secrets = [derive(ctx, key_id, peer) for key_id in key_ids]

    cached = [services.key_cache.get(key_id) for key_id in key_ids]
    assert all(entry is not None for entry in cached)  # every key stays cached...
    assert [entry.private_key is not None for entry in cached if entry] == [False, True, True]
    assert len(services.parsed_keys) == 2  # ...and only the two most recently parsed hold it

    # The forgetful key unwraps again and agrees on the same secret; now it is the newest.
    assert derive(ctx, key_ids[0], peer) == first_secrets[0]
    assert [entry.private_key is not None for entry in cached if entry] == [True, False, True]


def test_a_budget_of_zero_parses_on_every_use(services: Services) -> None:
    services = dataclasses.replace(services, parsed_keys=ParsedKeyBudget(0))
    ctx = context(services)
    key_id = new_key(services)
    peer = ec.generate_private_key(ec.SECP256R1())
    assert derive(ctx, key_id, peer) == derive(ctx, key_id, peer)
    entry = services.key_cache.get(key_id)
    assert entry is not None and entry.private_key is None and len(services.parsed_keys) == 0


def test_forgetting_drops_every_kind_of_material(services: Services) -> None:
    row = services.store.get_key(new_key(services))
    assert row is not None
    entry = CachedKey(key_from_row(row))
    entry.add_symmetric_material("m", object())  # type: ignore[arg-type]
    entry.mac_key = object()  # type: ignore[assignment]
    entry.signing_key = object()  # type: ignore[assignment]
    entry.rsa_encryption_key = object()  # type: ignore[assignment]
    entry.private_key = object()  # type: ignore[assignment]
    entry.forget_material()
    assert (entry.private_key, entry.signing_key, entry.mac_key, entry.rsa_encryption_key) == (
        None,
        None,
        None,
        None,
    )
    assert entry.symmetric_materials == {}


def test_a_symmetric_key_unwraps_its_material_once_until_it_forgets_it(services: Services) -> None:
    ctx = context(services)
    key_id = create_key(ctx, CreateKeyRequest()).key_metadata.key_id
    blobs = [encrypt(ctx, EncryptRequest(key_id=key_id, plaintext=b"x")).ciphertext_blob]
    entry = services.key_cache.get(key_id)
    assert entry is not None and len(entry.symmetric_materials) == 1
    material = next(iter(entry.symmetric_materials.values()))
    blobs.append(encrypt(ctx, EncryptRequest(key_id=key_id, plaintext=b"y")).ciphertext_blob)
    assert entry.symmetric_materials == {entry.key.current_key_material_id: material}
    assert len(services.parsed_keys) == 1

    entry.forget_material()
    assert entry.symmetric_materials == {}
    plaintexts = [decrypt(ctx, DecryptRequest(ciphertext_blob=blob)).plaintext for blob in blobs]
    assert plaintexts == [b"x", b"y"]
    assert len(entry.symmetric_materials) == 1  # unwrapped again, once
    assert next(iter(entry.symmetric_materials.values())) is not material

    # After a rotation the key holds both versions: the old one to decrypt, the new to encrypt.
    rotate_key_on_demand(ctx, RotateKeyOnDemandRequest(key_id=key_id))
    assert decrypt(ctx, DecryptRequest(ciphertext_blob=blobs[0])).plaintext == b"x"
    blobs.append(encrypt(ctx, EncryptRequest(key_id=key_id, plaintext=b"z")).ciphertext_blob)
    rotated = services.key_cache.get(key_id)
    assert rotated is not None and len(rotated.symmetric_materials) == 2
    plaintexts = [decrypt(ctx, DecryptRequest(ciphertext_blob=blob)).plaintext for blob in blobs]
    assert plaintexts == [b"x", b"y", b"z"]
