"""PostgreSQL specifics: schema isolation, deadlines, faults and recovery, migrations, feed order."""

from __future__ import annotations

import functools
import select
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Literal

import psycopg
import pytest
from psycopg import sql

from qkms.storage import (
    KeyRow,
    PostgresKeyStore,
    StoreError,
    StoreTimeoutError,
)
from qkms.storage import schema as schema_module
from qkms.storage.postgres import split_schema
from qkms.storage.schema import SCHEMA_VERSION, for_dialect
from tests.storage.postgres_support import (
    drop_schema,
    new_schema_name,
    require_postgres,
    server_port,
    url_on_port,
)
from tests.storage.support import ACCOUNT, key_row

pytestmark = pytest.mark.postgres


@pytest.fixture
def schema() -> Iterator[str]:
    require_postgres()
    name = new_schema_name()
    yield name
    drop_schema(name)


@pytest.fixture
def url() -> str:
    return require_postgres()


def open_store(url: str, schema: str, deadline: float = 0.5) -> PostgresKeyStore:
    store = PostgresKeyStore(url, deadline_seconds=deadline, schema=schema)
    store.migrate()
    store.ensure_account(ACCOUNT, 0.0)
    return store


def raw(url: str, schema: str) -> psycopg.Connection[tuple[object, ...]]:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


# --- dialect and schema -------------------------------------------------------------------------
def test_for_dialect_translates_only_for_postgresql() -> None:
    statement = "CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, b BLOB, s TEXT NOT NULL)"
    assert for_dialect(statement, "sqlite") == statement
    assert for_dialect(statement, "postgresql") == (
        "CREATE TABLE t (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, b BYTEA, "
        's TEXT COLLATE "C" NOT NULL)'
    )


def test_schema_from_the_url_is_created_and_used(url: str, schema: str) -> None:
    separator = "&" if "?" in url else "?"
    store = PostgresKeyStore(f"{url}{separator}schema={schema}&application_name=qkms_t")
    try:
        assert store.schema == schema
        assert store.migrate() == SCHEMA_VERSION
        store.ensure_account(ACCOUNT, 0.0)
        row = key_row()
        store.insert_key(row)
        assert store.get_key(row.key_id) == row
    finally:
        store.close()
    with raw(url, schema) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        }
        assert {"keys", "changes", "grants", "schema_version"} <= tables
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_split_schema_keeps_the_rest_of_the_url() -> None:
    assert split_schema("postgresql://u@h:5/db?schema=a&sslmode=disable") == (
        "postgresql://u@h:5/db?sslmode=disable",
        "a",
    )
    assert split_schema("postgres://h/db") == ("postgres://h/db", None)


@pytest.mark.parametrize("bad", ["Upper", "a-b", "1a", "x" * 64, 'a"; drop'])
def test_schema_names_are_plain_identifiers(bad: str) -> None:
    with pytest.raises(ValueError, match="schema name"):
        PostgresKeyStore("postgresql://127.0.0.1:1/test", schema=bad)


def test_text_orders_bytewise_like_sqlite(url: str, schema: str) -> None:
    store = open_store(url, schema)
    try:
        for name in ("bob", "Alice", "_x", "alice"):
            store.ensure_user(ACCOUNT, name, 0.0)
        assert [u.user_name for u in store.list_users(ACCOUNT)] == ["Alice", "_x", "alice", "bob"]
    finally:
        store.close()


def test_commits_are_synchronous(url: str, schema: str) -> None:
    store = open_store(url, schema)
    try:
        rows = store._read("SHOW synchronous_commit")
        assert rows[0][0] == "on"
    finally:
        store.close()


