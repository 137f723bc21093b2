"""`qkms db upgrade`: create or migrate the store's schema and say its version (DESIGN §6)."""

from __future__ import annotations

import argparse
import sys

from qkms.app import StartupError, open_store
from qkms.config import ConfigError, Settings
from qkms.storage.base import StoreError

__all__ = ["add_db_commands", "run_db"]


def add_db_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="manage the store's schema")
    actions = db.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "upgrade",
        help="create or upgrade the schema and print its version",
        description="Runs the schema migrations (`qkms serve` runs them at start too; "
        "concurrent runs queue on a lock) and prints the schema version now in force.",
    )


def run_db(settings: Settings) -> int:
    try:
        settings.validate()
        store = open_store(settings)
        try:
            version = store.migrate()
        finally:
            store.close()
    except (ConfigError, StartupError, StoreError, ValueError) as exc:
        print(f"qkms: {exc}", file=sys.stderr)
        return 2
    print(f"schema version {version}")
    return 0
