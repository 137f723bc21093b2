"""GetKeyLastUsage: uses noted in memory by successful calls, flushed to the store in batches."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qkms.domain.errors import InvalidCiphertextException
from qkms.operations.encryption import decrypt, encrypt
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.get_key_last_usage import get_key_last_usage
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.runtime.dispatch import execute
from qkms.operations.runtime.registry import OPERATIONS
from qkms.operations.shapes import CreateKeyRequest
from qkms.operations.shapes.encryption import DecryptRequest, EncryptRequest
from qkms.operations.shapes.key_usage import GetKeyLastUsageRequest
from tests.unit.support import FakeClock, context


def _ctx(services: Services) -> OperationContext:
    return context(services)  # one request each: its own used_keys and ids


def test_unused_key_has_empty_usage_and_dates(services: Services, clock: FakeClock) -> None:
    key_id = create_key(_ctx(services), CreateKeyRequest()).key_metadata.key_id
    answer = get_key_last_usage(_ctx(services), GetKeyLastUsageRequest(key_id=key_id))
    assert answer.key_id == key_id
    assert answer.key_last_usage.operation is None and answer.key_last_usage.timestamp is None
    assert answer.key_creation_date == clock()
    assert answer.tracking_start_date >= answer.key_creation_date


def test_successful_calls_are_recorded_without_a_store_write_until_flushed(
    services: Services, clock: FakeClock
) -> None:
    key_id = create_key(_ctx(services), CreateKeyRequest()).key_metadata.key_id
    encrypting = _ctx(services)
    blob = execute(
        OPERATIONS["Encrypt"], encrypting, EncryptRequest(key_id=key_id, plaintext=b"x")
    ).ciphertext_blob  # type: ignore[attr-defined]
    assert services.store.get_key_usage(key_id) is None  # in memory only
    clock.advance(5)
    decrypting = replace(_ctx(services), event_id="0f0e0d0c-0b0a-4908-8706-050403020100")
    execute(OPERATIONS["Decrypt"], decrypting, DecryptRequest(ciphertext_blob=blob))
    # A failed call is no use.
    with pytest.raises(InvalidCiphertextException):
        execute(OPERATIONS["Decrypt"], _ctx(services), DecryptRequest(ciphertext_blob=blob[:-1]))
    assert services.key_usage.flush(services.store, clock()) == 1
    stored = services.store.get_key_usage(key_id)
    assert stored is not None
    assert (stored.operation, stored.used_at) == ("Decrypt", clock())
    assert (stored.request_id, stored.event_id) == (decrypting.request_id, decrypting.event_id)
    answer = get_key_last_usage(_ctx(services), GetKeyLastUsageRequest(key_id=key_id))
    usage = answer.key_last_usage
    assert usage.operation == "Decrypt" and usage.kms_request_id == decrypting.request_id
    assert usage.cloud_trail_event_id == decrypting.event_id
    assert answer.tracking_start_date <= usage.timestamp  # type: ignore[operator]


def test_an_older_flush_never_overwrites_a_newer_use(services: Services, clock: FakeClock) -> None:
    key_id = create_key(_ctx(services), CreateKeyRequest()).key_metadata.key_id
    services.key_usage.note([(key_id, "Encrypt")], clock() + 10, "new", "e-new")
    services.key_usage.flush(services.store, clock())
    services.key_usage.note([(key_id, "Decrypt")], clock(), "old", "e-old")
    services.key_usage.flush(services.store, clock())
    stored = services.store.get_key_usage(key_id)
    assert stored is not None and stored.request_id == "new"


def test_direct_calls_outside_dispatch_record_nothing(services: Services) -> None:
    ctx = _ctx(services)
    key_id = create_key(ctx, CreateKeyRequest()).key_metadata.key_id
    blob = encrypt(ctx, EncryptRequest(key_id=key_id, plaintext=b"y")).ciphertext_blob
    decrypt(ctx, DecryptRequest(ciphertext_blob=blob))
    assert services.key_usage.pending(key_id) is None
    assert ctx.used_keys == [(key_id, "Encrypt"), (key_id, "Decrypt")]
