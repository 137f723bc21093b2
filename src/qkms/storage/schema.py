"""The versioned schema: one ordered list of migrations, shared by every SQL backend."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from qkms.storage.dialect import Connection

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Dialect", "apply_migrations", "for_dialect"]

# Each entry upgrades the schema from version N-1 to N. Never edit a published entry; append.
# Types are chosen to mean the same on SQLite and PostgreSQL (BLOB is mapped per backend).
MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE accounts (account_id TEXT PRIMARY KEY, created_at DOUBLE PRECISION NOT NULL)",
            """CREATE TABLE users (
                account_id TEXT NOT NULL REFERENCES accounts(account_id),
                user_name TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (account_id, user_name))""",
            """CREATE TABLE access_keys (
                access_key_id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL,
                user_name TEXT NOT NULL,
                wrapped_secret BLOB NOT NULL,
                status TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                FOREIGN KEY (account_id, user_name) REFERENCES users(account_id, user_name))""",
            """CREATE TABLE keys (
                key_id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts(account_id),
                description TEXT NOT NULL,
                key_usage TEXT NOT NULL,
                key_spec TEXT NOT NULL,
                origin TEXT NOT NULL,
                key_state TEXT NOT NULL,
                creation_date DOUBLE PRECISION NOT NULL,
                deletion_date DOUBLE PRECISION,
                public_key BLOB,
                wrapped_material BLOB)""",
            "CREATE INDEX keys_by_account ON keys (account_id, key_id)",
            "CREATE INDEX keys_pending_deletion ON keys (deletion_date) WHERE deletion_date IS NOT NULL",
            """CREATE TABLE changes (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                entity TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                changed_at DOUBLE PRECISION NOT NULL)""",
        ],
    ),
    (
        2,
        [
            # Access control: key policies, identity policies attached to users, grants.
            "ALTER TABLE keys ADD COLUMN policy TEXT",
            """CREATE TABLE user_policies (
                account_id TEXT NOT NULL,
                user_name TEXT NOT NULL,
                policy_name TEXT NOT NULL,
                document TEXT NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (account_id, user_name, policy_name),
                FOREIGN KEY (account_id, user_name) REFERENCES users(account_id, user_name))""",
            """CREATE TABLE grants (
                grant_id TEXT PRIMARY KEY,
                key_id TEXT NOT NULL,
                key_account_id TEXT NOT NULL,
                name TEXT,
                grantee_principal TEXT NOT NULL,
                retiring_principal TEXT,
                operations TEXT NOT NULL,
                issuing_account TEXT NOT NULL,
                creation_date DOUBLE PRECISION NOT NULL)""",
            "CREATE INDEX grants_by_key ON grants (key_id)",
            "CREATE INDEX grants_by_retiring_principal ON grants (retiring_principal)",
        ],
    ),
    (
        3,
        [
            # Aliases, tags, imported key material, and the queryable audit trail.
            "ALTER TABLE keys ADD COLUMN tags TEXT",
            "ALTER TABLE keys ADD COLUMN expiration_model TEXT",
            "ALTER TABLE keys ADD COLUMN valid_to DOUBLE PRECISION",
            """CREATE TABLE aliases (
                account_id TEXT NOT NULL,
                alias_name TEXT NOT NULL,
                key_id TEXT NOT NULL,
                creation_date DOUBLE PRECISION NOT NULL,
                last_updated_date DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (account_id, alias_name))""",
            "CREATE INDEX aliases_by_key ON aliases (key_id)",
            """CREATE TABLE import_parameters (
                key_id TEXT PRIMARY KEY,
                wrapping_key_spec TEXT NOT NULL,
                wrapping_algorithm TEXT NOT NULL,
                wrapped_wrapping_key BLOB NOT NULL,
                token_id TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL)""",
            """CREATE TABLE audit_events (
                event_id TEXT PRIMARY KEY,
                event_time DOUBLE PRECISION NOT NULL,
                event_name TEXT NOT NULL,
                account_id TEXT,
                error_code TEXT,
                resources TEXT NOT NULL,
                record TEXT NOT NULL)""",
            "CREATE INDEX audit_events_by_time ON audit_events (event_time)",
        ],
    ),
    (
        4,
        [
            # Versions of a symmetric key's material (DESIGN §4a): a ciphertext names the
            # material that encrypted it, rotation adds versions, the key row names the current
            # one. Material is wrapped under the root key like every private key.
            "ALTER TABLE keys ADD COLUMN current_key_material_id TEXT",
            # A grant's encryption-context constraints (JSON), now that operations take one.
            "ALTER TABLE grants ADD COLUMN grant_constraints TEXT",
            """CREATE TABLE key_materials (
                key_id TEXT NOT NULL,
                key_material_id TEXT NOT NULL,
                wrapped_material BLOB,
                created_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (key_id, key_material_id))""",
            # Symmetric keys created before versions existed had their one material on the
            # key row and had never encrypted anything (there was no Encrypt): it becomes
            # their first version, with an id made of the key id's 32 hex digits twice, which
            # both dialects can compute and no generated (random) id will collide with.
            """INSERT INTO key_materials (key_id, key_material_id, wrapped_material, created_at)
                SELECT key_id, replace(key_id, '-', '') || replace(key_id, '-', ''),
                       wrapped_material, creation_date
                FROM keys WHERE key_spec = 'SYMMETRIC_DEFAULT' AND wrapped_material IS NOT NULL""",
            """UPDATE keys SET
                current_key_material_id = replace(key_id, '-', '') || replace(key_id, '-', ''),
                wrapped_material = NULL
                WHERE key_spec = 'SYMMETRIC_DEFAULT' AND wrapped_material IS NOT NULL""",
        ],
    ),
    (
        5,
        [
            # Rotation (DESIGN §4a): how each material version came to be (NULL for a key's
            # first material, AUTOMATIC or ON_DEMAND after), and each key's automatic schedule,
            # a row only while automatic rotation is enabled.
            "ALTER TABLE key_materials ADD COLUMN rotation_type TEXT",
            """CREATE TABLE rotation_schedules (
                key_id TEXT PRIMARY KEY,
                rotation_period_in_days INTEGER NOT NULL,
                next_rotation_date DOUBLE PRECISION NOT NULL)""",
            "CREATE INDEX rotation_schedules_by_date ON rotation_schedules (next_rotation_date)",
        ],
    ),
    (
        6,
        [
            # The region a key belongs to (DESIGN §4a): the SigV4 credential scope of the request
            # that created it. Keys stored before have none and belong to the default region
            # (--region), so changing --region moves them all at once, as it moved their ARNs.
            "ALTER TABLE keys ADD COLUMN region TEXT",
            "CREATE INDEX keys_by_account_region ON keys (account_id, region, key_id)",
        ],
    ),
    (
        7,
        [
            # Imported symmetric material (DESIGN §4a; AWS "Import new key material"): a version
            # imported with ImportType NEW_KEY_MATERIAL waits as PENDING_ROTATION until
            # RotateKeyOnDemand makes it current (NULL: an ordinary version); its optional
            # KeyMaterialDescription.
            "ALTER TABLE key_materials ADD COLUMN material_state TEXT",
            "ALTER TABLE key_materials ADD COLUMN description TEXT",
            # GetKeyLastUsage: the latest cryptographic use of each key, written by the
            # background loop from per-worker memory, never by the request itself.
            """CREATE TABLE key_last_usage (
                key_id TEXT PRIMARY KEY,
                operation TEXT NOT NULL,
                used_at DOUBLE PRECISION NOT NULL,
                request_id TEXT NOT NULL,
                event_id TEXT NOT NULL)""",
        ],
    ),
    (
        8,
        [
            # Alias names are unique per (account, region), as in AWS (DESIGN §4a): the primary
            # key gains the region. SQLite cannot alter a primary key, so both dialects rebuild
            # the table the same way. An alias takes its key's region; one whose key has none
            # gets '' (the default region, as for such keys).
            """CREATE TABLE aliases_by_region (
                account_id TEXT NOT NULL,
                alias_name TEXT NOT NULL,
                key_id TEXT NOT NULL,
                creation_date DOUBLE PRECISION NOT NULL,
                last_updated_date DOUBLE PRECISION NOT NULL,
                region TEXT NOT NULL,
                PRIMARY KEY (account_id, region, alias_name))""",
            """INSERT INTO aliases_by_region
                (account_id, alias_name, key_id, creation_date, last_updated_date, region)
                SELECT a.account_id, a.alias_name, a.key_id, a.creation_date,
                       a.last_updated_date,
                       COALESCE((SELECT k.region FROM keys k WHERE k.key_id = a.key_id), '')
                FROM aliases a""",
            "DROP TABLE aliases",
            "ALTER TABLE aliases_by_region RENAME TO aliases",
            "CREATE INDEX aliases_by_key ON aliases (key_id)",
        ],
    ),
    (
        9,
        [
            # Multi-region keys (DESIGN §4a): one row per region under "<mrk- id>@<region>"
            # (storage/base.py), each naming the primary's region.
            "ALTER TABLE keys ADD COLUMN primary_region TEXT",
        ],
    ),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]

Dialect = Literal["sqlite", "postgresql"]

# Migrations are written in SQLite's spelling; PostgreSQL gets these rewrites, in order.
_POSTGRESQL_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"),
        "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    # SQLite compares text byte-wise (BINARY); the "C" collation keeps ordering and range
    # comparisons (paging) identical on PostgreSQL whatever the database's locale.
    (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'),
)


def for_dialect(statement: str, dialect: Dialect) -> str:
    """One migration statement as `dialect` spells it (same tables, same meaning)."""
    if dialect == "sqlite":
        return statement
    for pattern, replacement in _POSTGRESQL_REWRITES:
        statement = pattern.sub(replacement, statement)
    return statement


def apply_migrations(conn: Connection, dialect: Dialect) -> int:
    """Bring the schema to SCHEMA_VERSION inside the caller's transaction; return the version.

    The caller serialises concurrent migrations (SQLite's write lock, PostgreSQL's advisory lock).
    """
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    current = int(row[0]) if row and row[0] is not None else 0
    for version, statements in MIGRATIONS:
        if version <= current:
            continue
        for statement in statements:
            conn.execute(for_dialect(statement, dialect))
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        current = version
    return current
