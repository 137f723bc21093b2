"""Operation tests run against a real SQLite store in a temp dir, with an injectable clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qkms.crypto import RootKey
from qkms.operations.runtime.background import ChangeFollower
from qkms.operations.runtime.cache import FreshCache
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.runtime.credentials import Credential
from tests.unit.support import HOUR, FakeClock, context, make_services, slow_to_expire


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def root_key() -> RootKey:
    return RootKey.generate()


@pytest.fixture
def services(tmp_path: Path, root_key: RootKey, clock: FakeClock) -> Iterator[Services]:
    built = make_services(tmp_path / "qkms.db", root_key, clock)
    yield built
    built.store.close()


@pytest.fixture
def ctx(services: Services) -> OperationContext:
    return context(services)


@pytest.fixture
def workers(
    tmp_path: Path, root_key: RootKey, clock: FakeClock
) -> Iterator[tuple[Services, Services, ChangeFollower]]:
    """Two workers on one store; B trusts its caches for an hour, so only the feed evicts them."""
    worker_a = make_services(tmp_path / "q.db", root_key, clock)
    worker_b = slow_to_expire(make_services(tmp_path / "q.db", root_key, clock))
    follower_b = ChangeFollower(worker_b, FreshCache[str, Credential](10, max_staleness=HOUR))
    follower_b.poll()  # B's position in the feed: everything after this is news to B
    yield worker_a, worker_b, follower_b
    worker_a.store.close()
    worker_b.store.close()
