"""The `qkms` command: `qkms serve` starts the server, `qkms db upgrade` migrates (DESIGN §6)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from qkms import __version__
from qkms.admin_cli import add_admin_commands, run_admin
from qkms.app import StartupError, bootstrap, open_store
from qkms.audit_cli import add_audit_commands, run_audit
from qkms.config import ConfigError, Settings
from qkms.domain.arns import ArnFormat
from qkms.logs import configure_logging
from qkms.preflight import check_listen_address, check_serve_files, check_tls_files
from qkms.root_key_cli import add_root_key_commands, run_root_key
from qkms.sd_notify import notify_ready_when_serving
from qkms.storage.base import StoreError

__all__ = ["main"]


_DATABASE_URL_HELP = (
    "PostgreSQL store shared by several nodes: postgresql://user@host:5432/db, "
    "optionally ?schema=name (default: SQLite in --data-dir)"
)


def _add_db_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], defaults: Settings
) -> None:
    db = commands.add_parser("db", help="manage the store's schema")
    actions = db.add_subparsers(dest="action", required=True)
    upgrade = actions.add_parser(
        "upgrade",
        help="create or upgrade the schema and print its version",
        description="Runs the schema migrations (`qkms serve` runs them at start too; "
        "concurrent runs queue on a lock) and prints the schema version now in force.",
    )
    upgrade.add_argument("--data-dir", type=Path, default=defaults.data_dir)
    upgrade.add_argument("--database-url", default=defaults.database_url, help=_DATABASE_URL_HELP)
    upgrade.add_argument("--store-timeout", type=float, default=defaults.store_timeout)


def _db_upgrade(args: argparse.Namespace, defaults: Settings) -> int:
    settings = replace(
        defaults,
        data_dir=args.data_dir,
        database_url=args.database_url,
        store_timeout=args.store_timeout,
    )
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


def _store_description(settings: Settings) -> str:
    if settings.database_url is None:
        return f"SQLite store {settings.sqlite_path.resolve()}"
    parts = urlsplit(settings.database_url)
    where = f"{parts.hostname or 'localhost'}{f':{parts.port}' if parts.port else ''}{parts.path}"
    return f"PostgreSQL store {where}"  # never the user or password


def _parser(defaults: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qkms", description="QKMS: a self-hostable KMS for DeriveSharedSecret."
    )
    parser.add_argument("--version", action="version", version=f"qkms {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the server",
        description="Run the QKMS server. Every option can also be set as QKMS_<OPTION> "
        "(e.g. QKMS_PORT, QKMS_DATA_DIR); options on the command line win.",
    )
    serve.add_argument(
        "--host", default=defaults.host, help="address to listen on (default %(default)s)"
    )
    serve.add_argument("--port", type=int, default=defaults.port, help="port (default %(default)s)")
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=defaults.data_dir,
        help="where the store, root key and credentials live (default %(default)s)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="worker processes (default: one per core)",
    )
    serve.add_argument(
        "--database-url",
        default=defaults.database_url,
        help=_DATABASE_URL_HELP,
    )
    serve.add_argument(
        "--tls-cert", type=Path, default=defaults.tls_cert, help="PEM certificate: serve HTTPS"
    )
    serve.add_argument(
        "--tls-key", type=Path, default=defaults.tls_key, help="PEM private key for --tls-cert"
    )
    serve.add_argument(
        "--arn-format",
        choices=[f.value for f in ArnFormat],
        default=defaults.arn_format.value,
        help="seed: arn:verenc:<account>:key/<id>; aws: arn:verenc:kms:<region>:<account>:key/<id> (default %(default)s)",
    )
    serve.add_argument(
        "--partition", default=defaults.partition, help="ARN partition (default %(default)s)"
    )
    serve.add_argument(
        "--region", default=defaults.region, help="region in aws-format ARNs (default %(default)s)"
    )
    serve.add_argument(
        "--root-key-file",
        type=Path,
        default=defaults.root_key_file,
        help="file holding the base64 root wrapping key (default: <data-dir>/root.key, or QKMS_ROOT_KEY)",
    )
    serve.add_argument(
        "--previous-root-key-file",
        type=Path,
        default=defaults.previous_root_key_file,
        help="during a root-key rotation only: the root key being replaced (or QKMS_PREVIOUS_ROOT_KEY)",
    )
    serve.add_argument(
        "--store-timeout",
        type=float,
        default=defaults.store_timeout,
        help="seconds a store call may take before DependencyTimeoutException (default %(default)s)",
    )
    serve.add_argument(
        "--key-cache-size",
        type=int,
        default=defaults.key_cache_size,
        help="parsed keys kept in memory per worker (default %(default)s)",
    )
    serve.add_argument(
        "--log-level", default=defaults.log_level, choices=["debug", "info", "warning", "error"]
    )
    serve.add_argument(
        "--audit-log",
        type=Path,
        default=defaults.audit_log,
        help="audit trail file, one JSON event per line (default: <data-dir>/audit.log)",
    )
    serve.add_argument(
        "--audit-max-bytes",
        type=int,
        default=defaults.audit_max_bytes,
        help="rotate the audit log past this size (default %(default)s)",
    )
    serve.add_argument(
        "--audit-backups",
        type=int,
        default=defaults.audit_backups,
        help="rotated audit logs kept (default %(default)s)",
    )
    serve.add_argument(
        "--throttle",
        action="append",
        metavar="CLASS=RATE",
        help="override an AWS request quota (requests/s per account, 0 = unlimited; '*' for "
        "every class), repeatable or comma-separated; 'off' disables throttling "
        "(default: AWS KMS's default quotas)",
    )
    serve.add_argument(
        "--request-timeout",
        type=float,
        default=defaults.request_timeout,
        help="seconds a client has to send a whole request, headers and body; slower ones "
        "get 408 and are closed (default %(default)s)",
    )
    serve.add_argument(
        "--keepalive-timeout",
        type=float,
        default=defaults.keepalive_timeout,
        help="seconds an idle kept-alive connection stays open (default %(default)s)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=defaults.max_connections,
        help="open connections per worker; one more is refused at once with 503 "
        "(default %(default)s)",
    )
    add_admin_commands(commands, defaults)
    _add_db_commands(commands, defaults)
    add_audit_commands(commands, defaults)
    add_root_key_commands(commands, defaults)
    return parser


def _settings(args: argparse.Namespace, defaults: Settings) -> Settings:
    return Settings(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        workers=args.workers,
        database_url=args.database_url,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        arn_format=ArnFormat(args.arn_format),
        partition=args.partition,
        region=args.region,
        root_key_file=args.root_key_file,
        previous_root_key_file=args.previous_root_key_file,
        store_timeout=args.store_timeout,
        key_cache_size=args.key_cache_size,
        log_level=args.log_level,
        audit_log=args.audit_log,
        audit_max_bytes=args.audit_max_bytes,
        audit_backups=args.audit_backups,
        # Given on the command line, --throttle replaces QKMS_THROTTLE rather than adding to it.
        throttle=",".join(args.throttle) if args.throttle else defaults.throttle,
        request_timeout=args.request_timeout,
        keepalive_timeout=args.keepalive_timeout,
        max_connections=args.max_connections,
    )


def _banner(settings: Settings, credentials_file: Path, created: bool) -> str:
    url_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    endpoint = f"{settings.scheme}://{url_host}:{settings.port}"
    creds = credentials_file.resolve()
    lines = [
        f"QKMS {__version__} on {endpoint}  ({settings.worker_count} worker(s), {_store_description(settings)})",
        f"Admin credentials {'written to' if created else 'are in'} {creds} (profile qkms, mode 0600)",
        "Try it:",
        f"  export AWS_SHARED_CREDENTIALS_FILE={creds} AWS_PROFILE=qkms AWS_DEFAULT_REGION={settings.region}",
        f"  aws --endpoint-url {endpoint} kms create-key --key-spec ECC_NIST_P256 --key-usage KEY_AGREEMENT",
    ]
    return "\n".join(lines)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def _serve(settings: Settings) -> int:
    import uvicorn

    from qkms.wire.http_protocol import QkmsHttpProtocol

    try:
        settings.validate()
        # Checks that write nothing come first: a refused start leaves the data dir untouched.
        check_tls_files(settings.tls_cert, settings.tls_key)
        check_serve_files(settings.data_dir, settings.audit_log)
        check_listen_address(settings.host, settings.port)
        result = bootstrap(settings)
    except (ConfigError, StartupError) as exc:
        print(f"qkms: {exc}", file=sys.stderr)
        return 2
    # Workers rebuild the same settings from the environment (uvicorn spawns them).
    os.environ.update(settings.to_env())
    print(
        _banner(settings, result.credentials_file, result.new_admin_key is not None),
        file=sys.stderr,
        flush=True,
    )
    # uvicorn drains in-flight requests on SIGTERM/SIGINT, then re-raises the signal under the
    # handler that was installed before it: make that a clean exit, as process managers expect.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_cleanly)
    notify_ready_when_serving(settings.host, settings.port, tls=settings.tls_cert is not None)
    uvicorn.run(
        "qkms.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.worker_count if settings.worker_count > 1 else None,
        loop="uvloop",
        http=QkmsHttpProtocol,  # httptools plus read deadlines and a connection cap
        ws="none",  # an upgrade would hand the socket to a protocol without those limits
        lifespan="on",
        access_log=False,
        server_header=False,
        log_level="warning",
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        timeout_graceful_shutdown=10,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    # Everything a qkms command creates (store, WAL, root key, credentials, audit log and its
    # rotations) is for this user alone; files are opened 0600 as well (qkms.preflight).
    os.umask(0o077)
    try:
        defaults = Settings.from_env(os.environ)
    except ConfigError as exc:
        print(f"qkms: {exc}", file=sys.stderr)
        return 2
    args = _parser(defaults).parse_args(argv)
    configure_logging(args.log_level if args.command == "serve" else "info")
    if args.command == "serve":
        return _serve(_settings(args, defaults))
    if args.command == "admin":
        return run_admin(args, defaults)
    if args.command == "db":
        return _db_upgrade(args, defaults)
    if args.command == "audit":
        return run_audit(args, defaults)
    if args.command == "root-key":
        return run_root_key(args, defaults, dict(os.environ))
    return 2


if __name__ == "__main__":
    sys.exit(main())
