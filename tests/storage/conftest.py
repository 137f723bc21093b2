"""The backends the KeyStore contract runs against (PostgreSQL joins with its backend)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qkms.storage import KeyStore, SqliteKeyStore


@pytest.fixture(params=["sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    backend = SqliteKeyStore(tmp_path / "qkms.db", deadline_seconds=0.5)
    backend.migrate()
    yield backend
    backend.close()
