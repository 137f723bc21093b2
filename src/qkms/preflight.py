"""Start-up checks that write nothing, and the data directory made private before first use.

`qkms serve` runs `check_serve` before anything touches the disk, so each mistake a user meets
first (a TLS file missing or not PEM, a port in use, a data directory that cannot be created or
written) is one line naming the file, port or directory, and leaves nothing behind. They are
checks, not reservations: a port taken in the moment between the check and uvicorn's bind is
still reported by uvicorn, only less kindly.

File modes: every `qkms` command runs under umask 077 (`qkms.cli.main`), and every file QKMS
creates is also opened with mode 0600 and every directory with 0700, so neither alone is
relied on. An existing data directory that other users can enter is TIGHTENED to 0700, and
QKMS's own files in it to 0600, with one warning line saying so, rather than refused: the
upgrade from versions that left it 0755 then needs no manual step, and refusing would not undo
the exposure anyway. The exception is a directory that also holds files QKMS did not create (a
home directory, /srv, /tmp): changing its mode would change access to someone else's files, so
that start is refused with a message saying what to do.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import socket
import ssl
import stat
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "StartupError",
    "check_listen_address",
    "check_serve_files",
    "check_tls_files",
    "check_writable_dir",
    "prepare_data_dir",
]

_log = logging.getLogger("qkms")
_PRIVATE_DIR = 0o700
_PRIVATE_FILE = 0o600
# Every name QKMS writes in its data directory: the SQLite store and its companions, the root
# key, the credentials file, the audit log with its rotations and lock, the node's shared
# throttling buckets (app.py), and the temporary files written before an atomic rename
# (".<name>.<pid>.tmp").
_QKMS_FILE = re.compile(
    r"^\.?(qkms\.db(-wal|-shm|-journal)?|root\.key|credentials|audit\.log(\.lock|\.\d+)?"
    r"|throttle\.buckets)"
    r"(\.\d+\.tmp)?$"
)
_MAX_PEM_BYTES = 1024 * 1024


class StartupError(Exception):
    """The server must not start; the message tells the operator what to do."""


# --- checks that write nothing -------------------------------------------------------------


def check_writable_dir(
    directory: Path, option: str, access: Callable[[Path, int], bool] = os.access
) -> None:
    """Refuse a directory QKMS could not create or could not write, naming it.

    `os.access` asks the kernel with the real uid, so a read-only filesystem answers "no" even
    to root, for whom permission bits do not stop writes.
    """
    try:
        if directory.exists():
            if not directory.is_dir():
                raise StartupError(f"{option} {directory} is not a directory.")
            if not access(directory, os.W_OK | os.X_OK):
                raise StartupError(f"{option} {directory} is read-only: QKMS cannot write to it.")
            return
        ancestor = directory.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise StartupError(
                f"{option} {directory} cannot be created: {ancestor} is not a directory."
            )
        if not access(ancestor, os.W_OK | os.X_OK):
            raise StartupError(f"{option} {directory} cannot be created: {ancestor} is read-only.")
    except OSError as exc:
        raise StartupError(f"{option} {directory} cannot be used: {exc.strerror}.") from None


def _read_pem(option: str, path: Path, label: str) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(_MAX_PEM_BYTES)
    except FileNotFoundError:
        raise StartupError(f"{option} {path} does not exist.") from None
    except OSError as exc:
        raise StartupError(f"{option} {path} cannot be read: {exc.strerror}.") from None
    if not re.search(rb"-----BEGIN [A-Z0-9 ]*" + label.encode() + rb"-----", head):
        raise StartupError(f"{option} {path} is not a PEM file (no '-----BEGIN ...{label}-----').")


def _refuse_password() -> bytes:
    raise StartupError("encrypted")


def check_tls_files(cert: Path | None, key: Path | None) -> None:
    """Both files exist, are PEM, and form a pair the TLS layer (OpenSSL) accepts."""
    if cert is None or key is None:
        return  # Settings.validate refuses one without the other
    _read_pem("--tls-cert", cert, "CERTIFICATE")
    _read_pem("--tls-key", key, "PRIVATE KEY")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # A callback, not None: OpenSSL would otherwise prompt on the terminal for a password.
        context.load_cert_chain(cert, key, password=_refuse_password)
    except StartupError:
        raise StartupError(
            f"--tls-key {key} is encrypted: give the key unencrypted (readable only by QKMS)."
        ) from None
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
        raise StartupError(
            f"--tls-cert {cert} and --tls-key {key} are not a usable pair ({reason}): "
            "the key must be the certificate's private key."
        ) from None


def check_listen_address(host: str, port: int) -> None:
    """Bind (and release) the address the server will listen on, as uvicorn binds it."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except socket.gaierror:
        raise StartupError(f"cannot listen on {where}: --host {host} does not resolve.") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"cannot listen on {where}: the port is already in use; stop what holds it "
                "or choose another --port (QKMS_PORT)."
            ) from None
        if exc.errno == errno.EACCES:
            raise StartupError(
                f"cannot listen on {where}: permission denied (ports below 1024 need privileges)."
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise StartupError(
                f"cannot listen on {where}: --host {host} is not an address of this machine."
            ) from None
        raise StartupError(f"cannot listen on {where}: {exc.strerror}.") from None


def check_serve_files(data_dir: Path, audit_log: Path | None) -> None:
    """The data directory and a separate audit log's directory can be created and written."""
    check_writable_dir(data_dir, "--data-dir")
    if audit_log is not None and not audit_log.parent.resolve().is_relative_to(data_dir.resolve()):
        check_writable_dir(audit_log.parent, f"the directory of --audit-log {audit_log},")


# --- the data directory --------------------------------------------------------------------


def _is_qkms_file(name: str) -> bool:
    return _QKMS_FILE.match(name) is not None


def _tighten_files(directory: Path) -> int:
    """Make QKMS's own files in `directory` 0600 (older versions left some 0644); how many."""
    changed = 0
    for entry in os.scandir(directory):
        if not _is_qkms_file(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
        if mode & 0o077:
            os.chmod(entry.path, mode & _PRIVATE_FILE, follow_symlinks=False)
            changed += 1
    return changed


def prepare_data_dir(directory: Path) -> None:
    """Create the data directory 0700, or make an existing one private (see module docstring)."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=_PRIVATE_DIR)
        mode = stat.S_IMODE(directory.stat().st_mode)
        if mode & 0o077:
            foreign = sorted(name for name in os.listdir(directory) if not _is_qkms_file(name))
            if foreign:
                raise StartupError(
                    f"--data-dir {directory} is open to other users (mode {mode:04o}) and holds "
                    f"files QKMS did not create (e.g. {foreign[0]!r}): give QKMS a directory of "
                    f"its own, or make this one private with `chmod 700 {directory}`."
                )
            os.chmod(directory, _PRIVATE_DIR)
        files = _tighten_files(directory)
    except OSError as exc:
        raise StartupError(f"--data-dir {directory} cannot be used: {exc.strerror}.") from None
    changes = [f"directory {mode:04o} -> {_PRIVATE_DIR:04o}"] if mode & 0o077 else []
    changes += [f"{files} file(s) of QKMS's -> {_PRIVATE_FILE:04o}"] if files else []
    if changes:
        _log.warning(
            "made the data directory %s private (%s): other users could read it",
            directory,
            ", ".join(changes),
        )
