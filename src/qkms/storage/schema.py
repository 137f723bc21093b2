"""The versioned schema: one ordered list of migrations, shared by every SQL backend."""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

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
]

SCHEMA_VERSION = MIGRATIONS[-1][0]