# --- migrations ---------------------------------------------------------------------------------
def test_concurrent_migrations_on_a_fresh_schema_do_not_race(url: str, schema: str) -> None:
    stores = [PostgresKeyStore(url, deadline_seconds=2.0, schema=schema) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    results: list[int | BaseException] = []

    def migrate(store: PostgresKeyStore) -> None:
        barrier.wait()
        try:
            results.append(store.migrate())
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for store in stores:
        store.close()
    assert results == [SCHEMA_VERSION] * 4
    with raw(url, schema) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


# --- deadlines ----------------------------------------------------------------------------------
def test_a_row_lock_held_elsewhere_times_out_within_the_deadline(url: str, schema: str) -> None:
    store = open_store(url, schema, deadline=0.5)
    row = key_row()
    store.insert_key(row)
    holder = raw(url, schema)
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT 1 FROM keys WHERE key_id = %s FOR UPDATE", (row.key_id,))
        started = time.monotonic()
        with pytest.raises(StoreTimeoutError, match="did not answer within"):
            store.update_key(row.key_id, lambda r: replace(r, key_state="Disabled"))
        elapsed = time.monotonic() - started
        assert 0.3 <= elapsed < 1.0
        assert store.get_key(row.key_id) == row  # readers are not blocked by the lock
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    updated = store.update_key(row.key_id, lambda r: replace(r, key_state="Disabled"))
    assert updated is not None and updated.key_state == "Disabled"
    store.close()


@pytest.mark.parametrize("call", ["ping", "get_key", "insert_key"])
def test_an_unreachable_server_fails_fast(call: str) -> None:
    store = PostgresKeyStore(url_on_port(1), deadline_seconds=0.5, schema="qkms_nowhere")
    try:
        started = time.monotonic()
        with pytest.raises(StoreError):
            if call == "ping":
                store.ping()
            elif call == "get_key":
                store.get_key("k")
            else:
                store.insert_key(key_row())
        assert time.monotonic() - started < 1.0
    finally:
        store.close()


def test_a_killed_pool_reconnects_on_the_next_call(url: str, schema: str) -> None:
    app_name = f"qkms_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in url else "?"
    store = PostgresKeyStore(
        f"{url}{separator}application_name={app_name}", deadline_seconds=2.0, schema=schema
    )
    store.migrate()
    store.ensure_account(ACCOUNT, 0.0)
    # Open several pooled connections.
    threads = [threading.Thread(target=lambda: store.insert_key(key_row())) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with psycopg.connect(url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s",
            (app_name,),
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    time.sleep(0.1)
    row = key_row()
    store.insert_key(row)  # the very next calls work: dead connections are replaced
    assert store.get_key(row.key_id) == row
    store.ping()
    store.close()


# --- faults through a proxy: hang, outage, recovery without a restart ---------------------------
class Proxy:
    """A TCP proxy to the test server that can stop forwarding (hang) or drop everything."""

    def __init__(self) -> None:
        self.upstream = ("127.0.0.1", server_port())
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.mode: Literal["forward", "hang", "down"] = "forward"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.mode == "down":
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while not self._closed and self.mode != "down":
                readable, _, _ = select.select(list(peers), [], [], 0.05)
                if self.mode == "hang":
                    continue
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()

    def close(self) -> None:
        self._closed = True
        self.listener.close()


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    require_postgres()
    front = Proxy()
    yield front
    front.close()


def wait_until_working(store: PostgresKeyStore, limit: float) -> float:
    started = time.monotonic()
    while True:
        try:
            store.ping()
            return time.monotonic() - started
        except StoreError:
            if time.monotonic() - started > limit:
                raise
            time.sleep(0.1)


def test_a_hanging_server_gives_timeouts_then_recovers(proxy: Proxy, url: str, schema: str) -> None:
    open_store(url, schema).close()  # create the schema directly
    store = PostgresKeyStore(url_on_port(proxy.port), deadline_seconds=0.5, schema=schema)
    try:
        row = key_row()
        store.insert_key(row)
        proxy.mode = "hang"
        for call in ("get_key", "insert_key"):
            started = time.monotonic()
            with pytest.raises(StoreTimeoutError):
                if call == "get_key":
                    store.get_key(row.key_id)
                else:
                    store.insert_key(key_row())
            assert time.monotonic() - started < 1.0  # 0.5 s deadline + slack for a busy box
        proxy.mode = "forward"
        assert wait_until_working(store, limit=10.0) < 10.0
        assert store.get_key(row.key_id) == row
    finally:
        store.close()


def test_an_outage_fails_closed_and_recovers_without_restart(
    proxy: Proxy, url: str, schema: str
) -> None:
    open_store(url, schema).close()
    store = PostgresKeyStore(url_on_port(proxy.port), deadline_seconds=0.5, schema=schema)
    try:
        row = key_row()
        store.insert_key(row)
        proxy.mode = "down"
        outage_ends = time.monotonic() + 4.0  # longer than the pool's reconnect give-up time
        while time.monotonic() < outage_ends:
            started = time.monotonic()
            with pytest.raises(StoreError):
                store.get_key(row.key_id)
            assert time.monotonic() - started < 1.0  # 0.5 s deadline + slack for a busy box
            time.sleep(0.2)
        proxy.mode = "forward"
        recovered_in = wait_until_working(store, limit=10.0)
        assert recovered_in < 5.0
        assert store.get_key(row.key_id) == row
    finally:
        store.close()


# --- change feed order ---------------------------------------------------------------------------
def test_the_feed_never_shows_a_later_seq_before_an_earlier_commits(url: str, schema: str) -> None:
    store = open_store(url, schema, deadline=5.0)
    before = store.latest_change()
    in_flight = raw(url, schema)
    in_flight.execute("BEGIN")
    store._record_changes(in_flight, [("key", "in-flight")])  # holds the feed until commit
    done = threading.Event()
    row = key_row()

    def write() -> None:
        store.insert_key(row)
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.3)
        assert not done.is_set()  # the second writer waits for the first to commit
        assert store.changes_since(before) == []
    finally:
        in_flight.execute("COMMIT")
        in_flight.close()
        writer.join(5)
    assert done.is_set()
    changes = store.changes_since(before)
    assert [c.entity_id for c in changes] == ["in-flight", row.key_id]
    assert changes[0].seq < changes[1].seq
    store.close()


def test_a_poller_sees_every_change_of_concurrent_writers(url: str, schema: str) -> None:
    store = open_store(url, schema, deadline=5.0)
    keys = [key_row() for _ in range(10)]
    for row in keys:
        store.insert_key(row)
    start = store.latest_change()
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def poll() -> None:
        last = start
        while True:
            finished = stop.is_set()
            for change in store.changes_since(last):
                assert change.seq > last
                seen.append(change.seq)
                last = change.seq
            if finished:
                return

    def write(rows: list[KeyRow]) -> None:
        try:
            for i in range(15):
                described = functools.partial(replace, description=str(i))
                for row in rows:
                    store.update_key(row.key_id, described)
                store.insert_key(key_row())
        except BaseException as exc:
            errors.append(exc)

    poller = threading.Thread(target=poll)
    poller.start()
    writers = [threading.Thread(target=write, args=(keys[i::4],)) for i in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    poller.join(10)
    assert errors == []
    with raw(url, schema) as conn:
        committed = [
            int(str(r[0])) for r in conn.execute("SELECT seq FROM changes WHERE seq > %s", (start,))
        ]
    assert sorted(committed) == seen
    assert len(seen) == 10 * 15 + 4 * 15
    store.close()


def test_schema_4_gives_an_older_symmetric_key_its_first_material_version_on_postgresql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, schema_name = require_postgres(), new_schema_name()
    key_id = str(uuid.uuid4())
    try:
        with monkeypatch.context() as patched:
            patched.setattr(schema_module, "MIGRATIONS", schema_module.MIGRATIONS[:3])
            old = PostgresKeyStore(url, deadline_seconds=2.0, schema=schema_name)
            assert old.migrate() == 3
            old.ensure_account("111122223333", 0.0)
            old._write(
                lambda conn: conn.execute(
                    "INSERT INTO keys (key_id, account_id, description, key_usage, key_spec, "
                    "origin, key_state, creation_date, wrapped_material) VALUES (%s, "
                    "'111122223333', '', 'ENCRYPT_DECRYPT', 'SYMMETRIC_DEFAULT', 'AWS_KMS', "
                    "'Enabled', 1.0, %s)",
                    (key_id, b"\x01legacy"),
                )
            )
            old.close()
        store = PostgresKeyStore(url, deadline_seconds=2.0, schema=schema_name)
        try:
            assert store.migrate() == SCHEMA_VERSION
            row = store.get_key(key_id)
            material_id = key_id.replace("-", "") * 2
            assert row is not None and row.current_key_material_id == material_id
            assert row.wrapped_material is None
            [version] = store.list_key_materials(key_id)
            assert (version.key_material_id, version.wrapped_material) == (
                material_id,
                b"\x01legacy",
            )
        finally:
            store.close()
    finally:
        drop_schema(schema_name)
