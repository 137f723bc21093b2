"""`qkms root-key generate|rotate`: make a root key, and re-wrap everything under a new one (docs/operations.md)."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from qkms.admin.audit import AdminAudit, PlannedChange
from qkms.admin.root_key_rotation import RotationError, rotate_root_key
from qkms.app import StartupError, open_services
from qkms.audit import AuditWriteError
from qkms.cli.admin import operator_audit
from qkms.config import ConfigError, Settings
from qkms.crypto import CryptoError, RootKey
from qkms.storage.base import StoreError

__all__ = ["add_root_key_commands", "run_root_key"]


def add_root_key_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("root-key", help="generate or rotate the root wrapping key")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("generate", help="print a new random root key (base64 of 32 bytes)")
    rotate = actions.add_parser(
        "rotate",
        help="re-wrap every private key and access-key secret under a new root key",
        description="Online and resumable. First restart every server with the NEW key as its "
        "root key and the current one as --previous-root-key-file; run this; then restart the "
        "servers with the new key alone. Running it again finishes an interrupted rotation.",
    )
    rotate.add_argument(
        "--new-root-key-file",
        type=Path,
        help="the new root key (or QKMS_NEW_ROOT_KEY)",
    )


class _ProgressBar:
    """One line on stderr per phase, redrawn at most ten times a second."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done != total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if done == total else ""
        print(f"\r{what:>12} [{bar}] {done}/{total}", end=end, file=sys.stderr, flush=True)


def _new_key(args: argparse.Namespace, environ: dict[str, str]) -> RootKey:
    if text := environ.get("QKMS_NEW_ROOT_KEY"):
        return RootKey.from_base64(text)
    if args.new_root_key_file is None:
        raise ConfigError("give the new root key with --new-root-key-file or QKMS_NEW_ROOT_KEY")
    return RootKey.from_base64(Path(args.new_root_key_file).read_text())


def run_root_key(args: argparse.Namespace, settings: Settings, environ: dict[str, str]) -> int:
    if args.action == "generate":
        print(RootKey.generate().to_base64())
        return 0
    settings = replace(settings, previous_root_key_file=None)
    try:
        new_key = _new_key(args, environ)
        current = {k: v for k, v in environ.items() if k != "QKMS_PREVIOUS_ROOT_KEY"}
        services = open_services(settings, current)
    except (ConfigError, StartupError, CryptoError, OSError) as exc:
        print(f"qkms root-key rotate: {exc}", file=sys.stderr)
        return 2
    # Recorded like `qkms admin` changes: check values only, never a key (qkms.audit.operator).
    change = PlannedChange(
        "RotateRootKey",
        None,
        None,
        {"newKeyCheckValue": new_key.key_check_value},
        command="qkms root-key rotate",
        event_source="kms.qkms",
    )
    try:
        audit = operator_audit(settings, services)
        audit.check()
    except AuditWriteError as exc:
        services.store.close()
        print(f"qkms root-key rotate: {exc}; nothing was changed.", file=sys.stderr)
        return 2
    try:
        report = rotate_root_key(services, new_key, _ProgressBar())
    except (RotationError, CryptoError, StoreError) as exc:
        _record(audit, change, None, ("RotationFailed", str(exc)))
        print(f"qkms root-key rotate: {exc}", file=sys.stderr)
        return 1
    else:
        response = {
            "newKeyCheckValue": report.new_check_value,
            "keysRewrapped": report.keys_rewrapped,
            "accessKeysRewrapped": report.access_keys_rewrapped,
            "importParametersDropped": report.import_parameters_dropped,
        }
        if not _record(audit, change, response, None):
            return 1
    finally:
        services.store.close()
    print(
        f"root key rotated to check value {report.new_check_value}: "
        f"{report.keys_rewrapped} key(s) and {report.access_keys_rewrapped} access key(s) "
        f"re-wrapped, {report.import_parameters_dropped} pending import parameter(s) dropped.",
        file=sys.stderr,
    )
    return 0


def _record(
    audit: AdminAudit,
    change: PlannedChange,
    response: dict[str, Any] | None,
    error: tuple[str, str] | None,
) -> bool:
    try:
        audit.record(change, response, error)
    except (AuditWriteError, StoreError) as exc:
        print(f"qkms root-key rotate: its audit event was not recorded: {exc}", file=sys.stderr)
        return False
    return True
