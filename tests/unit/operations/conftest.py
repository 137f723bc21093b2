"""Operation tests run against a real SQLite store in a temp dir, with an injectable clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qkms.crypto import RootKey
from qkms.operations.context import OperationContext, Services
from tests.unit.support import FakeClock, context, make_services


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
