"""The `qkms` command: one parser, the settings resolved once, then the chosen command runs.

`qkms serve` (serve.py) runs the server, `qkms admin` (admin.py) manages users and access keys,
`qkms audit` (audit.py) reads the trail, `qkms root-key` (root_key.py) makes and rotates the
root key, `qkms db` (db.py) migrates the store and `qkms config` (show.py) shows the settings,
`qkms backup` and `qkms restore` (backup.py) snapshot and restore the SQLite store.
Their settings options are derived from qkms.config's table (options.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from qkms import __version__
from qkms.cli.admin import add_admin_commands, run_admin
from qkms.cli.audit import add_audit_commands, run_audit
from qkms.cli.backup import add_backup_commands, run_backup, run_restore
from qkms.cli.db import add_db_commands, run_db
from qkms.cli.options import (
    COMMAND_SETTINGS,
    GLOBAL_SETTINGS,
    add_setting_options,
    command_line_settings,
    refuse_foreign_settings,
)
from qkms.cli.root_key import add_root_key_commands, run_root_key
from qkms.cli.serve import serve
from qkms.cli.show import add_config_commands, show_config
from qkms.config import ConfigError, Resolved, read_config_file, resolve
from qkms.logs import configure_logging

__all__ = ["main"]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qkms", description="QKMS: a self-hostable KMS for DeriveSharedSecret."
    )
    parser.add_argument("--version", action="version", version=f"qkms {__version__}")
    add_setting_options(parser, GLOBAL_SETTINGS)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve",
        help="run the server",
        description="Run the QKMS server. Every option can also be set as QKMS_<OPTION> "
        "(e.g. QKMS_PORT, QKMS_DATA_DIR) or in the --config file (e.g. port = 4580); options "
        "on the command line win over the environment, which wins over the file.",
    )
    add_admin_commands(commands)
    add_db_commands(commands)
    add_audit_commands(commands)
    add_root_key_commands(commands)
    add_config_commands(commands)
    add_backup_commands(commands)
    # A command's settings are accepted after the command and after its action alike.
    for name, command in _subcommands(parser).items():
        add_setting_options(command, COMMAND_SETTINGS[name])
        for action in _subcommands(command).values():
            add_setting_options(action, COMMAND_SETTINGS[name])
    return parser


def _config_file(args: argparse.Namespace, environ: Mapping[str, str]) -> Path | None:
    if hasattr(args, "config"):
        return Path(args.config)
    return Path(environ["QKMS_CONFIG"]) if environ.get("QKMS_CONFIG") else None


def _resolve(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[Resolved, Path | None]:
    config_file = _config_file(args, environ)
    file = read_config_file(config_file) if config_file is not None else {}
    name = str(config_file) if config_file is not None else "config file"
    return resolve(command_line_settings(args), environ, file, name), config_file


def main(argv: list[str] | None = None) -> int:
    # Everything a qkms command creates (store, WAL, root key, credentials, audit log and its
    # rotations) is for this user alone; files are opened 0600 as well (qkms.preflight).
    os.umask(0o077)
    parser = _parser()
    args = parser.parse_args(argv)
    refuse_foreign_settings(parser, args)
    try:
        resolved, config_file = _resolve(args, os.environ)
    except ConfigError as exc:
        print(f"qkms: {exc}", file=sys.stderr)
        return 2
    settings = resolved.settings
    if args.command == "serve":
        configure_logging(settings.log_level, settings.log_format, settings.access_log)
    else:
        configure_logging("info")
    if args.command == "serve":
        return serve(settings)
    if args.command == "admin":
        return run_admin(args, settings)
    if args.command == "db":
        return run_db(settings)
    if args.command == "audit":
        return run_audit(args, settings)
    if args.command == "root-key":
        return run_root_key(args, settings, dict(os.environ))
    if args.command == "backup":
        return run_backup(args, settings)
    if args.command == "restore":
        return run_restore(args, settings, os.environ)
    if args.command == "config":
        print(show_config(resolved, config_file, os.environ))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
