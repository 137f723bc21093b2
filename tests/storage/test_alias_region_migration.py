"""Schema 7 on both backends: aliases stored before regions keep their names and targets and
take their key's region ('' when the key has none); names become unique per region."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from qkms.storage import AliasRow, DuplicateError, KeyStore, PostgresKeyStore, SqliteKeyStore
from qkms.storage import schema as schema_module
from qkms.storage.schema import SCHEMA_VERSION
from tests.storage.postgres_support import drop_schema, new_schema_name, require_postgres
from tests.storage.support import ACCOUNT, key_row

Opener = Callable[[], KeyStore]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the same store each time it is called (migrations are the caller's)."""
    if request.param == "sqlite":

        def sqlite() -> KeyStore:
            return SqliteKeyStore(tmp_path / "qkms.db", deadline_seconds=0.5)

        yield sqlite
        return
    url, schema = require_postgres(), new_schema_name()

    def postgres() -> KeyStore:
        return PostgresKeyStore(url, deadline_seconds=2.0, schema=schema)

    try:
        yield postgres
    finally:
        drop_schema(schema)


def _insert_old_key(store: KeyStore, key_id: str, region: str | None) -> None:
    """A key row as schema 6 stored it (no primary_region column)."""
    store._write(  # type: ignore[attr-defined]
        lambda conn: conn.execute(
            "INSERT INTO keys (key_id, account_id, description, key_usage, key_spec, origin, "
            "key_state, creation_date, region) VALUES (%s, %s, '', 'KEY_AGREEMENT', "
            "'ECC_NIST_P256', 'AWS_KMS', 'Enabled', 1.0, %s)",
            (key_id, ACCOUNT, region),
        )
    )


def _insert_old_alias(store: KeyStore, name: str, key_id: str) -> None:
    """An alias row as schema 6 stored it: no region column."""
    store._write(  # type: ignore[attr-defined]
        lambda conn: conn.execute(
            "INSERT INTO aliases (account_id, alias_name, key_id, creation_date, "
            "last_updated_date) VALUES (%s, %s, %s, 1.0, 2.0)",
            (ACCOUNT, name, key_id),
        )
    )


def test_schema_7_gives_old_aliases_their_keys_region(
    opener: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    regioned, unregioned = replace(key_row(), region="us-west-2"), key_row()
    with monkeypatch.context() as patched:
        patched.setattr(schema_module, "MIGRATIONS", schema_module.MIGRATIONS[:6])
        old = opener()
        assert old.migrate() == 6
        old.ensure_account(ACCOUNT, 0.0)
        _insert_old_key(old, regioned.key_id, "us-west-2")
        _insert_old_key(old, unregioned.key_id, None)
        _insert_old_alias(old, "alias/west", regioned.key_id)
        _insert_old_alias(old, "alias/plain", unregioned.key_id)
        old.close()
    store = opener()
    try:
        assert store.migrate() == SCHEMA_VERSION
        assert store.get_alias(ACCOUNT, "alias/west", ("us-west-2",)) == AliasRow(
            ACCOUNT, "alias/west", regioned.key_id, 1.0, 2.0, "us-west-2"
        )
        assert store.get_alias(ACCOUNT, "alias/west", ("us-east-1", "")) is None
        assert store.get_alias(ACCOUNT, "alias/plain", ("us-east-1", "")) == AliasRow(
            ACCOUNT, "alias/plain", unregioned.key_id, 1.0, 2.0, ""
        )
        # The new primary key: the same name again in the same region collides, in another
        # region it does not.
        again = AliasRow(ACCOUNT, "alias/west", unregioned.key_id, 3.0, 3.0, "us-west-2")
        with pytest.raises(DuplicateError):
            store.insert_alias(again)
        store.insert_alias(replace(again, region="eu-west-1"))
        assert [a.region for a in store.list_aliases(ACCOUNT, None, None, 10, ("eu-west-1",))] == [
            "eu-west-1"
        ]
    finally:
        store.close()
