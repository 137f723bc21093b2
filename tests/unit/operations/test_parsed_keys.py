"""The parsed-material budget (runtime/parsed_keys.py): many keys cached, few of them parsed."""

from __future__ import annotations

import dataclasses

from cryptography.hazmat.primitives.asymmetric import ec

from qkms.operations.runtime.context import CachedKey, Services
from qkms.operations.runtime.parsed_keys import ParsedKeyBudget
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
    entry.symmetric_materials["m"] = object()  # type: ignore[assignment]
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
