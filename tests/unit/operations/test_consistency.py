"""DESIGN §7 inside the operations layer: another worker's change reaches this one's cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from qkms.crypto import RootKey
from qkms.domain.errors import DisabledException, KMSInternalException
from qkms.operations.key_agreement.derive_shared_secret import derive_shared_secret
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.disable_key import disable_key
from qkms.operations.runtime.background import ChangeFollower
from qkms.operations.runtime.cache import FreshCache
from qkms.operations.runtime.credentials import Credential
from qkms.operations.shapes import CreateKeyRequest, DeriveSharedSecretRequest, DisableKeyRequest
from tests.peer_keys import peer_public_key_der
from tests.unit.support import FakeClock, context, make_services


def test_disable_on_one_worker_reaches_the_other_through_the_change_feed(
    tmp_path: Path, root_key: RootKey, clock: FakeClock
) -> None:
    worker_a = make_services(tmp_path / "q.db", root_key, clock)
    worker_b = make_services(tmp_path / "q.db", root_key, clock)
    follower_b = ChangeFollower(worker_b, FreshCache[str, Credential](10))
    follower_b.poll()
    ctx_a, ctx_b = context(worker_a), context(worker_b)
    key_id = create_key(
        ctx_a, CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    ).key_metadata.key_id
    request = DeriveSharedSecretRequest(key_id=key_id, public_key=peer_public_key_der())
    derive_shared_secret(ctx_b, request)  # B now caches the key as Enabled
    assert worker_b.key_cache.get(key_id) is not None

    disable_key(ctx_a, DisableKeyRequest(key_id=key_id))
    with pytest.raises(DisabledException):  # effective on A before the call returned
        derive_shared_secret(ctx_a, request)
    assert follower_b.poll() >= 1  # B's poller applies A's change
    with pytest.raises(DisabledException):
        derive_shared_secret(ctx_b, request)
    worker_a.store.close()
    worker_b.store.close()


def test_material_under_another_root_key_is_an_internal_error(
    tmp_path: Path, root_key: RootKey, clock: FakeClock
) -> None:
    writer = make_services(tmp_path / "q.db", root_key, clock)
    key_id = create_key(
        context(writer), CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    ).key_metadata.key_id
    reader = make_services(tmp_path / "q.db", RootKey.generate(), clock)
    with pytest.raises(KMSInternalException) as raised:
        derive_shared_secret(
            context(reader),
            DeriveSharedSecretRequest(key_id=key_id, public_key=peer_public_key_der()),
        )
    assert "root key" not in raised.value.message  # no detail to the caller
    writer.store.close()
    reader.store.close()
