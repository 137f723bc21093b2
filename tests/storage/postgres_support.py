"""Where the PostgreSQL tests find their server, and a private schema per store under test.

The server is the one CI runs: 127.0.0.1:5432, trust auth, database `test` (override with
QKMS_TEST_DATABASE_URL). Without it the PostgreSQL tests skip with the reason, except under
CI=true, where they fail: CI must exercise both backends.
"""

from __future__ import annotations

import functools
import os
import uuid

import psycopg
import psycopg.conninfo
import pytest
from psycopg import sql

__all__ = [
    "admin_url",
    "drop_schema",
    "new_schema_name",
    "require_postgres",
    "server_port",
    "url_on_port",
]

_CANDIDATES = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://127.0.0.1:5432/test",
)


@functools.cache
def _probe() -> tuple[str | None, str]:
    given = os.environ.get("QKMS_TEST_DATABASE_URL")
    errors: list[str] = []
    for url in (given,) if given else _CANDIDATES:
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return url, ""
        except psycopg.Error as exc:
            errors.append(f"{url}: {str(exc).strip().splitlines()[0] if str(exc) else exc!r}")
    return None, "; ".join(errors)


def require_postgres() -> str:
    """The server's URL, or skip (fail under CI=true) with the reason it is not usable."""
    url, reason = _probe()
    if url is None:
        message = f"PostgreSQL is not reachable at 127.0.0.1:5432 database test ({reason})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must run the PostgreSQL tests", pytrace=False)
        pytest.skip(message)
    return url


def admin_url() -> str:
    return require_postgres()


def new_schema_name() -> str:
    return f"qkms_test_{uuid.uuid4().hex}"


def drop_schema(schema: str) -> None:
    with psycopg.connect(require_postgres(), autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")  # a failed test's open transaction: fail, not hang
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def url_on_port(port: int) -> str:
    """The test server's URL with another port (a proxy in front of it, or nothing at all)."""
    params = psycopg.conninfo.conninfo_to_dict(require_postgres())
    user = f"{params['user']}@" if params.get("user") else ""
    return f"postgresql://{user}127.0.0.1:{port}/{params.get('dbname', 'test')}"


def server_port() -> int:
    return int(psycopg.conninfo.conninfo_to_dict(require_postgres()).get("port") or 5432)
