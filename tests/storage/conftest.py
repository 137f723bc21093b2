"""The backends the KeyStore contract runs against: SQLite, and PostgreSQL in its own schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qkms.storage import KeyStore, PostgresKeyStore, SqliteKeyStore
from tests.storage.postgres_support import drop_schema, new_schema_name, require_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    backend: KeyStore
    if request.param == "sqlite":
        backend = SqliteKeyStore(tmp_path / "qkms.db", deadline_seconds=0.5)
        backend.migrate()
        yield backend
        backend.close()
        return
    url = require_postgres()
    schema = new_schema_name()  # a fresh schema per test, dropped afterwards
    backend = PostgresKeyStore(url, deadline_seconds=2.0, schema=schema)
    try:
        backend.migrate()
        yield backend
    finally:
        backend.close()
        drop_schema(schema)
