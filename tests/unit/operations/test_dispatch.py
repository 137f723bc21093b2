"""Hot-path operations try the event loop first with the store off limits (issues #5 and #6)."""

from __future__ import annotations

from typing import Any

import pytest

from qkms.domain.errors import DependencyTimeoutException
from qkms.operations.keys.create_key import create_key
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.runtime.dispatch import (
    InlineGuardedStore,
    WouldBlock,
    call_with_store_off_limits,
    execute,
    execute_inline,
    store_errors_as_kms,
)
from qkms.operations.runtime.registry import OPERATIONS
from qkms.operations.shapes import (
    CreateKeyRequest,
    DeriveSharedSecretRequest,
    DeriveSharedSecretResponse,
    DescribeKeyRequest,
    DescribeKeyResponse,
)
from qkms.storage.base import StoreTimeoutError
from tests.peer_keys import peer_public_key_der


def peer() -> bytes:
    return peer_public_key_der()


class CountingStore:
    """Counts calls to the real store behind it (a fake collaborator, not the thing under test)."""

    def __init__(self, store: object) -> None:
        self.store = store
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self.store, name)

        def counted(*args: object, **kwargs: object) -> object:
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return counted


def test_a_cold_cache_would_block_and_a_warm_one_answers_without_the_store(
    ctx: OperationContext, services: Services
) -> None:
    key_id = create_key(
        ctx, CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    ).key_metadata.key_id
    counting = CountingStore(services.store)
    guarded = InlineGuardedStore.wrap(counting)  # type: ignore[arg-type]
    object.__setattr__(services, "store", guarded)
    services.key_cache.clear()
    services.identity_policies.clear()
    services.grants.clear()
    derive = OPERATIONS["DeriveSharedSecret"]
    request = DeriveSharedSecretRequest(key_id=key_id, public_key=peer())

    with pytest.raises(WouldBlock):
        execute_inline(derive, ctx, request)
    assert counting.calls == []  # refused before the store was touched

    first = execute(derive, ctx, request)  # in a worker thread: loads and caches
    assert counting.calls != []
    counting.calls.clear()
    again = execute_inline(derive, ctx, request)  # now entirely from the caches
    assert counting.calls == []
    # The same key and peer: the caches must give exactly what the store-backed call gave.
    assert isinstance(first, DeriveSharedSecretResponse)
    assert first.key_id.endswith(f":key/{key_id}")
    assert len(first.shared_secret or b"") == 32
    assert again == first


def test_describe_key_answers_inline_unless_it_needs_the_store(
    ctx: OperationContext, services: Services
) -> None:
    single = create_key(ctx, CreateKeyRequest()).key_metadata.key_id
    multi = create_key(ctx, CreateKeyRequest(multi_region=True)).key_metadata.key_id
    counting = CountingStore(services.store)
    object.__setattr__(services, "store", InlineGuardedStore.wrap(counting))  # type: ignore[arg-type]
    describe = OPERATIONS["DescribeKey"]
    assert describe.inline
    for key_id in (single, multi):
        execute(describe, ctx, DescribeKeyRequest(key_id=key_id))  # warms the caches
    counting.calls.clear()

    answer = execute_inline(describe, ctx, DescribeKeyRequest(key_id=single))
    assert isinstance(answer, DescribeKeyResponse)
    assert answer.key_metadata.key_id == single
    assert counting.calls == []
    # Its replicas are read from the store each time (one added elsewhere shows at once).
    with pytest.raises(WouldBlock):
        execute_inline(describe, ctx, DescribeKeyRequest(key_id=multi))
    assert counting.calls == []


def test_the_guard_is_lifted_after_the_call() -> None:
    class Store:
        def ping(self) -> str:
            return "pong"

    guarded: Any = InlineGuardedStore(Store())  # type: ignore[arg-type]
    with pytest.raises(WouldBlock):
        call_with_store_off_limits(guarded.ping)
    assert guarded.ping() == "pong"  # the guard is off again


def test_store_timeouts_become_dependency_timeouts() -> None:
    with pytest.raises(DependencyTimeoutException), store_errors_as_kms():
        raise StoreTimeoutError("slow")
