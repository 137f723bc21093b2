"""The `qkms` command: `qkms serve` starts the server (DESIGN §6)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from qkms import __version__
from qkms.admin_cli import add_admin_commands, run_admin
from qkms.app import StartupError, bootstrap
from qkms.config import ConfigError, Settings
from qkms.domain.arns import ArnFormat
from qkms.logs import configure_logging

__all__ = ["main"]


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
        help="PostgreSQL URL (not available in this version)",
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
    add_admin_commands(commands, defaults)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
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
        store_timeout=args.store_timeout,
        key_cache_size=args.key_cache_size,
        log_level=args.log_level,
    )


def _banner(settings: Settings, credentials_file: Path, created: bool) -> str:
    url_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    endpoint = f"{settings.scheme}://{url_host}:{settings.port}"
    creds = credentials_file.resolve()
    lines = [
        f"QKMS {__version__} on {endpoint}  ({settings.worker_count} worker(s), SQLite store {settings.sqlite_path.resolve()})",
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

    try:
        settings.validate()
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
    uvicorn.run(
        "qkms.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.worker_count if settings.worker_count > 1 else None,
        loop="uvloop",
        http="httptools",
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
    try:
        defaults = Settings.from_env(os.environ)
    except ConfigError as exc:
        print(f"qkms: {exc}", file=sys.stderr)
        return 2
    args = _parser(defaults).parse_args(argv)
    configure_logging(args.log_level if args.command == "serve" else "info")
    if args.command == "serve":
        return _serve(_settings(args))
    if args.command == "admin":
        return run_admin(args, defaults)
    return 2


if __name__ == "__main__":
    sys.exit(main())
